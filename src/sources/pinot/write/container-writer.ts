/**
 * The segment containers around the index buffers, as Pinot 1.5.1 lays them out (§2, §5, §6). No I/O.
 *
 * - v3 (`SegmentV1V2ToV3FormatConverter.copyIndexData` + `SingleFileIndexDirectory`): buffers ordered by
 *   column (Java string order: `SegmentMetadata.getAllColumns()` is a sorted set), then by index id (the
 *   sorted `IndexService.getAllIndexes()`); each one appended to `columns.psf` behind the 8-byte marker
 *   `DE AD BE EF DE AF BE AD`, with no padding; `index_map` gets `<col>.<index>.startOffset = …` and
 *   `<col>.<index>.size = …` (size includes the marker) per buffer, in the same order.
 * - v1: one file per index, named after the column's shape (`V1Constants.Indexes`).
 * - `creation.meta`: segment CRC, creation time and (optionally) data CRC as big-endian longs.
 */
import { ADLER32_INITIAL, adler32Update } from '../adler32.js';
import { V3_MAGIC_MARKER } from '../segment-layout.js';
import type { IndexBuffer } from './contracts.js';
import { LINE_SEPARATOR, PROPERTY_SEPARATOR, escapePropertyKey } from './properties-writer.js';

export { V3_MAGIC_MARKER };

/** One `index_map` entry: `startOffset` is where the marker sits; `size` counts the marker. */
export interface V3Entry {
  column: string;
  indexType: IndexBuffer['indexType'];
  startOffset: number;
  size: number;
}

export interface V3Container {
  /** Parts of `columns.psf` back to back: marker, buffer, marker, buffer … (the buffers themselves, not copies). */
  columnsPsf: Uint8Array[];
  /** `index_map` text. */
  indexMap: string;
  entries: V3Entry[];
  /** Total length of `columns.psf`. */
  length: number;
}

/** Forward-index shape that decides the v1 file name. */
export interface ColumnShape {
  singleValue: boolean;
  sorted: boolean;
  hasDictionary: boolean;
}

function javaOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Buffers in the order Pinot's v1→v3 converter copies them; a (column, index) pair may appear once. */
export function pinotBufferOrder(buffers: readonly IndexBuffer[]): IndexBuffer[] {
  const seen = new Set<string>();
  for (const b of buffers) {
    const id = `${b.column}\0${b.indexType}`;
    if (seen.has(id)) throw new RangeError(`two ${b.indexType} buffers for column ${JSON.stringify(b.column)}`);
    seen.add(id);
  }
  return [...buffers].sort((a, b) => javaOrder(a.column, b.column) || javaOrder(a.indexType, b.indexType));
}

/** The v3 `columns.psf` parts and `index_map` for these buffers. */
export function assembleV3(buffers: IndexBuffer[]): V3Container {
  const columnsPsf: Uint8Array[] = [];
  const entries: V3Entry[] = [];
  let indexMap = '';
  let offset = 0;
  for (const b of pinotBufferOrder(buffers)) {
    const size = V3_MAGIC_MARKER.length + b.bytes.length;
    entries.push({ column: b.column, indexType: b.indexType, startOffset: offset, size });
    columnsPsf.push(V3_MAGIC_MARKER as Uint8Array, b.bytes);
    indexMap += indexMapLines(b.column, b.indexType, offset, size);
    offset += size;
  }
  return { columnsPsf, indexMap, entries, length: offset };
}

/** The two `index_map` lines of one buffer (`SingleFileIndexDirectory.persistIndexMap`). */
export function indexMapLines(column: string, indexType: string, startOffset: number, size: number): string {
  const line = (property: string, value: number): string =>
    escapePropertyKey(`${column}.${indexType}.${property}`) + PROPERTY_SEPARATOR + String(value) + LINE_SEPARATOR;
  return line('startOffset', startOffset) + line('size', size);
}

/** File name of one index in the v1 layout (§6). */
export function v1FileName(column: string, indexType: IndexBuffer['indexType'], shape: ColumnShape): string {
  switch (indexType) {
    case 'dictionary':
      return `${column}.dict`;
    case 'nullvalue_vector':
      return `${column}.bitmap.nullvalue`;
    case 'forward_index':
      if (!shape.singleValue) return shape.hasDictionary ? `${column}.mv.fwd` : `${column}.mv.raw.fwd`;
      if (!shape.hasDictionary) return `${column}.sv.raw.fwd`;
      return shape.sorted ? `${column}.sv.sorted.fwd` : `${column}.sv.unsorted.fwd`;
  }
}

/** The v1 files of these buffers, sorted by name (the order Pinot's CRCs read them in). */
export function v1Files(buffers: readonly IndexBuffer[], shapeOf: (column: string) => ColumnShape): { name: string; bytes: Uint8Array }[] {
  const files = pinotBufferOrder(buffers).map((b) => ({ name: v1FileName(b.column, b.indexType, shapeOf(b.column)), bytes: b.bytes }));
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.name)) throw new RangeError(`two buffers map to the v1 file ${JSON.stringify(f.name)}`);
    names.add(f.name);
  }
  return files.sort((a, b) => javaOrder(a.name, b.name));
}

/**
 * Pinot's data CRC (`CrcUtils.computeDataCrc`, 1.5+): Adler-32 over the v1 `*.fwd` and `*.dict` files in
 * name order, computed before the v3 conversion. The third long of a 24-byte `creation.meta`.
 */
export function computeDataCrc(buffers: readonly IndexBuffer[], shapeOf: (column: string) => ColumnShape): number {
  let state = ADLER32_INITIAL;
  for (const f of v1Files(buffers, shapeOf)) {
    if (f.name.endsWith('.fwd') || f.name.endsWith('.dict')) state = adler32Update(state, f.bytes);
  }
  return state;
}

/** `creation.meta` (§2): CRC, creation time (epoch ms) and optional data CRC, big-endian longs (16 or 24 bytes). */
export function creationMeta(crc: number, creationTimeMs: bigint, dataCrc?: bigint): Uint8Array {
  if (!Number.isInteger(crc) || crc < 0 || crc > 0xffffffff) throw new RangeError(`segment CRC must be a u32, got ${crc}`);
  const out = new Uint8Array(dataCrc === undefined ? 16 : 24);
  const view = new DataView(out.buffer);
  view.setBigInt64(0, BigInt(crc));
  view.setBigInt64(8, javaLong(creationTimeMs, 'creation time'));
  if (dataCrc !== undefined) view.setBigInt64(16, javaLong(dataCrc, 'data CRC'));
  return out;
}

function javaLong(v: bigint, what: string): bigint {
  if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new RangeError(`${what} must be a Java long, got ${v}`);
  return v;
}
