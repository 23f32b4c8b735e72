/**
 * Raw forward index writer (§9.5–§9.8): the spec's byte vectors, a seeded round trip through the existing
 * decoder for every version × codec × SV/MV × stored type, and Pinot 1.5.1's own files re-encoded from their
 * decoded values (header, chunk table and decompressed chunks identical; PASS_THROUGH files byte for byte).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bytesRange } from '../../src/sources/pinot/bytes.js';
import { ChunkCodec, decompressChunk, type ChunkCodecId } from '../../src/sources/pinot/codecs.js';
import { openRawForward } from '../../src/sources/pinot/forward-raw.js';
import type { ColumnMetadata } from '../../src/sources/pinot/metadata.js';
import {
  FIXED_WIDTH, type MVRawForwardReader, type MultiValueBlock, type SVRawForwardReader, type StoredType, type ValueBlock, type VarBytes,
} from '../../src/sources/pinot/types.js';
import { compressChunk } from '../../src/sources/pinot/write/chunk-compress.js';
import {
  dynamicTargetChunkSize, planRawForward, writeRawForward, writeRawForwardWithPlan, type RawForwardWriterInput,
} from '../../src/sources/pinot/write/forward-raw-writer.js';
import { encodeBigDecimal, encodeMapValue } from '../../src/sources/pinot/write/value-encoders.js';
import { describeFixtures, sharedPath } from '../support/fixtures.js';
import {
  GENERATED_DIR, GENERATED_SEGMENTS, REAL_DIR, SEED, firstDifference, hex, randInt, rawAnatomy, rng, toHex, withSegment, expectUsage, strings, varBytes,
} from './fixture-segments.js';

const enc = new TextEncoder();



function sv(storedType: StoredType, values: ValueBlock, config: RawForwardWriterInput['config'], maxValueBytes?: number): RawForwardWriterInput {
  const longest = values.kind === 'BYTES' ? Math.max(0, ...lengths(values.values)) : 0;
  return { storedType, singleValue: true, values, maxValueBytes: maxValueBytes ?? longest, config };
}

function mv(storedType: StoredType, rows: MultiValueBlock<ValueBlock>, config: RawForwardWriterInput['config']): RawForwardWriterInput {
  const { maxValuesPerRow, maxRowBytes } = mvStats(rows);
  return { storedType, singleValue: false, values: rows, maxValueBytes: maxRowBytes, maxValuesPerRow, config };
}

function lengths(v: VarBytes): number[] {
  return Array.from({ length: v.offsets.length - 1 }, (_, i) => v.offsets[i + 1]! - v.offsets[i]!);
}

/** maxNumberOfMultiValues and maxRowLengthInBytes (sum of element bytes) as Pinot's stats collectors compute them. */
function mvStats(rows: MultiValueBlock<ValueBlock>): { maxValuesPerRow: number; maxRowBytes: number } {
  let maxValuesPerRow = 0;
  let maxRowBytes = 0;
  for (let r = 0; r + 1 < rows.offsets.length; r++) {
    const a = rows.offsets[r]!;
    const b = rows.offsets[r + 1]!;
    maxValuesPerRow = Math.max(maxValuesPerRow, b - a);
    if (rows.values.kind === 'BYTES') maxRowBytes = Math.max(maxRowBytes, rows.values.values.offsets[b]! - rows.values.values.offsets[a]!);
  }
  return { maxValuesPerRow, maxRowBytes };
}

function decode(bytes: Uint8Array, input: RawForwardWriterInput, totalDocs: number): ValueBlock | MultiValueBlock<ValueBlock> {
  const reader = openRawForward(bytesRange(bytes), { storedType: input.storedType, singleValue: input.singleValue, totalDocs });
  return input.singleValue ? (reader as SVRawForwardReader).read(0, totalDocs) : (reader as MVRawForwardReader).read(0, totalDocs);
}

/** Comparable form of a block: the exact bytes of typed arrays (NaN payloads included) and VarBytes. */
function canonical(x: ValueBlock | MultiValueBlock<ValueBlock>): unknown {
  if ('kind' in x) {
    if (x.kind === 'BYTES') return { offsets: Array.from(x.values.offsets), data: toHex(x.values.data.subarray(0, x.values.offsets[x.values.offsets.length - 1])) };
    const a = x.values;
    return { kind: x.kind, bytes: toHex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) };
  }
  return { offsets: Array.from(x.offsets), values: canonical(x.values) };
}

// ---------------------------------------------------------------------------------------------------------

describe('spec §9.5 vectors (chunk files)', () => {
  const ints: ValueBlock = { kind: 'INT', values: Int32Array.of(10, 20, 30, 40, 50) };
  const cfg = (writerVersion: number, targetDocsPerChunk: number, codec: ChunkCodecId = ChunkCodec.PASS_THROUGH) =>
    ({ writerVersion, codec, targetDocsPerChunk });

  it('INT 10…50, 3 docs per chunk, version 2 (56 bytes)', () => {
    expect(toHex(writeRawForward(sv('INT', ints, cfg(2, 3))))).toBe(toHex(hex(
      '00000002 00000002 00000003 00000004 00000005 00000000 0000001C | 00000024 00000030 | 0000000A 00000014 0000001E | 00000028 00000032')));
  });

  it('the same with version 3 (64 bytes, i64 chunk offsets)', () => {
    expect(toHex(writeRawForward(sv('INT', ints, cfg(3, 3))))).toBe(toHex(hex(
      '00000003 00000002 00000003 00000004 00000005 00000000 0000001C | 00000000 0000002C 00000000 00000038 |'
      + '0000000A 00000014 0000001E 00000028 00000032')));
  });

  it('the same with version 4: docs per chunk rounded up to 4 (64 bytes)', () => {
    expect(toHex(writeRawForward(sv('INT', ints, cfg(4, 3))))).toBe(toHex(hex(
      '00000004 00000002 00000004 00000004 00000005 00000000 0000001C | 00000000 0000002C 00000000 0000003C |'
      + '0000000A 00000014 0000001E 00000028 | 00000032')));
  });

  it('STRING "abc", "", "hello", 2 docs per chunk, version 2 (60 bytes; unused slot 0)', () => {
    expect(toHex(writeRawForward(sv('STRING', strings('abc', '', 'hello'), cfg(2, 2))))).toBe(toHex(hex(
      '00000002 00000002 00000002 00000005 00000003 00000000 0000001C | 00000024 0000002F |'
      + '00000008 0000000B 616263 | 00000008 00000000 68656C6C6F')));
  });

  it('MV rows [7, 8] and ["a", "bc"] serialise as the vector\'s chunk rows (version 2)', () => {
    // The spec vector puts both rows in one hand-made file (entry size 16); each column type writes its own.
    const intFile = writeRawForward(mv('INT', { offsets: Int32Array.of(0, 2), values: { kind: 'INT', values: Int32Array.of(7, 8) } }, cfg(2, 2)));
    expect(toHex(intFile.subarray(32))).toBe(toHex(hex('00000008 00000000 | 00000002 00000007 00000008')));
    const strFile = writeRawForward(mv('STRING', { offsets: Int32Array.of(0, 2), values: strings('a', 'bc') }, cfg(2, 2)));
    // MV var-length docs per chunk are always derived: 1 MiB / (4 + 4·2 + 3 + 4) = 55188.
    expect(new DataView(strFile.buffer).getInt32(8)).toBe(Math.floor(1048576 / 19));
    const chunk = strFile.subarray(32);
    expect(toHex(chunk.subarray(0, 8))).toBe(toHex(hex(`${(4 * 55188).toString(16).padStart(8, '0')} 00000000`)));
    expect(toHex(chunk.subarray(4 * 55188))).toBe(toHex(hex('00000002 00000001 00000002 616263')));
  });

  it('GZIP "testing123", 1 doc per chunk, version 2 (58 bytes, BE trailer)', () => {
    const out = writeRawForward(sv('STRING', strings('testing123'), cfg(2, 1, ChunkCodec.GZIP)));
    const expected = hex('00000002 00000001 00000001 0000000A 00000001 00000005 0000001C | 00000020 |'
      + '78 9C 63 60 60 60 29 49 2D 2E C9 CC 4B 37 34 32 06 00 16 75 03 99 | 0000000E');
    expect(toHex(out.subarray(0, 32))).toBe(toHex(expected.subarray(0, 32)));
    expect(toHex(out.subarray(out.length - 4))).toBe('0000000e');
    expect(toHex(inflateSync(out.subarray(32, out.length - 4)))).toBe(toHex(hex('00000004 74657374696e67313233')));
    // Node's zlib happens to pick the JDK's matches for this input.
    expect(toHex(out)).toBe(toHex(expected));
  });
});

describe('spec §9.6 vectors (V4 / V5 / V6)', () => {
  it('V4, PASS_THROUGH, chunk size 32: regular, huge and trailing chunks (140 bytes)', () => {
    const digits = '0123456789012345678901234567890123456789';
    const input = sv('STRING', strings('alpha', 'beta', 'gamma', 'delta', digits, 'x'), { writerVersion: 4, codec: ChunkCodec.PASS_THROUGH });
    const out = writeRawForwardWithPlan(input, { format: 'V4', version: 4, codec: ChunkCodec.PASS_THROUGH, chunkSize: 32 });
    expect(toHex(out)).toBe(toHex(new Uint8Array([
      ...hex('00000004 00000020 00000000 00000030 | 00000000 00000000 03000000 1E000000 04000080 2B000000 05000000 53000000'),
      ...hex('03000000 10000000 15000000 19000000'), ...enc.encode('alphabetagamma'),
      ...hex('01000000 08000000'), ...enc.encode('delta'),
      ...enc.encode(digits),
      ...hex('01000000 08000000'), ...enc.encode('x'),
    ])));
  });

  const mvInts = (): MultiValueBlock<ValueBlock> => ({ offsets: Int32Array.of(0, 3, 4), values: { kind: 'INT', values: Int32Array.of(1, 2, 3, 4) } });
  const small = (writerVersion: number, codec: ChunkCodecId = ChunkCodec.PASS_THROUGH) => ({ writerVersion, codec, targetMaxChunkSizeBytes: 4096 });

  it('MV INT [1,2,3], [4] as V4 (60 bytes), V5 (52 bytes) and V6 (V5 with version 6)', () => {
    expect(toHex(writeRawForward(mv('INT', mvInts(), small(4))))).toBe(toHex(hex(
      '00000004 00001000 00000000 00000018 | 00000000 00000000 | 02000000 0C000000 1C000000 |'
      + '00000003 00000001 00000002 00000003 | 00000001 00000004')));
    const v5 = '00001000 00000000 00000018 | 00000000 00000000 | 02000000 0C000000 18000000 | 00000001 00000002 00000003 | 00000004';
    expect(toHex(writeRawForward(mv('INT', mvInts(), small(5))))).toBe(toHex(hex('00000005' + v5)));
    expect(toHex(writeRawForward(mv('INT', mvInts(), small(6))))).toBe(toHex(hex('00000006' + v5)));
  });

  it('MV STRING ["a", "bc"], V4, PASS_THROUGH (47 bytes)', () => {
    const out = writeRawForward(mv('STRING', { offsets: Int32Array.of(0, 2), values: strings('a', 'bc') }, small(4)));
    expect(out.length).toBe(47);
    expect(toHex(out.subarray(0, 4))).toBe('00000004');
    expect(toHex(out.subarray(24))).toBe(toHex(hex('01000000 08000000 | 00000002 00000001 00000002 61 62 63')));
  });

  it('V6 + ZSTANDARD stores row sizes 5, 4, 5 (63 bytes)', () => {
    const out = writeRawForward(sv('STRING', strings('alpha', 'beta', 'gamma'), small(6, ChunkCodec.ZSTANDARD)));
    expect(toHex(out.subarray(0, 24))).toBe(toHex(hex('00000006 00001000 00000002 00000018 | 00000000 00000000')));
    expect(toHex(out.subarray(24, 33))).toBe(toHex(hex('28 B5 2F FD 20 1E F1 00 00')));
    expect(out.length).toBe(63);
    expect(toHex(decompressChunk(ChunkCodec.ZSTANDARD, out.subarray(24)))).toBe(toHex(new Uint8Array([
      ...hex('03000000 05000000 04000000 05000000'), ...enc.encode('alphabetagamma')])));
  });

  it('V6 + GZIP: zlib stream with an LE trailer (30)', () => {
    const out = writeRawForward(sv('STRING', strings('alpha', 'beta', 'gamma'), small(6, ChunkCodec.GZIP)));
    expect(toHex(out.subarray(0, 24))).toBe(toHex(hex('00000006 00001000 00000005 00000018 | 00000000 00000000')));
    expect(toHex(out.subarray(out.length - 4))).toBe('1e000000');
    expect(toHex(inflateSync(out.subarray(24, out.length - 4)))).toBe(toHex(new Uint8Array([
      ...hex('03000000 05000000 04000000 05000000'), ...enc.encode('alphabetagamma')])));
    // Pinot's (JDK zlib) stream for this chunk; Node's zlib build may choose other matches (spec §9.8).
    const jdk = hex('78 9C 63 66 60 60 60 05 62 16 28 9D 98 53 90 91 98 94 5A 92 98 9E 98 9B 9B 08 00 2C 0D 05 B7');
    expect(toHex(inflateSync(jdk))).toBe(toHex(inflateSync(out.subarray(24, out.length - 4))));
  });

  it('V4 configured with LZ4 stores LZ4_LENGTH_PREFIXED (4) with an LE length prefix', () => {
    const out = writeRawForward(sv('STRING', strings('alpha', 'beta'), small(4, ChunkCodec.LZ4)));
    expect(toHex(out.subarray(8, 12))).toBe('00000004');
    expect(new DataView(out.buffer).getInt32(24, true)).toBe(4 + 8 + 9);
  });
});

describe('spec §9.8 vectors (chunk compression)', () => {
  const testing = enc.encode('testing123');
  it('ZSTANDARD: one frame, level 3, content size 10 (19 bytes)', () => {
    expect(toHex(compressChunk(ChunkCodec.ZSTANDARD, testing, 'BE'))).toBe('28b52ffd200a51000074657374696e67313233');
  });
  it('GZIP in a BE container: zlib stream + 00 00 00 0A (22 bytes)', () => {
    expect(toHex(compressChunk(ChunkCodec.GZIP, testing, 'BE'))).toBe(toHex(hex('78 9C 2B 49 2D 2E C9 CC 4B 37 34 32 06 00 16 45 03 95 | 00 00 00 0A')));
  });
  it('GZIP inside a V4 file: LE trailer 18 (header, chunk table, stream content and trailer of the vector)', () => {
    const out = writeRawForward(sv('STRING', strings('testing123'), { writerVersion: 4, codec: ChunkCodec.GZIP, targetMaxChunkSizeBytes: 4096 }));
    const expected = hex('00000004 00001000 00000005 00000018 | 00000000 00000000 | 78 9C 63 64 60 60 E0 00 E2 92 D4 E2 92 CC BC 74 43 23 63 00 16 CF 03 9E | 12 00 00 00');
    expect(toHex(out.subarray(out.length - 4))).toBe('12000000');
    expect(toHex(out.subarray(0, 26))).toBe(toHex(expected.subarray(0, 26)));
    expect(toHex(inflateSync(out.subarray(24, out.length - 4)))).toBe(toHex(inflateSync(expected.subarray(24, expected.length - 4))));
    // Node's zlib (Chromium's fork) encodes this chunk 2 bytes longer than the JDK's zlib: same content, other
    // block choices. Compressed bytes are not portable across zlib builds (spec §9.8); Pinot never compares them.
  });
  it('LZ4 is a bare block, LZ4_LENGTH_PREFIXED prefixes the LE uncompressed length, SNAPPY is a raw block', () => {
    const lz4 = compressChunk(ChunkCodec.LZ4, testing, 'BE');
    const prefixed = compressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, testing, 'LE');
    expect(toHex(prefixed)).toBe('0a000000' + toHex(lz4));
    expect(toHex(decompressChunk(ChunkCodec.LZ4, lz4, 10))).toBe(toHex(testing));
    expect(toHex(compressChunk(ChunkCodec.SNAPPY, testing, 'BE'))).toBe('0a2474657374696e67313233');
    expect(compressChunk(ChunkCodec.PASS_THROUGH, testing, 'BE')).toBe(testing);
  });
  it('DELTA / DELTADELTA: word flag, count, first word, LZ4 payload of BE (delta-)deltas; 64-bit words when the length allows', () => {
    const ints = hex('0000000A 00000014 00000028'); // 10, 20, 40: 12 bytes → 32-bit words
    const d = compressChunk(ChunkCodec.DELTA, ints, 'BE');
    expect(toHex(d.subarray(0, 13))).toBe(toHex(hex('00 | 00000003 | 0000000A')) + toHex(d.subarray(9, 13)));
    expect(toHex(decompressChunk(ChunkCodec.LZ4, d.subarray(13), 8))).toBe(toHex(hex('0000000A 00000014')));
    const dd = compressChunk(ChunkCodec.DELTADELTA, ints, 'BE');
    expect(toHex(decompressChunk(ChunkCodec.LZ4, dd.subarray(13), 8))).toBe(toHex(hex('0000000A 0000000A')));
    const longs = hex('0000000A 00000014'); // 8 bytes → one 64-bit word
    expect(toHex(compressChunk(ChunkCodec.DELTA, longs, 'BE'))).toBe(toHex(hex('01 00000001 0000000A00000014')));
    for (const codec of [ChunkCodec.DELTA, ChunkCodec.DELTADELTA] as const) {
      for (const input of [ints, longs, hex('00000001 80000000 7FFFFFFF 00000005 FFFFFFFF FFFFFFFE'), new Uint8Array(0)]) {
        expect(toHex(decompressChunk(codec, compressChunk(codec, input, 'BE'), undefined, undefined, 'BE'))).toBe(toHex(input));
      }
    }
  });
});

describe('chunk sizing (ForwardIndexUtils and the creators)', () => {
  it('getDynamicTargetChunkSize matches ForwardIndexUtilsTest', () => {
    expect(dynamicTargetChunkSize(100, 1000, 1048576)).toBe(100000);
    expect(dynamicTargetChunkSize(100, 2 ** 31 - 1, 1048576)).toBe(1048576);
    expect(dynamicTargetChunkSize(100, -1, 1048576)).toBe(1048576);
    expect(dynamicTargetChunkSize(2000, 1000, 1048576)).toBe(1048576);
    expect(dynamicTargetChunkSize(100, -1, 1024)).toBe(4096);
  });

  it('picks the file each writer version yields, as Pinot 1.5.1 (6: master)', () => {
    const plan = (storedType: StoredType, single: boolean, writerVersion: number, codec: ChunkCodecId = ChunkCodec.LZ4) =>
      planRawForward({ storedType, singleValue: single, values: { kind: 'INT', values: new Int32Array(0) }, maxValueBytes: 10, maxValuesPerRow: 3, config: { writerVersion, codec } });
    const shape = (p: ReturnType<typeof plan>) => `${p.format}/${p.version}/${p.codec}`;
    expect([2, 3, 4, 5, 6].map((v) => shape(plan('LONG', true, v)))).toEqual(['fixed-chunk/2/3', 'fixed-chunk/3/3', 'fixed-chunk/4/3', 'fixed-chunk/5/3', 'fixed-chunk/6/3']);
    expect([2, 3, 4, 5, 6].map((v) => shape(plan('STRING', true, v)))).toEqual(['var-chunk/2/3', 'var-chunk/3/3', 'V4/4/4', 'V4/4/4', 'V6/6/4']);
    expect([2, 3, 4, 5, 6].map((v) => shape(plan('DOUBLE', false, v)))).toEqual(['var-chunk/2/3', 'var-chunk/3/3', 'V4/4/4', 'V5/5/4', 'V6/6/4']);
    expect([2, 3, 4, 5, 6].map((v) => shape(plan('BYTES', false, v)))).toEqual(['var-chunk/2/3', 'var-chunk/3/3', 'V4/4/4', 'V4/4/4', 'V6/6/4']);
    // Entry sizes and chunk sizes: SV longest value; MV fixed 4 + n·w (V5/V6 n·w); MV var 4 + 4n + row bytes.
    expect(plan('STRING', true, 2)).toMatchObject({ docsPerChunk: 1000, entrySize: 10 });
    expect(plan('INT', false, 3)).toMatchObject({ docsPerChunk: 1000, entrySize: 16 });
    expect(plan('STRING', false, 2)).toMatchObject({ docsPerChunk: Math.floor(1048576 / 30), entrySize: 26 });
    expect(plan('STRING', true, 4).chunkSize).toBe(10000);
    expect(plan('LONG', false, 4).chunkSize).toBe(28000);
    expect(plan('LONG', false, 5).chunkSize).toBe(24000);
    expect(plan('STRING', false, 6).chunkSize).toBe(26000);
    expect(plan('INT', true, 4)).toMatchObject({ docsPerChunk: 1024, entrySize: 4 });
    const derived = planRawForward({ storedType: 'STRING', singleValue: true, values: strings(), maxValueBytes: 11, config: { writerVersion: 2, codec: 1, deriveNumDocsPerChunk: true } });
    expect(derived.docsPerChunk).toBe(69905); // the varByteStringsCompressed.v2 fixture
  });
});

describe('bad input', () => {
  const cfg = { writerVersion: 4, codec: ChunkCodec.PASS_THROUGH };
  it('rejects a value longer than maxValueBytes and a row with more values than maxValuesPerRow', () => {
    expectUsage(() => writeRawForward(sv('STRING', strings('abc', 'hello'), { ...cfg, writerVersion: 2 }, 4)), /value 1 is 5 bytes, longer than maxValueBytes 4/);
    expectUsage(() => writeRawForward({ ...mv('INT', { offsets: Int32Array.of(0, 3), values: { kind: 'INT', values: Int32Array.of(1, 2, 3) } }, cfg), maxValuesPerRow: 2 }),
      /row 0 has 3 values, more than maxValuesPerRow 2/);
    expectUsage(() => writeRawForward({ ...mv('STRING', { offsets: Int32Array.of(0, 2), values: strings('ab', 'c') }, cfg), maxValueBytes: 2 }),
      /row 0 holds 3 bytes/);
  });
  it('rejects unsupported versions, codecs and combinations, and values of the wrong kind', () => {
    expectUsage(() => writeRawForward(sv('INT', { kind: 'INT', values: Int32Array.of(1) }, { ...cfg, writerVersion: 1 })), /rawIndexWriterVersion 1/);
    expectUsage(() => writeRawForward(sv('INT', { kind: 'INT', values: Int32Array.of(1) }, { ...cfg, codec: 9 as ChunkCodecId })), /unknown chunk compression/);
    expectUsage(() => writeRawForward(sv('STRING', strings('a'), { ...cfg, codec: ChunkCodec.DELTA })), /DELTA can only be used on single-value INT\/LONG/);
    expectUsage(() => writeRawForward(sv('LONG', { kind: 'INT', values: Int32Array.of(1) }, cfg)), /LONG column needs LONG values/);
    expectUsage(() => writeRawForward({ storedType: 'INT', singleValue: false, values: { offsets: Int32Array.of(0, 1), values: { kind: 'INT', values: Int32Array.of(1) } }, maxValueBytes: 0, config: cfg }),
      /maxValuesPerRow is required/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Round trip through the decoder

const SV_TYPES: StoredType[] = ['INT', 'LONG', 'FLOAT', 'DOUBLE', 'STRING', 'BYTES', 'BIG_DECIMAL', 'MAP'];
const MV_TYPES: StoredType[] = ['INT', 'LONG', 'FLOAT', 'DOUBLE', 'STRING', 'BYTES', 'BIG_DECIMAL'];
const CODECS: ChunkCodecId[] = [0, 1, 2, 3, 4, 5];

function randomBytes(r: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Random var-length values of a stored type; a few are long enough to become V4 huge chunks. */
function randomVar(r: () => number, type: StoredType, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const big = r() < 0.02;
    switch (type) {
      case 'BIG_DECIMAL': return encodeBigDecimal(`${r() < 0.5 ? '-' : ''}${Math.floor(r() * 1e9)}.${Math.floor(r() * 1e6)}E${randInt(r, -20, 20)}`);
      case 'MAP': return encodeMapValue(Object.fromEntries(Array.from({ length: randInt(r, 0, 3) }, (_, k) => [`k${k}`, r() < 0.5 ? Math.floor(r() * 100) : 'v'.repeat(big ? 5000 : randInt(r, 0, 8))])));
      case 'STRING': return enc.encode('é✓x'.repeat(big ? 2000 : randInt(r, 0, 6)).slice(0, big ? 6000 : randInt(r, 0, 12)));
      default: return randomBytes(r, big ? randInt(r, 4090, 9000) : randInt(r, 0, 20));
    }
  });
}

function randomFixed(r: () => number, type: StoredType, count: number): ValueBlock {
  const bytes = randomBytes(r, count * FIXED_WIDTH[type]!);
  switch (type) {
    case 'INT': return { kind: 'INT', values: new Int32Array(bytes.buffer) };
    case 'LONG': return { kind: 'LONG', values: new BigInt64Array(bytes.buffer) };
    case 'FLOAT': return { kind: 'FLOAT', values: new Float32Array(bytes.buffer) };
    default: return { kind: 'DOUBLE', values: new Float64Array(bytes.buffer) };
  }
}

describe(`round trip through openRawForward (seed ${SEED})`, () => {
  const r = rng(SEED);
  const cases: { name: string; input: RawForwardWriterInput; docs: number }[] = [];
  for (const singleValue of [true, false]) {
    for (const type of singleValue ? SV_TYPES : MV_TYPES) {
      for (const writerVersion of [2, 3, 4, 5, 6]) {
        const codecs: ChunkCodecId[] = singleValue && (type === 'INT' || type === 'LONG') ? [...CODECS, 6, 7] : CODECS;
        for (const codec of codecs) {
          const docs = randInt(r, 0, 300);
          const config = {
            writerVersion, codec,
            targetDocsPerChunk: r() < 0.5 ? randInt(r, 1, 70) : undefined,
            targetMaxChunkSizeBytes: r() < 0.5 ? randInt(r, 0, 20000) : undefined,
            deriveNumDocsPerChunk: r() < 0.3,
          };
          let input: RawForwardWriterInput;
          if (singleValue) {
            input = FIXED_WIDTH[type] !== undefined
              ? sv(type, randomFixed(r, type, docs), config)
              : sv(type, { kind: 'BYTES', values: varBytes(randomVar(r, type, docs)) }, config);
          } else {
            const offsets = new Int32Array(docs + 1);
            for (let d = 0; d < docs; d++) offsets[d + 1] = offsets[d]! + randInt(r, 0, r() < 0.05 ? 400 : 5);
            const n = offsets[docs]!;
            const values = FIXED_WIDTH[type] !== undefined ? randomFixed(r, type, n) : { kind: 'BYTES' as const, values: varBytes(randomVar(r, type, n)) };
            input = mv(type, { offsets, values }, config);
          }
          cases.push({ name: `${singleValue ? 'SV' : 'MV'} ${type} v${writerVersion} codec ${codec} ${docs} docs`, input, docs });
        }
      }
    }
  }

  it(`${cases.length} random columns decode to their values`, () => {
    for (const c of cases) {
      const bytes = writeRawForward(c.input);
      const back = decode(bytes, c.input, c.docs);
      expect(canonical(back), c.name).toEqual(canonical(c.input.values));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Byte identity with Pinot's files

interface FieldConfigJson { name: string; indexes?: { forward?: { compressionCodec?: string; rawIndexWriterVersion?: number } } }

const CODEC_IDS: Record<string, ChunkCodecId> = { PASS_THROUGH: 0, SNAPPY: 1, ZSTANDARD: 2, LZ4: 3, GZIP: 5, DELTA: 6, DELTADELTA: 7 };

/** The forward-index config a generated segment's table.json sets for a column (Pinot defaults otherwise). */
function generatedConfig(tableJson: string | undefined, column: ColumnMetadata): { writerVersion: number; codec: ChunkCodecId } | undefined {
  if (tableJson === undefined) return undefined;
  const table = JSON.parse(readFileSync(tableJson, 'utf8')) as { fieldConfigList?: FieldConfigJson[] };
  const fwd = table.fieldConfigList?.find((f) => f.name === column.name)?.indexes?.forward;
  const defaultCodec = column.fieldType === 'METRIC' ? ChunkCodec.PASS_THROUGH : ChunkCodec.LZ4;
  return {
    writerVersion: fwd?.rawIndexWriterVersion ?? 4,
    codec: fwd?.compressionCodec === undefined ? defaultCodec : CODEC_IDS[fwd.compressionCodec]!,
  };
}

interface RawResult { column: string; identical: boolean; chunks: number; sameCompressed: number }

async function compareRawColumns(location: string, tableJson: string | undefined): Promise<RawResult[]> {
  return withSegment(location, ({ segment, columns, index }) => {
    const results: RawResult[] = [];
    const totalDocs = segment.metadata.totalDocs;
    for (const col of columns.filter((c) => c.forwardIndexEncoding === 'RAW')) {
      const pinot = index(col.name, 'forward_index')!;
      const header = new DataView(pinot.buffer, pinot.byteOffset, pinot.byteLength);
      const width = col.singleValue ? FIXED_WIDTH[col.storedType] : undefined;
      const config = generatedConfig(tableJson, col)
        ?? { writerVersion: header.getInt32(0), codec: header.getInt32(width !== undefined || header.getInt32(0) <= 3 ? 20 : 8) as ChunkCodecId };
      const base = { storedType: col.storedType, singleValue: col.singleValue, config };
      const reader = openRawForward(bytesRange(pinot), { storedType: col.storedType, singleValue: col.singleValue, totalDocs });
      let input: RawForwardWriterInput;
      if (col.singleValue) {
        const values = (reader as SVRawForwardReader).read(0, totalDocs);
        input = { ...base, values, maxValueBytes: values.kind === 'BYTES' ? Math.max(0, ...lengths(values.values)) : 0 };
      } else {
        const rows = (reader as MVRawForwardReader).read(0, totalDocs);
        const { maxValuesPerRow, maxRowBytes } = mvStats(rows);
        input = { ...base, values: rows, maxValueBytes: maxRowBytes, maxValuesPerRow };
      }
      const ours = writeRawForward(input);
      const a = rawAnatomy(pinot, width);
      const b = rawAnatomy(ours, width);
      const where = `${location} ${col.name}`;
      expect(b.header, `${where} header`).toEqual(a.header);
      expect(b.chunks.map((c) => [c.firstDoc, c.huge]), `${where} chunk table`).toEqual(a.chunks.map((c) => [c.firstDoc, c.huge]));
      let sameCompressed = 0;
      a.chunks.forEach((ca, k) => {
        const cb = b.chunks[k]!;
        expect(firstDifference(cb.decompressed, ca.decompressed), `${where} chunk ${k} decompressed`).toBeUndefined();
        if (firstDifference(cb.compressed, ca.compressed) === undefined) sameCompressed++;
      });
      const identical = firstDifference(ours, pinot) === undefined;
      if (a.codec === ChunkCodec.PASS_THROUGH) expect(firstDifference(ours, pinot), `${where} bytes`).toBeUndefined();
      results.push({ column: col.name, identical, chunks: a.chunks.length, sameCompressed });
    }
    return results;
  });
}

function report(label: string, results: RawResult[]): void {
  const exact = results.filter((x) => x.identical).map((x) => x.column);
  const other = results.filter((x) => !x.identical).map((x) => `${x.column} (${x.sameCompressed}/${x.chunks} chunks identical compressed)`);
  console.log(`[raw forward] ${label}: byte-identical: ${exact.join(', ') || '-'}; decompressed-identical: ${other.join(', ') || '-'}`);
}

describeFixtures('raw forward indexes of Pinot 1.5.1 segments re-encode identically', GENERATED_DIR, (dir) => {
  for (const name of GENERATED_SEGMENTS) {
    it(name, async () => {
      const results = await compareRawColumns(join(dir, name), join(dir, name.replace('.tar.gz', '.table.json')));
      report(name, results);
      if (!name.startsWith('events') && !name.startsWith('dictvar') && !name.startsWith('sorted')) expect(results.length).toBe(35);
    });
  }
});

describeFixtures('raw forward indexes of real segments re-encode identically', REAL_DIR, (dir) => {
  for (const name of ['v1-2022-testTable-mv-raw/testTable_1756015683_1756015683', 'legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz']) {
    it(name, async () => {
      const results = await compareRawColumns(join(dir, name), undefined);
      report(name, results);
      expect(results.length).toBe(1);
    });
  }

  it('standalone v2 files of raw-forward-index-files/ (FixedByteChunkSVForwardIndexTest / VarByteChunkSVForwardIndexTest)', () => {
    const file = (f: string) => new Uint8Array(readFileSync(sharedPath(REAL_DIR, 'raw-forward-index-files', f)));
    const cases: [string, StoredType, boolean][] = [
      ['fixedByteCompressed.v2', 'DOUBLE', false], ['fixedByteRaw.v2', 'DOUBLE', false],
      ['varByteStringsCompressed.v2', 'STRING', true], ['varByteStringsRaw.v2', 'STRING', true],
    ];
    for (const [f, storedType, derive] of cases) {
      const pinot = file(f);
      const h = new DataView(pinot.buffer);
      const totalDocs = h.getInt32(16);
      const values = (openRawForward(bytesRange(pinot), { storedType, singleValue: true, totalDocs }) as SVRawForwardReader).read(0, totalDocs);
      const ours = writeRawForward(sv(storedType, values, { writerVersion: 2, codec: h.getInt32(20) as ChunkCodecId, deriveNumDocsPerChunk: derive }));
      const width = FIXED_WIDTH[storedType];
      const a = rawAnatomy(pinot, width);
      const b = rawAnatomy(ours, width);
      expect(b.header, f).toEqual(a.header);
      a.chunks.forEach((c, k) => expect(firstDifference(b.chunks[k]!.decompressed, c.decompressed), `${f} chunk ${k}`).toBeUndefined());
      if (a.codec === ChunkCodec.PASS_THROUGH) expect(firstDifference(ours, pinot), f).toBeUndefined();
    }
  });
});
