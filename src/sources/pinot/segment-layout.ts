/**
 * Where each index buffer of a segment is: the v3 container (`index_map` + `columns.psf`, §5) or the
 * v1/v2 one-file-per-index layout (§6). Hands out ByteRanges addressed from the first byte of the index
 * (after the v3 marker); no decoding and no I/O beyond those ranges.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';
import { bytesRange, readAll, subRange, type ByteRange } from './bytes.js';
import { parseIndexMap, type IndexMapEntry } from './index-map.js';
import type { ColumnMetadata, SegmentMetadata } from './metadata.js';
import type { IndexType, SegmentFiles } from './types.js';

/** present: readable; disabled: the segment has no forward index (§11); remote: zero-size placeholder (§5.2). */
export type ForwardIndexState = 'present' | 'disabled' | 'remote';

export interface SegmentLayout {
  readonly version: 'v1' | 'v3';
  /** The index buffer, or undefined when the column has no such index (or it is a zero-size placeholder). */
  indexRange(column: string, indexType: IndexType): ByteRange | undefined;
  forwardIndexState(column: string): ForwardIndexState;
}

/** i64 BE 0xDEADBEEFDEAFBEAD before every v3 index buffer. */
export const V3_MAGIC_MARKER: Readonly<Uint8Array> = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0xde, 0xaf, 0xbe, 0xad);

const INDEX_MAP = 'index_map';
const COLUMNS_PSF = 'columns.psf';

/**
 * `files` is rooted at the directory holding `metadata.properties`. The container decides the layout,
 * as Pinot's directory lookup does: `index_map` present → v3, else one file per index (v1/v2).
 */
export function openSegmentLayout(files: SegmentFiles, metadata: SegmentMetadata): SegmentLayout {
  if (files.has(INDEX_MAP)) return openV3(files, metadata);
  if (files.has(COLUMNS_PSF)) {
    throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, 'segment has columns.psf but no index_map', { context: { file: INDEX_MAP } });
  }
  if (metadata.indexVersion === 'v3') {
    throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, 'metadata says v3 but the segment has no index_map / columns.psf', {
      context: { file: INDEX_MAP },
    });
  }
  return openV1(files, metadata);
}

function columnOf(metadata: SegmentMetadata, column: string): ColumnMetadata {
  const c = metadata.columns.get(column);
  if (!c) {
    throw new SegmentFormatError(ErrorCodes.PINOT_UNKNOWN_COLUMN, `segment has no column ${JSON.stringify(column)}`, { context: { column } });
  }
  return c;
}

function openV3(files: SegmentFiles, metadata: SegmentMetadata): SegmentLayout {
  const entries = parseIndexMap(readAll(files.open(INDEX_MAP)));
  // A missing columns.psf reads as empty, so any non-empty entry reports the truncation with its offset.
  const psf = files.has(COLUMNS_PSF) ? files.open(COLUMNS_PSF) : bytesRange(new Uint8Array(0));
  const byKey = new Map<string, IndexMapEntry>();
  for (const e of entries) {
    checkEntry(e, psf.length);
    byKey.set(`${e.column}\0${e.indexType}`, e);
  }
  const checked = new Set<IndexMapEntry>();
  const entry = (column: string, indexType: string): IndexMapEntry | undefined => {
    columnOf(metadata, column);
    return byKey.get(`${column}\0${indexType}`);
  };
  return {
    version: 'v3',
    indexRange(column, indexType) {
      const e = entry(column, indexType);
      if (!e || e.size === 0) return undefined;
      if (!checked.has(e)) {
        checkMarker(psf, e);
        checked.add(e);
      }
      return subRange(psf, e.startOffset + V3_MAGIC_MARKER.length, e.startOffset + e.size, { column, index: indexType });
    },
    forwardIndexState(column) {
      const e = entry(column, 'forward_index');
      return !e ? 'disabled' : e.size === 0 ? 'remote' : 'present';
    },
  };
}

/** Bounds only (no I/O): every non-empty entry must hold its marker and end inside columns.psf. */
function checkEntry(e: IndexMapEntry, fileLength: number): void {
  const context = { column: e.column, index: e.indexType, offset: e.startOffset, file: COLUMNS_PSF };
  if (e.size === 0) return;
  if (e.size < V3_MAGIC_MARKER.length) {
    throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, `index entry of ${e.size} bytes cannot hold the 8-byte marker`, { context });
  }
  if (e.startOffset + e.size > fileLength) {
    throw new SegmentFormatError(
      ErrorCodes.PINOT_TRUNCATED,
      `index [${e.startOffset}, ${e.startOffset + e.size}) ends past the end of columns.psf (${fileLength} bytes)`,
      { context },
    );
  }
}

function checkMarker(psf: ByteRange, e: IndexMapEntry): void {
  const found = psf.read(e.startOffset, e.startOffset + V3_MAGIC_MARKER.length);
  if (found.every((b, i) => b === V3_MAGIC_MARKER[i])) return;
  const hex = [...found].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new SegmentFormatError(ErrorCodes.PINOT_BAD_MAGIC, `index marker is ${hex}, expected de ad be ef de af be ad`, {
    context: { column: e.column, index: e.indexType, offset: e.startOffset, file: COLUMNS_PSF },
  });
}

/** File name of one index in the v1/v2 layout (§6); the forward index name follows the column's shape. */
export function v1IndexFileName(column: ColumnMetadata, indexType: IndexType): string {
  const n = column.name;
  switch (indexType) {
    case 'dictionary':
      return `${n}.dict`;
    case 'nullvalue_vector':
      return `${n}.bitmap.nullvalue`;
    case 'inverted_index':
      return `${n}.bitmap.inv`;
    case 'forward_index': {
      const raw = column.forwardIndexEncoding === 'RAW';
      if (!column.singleValue) return raw ? `${n}.mv.raw.fwd` : `${n}.mv.fwd`;
      return raw ? `${n}.sv.raw.fwd` : column.isSorted ? `${n}.sv.sorted.fwd` : `${n}.sv.unsorted.fwd`;
    }
  }
}

function openV1(files: SegmentFiles, metadata: SegmentMetadata): SegmentLayout {
  return {
    version: 'v1',
    indexRange(column, indexType) {
      const name = v1IndexFileName(columnOf(metadata, column), indexType);
      return files.has(name) ? files.open(name) : undefined;
    },
    forwardIndexState(column) {
      return files.has(v1IndexFileName(columnOf(metadata, column), 'forward_index')) ? 'present' : 'disabled';
    },
  };
}
