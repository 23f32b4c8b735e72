/**
 * Column-chunk reads (PinotSegment.columnChunks): every fixture read in chunks of several sizes equals the
 * batch path; dictionaries are scoped to each chunk (exactly the entries the non-null docs use, ascending
 * dictionary order, ids renumbered) whether dictionaries are kept in memory or read in windows; corrupt
 * dictionaries fail naming column and offset; a windowed read touches only the bytes it needs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DataType, makeVector, Vector, type Data, type Dictionary, type List, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SegmentFormatError } from '../../src/errors.js';
import { bigDecimalTexts } from '../../src/sources/pinot/bigdecimal-text.js';
import { everyEntryUsed, idsKnownBelow } from '../../src/sources/pinot/dictionary-subset.js';
import { memoryFiles } from '../../src/sources/pinot/memory-files.js';
import { PinotSegment, type BatchOptions } from '../../src/sources/pinot/segment.js';
import type { SegmentFiles } from '../../src/sources/pinot/types.js';
import { bigDecimalToString, decodeBigDecimal, varBytesToStrings } from '../../src/sources/pinot/values.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { describeFixtures } from '../support/fixtures.js';
import { GENERATED_SEGMENTS, REAL_SEGMENTS } from '../support/segment-cases.js';

const GENERATED = GENERATED_SEGMENTS;
const REAL = REAL_SEGMENTS;

/**
 * Doc ranges: one chunk; chunks of 4099 (over the first 30,000 docs) and 997 (the first 12,000: keeps the 100K-doc fixtures fast),
 * crossing Pinot's 1000/1024/4096-doc internal chunks; 1-doc chunks at both ends and across docs
 * 1000 and 1024; an empty range.
 */
function plans(total: number): [number, number][][] {
  const sized = (size: number, upTo = total): [number, number][] => {
    const out: [number, number][] = [];
    for (let s = 0; s < upTo; s += size) out.push([s, Math.min(upTo, s + size)]);
    return out;
  };
  const ones = new Set<number>();
  const add = (from: number, to: number): void => {
    for (let d = Math.max(0, from); d < Math.min(total, to); d++) ones.add(d);
  };
  add(0, 40);
  add(total - 40, total);
  add(990, 1010);
  add(1020, 1030);
  return [[[0, total]], sized(997, Math.min(total, 12_000)), sized(4099, Math.min(total, 30_000)), [...ones].sort((a, b) => a - b).map((d): [number, number] => [d, d + 1]), [[0, 0]]];
}

/** A value as `Vector.get` gives it, with nested lists as arrays, comparable with `same`. */
function plain(v: unknown): unknown {
  if (v instanceof Vector) return [...(v as Vector)].map(plain);
  return v;
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return false;
}

function materialise(data: Data): unknown[] {
  const vector = makeVector(data);
  const out = new Array<unknown>(vector.length);
  for (let i = 0; i < out.length; i++) out[i] = plain(vector.get(i));
  return out;
}

/** Every column of a one-batch read, materialised, plus the raw Data (for dictionary ids). */
async function batchColumns(reader: SegmentReader, options: BatchOptions): Promise<Map<string, { values: unknown[]; data: Data }>> {
  const total = reader.segment.exportDocs;
  const out = new Map<string, { values: unknown[]; data: Data }>();
  const batches: RecordBatch[] = [];
  for await (const b of reader.batches({ ...options, batchRows: Math.max(1, total) })) batches.push(b);
  expect(batches.length).toBe(total === 0 ? 0 : 1);
  for (const field of reader.schema(options).fields) {
    const data = batches[0]?.getChild(field.name)?.data[0];
    out.set(field.name, { values: data ? materialise(data) : [], data: data! });
  }
  return out;
}

function isValid(data: Data, i: number): boolean {
  return data.nullBitmap === undefined || data.nullCount === 0 ? true : ((data.nullBitmap[(data.offset + i) >> 3]! >> ((data.offset + i) & 7)) & 1) === 1;
}

/**
 * The subset property, checked against the batch path's whole-dictionary Data (`keepDictionaries: 'all'`,
 * Pinot's own ids): the chunk's dictionary is the whole dictionary at the sorted distinct ids of the
 * non-null docs of [start, end), and each non-null doc's id is its original id's rank among them.
 */
function checkSubset(column: string, chunk: Data, whole: Data, start: number, end: number): void {
  const mv = DataType.isList(chunk.type);
  const wholeDictData = (mv ? whole.children[0] : whole) as Data<Dictionary>;
  const chunkDictData = (mv ? chunk.children[0] : chunk) as Data<Dictionary>;
  const wIds = wholeDictData.values as Int32Array;
  const cIds = chunkDictData.values as Int32Array;
  // Original and chunk ids of the non-null docs' values, in doc order.
  const wholeIds: number[] = [];
  const chunkIds: number[] = [];
  const badNulls: number[] = [];
  for (let r = start; r < end; r++) {
    const valid = isValid(whole, r);
    if (isValid(chunk, r - start) !== valid) badNulls.push(r);
    if (mv) {
      const [wFrom, wTo] = [whole.valueOffsets[r]!, whole.valueOffsets[r + 1]!];
      const [cFrom, cTo] = [chunk.valueOffsets[r - start]!, chunk.valueOffsets[r - start + 1]!];
      if (!valid) continue;
      for (let k = wFrom; k < wTo; k++) wholeIds.push(wIds[k]!);
      for (let k = cFrom; k < cTo; k++) chunkIds.push(cIds[chunkDictData.offset + k]!);
    } else if (valid) {
      wholeIds.push(wIds[r]!);
      chunkIds.push(cIds[chunkDictData.offset + r - start]!);
    } else if (cIds[chunkDictData.offset + r - start] !== 0) {
      badNulls.push(r); // a null doc must have id 0
    }
  }
  expect(badNulls, `${column} [${start}, ${end}) null docs`).toStrictEqual([]);
  const wholeDict = wholeDictData.dictionary!;
  const sorted = Int32Array.from(wholeIds).sort();
  const used = sorted.filter((id, i) => i === 0 || id !== sorted[i - 1]);
  const rank = new Int32Array(wholeDict.length).fill(-1);
  used.forEach((id, i) => (rank[id] = i));
  const chunkDict = chunkDictData.dictionary!;
  expect(chunkDict.length, `${column} [${start}, ${end}) dictionary length`).toBe(used.length);
  if (mv) {
    // Valid Arrow even where no reader looks: every element, null rows' included, indexes the dictionary.
    const first = chunk.valueOffsets[0]!;
    const last = chunk.valueOffsets[end - start]!;
    const outside = Array.from(cIds.subarray(chunkDictData.offset + first, chunkDictData.offset + last)).findIndex((id) => id < 0 || id >= chunkDict.length);
    expect(outside, `${column} [${start}, ${end}) element ids within the ${chunkDict.length}-entry dictionary`).toBe(-1);
  }
  // Exactly the used entries, so the subset is marked for writers to skip looking for them again.
  expect(everyEntryUsed(chunkDict.data[0]!), `${column} [${start}, ${end}) marked fully used`).toBe(true);
  // And the ids as known in range (checked above, every element's included), so writers skip their check.
  if (chunkDict.length > 0) expect(idsKnownBelow(cIds), `${column} [${start}, ${end}) ids marked in range`).toBe(chunkDict.length);
  const dictValues = materialise(chunkDict.data[0]!);
  const badValue = dictValues.findIndex((v, i) => !same(v, plain(wholeDict.get(used[i]!))));
  expect(badValue, `${column} [${start}, ${end}) dictionary values`).toBe(-1);
  const badId = wholeIds.findIndex((id, i) => chunkIds[i] !== rank[id]);
  expect([chunkIds.length, badId], `${column} [${start}, ${end}) ids`).toStrictEqual([wholeIds.length, -1]);
}

describeFixtures('column chunks equal the batch path on every fixture', 'fixtures', (fixtures) => {
  for (const c of [...GENERATED, ...REAL]) {
    it(c.name, async () => {
      await using reader = await SegmentReader.open(join(fixtures, c.path));
      const { legacyPadding } = c;
      const expected = await batchColumns(reader, { legacyPadding });
      const whole = await batchColumns(reader, { legacyPadding, keepDictionaries: 'all' });
      const total = reader.segment.exportDocs;
      const columns = reader.segment.columns();
      let subsetChecks = 0;
      for (const budget of [undefined, 0]) {
        const chunks = reader.columnChunks({ legacyPadding, dictionaryBudgetBytes: budget });
        expect(chunks.schema.fields.map((f) => f.name)).toStrictEqual(columns.map((col) => col.name));
        for (const [i, col] of columns.entries()) {
          const field = chunks.schema.fields[i]!;
          const want = expected.get(col.name)!.values;
          // 'all' batches materialise like the default ones.
          const wantAll = whole.get(col.name)!.values;
          expect(wantAll.length).toBe(want.length);
          expect(want.every((v, k) => same(v, wantAll[k])), `${col.name}: keepDictionaries 'all' batch values`).toBe(true);
          const dictionary = col.forwardIndexEncoding === 'DICTIONARY' && col.dataType !== 'BOOLEAN';
          const elementType = DataType.isList(field.type) ? (field.type as List).children[0]!.type : field.type;
          expect([col.name, DataType.isDictionary(elementType)]).toStrictEqual([col.name, dictionary]);
          for (const plan of plans(total)) {
            for (const [start, end] of plan) {
              const data = chunks.read(col.name, start, end);
              expect(String(data.type)).toBe(String(field.type));
              expect(data.length).toBe(end - start);
              const got = materialise(data);
              const bad = got.findIndex((v, k) => !same(v, want[start + k]));
              if (bad >= 0) expect([col.name, start + bad, got[bad]]).toStrictEqual([col.name, start + bad, want[start + bad]]);
              if (dictionary && end > start) {
                checkSubset(col.name, data, whole.get(col.name)!.data, start, end);
                subsetChecks++;
              }
            }
          }
        }
      }
      const dictionaryColumns = columns.filter((col) => col.forwardIndexEncoding === 'DICTIONARY' && col.dataType !== 'BOOLEAN');
      expect(subsetChecks > 0).toBe(dictionaryColumns.length > 0);
    });
  }
});

/** The files of an extracted segment directory, in memory (so tests can patch bytes). */
function filesOf(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), new Uint8Array(readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

/** Start (after the 8-byte v3 marker) and length of a column's dictionary inside columns.psf. */
function dictionaryPlace(files: Map<string, Uint8Array>, column: string): { start: number; length: number } {
  const text = new TextDecoder().decode(files.get('index_map'));
  const get = (key: string): number => Number(new RegExp(`^${column}\\.dictionary\\.${key} = (\\d+)$`, 'm').exec(text)![1]);
  return { start: get('startOffset') + 8, length: get('size') - 8 };
}

function be32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getInt32(at);
}

function setBe32(bytes: Uint8Array, at: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(at, value);
}

function failure(fn: () => unknown): SegmentFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SegmentFormatError);
    return err as SegmentFormatError;
  }
  return expect.fail('expected a SegmentFormatError');
}

describeFixtures('column chunks: dictionaries read in windows', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const events = join(dir, 'events__0__12__20261126T0000Z.tar.gz');

  async function eventsFiles(): Promise<Map<string, Uint8Array>> {
    await using reader = await SegmentReader.open(events);
    return filesOf(reader.dir);
  }

  it('a windowed read touches only the needed dictionary bytes; within the budget the dictionary is read whole once', async () => {
    const files = await eventsFiles();
    const psf = files.get('columns.psf')!;
    const reads: [number, number][] = [];
    const counting: SegmentFiles = {
      ...memoryFiles(files),
      open(name) {
        const range = memoryFiles(files).open(name);
        if (name !== 'columns.psf') return range;
        return { length: range.length, read: (s, e) => (reads.push([s, e]), range.read(s, e)) };
      },
    };
    const segment = PinotSegment.open(counting);
    for (const column of ['amount', 'blob', 'clicks', 'user_id']) {
      const place = dictionaryPlace(files, column);
      const inDictionary = (): number => reads.reduce((n, [s, e]) => n + Math.max(0, Math.min(e, place.start + place.length) - Math.max(s, place.start)), 0);
      reads.length = 0;
      const windowed = segment.columnChunks({ columns: [column], dictionaryBudgetBytes: 0 });
      const atOpen = inDictionary();
      expect(atOpen, column).toBeLessThan(64); // a header at most
      let touched = 0;
      for (let doc = 0; doc < 20; doc++) {
        reads.length = 0;
        windowed.read(column, doc, doc + 1);
        // One entry (and, var-length, its two offsets) of a dictionary of over 10 KB; nothing for a null doc.
        expect(inDictionary(), column).toBeLessThan(64);
        touched += inDictionary();
      }
      expect(touched, column).toBeGreaterThan(0);
      expect(place.length).toBeGreaterThan(10_000);

      reads.length = 0;
      const kept = segment.columnChunks({ columns: [column] });
      expect(inDictionary(), column).toBe(place.length);
      reads.length = 0;
      kept.read(column, 100, 103);
      expect(inDictionary(), column).toBe(0);
    }
    expect(psf.length).toBeGreaterThan(0);
  });

  it('the budget keeps the smallest dictionaries whole, the rest windowed', async () => {
    const files = await eventsFiles();
    const reads: [number, number][] = [];
    const counting: SegmentFiles = {
      ...memoryFiles(files),
      open(name) {
        const range = memoryFiles(files).open(name);
        return name === 'columns.psf' ? { length: range.length, read: (s, e) => (reads.push([s, e]), range.read(s, e)) } : range;
      },
    };
    const segment = PinotSegment.open(counting);
    const user = dictionaryPlace(files, 'user_id'); // 18,860 bytes
    const blob = dictionaryPlace(files, 'blob'); // 59,742 bytes
    const wholeReads = (p: { start: number; length: number }): number => reads.filter(([s, e]) => s === p.start && e === p.start + p.length).length;
    segment.columnChunks({ columns: ['blob', 'user_id'], dictionaryBudgetBytes: 30_000 });
    expect([wholeReads(user), wholeReads(blob)]).toStrictEqual([1, 0]);
  });

  it('a corrupt var-length offset fails naming the column and the offset, kept whole or windowed', async () => {
    const files = await eventsFiles();
    const psf = files.get('columns.psf')!;
    const place = dictionaryPlace(files, 'amount');
    const offsetsStart = be32(psf, place.start + 12);
    const id = 100;
    const at = place.start + offsetsStart + 4 * id;
    setBe32(psf, at, be32(psf, at - 4) - 1); // offset 100 before offset 99
    const segment = PinotSegment.open(memoryFiles(files), 'patched');

    const whole = failure(() => segment.columnChunks({ columns: ['amount'] }));
    expect(whole.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(whole.context).toMatchObject({ column: 'amount', index: 'dictionary', offset: offsetsStart + 4 * id, segment: 'events__0__12__20261126T0000Z' });

    const chunks = segment.columnChunks({ columns: ['amount'], dictionaryBudgetBytes: 0 });
    const windowed = failure(() => chunks.read('amount', 0, segment.exportDocs));
    expect(windowed.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(windowed.context).toMatchObject({ column: 'amount', index: 'dictionary', offset: offsetsStart + 4 * id, segment: 'events__0__12__20261126T0000Z' });
    expect(windowed.message).toContain('amount');
  });

  it('a var-length value past the end of the dictionary fails as truncated with its offset', async () => {
    const files = await eventsFiles();
    const psf = files.get('columns.psf')!;
    const place = dictionaryPlace(files, 'blob');
    const offsetsStart = be32(psf, place.start + 12);
    const id = 50;
    setBe32(psf, place.start + offsetsStart + 4 * (id + 1), place.length + 1000);
    const chunks = PinotSegment.open(memoryFiles(files)).columnChunks({ columns: ['blob'], dictionaryBudgetBytes: 0 });
    const err = failure(() => chunks.read('blob', 0, 5000));
    expect(err.context).toMatchObject({ column: 'blob', index: 'dictionary', offset: offsetsStart + 4 * (id + 1) });
    expect([ErrorCodes.PINOT_TRUNCATED, ErrorCodes.PINOT_CORRUPT]).toContain(err.code);
  });

  it('an out-of-range dict id fails naming the forward index byte and doc, at a valid doc and at a null doc alike', async () => {
    // renumberIds bounds the ids of chunk reads (the forward reader skips its own pass) and, on a bad id, the
    // checked re-read names where it is. user_id: 13-bit ids, 4715 entries, so an all-ones id (8191) is out.
    const files = await eventsFiles();
    const text = new TextDecoder().decode(files.get('index_map'));
    const forwardStart = Number(/^user_id\.forward_index\.startOffset = (\d+)$/m.exec(text)![1]) + 8;
    const bits = 13;
    const whole = PinotSegment.open(memoryFiles(files)).columnChunks({ columns: ['user_id'] }).read('user_id', 0, 5000);
    const nullDoc = Array.from({ length: 5000 }, (_, i) => i).find((i) => !isValid(whole, i))!;
    const validDoc = 1234;
    expect(nullDoc).toBeGreaterThan(0);
    expect(isValid(whole, validDoc)).toBe(true);
    for (const doc of [validDoc, nullDoc]) {
      const patched = new Map(files);
      const psf = files.get('columns.psf')!.slice();
      patched.set('columns.psf', psf);
      for (let b = doc * bits; b < (doc + 1) * bits; b++) psf[forwardStart + (b >> 3)]! |= 0x80 >> (b & 7);
      for (const budget of [undefined, 0]) {
        const chunks = PinotSegment.open(memoryFiles(patched)).columnChunks({ columns: ['user_id'], dictionaryBudgetBytes: budget });
        const err = failure(() => chunks.read('user_id', 0, 5000));
        expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
        expect(err.message).toContain('dict id 8191');
        expect(err.context).toMatchObject({ column: 'user_id', index: 'forward_index', offset: Math.floor((doc * bits) / 8), row: doc });
      }
    }
  });

  it('a truncated numeric dictionary fails when the chunk reader opens, naming the column and offset', async () => {
    const files = await eventsFiles();
    const place = dictionaryPlace(files, 'clicks');
    const indexMap = new TextDecoder().decode(files.get('index_map'));
    files.set('index_map', new TextEncoder().encode(indexMap.replace(`clicks.dictionary.size = ${place.length + 8}`, `clicks.dictionary.size = ${place.length}`)));
    const segment = PinotSegment.open(memoryFiles(files));
    for (const budget of [undefined, 0]) {
      const err = failure(() => segment.columnChunks({ columns: ['clicks'], dictionaryBudgetBytes: budget }));
      expect(err.code).toBe(ErrorCodes.PINOT_TRUNCATED);
      expect(err.context).toMatchObject({ column: 'clicks', index: 'dictionary', offset: place.length - 8 });
    }
  });

  it('refuses unknown columns, bad doc ranges and bad budgets, and reads after close', async () => {
    const reader = await SegmentReader.open(events);
    const chunks = reader.columnChunks({ columns: ['country'] });
    expect(failure(() => chunks.read('clicks', 0, 1)).code).toBe(ErrorCodes.PINOT_UNKNOWN_COLUMN);
    for (const [s, e] of [[-1, 1], [2, 1], [0, 5001], [0.5, 2]] as const) {
      expect(() => chunks.read('country', s, e)).toThrow(/doc range/);
    }
    expect(() => reader.columnChunks({ dictionaryBudgetBytes: -1 })).toThrow(/dictionaryBudgetBytes/);
    await reader.close();
    expect(() => chunks.read('country', 0, 1)).toThrow(/closed/);
    expect(() => reader.columnChunks()).toThrow(/closed/);
  });
});

describe('BIG_DECIMAL text for windowed dictionaries', () => {
  it('equals the BigInt decoder for short, long, negative, zero and every scale sign', () => {
    const values: Uint8Array[] = [];
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 4000; i++) {
      const len = 1 + (next() % 10); // unscaled bytes: 1..10 (short path ≤ 6, BigInt path above)
      const scale = [0, 1, 2, 5, 12, -1, -3, 300][next() % 8]!;
      const bytes = new Uint8Array(2 + len);
      new DataView(bytes.buffer).setInt16(0, scale);
      for (let k = 2; k < bytes.length; k++) bytes[k] = next() & 0xff;
      if (i % 50 === 0) bytes.fill(0, 2); // zero
      values.push(bytes);
    }
    // Edges of the int32 path (≤ 4 unscaled bytes) and of the double path (5 and 6 bytes), at scales 0, 2 and −1.
    const edges = [[0x80], [0x7f], [0xff], [0x80, 0, 0, 0], [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 99], [0, 0, 0, 100],
      [0, 0x98, 0x96, 0x80], [0x80, 0, 0, 0, 0], [0x80, 0, 0, 0, 0, 0], [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff]];
    for (const unscaled of edges) {
      for (const scale of [0, 2, -1]) {
        const bytes = new Uint8Array(2 + unscaled.length);
        new DataView(bytes.buffer).setInt16(0, scale);
        bytes.set(unscaled, 2);
        values.push(bytes);
      }
    }
    const offsets = new Int32Array(values.length + 1);
    values.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
    const data = new Uint8Array(offsets[values.length]!);
    values.forEach((v, i) => data.set(v, offsets[i]!));
    // The reference is the general BigInt decoder, value by value (presentBlock itself uses bigDecimalTexts).
    const want = values.map((v) => bigDecimalToString(decodeBigDecimal(v)));
    const got = varBytesToStrings(bigDecimalTexts({ offsets, data }));
    expect(got).toStrictEqual(want);
    expect(got).toContain('0');
    expect(got).toContain('-2147483648');
    expect(got).toContain('21474836.47');
  });
});
