/**
 * `creation.meta` (§2) and the segment CRC it records: Adler-32 over every file of the segment
 * directory in path order, except `creation.meta` and `*.crc` (Pinot's `CrcUtils.computeCrc`). No I/O of
 * its own: files are read through `SegmentFiles` ranges, a bounded chunk at a time.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';
import { ADLER32_INITIAL, adler32Update } from './adler32.js';
import { dataView } from './bytes.js';
import type { SegmentFiles } from './types.js';

export interface CreationMeta {
  /** Segment CRC (an Adler-32 value in a signed 64-bit field); the same number as ZK `segment.crc`. */
  crc: bigint;
  /** Creation time, epoch milliseconds. */
  creationTimeMs: bigint;
  /** Data CRC (24-byte files only, ~2025+); it covers the v1 files before v3 conversion, so cannot be rechecked. */
  dataCrc?: bigint;
}

const CREATION_META = 'creation.meta';

export function parseCreationMeta(bytes: Uint8Array): CreationMeta {
  if (bytes.length !== 16 && bytes.length !== 24) {
    const code = bytes.length < 16 ? ErrorCodes.PINOT_TRUNCATED : ErrorCodes.PINOT_CORRUPT;
    throw new SegmentFormatError(code, `creation.meta is ${bytes.length} bytes; expected 16 or 24`, {
      context: { index: CREATION_META, offset: bytes.length },
    });
  }
  const view = dataView(bytes);
  const meta: CreationMeta = { crc: view.getBigInt64(0), creationTimeMs: view.getBigInt64(8) };
  if (bytes.length === 24) meta.dataCrc = view.getBigInt64(16);
  return meta;
}

/** Largest read while checksumming, so a 1 GB `columns.psf` is never held in memory at once. */
export const CRC_CHUNK_BYTES = 8 * 1024 * 1024;

/** Files that enter the CRC, in the order Pinot feeds them (Java `File` order = UTF-16 path order). */
export function crcFiles(files: SegmentFiles): string[] {
  return files
    .list()
    .filter((path) => {
      const base = path.slice(path.lastIndexOf('/') + 1);
      return base !== CREATION_META && !base.endsWith('.crc');
    })
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * The segment CRC (u32) over the files under `files`' root. Compare with `BigInt(result) === meta.crc`.
 * A segment converted v1→v3 after creation keeps its original CRC and will not match (§2).
 */
export function computeSegmentCrc(files: SegmentFiles, chunkBytes = CRC_CHUNK_BYTES): number {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > CRC_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer in [1, ${CRC_CHUNK_BYTES}], got ${chunkBytes}`);
  }
  let state = ADLER32_INITIAL;
  for (const path of crcFiles(files)) {
    const range = files.open(path);
    for (let start = 0; start < range.length; start += chunkBytes) {
      state = adler32Update(state, range.read(start, Math.min(range.length, start + chunkBytes)));
    }
  }
  return state;
}
