/**
 * One column chunk from several PLAIN-encoded pieces of it (consecutive row ranges, each encoded at the offset
 * where the one before it ended): pages back to back, sizes and counts summed, statistics merged in Parquet's
 * type-defined order. What lets a raw column be read and encoded a piece at a time instead of holding all of
 * its values. Pieces with a dictionary page cannot be merged (each has its own dictionary).
 */
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import type { EncodedChunk } from './column-chunk.js';
import type { PageEncodingStats, PhysicalType, Statistics } from './format.js';

export function mergeEncodedChunks(pieces: readonly EncodedChunk[]): EncodedChunk {
  const first = pieces[0];
  if (first === undefined) throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, 'internal: no column chunk pieces to merge');
  if (pieces.length === 1) return first;
  const meta = { ...first.metaData };
  const pages = [...first.pages];
  let bytes = first.bytes;
  const encodings = [...meta.encodings];
  const stats = new Map<string, PageEncodingStats>((meta.encodingStats ?? []).map((e) => [`${e.pageType}/${e.encoding}`, { ...e }]));
  let statistics = meta.statistics;
  for (const piece of pieces.slice(1)) {
    const m = piece.metaData;
    if (m.dictionaryPageOffset !== undefined || meta.dictionaryPageOffset !== undefined) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `internal: pieces of column ${meta.pathInSchema.join('.')} have dictionary pages`, {
        context: { column: meta.pathInSchema[0] },
      });
    }
    pages.push(...piece.pages);
    bytes += piece.bytes;
    meta.numValues += m.numValues;
    meta.totalCompressedSize += m.totalCompressedSize;
    meta.totalUncompressedSize += m.totalUncompressedSize;
    for (const e of m.encodings) if (!encodings.includes(e)) encodings.push(e);
    for (const e of m.encodingStats ?? []) {
      const key = `${e.pageType}/${e.encoding}`;
      const seen = stats.get(key);
      if (seen) seen.count += e.count;
      else stats.set(key, { ...e });
    }
    statistics = mergeStatistics(meta.type, statistics, m.statistics);
  }
  meta.encodings = encodings;
  if (meta.encodingStats !== undefined) meta.encodingStats = [...stats.values()];
  if (statistics === undefined) delete meta.statistics;
  else meta.statistics = statistics;
  return { pages, metaData: meta, bytes };
}

/** Statistics of the union of two value sets (min/max absent where a side has no non-null, non-NaN value). */
export function mergeStatistics(type: PhysicalType, a: Statistics | undefined, b: Statistics | undefined): Statistics | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const out: Statistics = {};
  if (a.nullCount !== undefined && b.nullCount !== undefined) out.nullCount = a.nullCount + b.nullCount;
  const min = pick(type, a.minValue, b.minValue, 'min');
  const max = pick(type, a.maxValue, b.maxValue, 'max');
  if (min !== undefined) out.minValue = min;
  if (max !== undefined) out.maxValue = max;
  return out;
}

function pick(type: PhysicalType, a: Uint8Array | undefined, b: Uint8Array | undefined, which: 'min' | 'max'): Uint8Array | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const c = compare(type, a, b);
  if (c === 0 && (type === 'FLOAT' || type === 'DOUBLE')) {
    // −0 and +0 are equal: the spec wants −0 as a min and +0 as a max.
    const negative = (x: Uint8Array): boolean => (x[x.length - 1]! & 0x80) !== 0;
    return which === 'min' ? (negative(a) ? a : b) : (negative(a) ? b : a);
  }
  return (which === 'min' ? c <= 0 : c >= 0) ? a : b;
}

/** Parquet's type-defined order of two PLAIN-encoded statistics values. */
function compare(type: PhysicalType, a: Uint8Array, b: Uint8Array): number {
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type) {
    case 'BOOLEAN': return a[0]! - b[0]!;
    case 'INT32': return Math.sign(va.getInt32(0, true) - vb.getInt32(0, true));
    case 'INT64': {
      const x = va.getBigInt64(0, true);
      const y = vb.getBigInt64(0, true);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'FLOAT': return Math.sign(va.getFloat32(0, true) - vb.getFloat32(0, true));
    case 'DOUBLE': return Math.sign(va.getFloat64(0, true) - vb.getFloat64(0, true));
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY': {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    }
  }
}
