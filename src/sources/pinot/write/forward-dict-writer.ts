/**
 * Forward indexes of dictionary-encoded columns (§9.1–§9.4) as Pinot 1.5.1 writes them:
 * `FixedBitSVForwardIndexWriter`, `SingleValueSortedForwardIndexCreator`, `FixedBitMVForwardIndexWriter` and
 * `FixedBitMVEntryDictForwardIndexWriter`. Inputs are dict ids; `bits` is the column's `bitsPerElement`
 * (`bitsFor(cardinality − 1)`). Bad input (an id that does not fit, unsorted ids for the sorted index, an empty
 * row where the format cannot hold one) throws USAGE.
 */
import { ConfigError, ErrorCodes } from '../../../errors.js';
import { bitsFor, packBits, packBitsInto, packedByteLength, setBit } from './bitpack-writer.js';
import type { MultiValueBlock } from './contracts.js';

/** Pinot keeps each forward index buffer below 2 GB (`PinotDataBuffer`, `Integer.MAX_VALUE` checks). */
const MAX_INDEX_BYTES = 0x7fffffff;

function usage(detail: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, `forward index: ${detail}`, { context: { index: 'forward_index' } });
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw usage(`bits per dict id ${bits} is not in 1…32`);
}

/** Dict ids are non-negative; `packBits` checks the upper bound (reading Int32 as uint32 at width 32). */
function checkNonNegative(ids: Int32Array, count: number, bits: number): void {
  if (bits < 32) return; // below 32 bits a negative id already fails the packer's range check
  for (let i = 0; i < count; i++) if (ids[i]! < 0) throw usage(`dict id ${ids[i]} at index ${i} is negative`);
}

function checkSize(bytes: number, what: string): void {
  if (bytes >= MAX_INDEX_BYTES) throw usage(`${what} of ${bytes} bytes exceeds Pinot's 2 GB index limit`);
}

/** §9.1: dict ids packed MSB-first, `⌈N·bits/8⌉` bytes. */
export function writeFixedBitSV(dictIds: Int32Array, bits: number): Uint8Array {
  checkBits(bits);
  checkSize(packedByteLength(dictIds.length, bits), 'fixed-bit forward index');
  checkNonNegative(dictIds, dictIds.length, bits);
  try {
    return packBits(dictIds, bits);
  } catch (err) {
    throw err instanceof ConfigError ? usage(err.detail) : err;
  }
}

/**
 * §9.2: per dict id d, (first doc, last doc) as two i32 BE. `dictIds` must be non-decreasing and use every id
 * `0 … cardinality − 1` (a sorted column's dictionary holds exactly its values).
 */
export function writeSortedSV(dictIds: Int32Array, cardinality: number): Uint8Array {
  const n = dictIds.length;
  if (!Number.isSafeInteger(cardinality) || cardinality < 0 || cardinality > 0x7fffffff) {
    throw usage(`cardinality ${cardinality} is not a count`);
  }
  checkSize(8 * cardinality, 'sorted forward index');
  const out = new Uint8Array(8 * cardinality);
  const dv = new DataView(out.buffer);
  if (n === 0) {
    if (cardinality !== 0) throw usage(`0 docs cannot use ${cardinality} dict ids`);
    return out;
  }
  let current = dictIds[0]!;
  if (current !== 0) throw usage(`sorted dict ids must start at 0, doc 0 has ${current}`);
  for (let doc = 1; doc < n; doc++) {
    const id = dictIds[doc]!;
    if (id === current) continue;
    if (id < current) throw usage(`sorted forward index needs non-decreasing dict ids: doc ${doc} has ${id} after ${current}`);
    if (id !== current + 1) {
      throw usage(`sorted forward index needs every dict id: doc ${doc} jumps from ${current} to ${id}, so ${current + 1} has no docs`);
    }
    if (id >= cardinality) throw usage(`dict id ${id} at doc ${doc} is not below the cardinality ${cardinality}`);
    dv.setInt32(8 * current + 4, doc - 1);
    dv.setInt32(8 * id, doc);
    current = id;
  }
  if (current !== cardinality - 1) {
    throw usage(`sorted dict ids end at ${current}, but the cardinality is ${cardinality} (ids ${current + 1}… have no docs)`);
  }
  dv.setInt32(8 * current + 4, n - 1);
  return out;
}

/** Number of docs and values of an MV block, after checking its offsets. */
function checkRows(rows: MultiValueBlock<Int32Array>, allowEmpty: boolean): { docs: number; total: number } {
  const { offsets, values } = rows;
  if (offsets.length < 1 || offsets[0] !== 0) throw usage('multi-value offsets must start with 0');
  const docs = offsets.length - 1;
  for (let r = 0; r < docs; r++) {
    const len = offsets[r + 1]! - offsets[r]!;
    if (len < 0) throw usage(`multi-value offset ${r + 1} is before offset ${r}`);
    if (len === 0 && !allowEmpty) {
      throw usage(`doc ${r} has no values; the fixed-bit MV format needs at least one per doc (Pinot stores [defaultNullValue])`);
    }
  }
  const total = offsets[docs]!;
  if (total > values.length) throw usage(`multi-value offsets reach ${total}, only ${values.length} values given`);
  return { docs, total };
}

/**
 * §9.3: chunk offsets (value index of every `docsPerChunk`-th doc), the row-start bitmap and the packed values.
 * `docsPerChunk = ⌈2048 / ⌊T/N⌋⌉` with Pinot's integer average. Every doc needs at least one value.
 */
export function writeFixedBitMV(rows: MultiValueBlock<Int32Array>, bits: number): Uint8Array {
  checkBits(bits);
  const { docs: N, total: T } = checkRows(rows, false);
  if (N === 0) return new Uint8Array(0);
  const docsPerChunk = Math.ceil(2048 / Math.floor(T / N));
  const numChunks = Math.ceil(N / docsPerChunk);
  const bitmapStart = 4 * numChunks;
  const valuesStart = bitmapStart + Math.ceil(T / 8);
  const size = valuesStart + packedByteLength(T, bits);
  checkSize(size, 'fixed-bit MV forward index');
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const { offsets } = rows;
  for (let k = 0; k < numChunks; k++) dv.setInt32(4 * k, offsets[k * docsPerChunk]!);
  const bitmap = out.subarray(bitmapStart, valuesStart);
  for (let r = 0; r < N; r++) setBit(bitmap, offsets[r]!);
  checkNonNegative(rows.values, T, bits);
  try {
    packBitsInto(out, 8 * valuesStart, rows.values, bits, 0, T);
  } catch (err) {
    throw err instanceof ConfigError ? usage(err.detail) : err;
  }
  return out;
}

const MV_ENTRY_DICT_MAGIC = 0xffabcdef;
const ENTRY_HEADER = 24;

/**
 * §9.4: each distinct row (dict-id sequence, order and duplicates included) becomes an entry, numbered in order
 * of first appearance; per doc its entry id, then the entries' offsets and values. Empty rows are allowed.
 */
export function writeMVEntryDict(rows: MultiValueBlock<Int32Array>, bits: number): Uint8Array {
  checkBits(bits);
  const { docs: N, total: T } = checkRows(rows, true);
  checkNonNegative(rows.values, T, bits);
  const { ids, entryStart, entryLength, count: U, totalValues: V } = dedupeRows(rows, N);
  const idBits = bitsFor(Math.max(0, U - 1));
  const offsetBits = bitsFor(V);
  const offsetsStart = ENTRY_HEADER + packedByteLength(N, idBits);
  const valuesStart = offsetsStart + packedByteLength(U + 1, offsetBits);
  const size = valuesStart + packedByteLength(V, bits);
  checkSize(size, 'MV_ENTRY_DICT forward index');
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MV_ENTRY_DICT_MAGIC);
  dv.setInt16(4, 1);
  dv.setUint8(6, bits);
  dv.setUint8(7, idBits);
  dv.setInt32(8, U);
  dv.setInt32(12, V);
  dv.setInt32(16, offsetsStart);
  dv.setInt32(20, valuesStart);
  packBitsInto(out, 8 * ENTRY_HEADER, ids, idBits);
  const entryOffsets = new Int32Array(U + 1);
  let bit = 8 * valuesStart;
  try {
    for (let e = 0; e < U; e++) {
      const len = entryLength[e]!;
      entryOffsets[e + 1] = entryOffsets[e]! + len;
      packBitsInto(out, bit, rows.values, bits, entryStart[e]!, len);
      bit += len * bits;
    }
  } catch (err) {
    throw err instanceof ConfigError ? usage(err.detail) : err;
  }
  packBitsInto(out, 8 * offsetsStart, entryOffsets, offsetBits);
  return out;
}

interface Entries {
  /** Entry id of each doc. */
  ids: Int32Array;
  /** Where each entry's values start in `rows.values` (its first occurrence), and how many there are. */
  entryStart: Int32Array;
  entryLength: Int32Array;
  count: number;
  totalValues: number;
}

/**
 * Open-addressing hash of the rows' dict-id sequences: entries point back at their first occurrence in the
 * input, so no per-row key is allocated.
 */
function dedupeRows(rows: MultiValueBlock<Int32Array>, docs: number): Entries {
  const { offsets, values } = rows;
  const ids = new Int32Array(docs);
  let capacity = 16;
  while (capacity < 2 * docs) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Int32Array(capacity).fill(-1);
  let entryStart: Int32Array = new Int32Array(Math.min(docs, 1024));
  let entryLength: Int32Array = new Int32Array(entryStart.length);
  let count = 0;
  let totalValues = 0;
  for (let r = 0; r < docs; r++) {
    const s = offsets[r]!;
    const len = offsets[r + 1]! - s;
    let h = Math.imul(len, 0x9e3779b1);
    for (let k = s; k < s + len; k++) h = Math.imul(h ^ values[k]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    let slot = h & mask;
    for (;;) {
      const e = slots[slot]!;
      if (e < 0) {
        if (count === entryStart.length) {
          entryStart = grow(entryStart);
          entryLength = grow(entryLength);
        }
        entryStart[count] = s;
        entryLength[count] = len;
        slots[slot] = count;
        ids[r] = count++;
        totalValues += len;
        break;
      }
      if (entryLength[e] === len && sameValues(values, entryStart[e]!, s, len)) {
        ids[r] = e;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { ids, entryStart, entryLength, count, totalValues };
}

function sameValues(values: Int32Array, a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (values[a + k] !== values[b + k]) return false;
  return true;
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(16, a.length * 2));
  next.set(a);
  return next;
}
