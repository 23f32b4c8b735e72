/**
 * Row-range-scoped dictionaries: which dictionary entries the docs of one range use, renumbered 0..n−1 in
 * dictionary (ascending id) order, and where their values come from (a whole decoded dictionary kept in
 * memory, or windowed reads of the dictionary bytes, see dictionary-windows.ts). Pure; no I/O.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';
import { gather } from './arrow-values.js';
import { popcount32 as popcount, setBitPositions } from './bitpack.js';
import { unfilledInt32 } from './bytes.js';
import type { DataType, ValueBlock } from './types.js';

/** Presented values (see presentBlock) of a column's dictionary entries, fetched by id. */
export interface DictionarySource {
  readonly cardinality: number;
  /** Whether the whole dictionary is held decoded in memory (else every call reads the bytes it needs). */
  readonly inMemory: boolean;
  /** Values of dictionary ids `used` (ascending, distinct, each < cardinality), in that order. */
  values(used: Int32Array): ValueBlock;
}

/**
 * Dictionaries (Arrow dictionary Data) known to have every entry used by the ids they come with: the
 * row-range subsets below. Writers may skip finding the used entries again; a dictionary wrongly marked only
 * costs unused entries and looser (still true) min/max bounds, never wrong values.
 */
const EVERY_ENTRY_USED = new WeakSet<object>();

export function markEveryEntryUsed<T extends object>(dictionary: T): T {
  EVERY_ENTRY_USED.add(dictionary);
  return dictionary;
}

export function everyEntryUsed(dictionary: object): boolean {
  return EVERY_ENTRY_USED.has(dictionary);
}

/**
 * Id arrays known to hold only ids in [0, bound): renumberIds' output, whose every id it checked or made. A
 * writer may then skip its own bounds check for a dictionary of at least `bound` entries. Only for arrays
 * nothing writes to afterwards.
 */
const IDS_BELOW = new WeakMap<Int32Array, number>();

export function markIdsBelow(ids: Int32Array, bound: number): Int32Array {
  IDS_BELOW.set(ids, bound);
  return ids;
}

/** The bound every id in `ids` is known to be below, if one was recorded (see markIdsBelow). */
export function idsKnownBelow(ids: Int32Array): number | undefined {
  return IDS_BELOW.get(ids);
}

/** A dictionary decoded once and kept: subsets are gathers. */
export function memoryDictionary(presented: ValueBlock, cardinality: number): DictionarySource {
  return { cardinality, inMemory: true, values: (used) => gather(presented, used) };
}

/** Cardinalities up to which renumberIds uses a direct id → rank table (4 bytes per entry). */
const DENSE_RANK_LIMIT = 1 << 21;

export interface RenumberOptions {
  /**
   * Arrow validity (1 = valid) of single-value ids: positions whose bit is clear are nulls. Their ids are
   * bounds-checked like any other (Pinot stores a real id there too) but do not count as uses, and become 0.
   */
  validBitmap?: Uint8Array;
  /**
   * Ids of −1 are null multi-value rows' elements marked by markNullRowElements: not uses, and they become 0.
   * (Ids come from at most 31-bit fields, or are checked first: a real id is never −1.)
   */
  nullMarks?: boolean;
  /** Named in errors. */
  column?: string;
}

/**
 * Renumbers `ids` in place to ranks among the distinct ids they use, and returns those ids ascending
 * (`used[rank] = original id`). Every id is bounds-checked against the cardinality here, so the forward
 * reader need not check them first. A bitset over the cardinality marks the uses; the rank of an id is the
 * popcount of the set bits before it (a per-word prefix sum plus one masked popcount), so the cost is
 * O(ids + cardinality/32) with no id → rank table of the cardinality's size — except when every entry is
 * used (ranks = ids), and below DENSE_RANK_LIMIT entries not far above the id count, where such a table is
 * small and faster. Below that size nulls are told apart inside these loops rather than in passes of their
 * own (each pass over 1.6M ids costs ~4 ms here).
 */
export function renumberIds(ids: Int32Array, cardinality: number, opts: RenumberOptions = {}): Int32Array {
  let { validBitmap, nullMarks = false } = opts;
  // Word w of the bitset at [2w], the number of set bits before it at [2w + 1]: the rank lookup below then
  // touches one cache line per id, not one in each of two arrays.
  const wordCount = (cardinality + 31) >>> 5;
  const bits = new Int32Array(2 * wordCount);
  const n = ids.length;
  // `>>> 0` folds negative ids into the one unsigned bounds check.
  let bad = -1;
  if (validBitmap !== undefined && (cardinality > DENSE_RANK_LIMIT || cardinality > 4 * n)) {
    // The popcount path's loops are bound by random reads of a bitset far larger than the cache: there a
    // streaming pass that marks the nulls −1 (checking their ids) first, keeping the random-access loops
    // free of validity tests, measured faster (1.6M ids of 10M entries: 77 vs 97 ms).
    bad = markNulls(ids, validBitmap, cardinality);
    validBitmap = undefined;
    nullMarks = true;
  }
  if (validBitmap !== undefined) {
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if ((id >>> 0) >= cardinality) bad = i;
      else if ((validBitmap[i >> 3]! & (1 << (i & 7))) !== 0) bits[(id >>> 5) << 1]! |= 1 << (id & 31);
    }
  } else if (nullMarks) {
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id === -1) continue;
      if ((id >>> 0) >= cardinality) bad = i;
      else bits[(id >>> 5) << 1]! |= 1 << (id & 31);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if ((id >>> 0) >= cardinality) bad = i;
      else bits[(id >>> 5) << 1]! |= 1 << (id & 31);
    }
  }
  if (bad >= 0) {
    throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, `dict id ${ids[bad]! >>> 0} is not below the cardinality ${cardinality}`, {
      context: { column: opts.column, index: 'forward_index' },
    });
  }
  let count = 0;
  for (let w = 0; w < wordCount; w++) {
    bits[2 * w + 1] = count;
    count += popcount(bits[2 * w]!);
  }
  const used = unfilledInt32(count);
  if (count === cardinality) {
    // Every entry is used (common for low-cardinality columns): ranks are the ids themselves.
    for (let k = 0; k < count; k++) used[k] = k;
    if (nullMarks) for (let i = 0; i < n; i++) if (ids[i] === -1) ids[i] = 0;
  } else {
    setBitPositions(bits, wordCount, 2, used);
    // Past here every id but the −1 marks is below the cardinality, so the lookups stay in bounds.
    if (cardinality <= DENSE_RANK_LIMIT && cardinality <= 4 * n) {
      // A direct id → rank table (at most 8 MiB) is one load per id instead of a masked popcount.
      const table = new Int32Array(cardinality);
      for (let k = 0; k < count; k++) table[used[k]!] = k;
      if (nullMarks) {
        for (let i = 0; i < n; i++) {
          const id = ids[i]!;
          ids[i] = id === -1 ? 0 : table[id]!;
        }
      } else {
        for (let i = 0; i < n; i++) ids[i] = table[ids[i]!]!;
      }
    } else {
      // Written out rather than a helper call: this random-access loop measured ~10 % slower through one.
      // (1 << b) − 1 masks the bits below b; for b = 31 the int32 wrap-around still gives 0x7fffffff.
      for (let i = 0; i < n; i++) {
        const id = ids[i]!;
        if (id === -1 && nullMarks) {
          ids[i] = 0;
          continue;
        }
        const at = (id >>> 5) << 1;
        ids[i] = bits[at + 1]! + popcount(bits[at]! & ((1 << (id & 31)) - 1));
      }
    }
  }
  // Null single-value positions were ranked like the rest (an unused id's rank may be past the subset).
  if (validBitmap !== undefined) zeroNulls(ids, validBitmap);
  return used;
}

/**
 * Sets ids[i] = −1 where validity bit i is clear, and returns the index of an id there that is not below the
 * cardinality (−1 if none), kept as it was so the error can name it.
 */
function markNulls(ids: Int32Array, validBitmap: Uint8Array, cardinality: number): number {
  let bad = -1;
  for (let i = 0; i < ids.length; i++) {
    if ((validBitmap[i >> 3]! & (1 << (i & 7))) !== 0) continue;
    if ((ids[i]! >>> 0) >= cardinality) bad = i;
    else ids[i] = -1;
  }
  return bad;
}

/** Sets ids[i] = 0 where validity bit i is clear, a byte of the bitmap at a time (most bytes are all valid). */
function zeroNulls(ids: Int32Array, validBitmap: Uint8Array): void {
  const n = ids.length;
  const bytes = (n + 7) >>> 3;
  for (let b = 0; b < bytes; b++) {
    const valid = validBitmap[b]!;
    if (valid === 0xff) continue;
    const first = b << 3;
    const last = Math.min(first + 8, n);
    for (let i = first; i < last; i++) if ((valid & (1 << (i - first))) === 0) ids[i] = 0;
  }
}

/**
 * Marks the elements of null multi-value rows as nulls (id −1), in place, so renumberIds neither counts them as
 * uses of their entries nor keeps them (they get id 0, and a null row's elements are never read; with no entry
 * used at all the caller must empty the lists, id 0 being past the end). The rows and offsets stay as they
 * are: copying every element of a column without the null rows' cost ~0.5 s per 47M elements at 10M rows.
 */
export function markNullRowElements(offsets: Int32Array, values: Int32Array, validBitmap: Uint8Array): void {
  const rows = offsets.length - 1;
  for (let r = 0; r < rows; r++) {
    if ((validBitmap[r >> 3]! & (1 << (r & 7))) !== 0) continue;
    values.fill(-1, offsets[r]!, offsets[r + 1]!);
  }
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
