/**
 * Row-range-scoped dictionaries: which dictionary entries the docs of one range use, renumbered 0..n−1 in
 * dictionary (ascending id) order, and where their values come from (a whole decoded dictionary kept in
 * memory, or windowed reads of the dictionary bytes, see dictionary-windows.ts). Pure; no I/O.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';
import { gather } from './arrow-values.js';
import type { DataType, ValueBlock } from './types.js';

/** Presented values (see presentBlock) of a column's dictionary entries, fetched by id. */
export interface DictionarySource {
  readonly cardinality: number;
  /** Whether the whole dictionary is held decoded in memory (else every call reads the bytes it needs). */
  readonly inMemory: boolean;
  /** Values of dictionary ids `used` (ascending, distinct, each < cardinality), in that order. */
  values(used: Int32Array): ValueBlock;
}

/** A dictionary decoded once and kept: subsets are gathers. */
export function memoryDictionary(presented: ValueBlock, cardinality: number): DictionarySource {
  return { cardinality, inMemory: true, values: (used) => gather(presented, used) };
}

/**
 * Renumbers `ids` in place to ranks among the distinct ids they use, and returns those ids ascending
 * (`used[rank] = original id`). Positions whose bit in `validBitmap` (Arrow validity, 1 = valid) is clear
 * are nulls: they do not count as uses and get id 0. A bitset over the cardinality marks the uses; the rank
 * of an id is the popcount of the set bits before it (a per-word prefix sum plus one masked popcount), so
 * the cost is O(ids + cardinality/32) with no id → rank table of the cardinality's size.
 */
export function renumberIds(ids: Int32Array, cardinality: number, validBitmap?: Uint8Array, column?: string): Int32Array {
  const words = new Uint32Array((cardinality + 31) >>> 5);
  const n = ids.length;
  // Null positions become −1 (id 0 at the end) and are skipped, so the hot loops test no validity bits.
  if (validBitmap) markNulls(ids, validBitmap);
  let bad = -1;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id === -1) continue;
    // `>>> 0` folds negative ids into the one unsigned bounds check; forward readers already bound ids.
    if ((id >>> 0) >= cardinality) bad = i;
    else words[id >>> 5]! |= 1 << (id & 31);
  }
  if (bad >= 0) {
    throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, `dict id ${ids[bad]} is not below the cardinality ${cardinality}`, {
      context: { column, index: 'forward_index' },
    });
  }
  const rank = new Int32Array(words.length);
  let count = 0;
  for (let w = 0; w < words.length; w++) {
    rank[w] = count;
    count += popcount(words[w]!);
  }
  const used = new Int32Array(count);
  for (let w = 0, k = 0; w < words.length; w++) {
    let bits = words[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      used[k++] = (w << 5) + 31 - Math.clz32(low);
      bits ^= low;
    }
  }
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id === -1) {
      ids[i] = 0;
      continue;
    }
    const w = id >>> 5;
    // (1 << b) − 1 masks the bits below b; for b = 31 the int32 wrap-around still gives 0x7fffffff.
    ids[i] = rank[w]! + popcount(words[w]! & ((1 << (id & 31)) - 1));
  }
  return used;
}

/** Sets ids[i] = −1 where validity bit i is clear. */
function markNulls(ids: Int32Array, validBitmap: Uint8Array): void {
  for (let i = 0; i < ids.length; i++) if ((validBitmap[i >> 3]! & (1 << (i & 7))) === 0) ids[i] = -1;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Multi-value rows without the elements of null rows: null rows become empty lists (their validity bit
 * stays clear), so every remaining element is a real use of its dictionary entry.
 */
export function dropNullRowElements(offsets: Int32Array, values: Int32Array, validBitmap: Uint8Array): { offsets: Int32Array; values: Int32Array } {
  const rows = offsets.length - 1;
  const outOffsets = new Int32Array(rows + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if ((validBitmap[r >> 3]! & (1 << (r & 7))) !== 0) total += offsets[r + 1]! - offsets[r]!;
    outOffsets[r + 1] = total;
  }
  if (total === values.length) return { offsets, values };
  const out = new Int32Array(total);
  for (let r = 0; r < rows; r++) {
    const from = outOffsets[r]!;
    const len = outOffsets[r + 1]! - from;
    if (len > 0) out.set(values.subarray(offsets[r]!, offsets[r]! + len), from);
  }
  return { offsets: outOffsets, values: out };
}

/**
 * About how many bytes a whole decoded, presented dictionary occupies, from its stored size: numbers as
 * stored; variable-width values plus an offset per entry (BIG_DECIMAL text runs about twice its bytes).
 */
export function decodedDictionaryBytes(dataType: DataType, cardinality: number, storedBytes: number): number {
  switch (dataType) {
    case 'INT': case 'LONG': case 'FLOAT': case 'DOUBLE': case 'BOOLEAN': case 'TIMESTAMP':
      return storedBytes;
    case 'BIG_DECIMAL':
      return 2 * storedBytes + 4 * (cardinality + 1);
    default:
      return storedBytes + 4 * (cardinality + 1);
  }
}
