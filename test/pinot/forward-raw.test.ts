import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { compressSync as lz4Compress } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { bytesRange, type ByteRange } from '../../src/sources/pinot/bytes.js';
import { openRawForward, type RawForwardOptions } from '../../src/sources/pinot/forward-raw.js';
import type {
  MVRawForwardReader, MultiValueBlock, SVRawForwardReader, StoredType, ValueBlock,
} from '../../src/sources/pinot/types.js';
import { varBytesToStrings } from '../../src/sources/pinot/values.js';
import { describeFixtures } from '../support/fixtures.js';
import { thrown } from '../support/errors.js';
import { rng } from '../support/random.js';

// ---------------------------------------------------------------------------------------------------------
// An independent, deliberately simple encoder for the layouts of spec §9.5–§9.7 (test-only).

type Order = 'BE' | 'LE';
const enc = new TextEncoder();
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

function i32(n: number, order: Order = 'BE'): Uint8Array {
  const b = Buffer.alloc(4);
  if (order === 'LE') b.writeInt32LE(n); else b.writeInt32BE(n);
  return b;
}

function i64(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

const CODECS = { PASS_THROUGH: 0, SNAPPY: 1, ZSTANDARD: 2, LZ4: 3, LZ4_LENGTH_PREFIXED: 4, GZIP: 5, DELTA: 6, DELTADELTA: 7 } as const;
type CodecName = keyof typeof CODECS;

/** DELTA / DELTADELTA as Pinot's compressor writes them (see codecs.test.ts for the codec-level tests). */
function deltaCompress(raw: Uint8Array, order: Order, twice: boolean): Uint8Array {
  const le = order === 'LE';
  const wide = raw.length > 0 && raw.length % 8 === 0;
  const w = wide ? 8 : 4;
  const count = raw.length / w;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const word = (i: number): bigint => (wide ? dv.getBigInt64(i * w, le) : BigInt(dv.getInt32(i * w, le)));
  const out: Uint8Array[] = [Uint8Array.of(wide ? 1 : 0), i32(count, order)];
  if (count === 0) return concat(out);
  out.push(raw.subarray(0, w));
  if (count === 1) return concat(out);
  const deltas = Buffer.alloc((count - 1) * w);
  let prev = 0n;
  for (let i = 1; i < count; i++) {
    const d = word(i) - word(i - 1);
    const x = twice && i > 1 ? d - prev : d;
    prev = d;
    if (wide) deltas.writeBigInt64BE(BigInt.asIntN(64, x), (i - 1) * w); else deltas.writeInt32BE(Number(BigInt.asIntN(32, x)), (i - 1) * w);
  }
  const block = lz4Compress(deltas).subarray(4);
  out.push(i32(block.length, order), block);
  return concat(out);
}

function compress(codec: CodecName, raw: Uint8Array, order: Order): Uint8Array {
  switch (codec) {
    case 'PASS_THROUGH': return raw;
    case 'SNAPPY': return snappyCompress(Buffer.from(raw));
    case 'ZSTANDARD': return zstdCompress(Buffer.from(raw));
    case 'LZ4': return lz4Compress(Buffer.from(raw)).subarray(4);
    case 'LZ4_LENGTH_PREFIXED': return lz4Compress(Buffer.from(raw));
    case 'GZIP': return concat([deflateSync(raw), i32(raw.length, order)]);
    case 'DELTA': return deltaCompress(raw, order, false);
    case 'DELTADELTA': return deltaCompress(raw, order, true);
  }
}

/** Chunk format v1–v3 and fixed-width ≥ 4 (§9.5). `rows` are serialised rows (fixed: one BE value each). */
function encodeChunkFile(o: {
  version: number; codec: CodecName; docsPerChunk: number; rows: Uint8Array[]; fixed: boolean; entrySize?: number;
}): Uint8Array {
  const { version, docsPerChunk, rows } = o;
  const entrySize = o.entrySize ?? (o.fixed ? rows[0]!.length : Math.max(0, ...rows.map((r) => r.length)));
  const numChunks = Math.ceil(rows.length / docsPerChunk);
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < numChunks; k++) {
    const slice = rows.slice(k * docsPerChunk, (k + 1) * docsPerChunk);
    let raw: Uint8Array;
    if (o.fixed) {
      raw = concat(slice);
    } else {
      const table = new Uint8Array(4 * docsPerChunk); // unused slots stay 0
      let at = 4 * docsPerChunk;
      slice.forEach((r, i) => { table.set(i32(at), 4 * i); at += r.length; });
      raw = concat([table, ...slice]);
    }
    chunks.push(compress(o.codec, raw, 'BE'));
  }
  const entry = version <= 2 ? 4 : 8;
  const header = version === 1
    ? concat([i32(1), i32(numChunks), i32(docsPerChunk), i32(entrySize)])
    : concat([i32(version), i32(numChunks), i32(docsPerChunk), i32(entrySize), i32(rows.length), i32(CODECS[o.codec]), i32(28)]);
  let at = header.length + numChunks * entry;
  const table = chunks.map((c) => { const e = entry === 4 ? i32(at) : i64(at); at += c.length; return e; });
  return concat([header, ...table, ...chunks]);
}

/** V4 / V5 / V6 (§9.6), following the writer's chunk-filling rule, huge chunks included. */
function encodeV4(o: { version: 4 | 5 | 6; codec: CodecName; chunkSize: number; rows: Uint8Array[] }): Uint8Array {
  const sizes = o.version === 6 && o.codec !== 'PASS_THROUGH';
  const chunks: { first: number; huge: boolean; bytes: Uint8Array }[] = [];
  let pending: Uint8Array[] = [];
  let pendingFirst = 0;
  let used = 4;
  const flush = (): void => {
    if (pending.length === 0) return;
    const n = pending.length;
    let at = 4 * (n + 1);
    const header = pending.map((r) => { const e = i32(sizes ? r.length : at, 'LE'); at += r.length; return e; });
    chunks.push({ first: pendingFirst, huge: false, bytes: compress(o.codec, concat([i32(n, 'LE'), ...header, ...pending]), 'LE') });
    pending = [];
    used = 4;
  };
  o.rows.forEach((row, doc) => {
    if (used + 4 + row.length > o.chunkSize) {
      flush();
      if (row.length > o.chunkSize - 8) {
        chunks.push({ first: doc, huge: true, bytes: compress(o.codec, row, 'LE') });
        return;
      }
    }
    if (pending.length === 0) pendingFirst = doc;
    pending.push(row);
    used += 4 + row.length;
  });
  flush();
  const dataAt = 16 + 8 * chunks.length;
  let off = 0;
  const meta = chunks.map((c) => {
    const e = concat([i32((c.first | (c.huge ? 0x80000000 : 0)) | 0, 'LE'), i32(off, 'LE')]);
    off += c.bytes.length;
    return e;
  });
  return concat([i32(o.version), i32(o.chunkSize), i32(CODECS[o.codec]), i32(dataAt), ...meta, ...chunks.map((c) => c.bytes)]);
}

// Row serialisation (§9.7), always BE.
type Fixed = 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE';
const WIDTH: Record<Fixed, number> = { INT: 4, LONG: 8, FLOAT: 4, DOUBLE: 8 };

function fixedValue(type: Fixed, v: number | bigint): Uint8Array {
  const b = Buffer.alloc(WIDTH[type]);
  if (type === 'INT') b.writeInt32BE(v as number);
  else if (type === 'LONG') b.writeBigInt64BE(v as bigint);
  else if (type === 'FLOAT') b.writeFloatBE(v as number);
  else b.writeDoubleBE(v as number);
  return b;
}

const mvFixedRow = (type: Fixed, vs: (number | bigint)[], counted: boolean): Uint8Array =>
  concat([...(counted ? [i32(vs.length)] : []), ...vs.map((v) => fixedValue(type, v))]);

const mvVarRow = (els: Uint8Array[]): Uint8Array => concat([i32(els.length), ...els.map((e) => i32(e.length)), ...els]);

// ---------------------------------------------------------------------------------------------------------
// Deterministic test data


function fixedValues(type: Fixed, n: number, seed: number): (number | bigint)[] {
  const r = rng(seed);
  const specials: Record<Fixed, (number | bigint)[]> = {
    INT: [-2147483648, 2147483647, 0, -1],
    LONG: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n],
    FLOAT: [-Infinity, Infinity, 0.25, -0, 3.0e38],
    DOUBLE: [-Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -0, 1 / 3],
  };
  return Array.from({ length: n }, (_, i) => {
    const s = specials[type];
    if (i < s.length) return s[i]!;
    const x = r();
    switch (type) {
      case 'INT': return Math.floor(x * 4294967296) - 2147483648;
      case 'LONG': return BigInt.asIntN(64, BigInt(Math.floor(x * 2 ** 52)) * 4099n + BigInt(i));
      case 'FLOAT': return Math.round((x - 0.5) * 4000) / 4;
      case 'DOUBLE': return (x - 0.5) * 1e12;
    }
  });
}

function varValues(n: number, seed: number, hugeEvery = 0): Uint8Array[] {
  const r = rng(seed);
  const words = ['', 'a', 'été', '漢字', 'alpha', 'null', '{"k":[1,2]}', '\u0000x'];
  return Array.from({ length: n }, (_, i) => {
    if (hugeEvery && i % hugeEvery === hugeEvery - 1) return enc.encode('H'.repeat(300 + i));
    let s = '';
    const parts = Math.floor(r() * 4);
    for (let p = 0; p < parts; p++) s += words[Math.floor(r() * words.length)]! + String(Math.floor(r() * 1000));
    return enc.encode(s);
  });
}

function typed(type: Fixed, vs: (number | bigint)[]): ValueBlock {
  switch (type) {
    case 'INT': return { kind: 'INT', values: Int32Array.from(vs as number[]) };
    case 'LONG': return { kind: 'LONG', values: BigInt64Array.from(vs as bigint[]) };
    case 'FLOAT': return { kind: 'FLOAT', values: Float32Array.from(vs as number[]) };
    case 'DOUBLE': return { kind: 'DOUBLE', values: Float64Array.from(vs as number[]) };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading helpers

const ctxOf = (column: string) => ({ column, index: 'forward_index' });

function openSV(bytes: Uint8Array, storedType: StoredType, totalDocs: number, column = 'col'): SVRawForwardReader {
  const r = openRawForward(bytesRange(bytes), { storedType, singleValue: true, totalDocs, column });
  expect(r.kind).toBe('sv-raw');
  return r as SVRawForwardReader;
}

function openMV(bytes: Uint8Array, storedType: StoredType, totalDocs: number, column = 'col'): MVRawForwardReader {
  const r = openRawForward(bytesRange(bytes), { storedType, singleValue: false, totalDocs, column });
  expect(r.kind).toBe('mv-raw');
  return r as MVRawForwardReader;
}

/** A cheap invariant check for hot helpers (vitest's `expect` costs microseconds per call). */
function check(ok: boolean, message: string): void {
  if (!ok) expect.fail(message);
}

/** Plain JS values of a block, for comparison (bytes as arrays of numbers, numbers by bit pattern). */
function plainValues(b: ValueBlock): unknown[] {
  if (b.kind === 'BYTES') {
    const { offsets, data } = b.values;
    check(offsets[0] === 0 && offsets[offsets.length - 1] === data.length, `VarBytes offsets ${offsets[0]}…${offsets[offsets.length - 1]} do not span ${data.length} bytes`);
    return Array.from({ length: offsets.length - 1 }, (_, i) => Buffer.from(data.subarray(offsets[i], offsets[i + 1])).toString('hex'));
  }
  return Array.from(b.values as ArrayLike<number | bigint>, (v) => (typeof v === 'number' && Object.is(v, -0) ? '-0' : v));
}

/** Reads docs in ascending batches of `size` and returns one plain value per doc. */
function readAllSV(r: SVRawForwardReader, n: number, size: number): unknown[] {
  const out: unknown[] = [];
  for (let s = 0; s < n; s += size) {
    const e = Math.min(n, s + size);
    const vs = plainValues(r.read(s, e));
    check(vs.length === e - s, `read(${s}, ${e}) returned ${vs.length} values`);
    out.push(...vs);
  }
  return out;
}

/**
 * Equality of long value lists without vitest's slow deep diff: finds the first differing doc and asserts on
 * that doc only, so a failure still shows what differs and where.
 */
function expectSame(actual: unknown[], expected: unknown[]): void {
  const key = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  let i = 0;
  while (i < expected.length && i < actual.length && (actual[i] === expected[i] || key(actual[i]) === key(expected[i]))) i++;
  expect({ length: actual.length, doc: i, value: actual[i] })
    .toEqual({ length: expected.length, doc: expected.length, value: undefined });
}

function rowsOf(b: MultiValueBlock<ValueBlock>): unknown[][] {
  const vs = plainValues(b.values);
  check(b.offsets[0] === 0 && b.offsets[b.offsets.length - 1] === vs.length, `row offsets do not span ${vs.length} values`);
  return Array.from({ length: b.offsets.length - 1 }, (_, i) => vs.slice(b.offsets[i], b.offsets[i + 1]));
}

function readAllMV(r: MVRawForwardReader, n: number, size: number): unknown[][] {
  const out: unknown[][] = [];
  for (let s = 0; s < n; s += size) {
    const e = Math.min(n, s + size);
    const rows = rowsOf(r.read(s, e));
    check(rows.length === e - s, `read(${s}, ${e}) returned ${rows.length} rows`);
    out.push(...rows);
  }
  return out;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');


// ---------------------------------------------------------------------------------------------------------

describe('§9.5 test vectors (chunk format)', () => {
  it('INT 10…50, PASS_THROUGH, docsPerChunk 3, version 2 (56 bytes)', () => {
    const bytes = hex(`00000002 00000002 00000003 00000004 00000005 00000000 0000001C | 00000024 00000030 |
      0000000A 00000014 0000001E | 00000028 00000032`);
    expect(bytes.length).toBe(56);
    expect(encodeChunkFile({ version: 2, codec: 'PASS_THROUGH', docsPerChunk: 3, fixed: true, rows: [10, 20, 30, 40, 50].map((v) => fixedValue('INT', v)) }))
      .toEqual(bytes);
    const r = openSV(bytes, 'INT', 5);
    expect(r.read(0, 5)).toEqual({ kind: 'INT', values: Int32Array.of(10, 20, 30, 40, 50) });
    expect(r.read(2, 4)).toEqual({ kind: 'INT', values: Int32Array.of(30, 40) });
    expect(r.read(3, 3)).toEqual({ kind: 'INT', values: new Int32Array(0) });
  });

  it('the same with version 3 (i64 chunk offsets, 64 bytes)', () => {
    const bytes = hex(`00000003 00000002 00000003 00000004 00000005 00000000 0000001C | 00000000 0000002C 00000000 00000038 |
      0000000A 00000014 0000001E 00000028 00000032`);
    expect(bytes.length).toBe(64);
    expect(openSV(bytes, 'INT', 5).read(1, 5)).toEqual({ kind: 'INT', values: Int32Array.of(20, 30, 40, 50) });
  });

  it('the same with version 4 (docsPerChunk rounded to 4, 64 bytes)', () => {
    const bytes = hex(`00000004 00000002 00000004 00000004 00000005 00000000 0000001C | 00000000 0000002C 00000000 0000003C |
      0000000A 00000014 0000001E 00000028 | 00000032`);
    expect(bytes.length).toBe(64);
    expect(openSV(bytes, 'INT', 5).read(0, 5)).toEqual({ kind: 'INT', values: Int32Array.of(10, 20, 30, 40, 50) });
  });

  it('STRING "abc", "", "hello", docsPerChunk 2, version 2 (60 bytes, empty row and unused slot)', () => {
    const bytes = hex(`00000002 00000002 00000002 00000005 00000003 00000000 0000001C | 00000024 0000002F |
      00000008 0000000B 616263 | 00000008 00000000 68656C6C6F`);
    expect(bytes.length).toBe(60);
    const r = openSV(bytes, 'STRING', 3);
    const b = r.read(0, 3);
    expect(b.kind).toBe('BYTES');
    if (b.kind !== 'BYTES') return;
    expect(varBytesToStrings(b.values)).toEqual(['abc', '', 'hello']);
    expect(Array.from(b.values.offsets)).toEqual([0, 3, 3, 8]);
  });

  it('MV rows INT [7, 8] and STRING ["a", "bc"] through the var-byte writer (67 bytes)', () => {
    const bytes = hex(`00000002 00000001 00000002 00000010 00000002 00000000 0000001C | 00000020 |
      00000008 00000014 | 00000002 00000007 00000008 | 00000002 00000001 00000002 616263`);
    expect(bytes.length).toBe(67);
    expect(rowsOf(openMV(bytes, 'INT', 2).read(0, 1))).toEqual([[7, 8]]);
    const strings = openMV(bytes, 'STRING', 2).read(1, 2);
    expect(Array.from(strings.offsets)).toEqual([0, 2]);
    expect(strings.values.kind === 'BYTES' && varBytesToStrings(strings.values.values)).toEqual(['a', 'bc']);
  });

  it('GZIP "testing123", docsPerChunk 1, version 2 (58 bytes, BE trailer)', () => {
    const bytes = hex(`00000002 00000001 00000001 0000000A 00000001 00000005 0000001C | 00000020 |
      78 9C 63 60 60 60 29 49 2D 2E C9 CC 4B 37 34 32 06 00 16 75 03 99 | 00 00 00 0E`);
    expect(bytes.length).toBe(58);
    const b = openSV(bytes, 'STRING', 1).read(0, 1);
    expect(b.kind === 'BYTES' && varBytesToStrings(b.values)).toEqual(['testing123']);
  });
});

describe('§9.6 test vectors (V4 / V5 / V6)', () => {
  const strings = (b: ValueBlock): string[] => (b.kind === 'BYTES' ? varBytesToStrings(b.values) : []);

  it('V4 PASS_THROUGH, chunk size 32, with a huge chunk (140 bytes)', () => {
    const digits = '0123456789'.repeat(4);
    const bytes = hex(`00000004 00000020 00000000 00000030 | 00000000 00000000 03000000 1E000000 04000080 2B000000
      05000000 53000000 | 03000000 10000000 15000000 19000000 ${hexOf(enc.encode('alphabetagamma'))} |
      01000000 08000000 ${hexOf(enc.encode('delta'))} | ${hexOf(enc.encode(digits))} | 01000000 08000000 78`);
    expect(bytes.length).toBe(140);
    const rows = ['alpha', 'beta', 'gamma', 'delta', digits, 'x'];
    expect(encodeV4({ version: 4, codec: 'PASS_THROUGH', chunkSize: 32, rows: rows.map((s) => enc.encode(s)) })).toEqual(bytes);
    const r = openSV(bytes, 'STRING', 6);
    expect(strings(r.read(0, 6))).toEqual(rows);
    expect(strings(r.read(4, 5))).toEqual([digits]);
    expect(strings(r.read(2, 6))).toEqual(rows.slice(2));
  });

  it('MV INT rows [1,2,3], [4]: V4 (60 bytes), V5 (52 bytes) and V6 PASS_THROUGH', () => {
    const v4 = hex(`00000004 00001000 00000000 00000018 | 00000000 00000000 | 02000000 0C000000 1C000000 |
      00000003 00000001 00000002 00000003 | 00000001 00000004`);
    const v5 = hex(`00000005 00001000 00000000 00000018 | 00000000 00000000 | 02000000 0C000000 18000000 |
      00000001 00000002 00000003 | 00000004`);
    const v6 = Uint8Array.from(v5);
    v6[3] = 6;
    expect([v4.length, v5.length]).toEqual([60, 52]);
    for (const bytes of [v4, v5, v6]) expect(rowsOf(openMV(bytes, 'INT', 2).read(0, 2))).toEqual([[1, 2, 3], [4]]);
  });

  it('MV STRING row ["a","bc"], V4 PASS_THROUGH (47 bytes)', () => {
    const bytes = hex(`00000004 00001000 00000000 00000018 | 00000000 00000000 | 01000000 08000000 |
      00000002 00000001 00000002 61 62 63`);
    expect(bytes.length).toBe(47);
    const b = openMV(bytes, 'STRING', 1).read(0, 1);
    expect(strings(b.values)).toEqual(['a', 'bc']);
  });

  it('V6 ZSTANDARD alpha, beta, gamma (63 bytes; the chunk holds sizes 5, 4, 5)', () => {
    const content = hex(`03000000 05000000 04000000 05000000 ${hexOf(enc.encode('alphabetagamma'))}`);
    expect(content.length).toBe(30);
    // Single-segment frame, content size 30, one raw last block of 30 bytes (block header F1 00 00).
    const frame = concat([hex('28 B5 2F FD 20 1E F1 00 00'), content]);
    const bytes = concat([hex('00000006 00001000 00000002 00000018 | 00000000 00000000'), frame]);
    expect(bytes.length).toBe(63);
    expect(strings(openSV(bytes, 'STRING', 3).read(0, 3))).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('V6 GZIP alpha, beta, gamma (59 bytes, LE trailer)', () => {
    const bytes = hex(`00000006 00001000 00000005 00000018 | 00000000 00000000 |
      78 9C 63 66 60 60 60 05 62 16 28 9D 98 53 90 91 98 94 5A 92 98 9E 98 9B 9B 08 00 2C 0D 05 B7 | 1E 00 00 00`);
    expect(bytes.length).toBe(59);
    expect(strings(openSV(bytes, 'STRING', 3).read(0, 3))).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('V4 GZIP "testing123" (§9.8: trailer LE 18)', () => {
    const bytes = hex(`00000004 00001000 00000005 00000018 | 00000000 00000000 |
      78 9C 63 64 60 60 E0 00 E2 92 D4 E2 92 CC BC 74 43 23 63 00 16 CF 03 9E | 12 00 00 00`);
    expect(strings(openSV(bytes, 'STRING', 1).read(0, 1))).toEqual(['testing123']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Encoder round trips: every version × fixed/var × SV/MV × codec, read in several batch patterns.

const FIXED_TYPES: Fixed[] = ['INT', 'LONG', 'FLOAT', 'DOUBLE'];
const BE_CODECS: CodecName[] = ['PASS_THROUGH', 'SNAPPY', 'ZSTANDARD', 'LZ4', 'GZIP'];
const V4_CODECS: CodecName[] = ['PASS_THROUGH', 'SNAPPY', 'ZSTANDARD', 'LZ4_LENGTH_PREFIXED', 'GZIP'];
const BATCHES = [1, 7, 100, 1 << 16];

function expectSV(r: SVRawForwardReader, expected: unknown[]): void {
  for (const size of BATCHES) expectSame(readAllSV(r, expected.length, size), expected);
  // Backwards and overlapping reads re-decode chunks; they must give the same values.
  const n = expected.length;
  for (const [s, e] of [[n - 5, n], [0, 3], [Math.floor(n / 2) - 20, Math.floor(n / 2) + 20], [0, n]] as const) {
    expectSame(plainValues(r.read(Math.max(0, s), e)), expected.slice(Math.max(0, s), e));
  }
}

function expectMV(r: MVRawForwardReader, expected: unknown[][]): void {
  for (const size of BATCHES) expectSame(readAllMV(r, expected.length, size), expected);
  const n = expected.length;
  expectSame(rowsOf(r.read(n - 3, n)), expected.slice(n - 3));
  expectSame(rowsOf(r.read(1, 4)), expected.slice(1, 4));
}

const expectedFixed = (type: Fixed, vs: (number | bigint)[]): unknown[] => plainValues(typed(type, vs));
const hexRows = (rows: Uint8Array[]): string[] => rows.map(hexOf);

describe('fixed-width SV chunk files (versions 1–6)', () => {
  const cases: [number, CodecName][] = [[1, 'SNAPPY']];
  for (const v of [2, 3, 4, 5, 6]) for (const c of [...BE_CODECS, 'DELTA', 'DELTADELTA'] as CodecName[]) cases.push([v, c]);

  describe.each(cases)('version %i, %s', (version, codec) => {
    it.each(FIXED_TYPES)('%s', (type) => {
      const n = 1000;
      const vs = fixedValues(type, n, version * 100 + CODECS[codec]);
      const docsPerChunk = version >= 4 ? 128 : 100;
      const bytes = encodeChunkFile({ version, codec, docsPerChunk, fixed: true, rows: vs.map((v) => fixedValue(type, v)) });
      expectSV(openSV(bytes, type, n), expectedFixed(type, vs));
    });
  });

  it('a single doc and an empty column', () => {
    const one = encodeChunkFile({ version: 2, codec: 'LZ4', docsPerChunk: 1000, fixed: true, rows: [fixedValue('LONG', -7n)] });
    expect(openSV(one, 'LONG', 1).read(0, 1)).toEqual({ kind: 'LONG', values: BigInt64Array.of(-7n) });
    const none = encodeChunkFile({ version: 3, codec: 'ZSTANDARD', docsPerChunk: 1000, fixed: true, rows: [], entrySize: 8 });
    expect(openSV(none, 'DOUBLE', 0).read(0, 0)).toEqual({ kind: 'DOUBLE', values: new Float64Array(0) });
  });
});

describe('var-byte SV chunk files (versions 1–3)', () => {
  const cases: [number, CodecName][] = [[1, 'SNAPPY']];
  for (const v of [2, 3]) for (const c of BE_CODECS) cases.push([v, c]);

  it.each(cases)('version %i, %s', (version, codec) => {
    const rows = varValues(600, version * 10 + CODECS[codec]);
    const bytes = encodeChunkFile({ version, codec, docsPerChunk: 64, fixed: false, rows });
    for (const type of ['STRING', 'MAP'] as const) expectSV(openSV(bytes, type, rows.length), hexRows(rows));
  });

  it('a last chunk with one doc', () => {
    const rows = varValues(129, 5);
    const bytes = encodeChunkFile({ version: 2, codec: 'SNAPPY', docsPerChunk: 128, fixed: false, rows });
    expectSV(openSV(bytes, 'STRING', 129), hexRows(rows));
  });
});

describe('var-byte SV V4 / V5 / V6 (huge chunks included)', () => {
  const cases: [4 | 5 | 6, CodecName][] = [];
  for (const v of [4, 5, 6] as const) for (const c of V4_CODECS) cases.push([v, c]);

  it.each(cases)('V%i, %s', (version, codec) => {
    const rows = varValues(600, version * 10 + CODECS[codec], 47);
    const bytes = encodeV4({ version, codec, chunkSize: 256, rows });
    // The fixture really has huge chunks (flag bit in the metadata) and several regular ones.
    const dataAt = Buffer.from(bytes).readInt32BE(12);
    const flags = Array.from({ length: (dataAt - 16) / 8 }, (_, k) => Buffer.from(bytes).readUInt32LE(16 + 8 * k) >>> 31);
    expect(flags.filter((f) => f === 1).length).toBeGreaterThan(10);
    expect(flags.filter((f) => f === 0).length).toBeGreaterThan(10);
    expectSV(openSV(bytes, 'STRING', rows.length), hexRows(rows));
  });

  it('V4 with bare LZ4 (3) regular chunks still reads (bounded by the chunk size)', () => {
    const rows = varValues(300, 11);
    expectSV(openSV(encodeV4({ version: 4, codec: 'LZ4', chunkSize: 512, rows }), 'BYTES', 300), hexRows(rows));
  });
});

describe('MV fixed-width rows', () => {
  const cases: [number, CodecName][] = [];
  for (const v of [2, 3]) for (const c of BE_CODECS) cases.push([v, c]);
  for (const v of [4, 5, 6]) for (const c of V4_CODECS) cases.push([v, c]);

  describe.each(cases)('version %i, %s', (version, codec) => {
    it.each(FIXED_TYPES)('%s', (type) => {
      const r = rng(version * 7 + CODECS[codec]);
      const pool = fixedValues(type, 1600, version);
      let p = 0;
      const rows = Array.from({ length: 300 }, () => pool.slice(p, (p += Math.floor(r() * 6))));
      rows[3] = []; // an empty row is legal in the raw formats
      const counted = version <= 4;
      const serialised = rows.map((vs) => mvFixedRow(type, vs, counted));
      const bytes = version <= 3
        ? encodeChunkFile({ version, codec, docsPerChunk: 32, fixed: false, rows: serialised })
        : encodeV4({ version: version as 4 | 5 | 6, codec, chunkSize: 200, rows: serialised });
      expectMV(openMV(bytes, type, rows.length), rows.map((vs) => expectedFixed(type, vs)));
    });
  });
});

describe('MV var-length rows', () => {
  const cases: [number, CodecName][] = [];
  for (const v of [2, 3]) for (const c of BE_CODECS) cases.push([v, c]);
  for (const v of [4, 5, 6]) for (const c of V4_CODECS) cases.push([v, c]);

  it.each(cases)('version %i, %s', (version, codec) => {
    const r = rng(version * 13 + CODECS[codec]);
    const pool = varValues(1300, version, 200);
    let p = 0;
    const rows = Array.from({ length: 300 }, () => pool.slice(p, (p += Math.floor(r() * 5))));
    rows[5] = [];
    const serialised = rows.map(mvVarRow);
    const bytes = version <= 3
      ? encodeChunkFile({ version, codec, docsPerChunk: 25, fixed: false, rows: serialised })
      : encodeV4({ version: version as 4 | 5 | 6, codec, chunkSize: 300, rows: serialised });
    for (const type of ['STRING', 'BIG_DECIMAL'] as const) {
      expectMV(openMV(bytes, type, rows.length), rows.map(hexRows));
    }
  });
});

describe('large batches', () => {
  it('MV reads with thousands of elements in one batch (V4 STRING and v2 LONG)', () => {
    const r = rng(99);
    const pool = varValues(20000, 3);
    let p = 0;
    const rows = Array.from({ length: 5000 }, () => pool.slice(p, (p += 1 + Math.floor(r() * 5))));
    const bytes = encodeV4({ version: 4, codec: 'LZ4_LENGTH_PREFIXED', chunkSize: 4096, rows: rows.map(mvVarRow) });
    const all = openMV(bytes, 'STRING', rows.length).read(0, rows.length);
    expect(all.offsets[rows.length]).toBeGreaterThan(10000);
    expectSame(rowsOf(all), rows.map(hexRows));
    const longs = fixedValues('LONG', 20000, 4);
    p = 0;
    const lrows = Array.from({ length: 5000 }, () => longs.slice(p, (p += 1 + Math.floor(r() * 5))));
    const lbytes = encodeChunkFile({ version: 2, codec: 'ZSTANDARD', docsPerChunk: 1000, fixed: false, rows: lrows.map((vs) => mvFixedRow('LONG', vs, true)) });
    expectSame(rowsOf(openMV(lbytes, 'LONG', lrows.length).read(0, lrows.length)), lrows.map((vs) => expectedFixed('LONG', vs)));
  });
});

describe('chunk caching', () => {
  it('decodes each chunk once for ascending batches', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => fixedValue('INT', i));
    const bytes = encodeChunkFile({ version: 2, codec: 'SNAPPY', docsPerChunk: 100, fixed: true, rows });
    const reads: number[] = [];
    const inner = bytesRange(bytes);
    const counting: ByteRange = { length: inner.length, read: (s, e) => (reads.push(s), inner.read(s, e)) };
    const r = openRawForward(counting, { storedType: 'INT', singleValue: true, totalDocs: 1000 }) as SVRawForwardReader;
    const headerReads = reads.length;
    for (let s = 0; s < 1000; s += 37) r.read(s, Math.min(1000, s + 37));
    expect(reads.length - headerReads).toBe(10);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Bad input

describe('bad input', () => {
  const ints = Array.from({ length: 10 }, (_, i) => fixedValue('INT', i));
  const v2 = (): Uint8Array => encodeChunkFile({ version: 2, codec: 'PASS_THROUGH', docsPerChunk: 4, fixed: true, rows: ints });
  const v2var = (): Uint8Array => encodeChunkFile({ version: 2, codec: 'PASS_THROUGH', docsPerChunk: 4, fixed: false, rows: varValues(10, 1) });
  // 10 rows of 8 bytes in chunks of 40 bytes: 3 docs per chunk (4 + 3 × 12 = 40), 4 chunks.
  const v4 = (): Uint8Array => encodeV4({ version: 4, codec: 'PASS_THROUGH', chunkSize: 40, rows: Array.from({ length: 10 }, (_, i) => enc.encode(`row-${i}-xx`)) });
  const put32 = (b: Uint8Array, at: number, v: number, order: Order = 'BE'): Uint8Array => {
    const c = Buffer.from(b);
    if (order === 'LE') c.writeInt32LE(v, at); else c.writeInt32BE(v, at);
    return Uint8Array.from(c);
  };
  const open = (b: Uint8Array, o: Partial<RawForwardOptions> = {}) =>
    openRawForward(bytesRange(b), { storedType: 'INT', singleValue: true, totalDocs: 10, column: 'bad', ...o });
  const readAll = (b: Uint8Array, o: Partial<RawForwardOptions> = {}): unknown => {
    const r = open(b, o);
    return r.kind === 'sv-raw' ? r.read(0, o.totalDocs ?? 10) : r.read(0, o.totalDocs ?? 10);
  };
  const expectError = (fn: () => unknown, code: string, detail?: RegExp, offset?: number): void => {
    const err = thrown(fn);
    expect(err.code).toBe(code);
    expect(err.context).toMatchObject(ctxOf('bad'));
    if (detail) expect(err.detail).toMatch(detail);
    if (offset !== undefined) expect(err.context.offset).toBe(offset);
  };

  it('truncated headers and tables → PINOT_TRUNCATED', () => {
    expectError(() => open(new Uint8Array(3)), 'PINOT_TRUNCATED', /no header/);
    expectError(() => open(v2().subarray(0, 20)), 'PINOT_TRUNCATED', /header needs 28/);
    expectError(() => open(v2().subarray(0, 30)), 'PINOT_TRUNCATED', /offset table/);
    expectError(() => open(v4().subarray(0, 12), { storedType: 'STRING' }), 'PINOT_TRUNCATED', /16 bytes/);
    expectError(() => open(v2var().subarray(0, 28), { storedType: 'STRING' }), 'PINOT_TRUNCATED');
  });

  it('truncated chunk data → PINOT_CORRUPT (chunk offsets past the end)', () => {
    const b = v2(); // 80 bytes: 28 header + 3 offsets + chunks at 40, 56, 72
    expect(b.length).toBe(80);
    expectError(() => open(b.subarray(0, b.length - 9)), 'PINOT_CORRUPT', /chunk 2 offset 72/, 36);
    expectError(() => readAll(b.subarray(0, b.length - 8)), 'PINOT_CORRUPT', /chunk 2 holds 0 bytes/, 72);
    const compressed = encodeChunkFile({ version: 2, codec: 'SNAPPY', docsPerChunk: 4, fixed: true, rows: ints });
    expectError(() => readAll(compressed.subarray(0, compressed.length - 3)), 'PINOT_CORRUPT');
  });

  it('unsupported versions → PINOT_UNSUPPORTED_VERSION', () => {
    expectError(() => open(put32(v2(), 0, 0)), 'PINOT_UNSUPPORTED_VERSION', /version 0/, 0);
    expectError(() => open(put32(v2(), 0, -3)), 'PINOT_UNSUPPORTED_VERSION');
    expectError(() => open(put32(v4(), 0, 7), { storedType: 'STRING' }), 'PINOT_UNSUPPORTED_VERSION', /version 7/);
    expectError(() => open(put32(v4(), 0, 0), { storedType: 'STRING', singleValue: false }), 'PINOT_UNSUPPORTED_VERSION');
  });

  it('unknown codecs → PINOT_UNSUPPORTED_CODEC naming the id', () => {
    expectError(() => open(put32(v2(), 20, 9)), 'PINOT_UNSUPPORTED_CODEC', /\b9\b/, 20);
    expectError(() => open(put32(v4(), 8, 42), { storedType: 'STRING' }), 'PINOT_UNSUPPORTED_CODEC', /42/, 8);
  });

  it('CLP-encoded forward indexes → PINOT_NO_FORWARD_INDEX', () => {
    for (const magic of ['CLP.v1', 'CLP.v2']) {
      const b = concat([enc.encode(magic), new Uint8Array(40)]);
      expectError(() => open(b, { storedType: 'STRING' }), 'PINOT_NO_FORWARD_INDEX', /CLP/);
    }
  });

  it('header fields that disagree with the column or with each other → PINOT_CORRUPT', () => {
    expectError(() => open(v2(), { totalDocs: 11 }), 'PINOT_CORRUPT', /10 docs, segment metadata 11/, 16);
    expectError(() => open(put32(v2(), 4, 2)), 'PINOT_CORRUPT', /2 chunks cannot hold 10 docs/);
    expectError(() => open(put32(v2(), 4, -1)), 'PINOT_CORRUPT');
    expectError(() => open(put32(v2(), 8, 0)), 'PINOT_CORRUPT', /docsPerChunk 0/);
    expectError(() => open(put32(v2(), 8, -4)), 'PINOT_CORRUPT', /docsPerChunk -4/);
    expectError(() => open(v2(), { storedType: 'LONG' }), 'PINOT_CORRUPT', /entry size 4/);
    expectError(() => open(put32(v2var(), 12, -1), { storedType: 'STRING' }), 'PINOT_CORRUPT', /entry size -1/);
    expectError(() => open(put32(v2(), 24, 12)), 'PINOT_CORRUPT', /offset table at 12/, 24);
    const v4fixed = encodeChunkFile({ version: 4, codec: 'PASS_THROUGH', docsPerChunk: 4, fixed: true, rows: ints });
    expectError(() => open(put32(v4fixed, 8, 3)), 'PINOT_CORRUPT', /power-of-two/);
    expectError(() => open(new Uint8Array(8), { totalDocs: -1 }), 'PINOT_BAD_METADATA');
  });

  it('chunk offsets out of order or before the table → PINOT_CORRUPT', () => {
    expectError(() => open(put32(v2(), 32, 29)), 'PINOT_CORRUPT', /chunk 1 offset 29/, 32);
    expectError(() => open(put32(v2(), 28, 3)), 'PINOT_CORRUPT', /chunk 0 offset 3/, 28);
    expectError(() => open(put32(v2(), 28, 0x7fffffff)), 'PINOT_CORRUPT');
    const v3 = encodeChunkFile({ version: 3, codec: 'PASS_THROUGH', docsPerChunk: 4, fixed: true, rows: ints });
    expectError(() => open(put32(v3, 36, 0x10000)), 'PINOT_CORRUPT', /chunk 1 offset/); // high word of an i64
  });

  it('fixed chunk shorter than its docs → PINOT_CORRUPT with the chunk offset', () => {
    expect(plainValues((open(v2()) as SVRawForwardReader).read(0, 4))).toEqual([0, 1, 2, 3]);
    const short = put32(v2(), 32, 52); // chunk 0 = [40, 52): 12 bytes for 4 docs
    expectError(() => (open(short) as SVRawForwardReader).read(0, 4), 'PINOT_CORRUPT', /holds 12 bytes/, 40);
  });

  it('var-byte row offsets that are negative, descending or past the chunk → PINOT_CORRUPT', () => {
    const b = v2var();
    const firstChunk = Buffer.from(b).readInt32BE(28);
    for (const bad of [-1, 0x7fffffff, 3]) {
      expectError(() => readAll(put32(b, firstChunk + 4, bad), { storedType: 'STRING' }), 'PINOT_CORRUPT', /row 1/, firstChunk);
    }
    expectError(() => readAll(put32(b, firstChunk, -8), { storedType: 'STRING' }), 'PINOT_CORRUPT', /row 0/);
  });

  /** First doc of each chunk of a V4 file (flag bit cleared). */
  const firstDocs = (b: Uint8Array): number[] => {
    const dataAt = Buffer.from(b).readInt32BE(12);
    return Array.from({ length: (dataAt - 16) / 8 }, (_, k) => Buffer.from(b).readUInt32LE(16 + 8 * k) & 0x7fffffff);
  };

  it('chunks shorter than their row table or header → PINOT_CORRUPT', () => {
    const b = v2var(); // chunk 0 at 40 holds a 16-byte row table; make it 8 bytes long
    expectError(() => readAll(put32(b, 32, 48), { storedType: 'STRING' }), 'PINOT_CORRUPT', /shorter than its 16-byte row table/, 40);
    const v = v4(); // chunk 0 holds 3 docs: a 16-byte header
    const dataAt = Buffer.from(v).readInt32BE(12);
    expectError(() => readAll(put32(v, 28, 8, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /shorter than its 16-byte row header/, dataAt);
  });

  it('chunk sizes beyond 2 GiB are refused before any allocation', () => {
    const one = encodeChunkFile({ version: 2, codec: 'PASS_THROUGH', docsPerChunk: 16, fixed: false, rows: varValues(10, 1) });
    const huge = put32(put32(one, 8, 1 << 20), 12, 4096);
    expectError(() => open(huge, { storedType: 'STRING' }), 'PINOT_CORRUPT', /exceed 2 GiB/, 8);
  });

  it('V4 metadata: docs not ascending, offsets past the end, a data offset off the grid', () => {
    const b = v4();
    const firsts = firstDocs(b);
    expect(firsts.length).toBeGreaterThanOrEqual(3);
    expectError(() => open(put32(b, 24, 0, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /chunk 1 starts at doc 0/, 24);
    expectError(() => open(put32(b, 16, 1, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /chunk 0 starts at doc 1/);
    expectError(() => open(put32(b, 28, 100000, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /chunk 1 offset/, 28);
    expectError(() => open(put32(b, 12, 17), { storedType: 'STRING' }), 'PINOT_CORRUPT', /data offset 17/, 12);
    expectError(() => open(put32(b, 12, 1 << 20), { storedType: 'STRING' }), 'PINOT_CORRUPT', /data offset/);
    expectError(() => open(put32(b, 4, 0), { storedType: 'STRING' }), 'PINOT_CORRUPT', /chunk size 0/);
    expectError(() => open(b, { storedType: 'STRING', totalDocs: 0 }), 'PINOT_CORRUPT');
    expectError(() => open(b, { storedType: 'STRING', totalDocs: firsts[firsts.length - 1] }), 'PINOT_CORRUPT', /starts at doc/);
  });

  it('V4 huge flag on a chunk of several docs, and regular chunks with wrong counts or offsets', () => {
    const b = v4();
    expect(firstDocs(b)[1]).toBeGreaterThan(2); // chunk 0 holds several docs
    expectError(() => open(put32(b, 16, 0x80000000 | 0, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /exactly one doc/);
    const dataAt = Buffer.from(b).readInt32BE(12);
    expectError(() => readAll(put32(b, dataAt, 99, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /holds 99 docs/, dataAt);
    expectError(() => readAll(put32(b, dataAt + 8, -5, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /row 1/);
    expectError(() => readAll(put32(b, dataAt + 4, 9999, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /row 0/);
  });

  it('V6 negative or overrunning row sizes', () => {
    const b = encodeV4({ version: 6, codec: 'ZSTANDARD', chunkSize: 4096, rows: varValues(10, 1) });
    const dataAt = Buffer.from(b).readInt32BE(12);
    const raw = hex(`02000000 FFFFFFFF 02000000 6162`);
    const patched = concat([b.subarray(0, 16), i32(0, 'LE'), i32(0, 'LE'), zstdCompress(Buffer.from(raw))]);
    expect(dataAt).toBe(24);
    expectError(() => readAll(patched, { storedType: 'STRING', totalDocs: 2 }), 'PINOT_CORRUPT', /row 0 of -1 bytes/);
    const over = concat([b.subarray(0, 24), zstdCompress(Buffer.from(hex('02000000 01000000 09000000 6162')))]);
    expectError(() => readAll(over, { storedType: 'STRING', totalDocs: 2 }), 'PINOT_CORRUPT', /row 1 of 9 bytes/);
  });

  it('V4 huge chunks that cannot be sized → PINOT_CORRUPT', () => {
    const rows = [enc.encode('x'.repeat(100))];
    const b = encodeV4({ version: 4, codec: 'LZ4', chunkSize: 64, rows });
    expect(Buffer.from(b).readUInt32LE(16) >>> 31).toBe(1);
    expectError(() => readAll(b, { storedType: 'STRING', totalDocs: 1 }), 'PINOT_CORRUPT', /does not record its size/);
  });

  it('decompression bombs: a regular chunk declaring more than the target chunk size', () => {
    const b = encodeV4({ version: 4, codec: 'LZ4_LENGTH_PREFIXED', chunkSize: 4096, rows: varValues(10, 1) });
    const dataAt = Buffer.from(b).readInt32BE(12);
    expectError(() => readAll(put32(b, dataAt, 1 << 30, 'LE'), { storedType: 'STRING' }), 'PINOT_CORRUPT', /declares 1073741824/, dataAt);
    const big = encodeChunkFile({ version: 2, codec: 'ZSTANDARD', docsPerChunk: 4, fixed: false, rows: [new Uint8Array(100000)] });
    expectError(() => readAll(put32(big, 12, 10), { storedType: 'BYTES', totalDocs: 1 }), 'PINOT_CORRUPT', /declares/);
  });

  it('MV rows whose counts or lengths do not fit → PINOT_CORRUPT naming the row', () => {
    // Row 0 is an empty row, valid for every element type; row 1 is the bad one.
    const mk = (row: Uint8Array): Uint8Array => encodeChunkFile({ version: 2, codec: 'PASS_THROUGH', docsPerChunk: 2, fixed: false, rows: [mvVarRow([]), row] });
    const mv = (b: Uint8Array, storedType: StoredType) => openMV(b, storedType, 2, 'bad').read(0, 2);
    const err = thrown(() => mv(mk(hex('FFFFFFFF')), 'INT'));
    expect([err.code, err.context.row, err.context.column, err.context.offset]).toEqual(['PINOT_CORRUPT', 1, 'bad', 32]);
    expectError(() => mv(mk(hex('00000003 00000001')), 'INT'), 'PINOT_CORRUPT', /3 values/);
    expectError(() => mv(mk(hex('0000')), 'INT'), 'PINOT_CORRUPT', /no element count/);
    expectError(() => mv(mk(hex('00000001 FFFFFFFF')), 'STRING'), 'PINOT_CORRUPT', /element 0 of -1 bytes/);
    expectError(() => mv(mk(hex('00000001 00000009 61')), 'STRING'), 'PINOT_CORRUPT', /element 0 of 9 bytes/);
    expectError(() => mv(mk(hex('7FFFFFFF 00000001')), 'STRING'), 'PINOT_CORRUPT', /2147483647 element lengths/);
    expectError(() => mv(mk(hex('00000001 00000001 61 62')), 'STRING'), 'PINOT_CORRUPT', /1 bytes after/);
    const v5 = encodeV4({ version: 5, codec: 'PASS_THROUGH', chunkSize: 4096, rows: [hex('00000001'), hex('000000')] });
    expectError(() => mv(v5, 'INT'), 'PINOT_CORRUPT', /whole number/);
  });

  it('corrupt compressed chunk → PINOT_CORRUPT with column, index and chunk offset', () => {
    const b = encodeChunkFile({ version: 2, codec: 'SNAPPY', docsPerChunk: 4, fixed: true, rows: ints });
    const at = Buffer.from(b).readInt32BE(32);
    const broken = Uint8Array.from(b);
    broken.fill(0xff, at, at + 6);
    const err = thrown(() => open(broken).read(4, 8));
    expect(err.code).toBe('PINOT_CORRUPT');
    expect(err.context).toEqual({ column: 'bad', index: 'forward_index', offset: at });
    expect(err.message).toContain('column="bad"');
  });

  it('reads outside [0, totalDocs] are caller errors (RangeError)', () => {
    const r = open(v2()) as SVRawForwardReader;
    expect(() => r.read(0, 11)).toThrow(RangeError);
    expect(() => r.read(-1, 2)).toThrow(RangeError);
    expect(() => r.read(5, 4)).toThrow(RangeError);
    expect(() => r.read(0.5, 2)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real files written by Pinot (read in place from ../shared)

describeFixtures('raw-forward-index-files (Pinot backward-compat test files)', 'fixtures/pinot-segments/raw-forward-index-files', (dir) => {
  const file = (name: string): Uint8Array => readFileSync(join(dir, name));

  it('fixedByteSVRDoubles.v1: version 1 SNAPPY, doc i = i for 10009 docs', () => {
    const r = openSV(file('fixedByteSVRDoubles.v1'), 'DOUBLE', 10009);
    const b = r.read(0, 10009);
    expect(b.kind).toBe('DOUBLE');
    expect(Array.from(b.values as Float64Array)).toEqual(Array.from({ length: 10009 }, (_, i) => i));
  });

  it.each(['fixedByteCompressed.v2', 'fixedByteRaw.v2'])('%s: doc i = i + 100.2356, 2000 docs, read in batches', (name) => {
    const expected = Array.from({ length: 2000 }, (_, i) => i + 100.2356);
    expectSame(readAllSV(openSV(file(name), 'DOUBLE', 2000), 2000, 333), expected);
  });

  it('varByteStrings.v1: version 1 SNAPPY, 5003 docs cycling 4 strings', () => {
    const cycle = ['abcde', 'fgh', 'ijklmn', '12345'];
    const r = openSV(file('varByteStrings.v1'), 'STRING', 5003);
    for (const [s, e] of [[0, 1009], [1000, 2100], [4000, 5003]] as const) {
      const b = r.read(s, e);
      expect(b.kind === 'BYTES' && varBytesToStrings(b.values)).toEqual(Array.from({ length: e - s }, (_, i) => cycle[(s + i) % 4]));
    }
  });

  it.each(['varByteStringsCompressed.v2', 'varByteStringsRaw.v2'])('%s: 1000 docs cycling 4 strings', (name) => {
    const cycle = ['abcdefghijk', '12456887', 'pqrstuv', '500'];
    const b = openSV(file(name), 'STRING', 1000).read(0, 1000);
    expect(b.kind === 'BYTES' && varBytesToStrings(b.values)).toEqual(Array.from({ length: 1000 }, (_, i) => cycle[i % 4]));
  });

  it('the worked example header of varByteStringsCompressed.v2 is what the doc says', () => {
    expect(Uint8Array.from(file('varByteStringsCompressed.v2').subarray(0, 32)))
      .toEqual(hex('00000002 00000001 00011111 0000000B 000003E8 00000001 0000001C | 00000020'));
  });
});

describeFixtures('v1 segment column4.sv.raw.fwd (STRING raw, v2, LZ4 without prefix)', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw', (dir) => {
  it('decodes 100000 docs matching the metadata (cardinality 5, min "", max "w", longest 4)', () => {
    const bytes = readFileSync(join(dir, 'testTable_1756015683_1756015683', 'column4.sv.raw.fwd'));
    const r = openSV(bytes, 'STRING', 100000, 'column4');
    const all: string[] = [];
    for (let s = 0; s < 100000; s += 65536) {
      const b = r.read(s, Math.min(100000, s + 65536));
      if (b.kind === 'BYTES') all.push(...varBytesToStrings(b.values));
    }
    expect(all.length).toBe(100000);
    const distinct = [...new Set(all)].sort();
    expect(distinct.length).toBe(5);
    expect(distinct[0]).toBe('');
    expect(distinct[distinct.length - 1]).toBe('w');
    expect(Math.max(...distinct.map((s) => enc.encode(s).length))).toBe(4);
    // Chunk boundaries (1000 docs each) do not shift values: a chunk-crossing read equals two separate reads.
    const across = r.read(999, 1001);
    const left = r.read(999, 1000);
    const right = r.read(1000, 1001);
    expect(plainValues(across)).toEqual([...plainValues(left), ...plainValues(right)]);
  });
});
