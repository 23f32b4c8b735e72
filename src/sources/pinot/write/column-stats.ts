/**
 * Column statistics as Pinot 1.5.1's collectors compute them (`*ColumnPreIndexStatsCollector`,
 * `MutableColumnStatistics` / `MutableNoDictionaryColStatistics` for a committing consuming segment), and the
 * sorted dictionary a dictionary-encoded column gets (`SegmentDictionaryCreator`):
 *
 * - dictionary order: numbers numerically (FLOAT/DOUBLE in Java's total order), STRING by UTF-16 code units
 *   (Java `String.compareTo`), BYTES unsigned lexicographic, BIG_DECIMAL numerically — numerically equal values
 *   with different scales stay distinct entries (Pinot's value set uses `equals`), ordered by scale here (Pinot
 *   leaves that order to a hash set's iteration);
 * - lengths in stored bytes (UTF-8, BIG_DECIMAL `byteSize`); an MV row's length is the sum of its elements;
 * - `isSorted` in the final doc order (after a sorted-column reordering), always false for MV columns and, in
 *   a realtime commit, for raw columns.
 *
 * Works on an `IngestedColumn` (typed arrays), so a 10 M-doc column needs a few typed-array copies, not objects.
 */
import type { ValueBlock, VarBytes } from '../types.js';
import { decodeBigDecimal, decodeUtf8, type BigDecimalValue } from '../values.js';
import type { ColumnStats } from './contracts.js';
import { defaultStoredValue, type IngestedColumn } from './ingest.js';
import { formatStoredValue, pinotDefaultNullValue, type StoredValue as JavaStoredValue } from './java-format.js';
import type { FieldDef } from './pinot-schema.js';

/** What a writer needs to know about one column's values (before metadata formatting). */
export interface ColumnProfile {
  /** Exact number of distinct values; undefined when not computed (raw column of a realtime commit). */
  cardinality?: number;
  /** Sorted distinct values (dictionary columns). */
  dictionary?: ValueBlock;
  /** Dict id of every stored element, input order (dictionary columns). */
  dictIds?: Int32Array;
  /** Smallest and largest stored value (stored form), undefined for MAP. */
  min?: StoredValue;
  max?: StoredValue;
  /** Shortest / longest element in stored bytes (var-length types), or the type width. */
  minLength: number;
  maxLength: number;
  /** Largest row in bytes: SV = longest element, MV = largest sum of element lengths. */
  maxRowLength: number;
  /** MV: most values in one row (0 for SV). */
  maxValuesPerRow: number;
  /** SV: docs; MV: all elements. */
  totalEntries: number;
}

/** A single stored value: INT/FLOAT/DOUBLE number, LONG bigint, var-length types as their stored bytes. */
export type StoredValue = number | bigint | Uint8Array;

export interface ProfileOptions {
  /** Build the dictionary and dict ids. */
  dictionary: boolean;
  /** Count distinct values even without a dictionary (batch builds do; realtime commits report "unknown"). */
  countDistinct: boolean;
}

const FIXED_WIDTH: Readonly<Record<string, number>> = { INT: 4, LONG: 8, FLOAT: 4, DOUBLE: 8 };

export function profileColumn(col: IngestedColumn, options: ProfileOptions): ColumnProfile {
  const { values } = col;
  const lengths = lengthStats(col);
  const base = {
    ...lengths,
    maxValuesPerRow: col.rowOffsets ? maxRowValues(col.rowOffsets) : 0,
    totalEntries: blockLength(values),
  };
  if (values.kind === 'BYTES') return { ...base, ...profileVar(col, values.values, options) };
  return { ...base, ...profileNumeric(values, options) };
}

export function blockLength(block: ValueBlock): number {
  return block.kind === 'BYTES' ? block.values.offsets.length - 1 : block.values.length;
}

function maxRowValues(offsets: Int32Array): number {
  let max = 0;
  for (let i = 1; i < offsets.length; i++) max = Math.max(max, offsets[i]! - offsets[i - 1]!);
  return max;
}

function lengthStats(col: IngestedColumn): Pick<ColumnProfile, 'minLength' | 'maxLength' | 'maxRowLength'> {
  const { values, rowOffsets } = col;
  if (values.kind !== 'BYTES') {
    const w = FIXED_WIDTH[values.kind]!;
    return { minLength: w, maxLength: w, maxRowLength: w };
  }
  const off = values.values.offsets;
  const n = off.length - 1;
  let min = n === 0 ? 0 : Infinity;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const len = off[i + 1]! - off[i]!;
    if (len < min) min = len;
    if (len > max) max = len;
  }
  let maxRow = max;
  if (rowOffsets) {
    maxRow = 0;
    for (let r = 1; r < rowOffsets.length; r++) {
      maxRow = Math.max(maxRow, off[rowOffsets[r]!]! - off[rowOffsets[r - 1]!]!);
    }
  }
  return { minLength: min, maxLength: max, maxRowLength: maxRow };
}

// ---------------------------------------------------------------------------------------------------------
// Numeric columns: sort a copy (native typed-array sort), unique, binary search for dict ids.

type NumericBlock = Exclude<ValueBlock, { kind: 'BYTES' }>;

function profileNumeric(block: NumericBlock, options: ProfileOptions): Partial<ColumnProfile> {
  const n = block.values.length;
  if (n === 0) return { cardinality: 0 };
  // LONGs within ±2^53 are handled as doubles (exact), which sorts and searches far faster than BigInt64Array.
  const doubles = block.kind === 'LONG' ? longsAsDoubles(block.values) : undefined;
  const work: Float64Array | Float32Array | Int32Array | BigInt64Array = doubles ? doubles.slice() : block.values.slice();
  work.sort();
  const unique = uniqueSorted(work);
  const u = unique.length;
  const toStored = (x: number | bigint): StoredValue => (block.kind === 'LONG' ? BigInt(x) : x);
  const result: Partial<ColumnProfile> = { cardinality: u, min: toStored(unique[0]!), max: toStored(unique[u - 1]!) };
  if (!options.dictionary) return result;
  const dictionary: ValueBlock = block.kind === 'LONG'
    ? { kind: 'LONG', values: doubles ? doublesAsLongs(unique as Float64Array) : (unique as BigInt64Array) }
    : ({ kind: block.kind, values: unique } as NumericBlock);
  const ids = new Int32Array(n);
  if (block.kind === 'LONG' && !doubles) {
    const s = block.values;
    const k = unique as BigInt64Array;
    for (let i = 0; i < n; i++) ids[i] = searchBig(k, s[i]!);
  } else if (block.kind === 'INT' && (unique[u - 1] as number) - (unique[0] as number) <= Math.max(1 << 16, 4 * n)) {
    // A small value range: a direct value → id table instead of a search per value.
    const min = unique[0] as number;
    const table = new Int32Array((unique[u - 1] as number) - min + 1);
    for (let id = 0; id < u; id++) table[(unique[id] as number) - min] = id;
    const src = block.values;
    for (let i = 0; i < n; i++) ids[i] = table[src[i]! - min]!;
  } else {
    const src = doubles ?? (block.values as Int32Array | Float32Array | Float64Array);
    const keys = unique as Int32Array | Float32Array | Float64Array;
    for (let i = 0; i < n; i++) ids[i] = search(keys, src[i]!);
  }
  return { ...result, dictionary, dictIds: ids };
}

/** The LONGs as doubles when all are within ±2^53 (read as 32-bit halves: no BigInt per value), else undefined. */
function longsAsDoubles(values: BigInt64Array): Float64Array | undefined {
  const halves = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const lo = halves[little ? 2 * i : 2 * i + 1]!;
    const hi = halves[little ? 2 * i + 1 : 2 * i]!;
    if (hi > 0x1fffff || hi < -0x200000) return undefined;
    out[i] = hi * 4294967296 + (lo >>> 0);
  }
  return out;
}

/** Safe-integer doubles → BigInt64Array, written as 32-bit halves (no BigInt per value). */
function doublesAsLongs(values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  const halves = new Int32Array(out.buffer);
  const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    halves[little ? 2 * i : 2 * i + 1] = v % 4294967296 | 0;
    halves[little ? 2 * i + 1 : 2 * i] = Math.floor(v / 4294967296);
  }
  return out;
}

/** Distinct values of a sorted typed array; −0.0 and 0.0 stay distinct (Java's float bits), NaNs collapse. */
function uniqueSorted<T extends Float64Array | Float32Array | Int32Array | BigInt64Array>(sorted: T): T {
  let w = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (w === 0 || !Object.is(v, sorted[w - 1]!) && !(v !== v && sorted[w - 1] !== sorted[w - 1])) {
      (sorted as Float64Array)[w++] = v as number;
    }
  }
  return sorted.slice(0, w) as T;
}

/** Index of `x` in the sorted distinct `keys` (present by construction); −0.0 sorts before 0.0. */
function search(keys: Int32Array | Float32Array | Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < x || (k === x && Object.is(k, -0) && !Object.is(x, -0))) lo = mid + 1;
    else hi = mid;
  }
  return x !== x ? keys.length - 1 : lo;
}

function searchBig(keys: BigInt64Array, x: bigint): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------
// Var-length columns (STRING, BYTES, BIG_DECIMAL, MAP): distinct values by their bytes, sorted once.

function profileVar(col: IngestedColumn, v: VarBytes, options: ProfileOptions): Partial<ColumnProfile> {
  const storedType = col.field.storedType;
  const n = v.offsets.length - 1;
  if (storedType === 'MAP') {
    // COMPLEX columns have no min/max in metadata; Pinot counts distinct maps, we count distinct frames.
    return { cardinality: options.countDistinct ? distinctCount(v) : undefined };
  }
  const cmp = comparatorFor(storedType, v);
  if (!options.dictionary) {
    let minI = 0;
    let maxI = 0;
    for (let i = 1; i < n; i++) {
      if (cmp(i, minI) < 0) minI = i;
      if (cmp(i, maxI) > 0) maxI = i;
    }
    return {
      cardinality: options.countDistinct ? distinctCount(v) : undefined,
      ...(n > 0 ? { min: copyValue(v, minI), max: copyValue(v, maxI) } : {}),
    };
  }
  // First occurrence of each distinct byte string → provisional id; then sort the distinct values.
  const distinct = new DistinctBytes(v);
  const provisional = new Int32Array(n);
  for (let i = 0; i < n; i++) provisional[i] = distinct.add(i);
  const firstDoc = distinct.firstIndexes();
  const order = sortDistinct(storedType, v, firstDoc, cmp);
  const rank = new Int32Array(order.length);
  for (let r = 0; r < order.length; r++) rank[order[r]!] = r;
  // Provisional ids become dictionary ids in place.
  const ids = provisional;
  for (let i = 0; i < n; i++) ids[i] = rank[provisional[i]!]!;
  const dictionary = gatherVar(v, order.map((id) => firstDoc[id]!));
  const u = order.length;
  return {
    cardinality: u,
    dictionary: { kind: 'BYTES', values: dictionary },
    dictIds: ids,
    ...(u > 0 ? { min: copyValue(dictionary, 0), max: copyValue(dictionary, u - 1) } : {}),
  };
}

/**
 * Provisional ids of the distinct values in Pinot's dictionary order. BYTES — and STRING without bytes ≥ 0xEE,
 * where UTF-8 byte order is UTF-16 order — sort their latin1 keys natively (code units = bytes); BIG_DECIMAL
 * sorts by a double first and decides near-ties exactly.
 */
function sortDistinct(storedType: string, v: VarBytes, firstDoc: Int32Array, cmp: (i: number, j: number) => number): Int32Array {
  const u = firstDoc.length;
  if (storedType === 'BIG_DECIMAL') return sortBigDecimals(v, firstDoc);
  // Typed ids (4 bytes each) keep a 10 M-value dictionary's sort small.
  const ids = Int32Array.from({ length: u }, (_, id) => id);
  if (storedType === 'BYTES' || (storedType === 'STRING' && !hasHighBytes(v.data))) {
    // Byte order; the first six bytes as a number decide most comparisons without a byte loop.
    const prefix = new Float64Array(u);
    for (let id = 0; id < u; id++) prefix[id] = prefixKey(v, firstDoc[id]!);
    return ids.sort((a, b) => prefix[a]! - prefix[b]! || cmp(firstDoc[a]!, firstDoc[b]!));
  }
  return ids.sort((a, b) => cmp(firstDoc[a]!, firstDoc[b]!));
}

/** The first six bytes, big-endian, as a number (missing bytes as 0): consistent with unsigned byte order. */
function prefixKey(v: VarBytes, i: number): number {
  const from = v.offsets[i]!;
  const to = Math.min(v.offsets[i + 1]!, from + 6);
  let key = 0;
  for (let k = 0; k < 6; k++) key = key * 256 + (from + k < to ? v.data[from + k]! : 0);
  return key;
}

/**
 * Distinct byte strings of a VarBytes run by content: an open-addressing hash table of ids (FNV-1a hashes, byte
 * comparison on collision), no string per value.
 */
class DistinctBytes {
  private table: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private hashes: Int32Array<ArrayBuffer> = new Int32Array(256);
  private firsts: Int32Array<ArrayBuffer> = new Int32Array(256);
  private count = 0;

  constructor(private readonly v: VarBytes) {}

  /** The id of value i (new ids in order of first appearance). */
  add(i: number): number {
    const { offsets, data } = this.v;
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    let h = 0x811c9dc5 ^ (to - from);
    for (let k = from; k < to; k++) h = Math.imul(h ^ data[k]!, 0x01000193);
    let mask = this.table.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = this.table[slot]! - 1;
      if (id < 0) break;
      if (this.hashes[id] === h && this.equal(this.firsts[id]!, from, to)) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.count++;
    if (id >= this.firsts.length) {
      this.firsts = grow(this.firsts);
      this.hashes = grow(this.hashes);
    }
    this.firsts[id] = i;
    this.hashes[id] = h;
    if (this.count * 2 > this.table.length) {
      this.rehash();
      mask = this.table.length - 1;
    } else {
      this.table[slot] = id + 1;
    }
    return id;
  }

  private equal(j: number, from: number, to: number): boolean {
    const { offsets, data } = this.v;
    const f = offsets[j]!;
    if (offsets[j + 1]! - f !== to - from) return false;
    for (let k = 0; k < to - from; k++) if (data[f + k] !== data[from + k]) return false;
    return true;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    const mask = this.table.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id]! & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = id + 1;
    }
  }

  firstIndexes(): Int32Array {
    return this.firsts.slice(0, this.count);
  }

  get size(): number {
    return this.count;
  }
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * BIG_DECIMAL order: by a double approximation (a fast numeric sort), then every run of neighbours whose
 * approximations are within 1e-9 of each other (or not finite) is re-sorted exactly.
 */
function sortBigDecimals(v: VarBytes, firstDoc: Int32Array): Int32Array {
  const u = firstDoc.length;
  const approx = new Float64Array(u);
  for (let id = 0; id < u; id++) approx[id] = approximate(v.data, v.offsets[firstDoc[id]!]!, v.offsets[firstDoc[id]! + 1]!);
  const order = Int32Array.from({ length: u }, (_, id) => id).sort((a, b) => approx[a]! - approx[b]! || 0);
  const near = (x: number, y: number): boolean => !Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
  const exact = (id: number): BigDecimalValue => decodeBigDecimal(v.data.subarray(v.offsets[firstDoc[id]!]!, v.offsets[firstDoc[id]! + 1]!));
  for (let start = 0; start < u;) {
    let end = start + 1;
    while (end < u && near(approx[order[end - 1]!]!, approx[order[end]!]!)) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end), (id) => ({ id, d: exact(id) })).sort((a, b) => compareBigDecimal(a.d, b.d));
      run.forEach((r, k) => { order[start + k] = r.id; });
    }
    start = end;
  }
  return order;
}

/** unscaled × 10^−scale as a double, from Pinot's BIG_DECIMAL bytes (BigInt only for long unscaled values). */
function approximate(data: Uint8Array, from: number, to: number): number {
  const scale = ((data[from]! << 24) >> 16) | data[from + 1]!;
  const n = to - from - 2;
  let unscaled: number;
  if (n <= 6) {
    unscaled = 0;
    for (let i = from + 2; i < to; i++) unscaled = unscaled * 256 + data[i]!;
    if (n > 0 && data[from + 2]! & 0x80) unscaled -= 2 ** (8 * n);
  } else {
    unscaled = Number(decodeBigDecimal(data.subarray(from, to)).unscaled);
  }
  return scale >= 0 ? unscaled / 10 ** scale : unscaled * 10 ** -scale;
}

function hasHighBytes(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i]! >= 0xee) return true;
  return false;
}

function distinctCount(v: VarBytes): number {
  const distinct = new DistinctBytes(v);
  for (let i = 0; i + 1 < v.offsets.length; i++) distinct.add(i);
  return distinct.size;
}

function copyValue(v: VarBytes, i: number): Uint8Array {
  return v.data.slice(v.offsets[i]!, v.offsets[i + 1]!);
}

/** Values at `positions`, back to back. */
export function gatherVar(v: VarBytes, positions: ArrayLike<number>): VarBytes {
  const n = positions.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const i = positions[k]!;
    total += v.offsets[i + 1]! - v.offsets[i]!;
    offsets[k + 1] = total;
  }
  const data = new Uint8Array(total);
  const src = v.data;
  for (let k = 0; k < n; k++) {
    const i = positions[k]!;
    const from = v.offsets[i]!;
    const to = v.offsets[i + 1]!;
    const at = offsets[k]!;
    if (to - from < 48) {
      for (let j = from; j < to; j++) data[at + j - from] = src[j]!;
    } else {
      data.set(src.subarray(from, to), at);
    }
  }
  return { offsets, data };
}

/** Comparator over the positions of a VarBytes run, in Pinot's order for the stored type. */
export function comparatorFor(storedType: string, v: VarBytes): (i: number, j: number) => number {
  const { offsets: o, data: d } = v;
  if (storedType === 'BIG_DECIMAL') {
    const cache = new Map<number, BigDecimalValue>();
    const at = (i: number): BigDecimalValue => {
      let x = cache.get(i);
      if (!x) {
        x = decodeBigDecimal(d.subarray(o[i]!, o[i + 1]!));
        if (cache.size > 100_000) cache.clear();
        cache.set(i, x);
      }
      return x;
    };
    return (i, j) => compareBigDecimal(at(i), at(j));
  }
  const utf16 = storedType === 'STRING';
  return (i, j) => compareBytes(d, o[i]!, o[i + 1]!, d, o[j]!, o[j + 1]!, utf16);
}

/**
 * Unsigned lexicographic byte order; with `utf16` the UTF-8 bytes are ordered as Java orders the strings
 * (UTF-16 code units): a supplementary character (lead byte F0–F4, surrogates D800–DBFF) sorts before
 * U+E000–U+FFFF (lead bytes EE, EF), the only place where code-point and UTF-16 order differ.
 */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number, utf16: boolean): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const x = a[as + k]!;
    const y = b[bs + k]!;
    if (x !== y) {
      if (utf16) {
        if (x >= 0xf0 && (y === 0xee || y === 0xef)) return -1;
        if (y >= 0xf0 && (x === 0xee || x === 0xef)) return 1;
      }
      return x - y;
    }
  }
  return (ae - as) - (be - bs);
}

/** Numeric order; equal values with different scales by scale (a total order; Pinot's tie order is arbitrary). */
export function compareBigDecimal(a: BigDecimalValue, b: BigDecimalValue): number {
  let x = a.unscaled;
  let y = b.unscaled;
  if (a.scale > b.scale) y *= 10n ** BigInt(a.scale - b.scale);
  else if (b.scale > a.scale) x *= 10n ** BigInt(b.scale - a.scale);
  if (x !== y) return x < y ? -1 : 1;
  return a.scale - b.scale;
}

// ---------------------------------------------------------------------------------------------------------
// Sortedness in the final doc order

/**
 * Whether the SV column's values are non-decreasing in doc order `perm` (new doc → input doc; identity when
 * undefined), as `addressSorted` / `MutableColumnStatistics.isSorted` decide it.
 */
export function isSortedInOrder(col: IngestedColumn, profile: ColumnProfile, perm: Int32Array | undefined): boolean {
  if (!col.field.singleValue) return false;
  const n = col.totalDocs;
  const at = (k: number): number => (perm ? perm[k]! : k);
  if (profile.dictIds && col.field.storedType !== 'BIG_DECIMAL') {
    const ids = profile.dictIds;
    for (let k = 1; k < n; k++) if (ids[at(k)]! < ids[at(k - 1)]!) return false;
    return true;
  }
  const { values } = col;
  if (values.kind === 'BYTES') {
    const cmp = comparatorFor(col.field.storedType, values.values);
    for (let k = 1; k < n; k++) {
      if (col.field.storedType === 'BIG_DECIMAL' ? compareNumericOnly(values.values, at(k), at(k - 1)) < 0 : cmp(at(k), at(k - 1)) < 0) return false;
    }
    return true;
  }
  const v = values.values;
  for (let k = 1; k < n; k++) if (v[at(k)]! < v[at(k - 1)]!) return false;
  return true;
}

/** BigDecimal `compareTo` (scale ignored), as the collector's `addressSorted` uses it. */
function compareNumericOnly(v: VarBytes, i: number, j: number): number {
  const a = decodeBigDecimal(v.data.subarray(v.offsets[i]!, v.offsets[i + 1]!));
  const b = decodeBigDecimal(v.data.subarray(v.offsets[j]!, v.offsets[j + 1]!));
  return scaledEqual(a, b) ? 0 : compareBigDecimal(a, b);
}

function scaledEqual(a: BigDecimalValue, b: BigDecimalValue): boolean {
  let x = a.unscaled;
  let y = b.unscaled;
  if (a.scale > b.scale) y *= 10n ** BigInt(a.scale - b.scale);
  else if (b.scale > a.scale) x *= 10n ** BigInt(b.scale - a.scale);
  return x === y;
}

/**
 * The doc order a committing segment gets from its sorted column (`getSortedDocIdIterationOrderWithSortedColumn`):
 * docs by ascending dict id, input order within a value. Returns new doc → input doc.
 */
export function sortedDocOrder(dictIds: Int32Array, cardinality: number): Int32Array {
  const counts = new Int32Array(cardinality + 1);
  for (let i = 0; i < dictIds.length; i++) counts[dictIds[i]! + 1] = counts[dictIds[i]! + 1]! + 1;
  for (let d = 0; d < cardinality; d++) counts[d + 1] = counts[d + 1]! + counts[d]!;
  const perm = new Int32Array(dictIds.length);
  for (let i = 0; i < dictIds.length; i++) {
    const d = dictIds[i]!;
    perm[counts[d]!] = i;
    counts[d] = counts[d]! + 1;
  }
  return perm;
}

// ---------------------------------------------------------------------------------------------------------
// Column metadata

/** `ColumnStatistics.UNKNOWN_CARDINALITY`: what a committing segment reports for raw columns. */
export const UNKNOWN_CARDINALITY = -2147483648;

export interface StatsOptions {
  totalDocs: number;
  /** A realtime commit: raw columns report their doc count as total entries (MutableNoDictionaryColStatistics). */
  realtime: boolean;
  hasDictionary: boolean;
  isSorted: boolean;
  /** Dictionary size, the raw distinct count, or UNKNOWN_CARDINALITY. */
  cardinality: number;
  /** `SegmentDictionaryCreator.getNumBytesPerEntry`: longest value of a STRING/BYTES/BIG_DECIMAL dictionary, else 0. */
  lengthOfEachEntry: number;
}

/** What metadata.properties says about the column (`BaseSegmentCreator.addColumnMetadataInfo`), values as Java prints them. */
export function columnStats(field: FieldDef, profile: ColumnProfile, o: StatsOptions): ColumnStats {
  const storedType = field.storedType;
  return {
    name: field.name,
    dataType: field.dataType,
    fieldType: field.fieldType,
    singleValue: field.singleValue,
    hasDictionary: o.hasDictionary,
    isSorted: o.isSorted,
    cardinality: o.cardinality,
    bitsPerElement: javaBits(o.cardinality),
    lengthOfEachEntry: o.lengthOfEachEntry,
    maxNumberOfMultiValues: field.singleValue ? 0 : profile.maxValuesPerRow,
    totalNumberOfEntries: field.singleValue || (o.realtime && !o.hasDictionary) ? o.totalDocs : profile.totalEntries,
    minValue: profile.min === undefined ? undefined : formatStoredValue(storedType, forFormat(storedType, profile.min)),
    maxValue: profile.max === undefined ? undefined : formatStoredValue(storedType, forFormat(storedType, profile.max)),
    defaultNullValue: storedType === 'MAP'
      ? pinotDefaultNullValue('MAP', field.fieldType)
      : formatStoredValue(storedType, defaultStoredValue(field) as JavaStoredValue),
    isAutoGenerated: false,
    schemaMaxLength: storedType === 'STRING' || storedType === 'BYTES' ? field.effectiveMaxLength : undefined,
    datetimeFormat: field.datetimeFormat,
    datetimeGranularity: field.datetimeGranularity,
  };
}

/** `PinotDataBitSet.getNumBitsPerValue(cardinality − 1)` with Java int arithmetic (unknown cardinality → 31). */
export function javaBits(cardinality: number): number {
  const max = (cardinality - 1) | 0;
  return max <= 1 ? 1 : 32 - Math.clz32(max);
}

function forFormat(storedType: string, v: StoredValue): JavaStoredValue {
  if (!(v instanceof Uint8Array)) return v;
  if (storedType === 'STRING') return decodeUtf8(v);
  if (storedType === 'BIG_DECIMAL') return decodeBigDecimal(v);
  return v;
}
