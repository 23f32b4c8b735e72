/**
 * Writes a segment directory on local disk from index buffers and metadata text: the v3 layout
 * (`<dir>/v3/{columns.psf, index_map, metadata.properties, creation.meta}`) or the v1 one (one file per
 * index directly in `<dir>`). `columns.psf` is written part by part, never assembled in memory. The segment
 * CRC is Adler-32 over every file but `creation.meta`, in path order (Pinot's `CrcUtils.computeCrc`); files
 * are written in that order so the CRC is computed from the bytes as they go to disk.
 */
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ErrorCodes, SourceError } from '../../errors.js';
import { ADLER32_INITIAL, adler32Update } from '../pinot/adler32.js';
import { parseSegmentMetadata } from '../pinot/metadata.js';
import {
  assembleV3, computeDataCrc, creationMeta, v1Files, type ColumnShape,
} from '../pinot/write/container-writer.js';
import type { IndexBuffer } from '../pinot/write/contracts.js';

export interface WriteSegmentDirectoryOptions {
  version: 'v1' | 'v3';
  buffers: IndexBuffer[];
  /** The whole `metadata.properties` (see `metadataProperties`); written as UTF-8. */
  metadataText: string;
  creationTimeMs: bigint;
  /**
   * Third long of `creation.meta` (Pinot ≥ 1.5 always writes it). `'compute'`: Pinot's data CRC over the
   * v1 `.fwd`/`.dict` files, from the buffers. Absent: a 16-byte `creation.meta`.
   */
  dataCrc?: bigint | 'compute';
}

export interface WrittenSegmentDirectory {
  /** Segment CRC, as in `creation.meta` and ZK `segment.crc`. */
  crc: number;
  /** Files written, relative to `dir`, with `/`, in write order (`creation.meta` last). */
  files: string[];
  /** The data CRC written into `creation.meta`, if any. */
  dataCrc?: bigint;
}

const CREATION_META = 'creation.meta';
const METADATA = 'metadata.properties';
const INDEX_MAP = 'index_map';
const COLUMNS_PSF = 'columns.psf';

/**
 * Writes the segment into `dir`, which must be missing or empty (as Pinot requires of its output
 * directory, and so the CRC covers exactly these files). Fails with SOURCE_FETCH_FAILED on local I/O errors.
 */
export async function writeSegmentDirectory(dir: string, options: WriteSegmentDirectoryOptions): Promise<WrittenSegmentDirectory> {
  const encoder = new TextEncoder();
  const metadataBytes = encoder.encode(options.metadataText);
  const shapeOf = shapesFrom(options);
  const dataCrc = options.dataCrc === 'compute' ? BigInt(computeDataCrc(options.buffers, shapeOf)) : options.dataCrc;
  // Every file but creation.meta, in CRC (path) order.
  const plan: { path: string; parts: Uint8Array[] }[] = [];
  let base: string;
  if (options.version === 'v3') {
    base = 'v3/';
    const container = assembleV3(options.buffers);
    plan.push(
      { path: `v3/${COLUMNS_PSF}`, parts: container.columnsPsf },
      { path: `v3/${INDEX_MAP}`, parts: [encoder.encode(container.indexMap)] },
      { path: `v3/${METADATA}`, parts: [metadataBytes] },
    );
  } else {
    base = '';
    for (const f of v1Files(options.buffers, shapeOf)) plan.push({ path: f.name, parts: [f.bytes] });
    plan.push({ path: METADATA, parts: [metadataBytes] });
  }
  plan.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  try {
    await prepareDirectory(dir, base);
    let crc = ADLER32_INITIAL;
    const files: string[] = [];
    for (const file of plan) {
      await writeParts(join(dir, file.path), file.parts, (part) => {
        crc = adler32Update(crc, part);
      });
      files.push(file.path);
    }
    const metaPath = `${base}${CREATION_META}`;
    await writeParts(join(dir, metaPath), [creationMeta(crc, options.creationTimeMs, dataCrc)], () => {});
    files.push(metaPath);
    return dataCrc === undefined ? { crc, files } : { crc, files, dataCrc };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SourceError) throw err;
    throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `writing the segment directory failed: ${(err as Error).message}`, {
      context: { uri: dir, file: (err as NodeJS.ErrnoException).path },
      cause: err,
    });
  }
}

/** v1 file names depend on each column's shape, which the metadata text states. */
function shapesFrom(options: WriteSegmentDirectoryOptions): (column: string) => ColumnShape {
  if (options.version === 'v3' && options.dataCrc !== 'compute') {
    return () => {
      throw new Error('unreachable: v3 without a data CRC needs no shapes');
    };
  }
  const metadata = parseSegmentMetadata(options.metadataText);
  return (column) => {
    const c = metadata.columns.get(column);
    if (c === undefined) {
      throw new ConfigError(ErrorCodes.USAGE, `buffer for column ${JSON.stringify(column)}, which the metadata does not describe`, {
        context: { column, file: METADATA },
      });
    }
    return { singleValue: c.singleValue, sorted: c.isSorted, hasDictionary: c.forwardIndexEncoding === 'DICTIONARY' };
  };
}

async function prepareDirectory(dir: string, base: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const existing = await readdir(dir);
  if (existing.length > 0) {
    throw new ConfigError(ErrorCodes.USAGE, `segment output directory is not empty (${existing.length} entries)`, { context: { uri: dir } });
  }
  if (base !== '') await mkdir(join(dir, base));
}

/** Writes `parts` one after another into a new file (`wx`: never overwrites), awaiting each write. */
async function writeParts(path: string, parts: readonly Uint8Array[], onPart: (part: Uint8Array) => void): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    for (const part of parts) {
      let done = 0;
      while (done < part.length) {
        const { bytesWritten } = await handle.write(part, done, part.length - done);
        done += bytesWritten;
      }
      onPart(part);
    }
  } finally {
    await handle.close();
  }
}
