import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentFormatError, type ErrorContext } from '../../src/errors.js';
import { bytesRange, subRange, type ByteRange } from '../../src/sources/pinot/bytes.js';
import { readDictionary } from '../../src/sources/pinot/dictionary.js';
import {
  openDictForward, openFixedBitMV, openFixedBitSV, openMVEntryDict, openSortedSV,
} from '../../src/sources/pinot/forward-dict.js';
import type { MVDictForwardReader, SVDictForwardReader } from '../../src/sources/pinot/types.js';
import { describeFixtures } from '../support/fixtures.js';
import { rng } from '../support/random.js';

// ---- independent encoders following the writer rules of §9.1–9.4 ----

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/[\s|]/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));

const bitsOf = (x: number): number => (x <= 1 ? 1 : Math.floor(Math.log2(x)) + 1);

function pack(values: number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  let pos = 0;
  for (const v of values) {
    for (let b = bits - 1; b >= 0; b--) {
      if ((v >>> b) & 1) out[pos >> 3]! |= 0x80 >> (pos & 7);
      pos++;
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function i32s(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setInt32(4 * i, v));
  return out;
}

/** FixedBitMVForwardIndexWriter layout: chunk offsets, row-start bitmap, packed values. */
function buildFixedBitMV(rows: number[][], bits: number): Uint8Array {
  const n = rows.length;
  const values = rows.flat();
  const docsPerChunk = Math.ceil(2048 / Math.floor(values.length / n));
  const chunkOffsets: number[] = [];
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let pos = 0;
  rows.forEach((row, doc) => {
    if (doc % docsPerChunk === 0) chunkOffsets.push(pos);
    bitmap[pos >> 3]! |= 0x80 >> (pos & 7);
    pos += row.length;
  });
  return concat(i32s(chunkOffsets), bitmap, pack(values, bits));
}

/** FixedBitMVEntryDictForwardIndexWriter layout. */
function buildEntryDict(rows: number[][], bits: number): Uint8Array {
  const entries: number[][] = [];
  const index = new Map<string, number>();
  const ids = rows.map((row) => {
    const key = row.join(',');
    if (!index.has(key)) {
      index.set(key, entries.length);
      entries.push(row);
    }
    return index.get(key)!;
  });
  const offsets = [0];
  for (const e of entries) offsets.push(offsets[offsets.length - 1]! + e.length);
  const total = offsets[offsets.length - 1]!;
  const idBytes = pack(ids, bitsOf(entries.length - 1));
  const offsetBytes = pack(offsets, bitsOf(total));
  const header = new Uint8Array(24);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 0xffabcdef);
  dv.setInt16(4, 1);
  dv.setUint8(6, bits);
  dv.setUint8(7, bitsOf(entries.length - 1));
  dv.setInt32(8, entries.length);
  dv.setInt32(12, total);
  dv.setInt32(16, 24 + idBytes.length);
  dv.setInt32(20, 24 + idBytes.length + offsetBytes.length);
  return concat(header, idBytes, offsetBytes, pack(entries.flat(), bits));
}

/** Sorted index: (first doc, last doc) per dict id for runs of the given lengths. */
function buildSorted(runLengths: number[]): Uint8Array {
  const pairs: number[] = [];
  let doc = 0;
  for (const len of runLengths) {
    pairs.push(doc, doc + len - 1);
    doc += len;
  }
  return i32s(pairs);
}


/** A ByteRange that records every read, to check that readers only touch the bytes they need. */
function countingRange(bytes: Uint8Array): ByteRange & { reads: [number, number][] } {
  const inner = bytesRange(bytes);
  const reads: [number, number][] = [];
  return {
    length: inner.length,
    reads,
    read(start, end) {
      reads.push([start, end]);
      return inner.read(start, end);
    },
  };
}

function rowsOf(block: { offsets: Int32Array; values: Int32Array }): number[][] {
  expect(block.offsets[0]).toBe(0);
  expect(block.offsets[block.offsets.length - 1]).toBe(block.values.length);
  return Array.from({ length: block.offsets.length - 1 }, (_, i) =>
    Array.from(block.values.subarray(block.offsets[i], block.offsets[i + 1])));
}

function expectError(fn: () => unknown, code: string, context: ErrorContext): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SegmentFormatError);
  expect((caught as SegmentFormatError).code).toBe(code);
  expect((caught as SegmentFormatError).context).toMatchObject(context);
}

const FWD = { column: 'c', index: 'forward_index' };

// ---- §9.1 ----

describe('fixed-bit SV (§9.1)', () => {
  const SCORE = hex('76 89 15 03 24');

  it('decodes the recipes `score` example in one call, in batches and at random', () => {
    const r = openFixedBitSV(bytesRange(SCORE), { bits: 4, totalDocs: 10, cardinality: 10 });
    expect(r.kind).toBe('sv-dict');
    expect(Array.from(r.readDictIds(0, 10))).toEqual([7, 6, 8, 9, 1, 5, 0, 3, 2, 4]);
    expect([...r.readDictIds(0, 3), ...r.readDictIds(3, 7), ...r.readDictIds(7, 10)]).toEqual([7, 6, 8, 9, 1, 5, 0, 3, 2, 4]);
    expect(Array.from(r.readDictIds(5, 6))).toEqual([5]);
    expect(Array.from(r.readDictIds(4, 4))).toEqual([]);
  });

  it('reads only the bytes of the requested docs', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 51594);
    const range = countingRange(pack(ids, 16));
    const r = openFixedBitSV(range, { bits: 16, totalDocs: ids.length, cardinality: 51594 });
    expect(Array.from(r.readDictIds(50_000, 50_010))).toEqual(ids.slice(50_000, 50_010));
    expect(range.reads).toEqual([[100_000, 100_020]]);
  });

  it('round-trips random ids at odd widths and odd batch boundaries', () => {
    for (const bits of [1, 3, 7, 9, 13, 17, 23, 31]) {
      const next = rng(bits);
      const cardinality = Math.min(2 ** bits, 1_000_003);
      const ids = Array.from({ length: 1001 }, () => Math.floor(next() * cardinality));
      const r = openFixedBitSV(bytesRange(pack(ids, bits)), { bits, totalDocs: 1001, cardinality });
      const got: number[] = [];
      for (let s = 0; s < 1001; s += 37) got.push(...r.readDictIds(s, Math.min(1001, s + 37)));
      expect(got).toEqual(ids);
    }
  });

  it('rejects a buffer shorter or longer than ⌈totalDocs·bits/8⌉', () => {
    expectError(() => openFixedBitSV(bytesRange(SCORE.subarray(0, 4)), { bits: 4, totalDocs: 10, column: 'c' }),
      'PINOT_TRUNCATED', { ...FWD, offset: 4 });
    expectError(() => openFixedBitSV(bytesRange(concat(SCORE, hex('00'))), { bits: 4, totalDocs: 10, column: 'c' }),
      'PINOT_CORRUPT', { ...FWD, offset: 5 });
  });

  it('rejects a dict id ≥ cardinality, naming the row and byte', () => {
    const r = openFixedBitSV(bytesRange(SCORE), { bits: 4, totalDocs: 10, cardinality: 9, column: 'c' });
    expect(Array.from(r.readDictIds(0, 3))).toEqual([7, 6, 8]);
    expectError(() => r.readDictIds(2, 6), 'PINOT_CORRUPT', { ...FWD, row: 3, offset: 1 });
  });

  it('skips the id check only when asked and only below 32 bits (a 32-bit id can read as −1)', () => {
    const r = openFixedBitSV(bytesRange(SCORE), { bits: 4, totalDocs: 10, cardinality: 9, column: 'c' });
    expect(Array.from(r.readDictIds(2, 6, { unchecked: true }))).toEqual([8, 9, 1, 5]);
    expectError(() => r.readDictIds(2, 6, { unchecked: false }), 'PINOT_CORRUPT', { ...FWD, row: 3, offset: 1 });
    const wide = openFixedBitSV(bytesRange(hex('00000001ffffffff')), { bits: 32, totalDocs: 2, cardinality: 5, column: 'c' });
    expectError(() => wide.readDictIds(0, 2, { unchecked: true }), 'PINOT_CORRUPT', { ...FWD, row: 1, offset: 4 });
  });

  it('rejects bad metadata and doc ranges outside the column', () => {
    expectError(() => openFixedBitSV(bytesRange(SCORE), { bits: 0, totalDocs: 10, column: 'c' }), 'PINOT_BAD_METADATA', { column: 'c' });
    expectError(() => openFixedBitSV(bytesRange(SCORE), { bits: 4, totalDocs: -1, column: 'c' }), 'PINOT_BAD_METADATA', { column: 'c' });
    const r = openFixedBitSV(bytesRange(SCORE), { bits: 4, totalDocs: 10 });
    expect(() => r.readDictIds(5, 11)).toThrow(RangeError);
    expect(() => r.readDictIds(6, 5)).toThrow(RangeError);
  });
});

// ---- §9.2 ----

describe('sorted SV (§9.2)', () => {
  it('decodes the recipes `round` example: dict id 0 for docs 0–9', () => {
    const r = openSortedSV(bytesRange(hex('00 00 00 00 00 00 00 09')), { cardinality: 1, totalDocs: 10 });
    expect(Array.from(r.readDictIds(0, 10))).toEqual(new Array(10).fill(0));
    expect(Array.from(r.readDictIds(9, 10))).toEqual([0]);
  });

  it('expands runs, sequentially and at random, across windows of pairs', () => {
    const next = rng(42);
    const runs = Array.from({ length: 20_000 }, () => 1 + Math.floor(next() * 3));
    const expected = runs.flatMap((len, d) => new Array<number>(len).fill(d));
    const total = expected.length;
    const r = openSortedSV(bytesRange(buildSorted(runs)), { cardinality: runs.length, totalDocs: total });
    const got: number[] = [];
    for (let s = 0; s < total; s += 1000) got.push(...r.readDictIds(s, Math.min(total, s + 1000)));
    expect(got).toEqual(expected);
    for (const [s, e] of [[total - 5, total], [0, 3], [20_000, 20_100], [7, 30_000], [39_000, 39_001]] as const) {
      expect(Array.from(r.readDictIds(s, e)), `[${s}, ${e})`).toEqual(expected.slice(s, e));
    }
  });

  it('reads only the pairs window it needs', () => {
    const runs = new Array<number>(100_000).fill(2);
    const range = countingRange(buildSorted(runs));
    const r = openSortedSV(range, { cardinality: runs.length, totalDocs: 200_000 });
    range.reads.length = 0;
    expect(Array.from(r.readDictIds(150_000, 150_004))).toEqual([75_000, 75_000, 75_001, 75_001]);
    const bytes = range.reads.reduce((n, [s, e]) => n + e - s, 0);
    expect(bytes).toBeLessThan(8 * 8192 + 64);
  });

  it('rejects a length that is not 8 × cardinality', () => {
    expectError(() => openSortedSV(bytesRange(hex('00000000 00000009 00')), { cardinality: 1, totalDocs: 10, column: 'c' }),
      'PINOT_CORRUPT', { ...FWD, offset: 8 });
    expectError(() => openSortedSV(bytesRange(hex('00000000 000000')), { cardinality: 1, totalDocs: 10, column: 'c' }),
      'PINOT_TRUNCATED', { ...FWD, offset: 7 });
  });

  it('rejects gaps, overlaps, empty ranges and ranges that do not end at the last doc', () => {
    const open = (pairs: number[], totalDocs: number) => openSortedSV(bytesRange(i32s(pairs)),
      { cardinality: pairs.length / 2, totalDocs, column: 'c' });
    expectError(() => open([0, 2, 4, 9], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 8 });
    expectError(() => open([0, 4, 4, 9], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 8 });
    expectError(() => open([1, 4, 5, 9], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 0 });
    expectError(() => open([0, 4, 5, 4], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 12 });
    expectError(() => open([0, 4, 5, 8], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 12 });
    expectError(() => open([0, 4, 5, 10], 10).readDictIds(0, 10), 'PINOT_CORRUPT', { ...FWD, offset: 12 });
    expectError(() => open([], 10), 'PINOT_CORRUPT', FWD);
  });

  it('rejects a gap between windows of pairs, whichever side of it is read first', () => {
    // 8192 one-doc ranges (docs 0–8191, exactly one window), then a range starting at 8200 instead of 8192.
    const pairs = [...Array.from({ length: 8192 }, (_, d) => [d, d]).flat(), 8200, 8299];
    const open = () => openSortedSV(bytesRange(i32s(pairs)), { cardinality: 8193, totalDocs: 8300, column: 'c' });
    expect(Array.from(open().readDictIds(8190, 8192))).toEqual([8190, 8191]);
    expect(Array.from(open().readDictIds(5, 5))).toEqual([]);
    expectError(() => open().readDictIds(8195, 8196), 'PINOT_CORRUPT', { ...FWD, offset: 65536, row: 8195 });
    expectError(() => open().readDictIds(8250, 8251), 'PINOT_CORRUPT', { ...FWD, offset: 65536 });
    expectError(() => open().readDictIds(8000, 8300), 'PINOT_CORRUPT', { ...FWD, offset: 65536 });
  });
});

// ---- §9.3 ----

function randomRows(n: number, maxLen: number, cardinality: number, seed: number): number[][] {
  const next = rng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(next() * maxLen) }, () => Math.floor(next() * cardinality)));
}

function openMV(rows: number[][], bits: number, cardinality: number, bytes = buildFixedBitMV(rows, bits)): MVDictForwardReader {
  return openFixedBitMV(bytesRange(bytes),
    { bits, totalDocs: rows.length, totalEntries: rows.flat().length, cardinality, column: 'c' });
}

describe('fixed-bit MV (§9.3)', () => {
  it('reads rows sequentially, backwards and at random (mostly single-value rows: 2048 docs per chunk)', () => {
    const next = rng(7);
    const rows = Array.from({ length: 9000 }, (_, i) =>
      Array.from({ length: i % 97 === 0 ? 1 + Math.floor(next() * 13) : 1 }, () => Math.floor(next() * 18499)));
    const r = openMV(rows, 15, 18499);
    const got: number[][] = [];
    for (let s = 0; s < rows.length; s += 1000) got.push(...rowsOf(r.readDictIds(s, Math.min(rows.length, s + 1000))));
    expect(got).toEqual(rows);
    for (const [s, e] of [[8999, 9000], [0, 1], [4095, 6200], [2048, 2049], [100, 100], [3000, 9000], [1, 8999]] as const) {
      expect(rowsOf(r.readDictIds(s, e)), `[${s}, ${e})`).toEqual(rows.slice(s, e));
    }
  });

  it('uses the chunk offsets when rows average several values (4 values → 512 docs per chunk)', () => {
    const rows = randomRows(5000, 8, 300, 11);
    const T = rows.flat().length;
    expect(Math.floor(T / rows.length)).toBe(4);
    const r = openMV(rows, 9, 300);
    for (const [s, e] of [[4000, 4010], [513, 1030], [0, 5000], [4999, 5000], [2, 3]] as const) {
      expect(rowsOf(r.readDictIds(s, e)), `[${s}, ${e})`).toEqual(rows.slice(s, e));
    }
    const got: number[][] = [];
    for (let s = 0; s < rows.length; s += 333) got.push(...rowsOf(r.readDictIds(s, Math.min(rows.length, s + 333))));
    expect(got).toEqual(rows);
  });

  it('reads little of a large index for a small batch', () => {
    const rows = randomRows(100_000, 2, 1000, 5);
    const bytes = buildFixedBitMV(rows, 10);
    const range = countingRange(bytes);
    const r = openFixedBitMV(range, { bits: 10, totalDocs: rows.length, totalEntries: rows.flat().length });
    expect(rowsOf(r.readDictIds(90_000, 90_003))).toEqual(rows.slice(90_000, 90_003));
    const read = range.reads.reduce((n, [s, e]) => n + e - s, 0);
    expect(read).toBeLessThan(2 * 65536 + 1024);
    expect(read).toBeLessThan(bytes.length / 2);
  });

  it('handles the last doc, a single doc and an empty segment', () => {
    const rows = [[5], [1, 2, 3], [4]];
    const r = openMV(rows, 3, 8);
    expect(rowsOf(r.readDictIds(2, 3))).toEqual([[4]]);
    expect(rowsOf(r.readDictIds(1, 3))).toEqual([[1, 2, 3], [4]]);
    expect(rowsOf(openMV([[0, 1]], 1, 2).readDictIds(0, 1))).toEqual([[0, 1]]);
    const empty = openFixedBitMV(bytesRange(new Uint8Array(0)), { bits: 1, totalDocs: 0, totalEntries: 0 });
    expect(rowsOf(empty.readDictIds(0, 0))).toEqual([]);
  });

  it('walks the bitmap across its 64 KiB read windows', () => {
    const n = 600_000; // one value per doc: 2048 docs per chunk, a 75,000-byte bitmap
    const rows = Array.from({ length: n }, (_, i) => [i % 2]);
    const r = openMV(rows, 1, 2);
    expect(r.readDictIds(0, 524_000).values.length).toBe(524_000);
    // From the cursor at doc 524,000 past bit 524,288 (the end of the first window).
    expect(rowsOf(r.readDictIds(525_001, 525_003))).toEqual([[1], [0]]);
    expect(rowsOf(r.readDictIds(599_999, 600_000))).toEqual([[1]]);
    expect(rowsOf(r.readDictIds(3, 5))).toEqual([[1], [0]]);
  });

  it('rejects a wrong length, a too-small totalNumberOfEntries and ids ≥ cardinality', () => {
    const rows = [[5], [1, 2, 3], [4]];
    const bytes = buildFixedBitMV(rows, 3);
    expectError(() => openMV(rows, 3, 8, bytes.subarray(0, bytes.length - 1)), 'PINOT_TRUNCATED', { ...FWD, offset: bytes.length - 1 });
    expectError(() => openMV(rows, 3, 8, concat(bytes, hex('00'))), 'PINOT_CORRUPT', { ...FWD, offset: bytes.length });
    expectError(() => openFixedBitMV(bytesRange(bytes), { bits: 3, totalDocs: 3, totalEntries: 2, column: 'c' }), 'PINOT_BAD_METADATA', FWD);
    const r = openMV(rows, 3, 5, bytes);
    expect(rowsOf(r.readDictIds(1, 2))).toEqual([[1, 2, 3]]);
    // values section starts at 4 (one chunk offset) + 1 (bitmap byte); value 0 (id 5) is in its first byte
    expectError(() => r.readDictIds(0, 1), 'PINOT_CORRUPT', { ...FWD, offset: 5 });
  });

  it('rejects a row-start bitmap with too few or too many set bits, or not starting at value 0', () => {
    const rows = [[5], [1, 2, 3], [4]];
    const bytes = buildFixedBitMV(rows, 3); // bitmap byte at 4: 1100 1000 (values 0, 1, 4 start rows)
    expect(bytes[4]).toBe(0b1100_1000);
    const fewer = bytes.slice();
    fewer[4] = 0b1100_0000;
    expectError(() => openMV(rows, 3, 8, fewer).readDictIds(0, 3), 'PINOT_CORRUPT', { ...FWD, row: 2 });
    expectError(() => openMV(rows, 3, 8, fewer).readDictIds(2, 3), 'PINOT_CORRUPT', { ...FWD, row: 2 });
    const more = bytes.slice();
    more[4] = 0b1110_1000;
    expectError(() => openMV(rows, 3, 8, more).readDictIds(0, 3), 'PINOT_CORRUPT', { ...FWD, offset: 4 });
    const late = bytes.slice();
    late[4] = 0b0110_1000;
    expectError(() => openMV(rows, 3, 8, late), 'PINOT_CORRUPT', { ...FWD, offset: 4 });
  });

  it('rejects a chunk offset that is not a row start when jumping to it', () => {
    const rows = randomRows(2000, 8, 300, 3); // 4 values/doc → 512 docs per chunk, 4 chunks
    const bytes = buildFixedBitMV(rows, 9);
    new DataView(bytes.buffer).setInt32(8, new DataView(bytes.buffer).getInt32(8) + 1); // chunk 2
    const r = openMV(rows, 9, 300, bytes);
    expectError(() => r.readDictIds(1500, 1501), 'PINOT_CORRUPT', { ...FWD, offset: 8, row: 1024 });
  });
});

// ---- §9.4 ----

describe('MV_ENTRY_DICT (§9.4)', () => {
  const FOUR = hex('FF AB CD EF 00 01 02 02 00 00 00 03 00 00 00 06 00 00 00 19 00 00 00 1B | 12 | 09 E0 | 19 A0');

  it('decodes the 4-doc vector: [0,1], [2], [0,1], [1,2,2]', () => {
    const r = openMVEntryDict(bytesRange(FOUR), { bits: 2, totalDocs: 4, cardinality: 3 });
    expect(r.kind).toBe('mv-dict');
    expect(rowsOf(r.readDictIds(0, 4))).toEqual([[0, 1], [2], [0, 1], [1, 2, 2]]);
    expect(rowsOf(r.readDictIds(3, 4))).toEqual([[1, 2, 2]]);
    expect(rowsOf(r.readDictIds(1, 3))).toEqual([[2], [0, 1]]);
    expect(rowsOf(r.readDictIds(2, 2))).toEqual([]);
  });

  it('matches what the independent encoder writes for the same rows', () => {
    expect(Array.from(buildEntryDict([[0, 1], [2], [0, 1], [1, 2, 2]], 2))).toEqual(Array.from(FOUR));
  });

  it('decodes the testAllEmptyValues vector: 1000 empty rows', () => {
    const bytes = concat(hex('FF AB CD EF 00 01 01 01 00 00 00 01 00 00 00 00 00 00 00 95 00 00 00 96'), new Uint8Array(126));
    expect(bytes.length).toBe(150);
    const r = openMVEntryDict(bytesRange(bytes), { bits: 1, totalDocs: 1000 });
    const block = r.readDictIds(0, 1000);
    expect(block.values.length).toBe(0);
    expect(Array.from(block.offsets)).toEqual(new Array(1001).fill(0));
  });

  it('round-trips many repeated rows in batches (offsets and values decoded on demand)', () => {
    const next = rng(99);
    const distinct = randomRows(3000, 5, 31, 17);
    const rows = Array.from({ length: 20_000 }, (_, i) => distinct[Math.floor(next() * Math.min(distinct.length, 10 + i / 4))]!);
    const r = openMVEntryDict(bytesRange(buildEntryDict(rows, 5)), { bits: 5, totalDocs: rows.length, cardinality: 31 });
    const got: number[][] = [];
    for (let s = 0; s < rows.length; s += 777) got.push(...rowsOf(r.readDictIds(s, Math.min(rows.length, s + 777))));
    expect(got).toEqual(rows);
    expect(rowsOf(r.readDictIds(123, 456))).toEqual(rows.slice(123, 456));
  });

  it('is chosen by openDictForward from the magic number', () => {
    const r = openDictForward(bytesRange(FOUR), { singleValue: false, isSorted: false, bits: 2, cardinality: 3, totalDocs: 4, totalEntries: 8 });
    expect(rowsOf((r as MVDictForwardReader).readDictIds(0, 4))).toEqual([[0, 1], [2], [0, 1], [1, 2, 2]]);
  });

  it('rejects a wrong magic, version or bits per value', () => {
    const open = (bytes: Uint8Array, bits = 2) => openMVEntryDict(bytesRange(bytes), { bits, totalDocs: 4, column: 'c' });
    const magic = FOUR.slice();
    magic[3] = 0xee;
    expectError(() => open(magic), 'PINOT_BAD_MAGIC', { ...FWD, offset: 0 });
    const version = FOUR.slice();
    version[5] = 2;
    expectError(() => open(version), 'PINOT_UNSUPPORTED_VERSION', { ...FWD, offset: 4 });
    expectError(() => open(FOUR, 3), 'PINOT_CORRUPT', { ...FWD, offset: 6 });
  });

  it('rejects truncation, misplaced sections, entry ids ≥ entries, bad offsets and ids ≥ cardinality', () => {
    const open = (bytes: Uint8Array, cardinality = 3) => openMVEntryDict(bytesRange(bytes), { bits: 2, totalDocs: 4, cardinality, column: 'c' });
    expectError(() => open(FOUR.subarray(0, 28)), 'PINOT_TRUNCATED', { ...FWD, offset: 28 });
    expectError(() => open(FOUR.subarray(0, 20)), 'PINOT_TRUNCATED', { ...FWD, offset: 20 });
    const tooManyEntries = FOUR.slice();
    tooManyEntries[11] = 5; // 5 distinct rows in 4 docs
    expectError(() => open(tooManyEntries), 'PINOT_CORRUPT', { ...FWD, offset: 7 });
    const section = FOUR.slice();
    section[23] = 0x1c;
    expectError(() => open(section), 'PINOT_CORRUPT', { ...FWD, offset: 16 });
    const entryId = FOUR.slice();
    entryId[24] = 0x13; // ids 0, 1, 0, 3 with 3 entries
    expectError(() => open(entryId).readDictIds(0, 4), 'PINOT_CORRUPT', { ...FWD, offset: 24, row: 3 });
    const backwards = FOUR.slice();
    backwards.set([0x0c, 0xe0], 25); // offsets (3 bits each) 000 011 001 110 = 0, 3, 1, 6
    expectError(() => open(backwards).readDictIds(0, 4), 'PINOT_CORRUPT', { ...FWD, offset: 25 });
    expectError(() => open(FOUR, 2).readDictIds(0, 4), 'PINOT_CORRUPT', { ...FWD, offset: 27 });
  });
});

// ---- dispatcher ----

describe('openDictForward (§7 part 1)', () => {
  it('picks sorted, fixed-bit SV and fixed-bit MV from the metadata flags', () => {
    const base = { bits: 4, cardinality: 10, totalDocs: 10, totalEntries: 10 };
    const sorted = openDictForward(bytesRange(hex('00 00 00 00 00 00 00 09')), { ...base, singleValue: true, isSorted: true, cardinality: 1 });
    expect(Array.from((sorted as SVDictForwardReader).readDictIds(0, 10))).toEqual(new Array(10).fill(0));
    const fixed = openDictForward(bytesRange(hex('76 89 15 03 24')), { ...base, singleValue: true, isSorted: false });
    expect(Array.from((fixed as SVDictForwardReader).readDictIds(0, 10))).toEqual([7, 6, 8, 9, 1, 5, 0, 3, 2, 4]);
    const rows = [[1, 2], [3], [4, 5, 6]];
    const mv = openDictForward(bytesRange(buildFixedBitMV(rows, 3)), { ...base, bits: 3, singleValue: false, isSorted: false, totalDocs: 3, totalEntries: 6 });
    expect(mv.kind).toBe('mv-dict');
    expect(rowsOf((mv as MVDictForwardReader).readDictIds(0, 3))).toEqual(rows);
  });
});

// ---- real segments, read in place ----

function properties(path: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of readFileSync(path, 'utf8').matchAll(/^([^=\n]+?) = ?(.*)$/gm)) map.set(m[1]!, m[2]!);
  return map;
}

describeFixtures('forward indexes of the v1 2022 segment', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw', (dir) => {
  const seg = join(dir, 'testTable_1756015683_1756015683');
  const meta = properties(join(seg, 'metadata.properties'));
  const totalDocs = Number(meta.get('segment.total.docs'));
  const file = (name: string): ByteRange => bytesRange(new Uint8Array(readFileSync(join(seg, name))));
  const columns = [...meta.keys()].filter((k) => k.endsWith('.hasDictionary') && meta.get(k) === 'true')
    .map((k) => k.slice('column.'.length, -'.hasDictionary'.length));

  for (const column of columns) {
    it(`${column}: decodes every doc; ids cover the dictionary; MV counts match metadata`, () => {
      const g = (k: string): string => meta.get(`column.${column}.${k}`)!;
      const singleValue = g('isSingleValues') === 'true';
      const isSorted = g('isSorted') === 'true';
      const cardinality = Number(g('cardinality'));
      const name = `${column}.${singleValue ? (isSorted ? 'sv.sorted' : 'sv.unsorted') : 'mv'}.fwd`;
      const reader = openDictForward(file(name), {
        singleValue, isSorted, bits: Number(g('bitsPerElement')), cardinality, totalDocs,
        totalEntries: Number(g('totalNumberOfEntries')), column,
      });
      const used = new Uint8Array(cardinality);
      let entries = 0;
      let maxPerRow = 0;
      for (let s = 0; s < totalDocs; s += 30_000) {
        const e = Math.min(totalDocs, s + 30_000);
        if (reader.kind === 'sv-dict') {
          const ids = reader.readDictIds(s, e);
          expect(ids.length).toBe(e - s);
          for (const id of ids) used[id] = 1;
          entries += ids.length;
        } else {
          const { offsets, values } = reader.readDictIds(s, e);
          expect(offsets.length).toBe(e - s + 1);
          for (let r = 0; r < e - s; r++) maxPerRow = Math.max(maxPerRow, offsets[r + 1]! - offsets[r]!);
          for (const id of values) used[id] = 1;
          entries += values.length;
        }
      }
      // Ids are range-checked by the reader; every dictionary entry comes from the data, so all are used.
      expect(used.reduce((n, u) => n + u, 0)).toBe(cardinality);
      expect(entries).toBe(Number(g('totalNumberOfEntries')));
      if (!singleValue) expect(maxPerRow).toBe(Number(g('maxNumberOfMultiValues')));
    });
  }

  it('column6.mv.fwd matches the §9.3 worked example', () => {
    const bytes = readFileSync(join(seg, 'column6.mv.fwd'));
    expect(bytes.length).toBe(213_572);
    expect([bytes.readInt32BE(0), bytes.readInt32BE(4), bytes.readInt32BE(8)]).toEqual([0, 2213, 4394]);
    expect(bytes.readUInt32BE(196)).toBe(0xffffffff);
    const dict = readDictionary(file('column6.dict'), { storedType: 'INT', cardinality: 18499, column: 'column6' });
    const values = dict.values as Int32Array;
    const reader = openDictForward(file('column6.mv.fwd'), {
      singleValue: false, isSorted: false, bits: 15, cardinality: 18499, totalDocs, totalEntries: 106_688, column: 'column6',
    }) as MVDictForwardReader;
    const head = reader.readDictIds(0, 73);
    expect(head.values[0]).toBe(18498);
    expect(values[18498]).toBe(2147483647);
    expect(rowsOf(head).slice(0, 72).every((row) => row.length === 1)).toBe(true);
    expect(rowsOf(head)[72]).toEqual([626, 8356]);
    expect([values[626], values[8356]]).toEqual([3050, 336676]);
    // Same row again through the chunk offsets (a fresh reader jumping straight to doc 72).
    const fresh = openFixedBitMV(file('column6.mv.fwd'), { bits: 15, totalDocs, totalEntries: 106_688, cardinality: 18499 });
    expect(rowsOf(fresh.readDictIds(72, 73))).toEqual([[626, 8356]]);
    expect(rowsOf(fresh.readDictIds(2048, 2049))[0]!.length).toBeGreaterThan(0);
  });
});

describeFixtures('forward indexes of the 2017 v3 segment', 'fixtures/pinot-segments/v3-2017-views', (dir) => {
  it('decodes all 7 docs of every column, each dict id once (every column has 7 distinct values)', () => {
    const v3 = join(dir, 'segment_0', 'v3');
    const map = properties(join(v3, 'index_map'));
    const psf = bytesRange(new Uint8Array(readFileSync(join(v3, 'columns.psf'))));
    for (const column of ['Score', 'Description', 'Headline', 'PosterId', 'Id', 'SecondsEpoch', 'Link']) {
      const start = Number(map.get(`${column}.forward_index.startOffset`));
      const size = Number(map.get(`${column}.forward_index.size`));
      const reader = openDictForward(subRange(psf, start + 8, start + size), {
        singleValue: true, isSorted: false, bits: 3, cardinality: 7, totalDocs: 7, totalEntries: 7, column,
      }) as SVDictForwardReader;
      expect([...reader.readDictIds(0, 7)].sort(), column).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });
});
