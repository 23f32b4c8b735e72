import { deflateSync } from 'node:zlib';
import { compressSync as lz4Compress } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { ChunkCodec, codecName, declaredSize, decompressChunk, type ByteOrder } from '../../src/sources/pinot/codecs.js';
import { thrown } from '../support/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function u32(n: number, order: ByteOrder): Uint8Array {
  const b = Buffer.alloc(4);
  if (order === 'LE') b.writeUInt32LE(n); else b.writeUInt32BE(n);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Pinot's GZIP chunk: a zlib stream plus the uncompressed length in the container's byte order. */
const gzipChunk = (raw: Uint8Array, order: ByteOrder): Uint8Array => concat(deflateSync(raw), u32(raw.length, order));

/** lz4-napi frames a block as i32 LE length + raw block; Pinot's LZ4 (3) is the bare block. */
const lz4Block = (raw: Uint8Array): Uint8Array => Uint8Array.from(lz4Compress(Buffer.from(raw)).subarray(4));

/**
 * Independent DELTA / DELTADELTA encoder after Pinot's compressor: u8 flag (1 = 64-bit words when the length
 * is a non-zero multiple of 8, else 0), count, first word, LZ4 size, LZ4 block of BE (delta-)deltas. Header
 * fields in the container's byte order.
 */
function deltaChunk(raw: Uint8Array, order: ByteOrder, twice: boolean): Uint8Array {
  const le = order === 'LE';
  const wide = raw.length > 0 && raw.length % 8 === 0;
  const width = wide ? 8 : 4;
  const count = raw.length / width;
  const src = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const word = (i: number): bigint => (wide ? src.getBigInt64(i * 8, le) : BigInt(src.getInt32(i * 4, le)));
  const head = Buffer.alloc(5 + width + 4);
  head[0] = wide ? 1 : 0;
  if (le) head.writeInt32LE(count, 1); else head.writeInt32BE(count, 1);
  if (count === 0) return Uint8Array.from(head.subarray(0, 5));
  head.set(raw.subarray(0, width), 5);
  if (count === 1) return Uint8Array.from(head.subarray(0, 5 + width));
  const deltas = Buffer.alloc((count - 1) * width);
  let prevDelta = 0n;
  for (let i = 1; i < count; i++) {
    const d = word(i) - word(i - 1);
    const x = twice && i > 1 ? d - prevDelta : d;
    prevDelta = d;
    if (wide) deltas.writeBigInt64BE(BigInt.asIntN(64, x), (i - 1) * 8); else deltas.writeInt32BE(Number(BigInt.asIntN(32, x)), (i - 1) * 4);
  }
  const block = lz4Block(deltas);
  if (le) head.writeInt32LE(block.length, 5 + width); else head.writeInt32BE(block.length, 5 + width);
  return concat(head, block);
}

/** Fast byte equality (vitest's deep equality is slow on large arrays); reports the first difference. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  let i = 0;
  const n = Math.min(actual.length, expected.length);
  while (i < n && actual[i] === expected[i]) i++;
  expect({ length: actual.length, firstDifference: i === n ? -1 : i })
    .toEqual({ length: expected.length, firstDifference: -1 });
}


function sample(n: number, seed = 1): Uint8Array {
  // Compressible but not trivial: words from a small vocabulary plus a counter.
  const words = ['alpha', 'beta', 'gamma', 'délta', '漢字', '0123456789'];
  let s = seed;
  let text = '';
  while (text.length < n) {
    s = (s * 1103515245 + 12345) >>> 0;
    text += words[s % words.length]! + (s % 97) + ' ';
  }
  return Uint8Array.from(Buffer.from(text).subarray(0, n));
}

const ctx = { column: 'c', index: 'forward_index', offset: 123 };

describe('decompressChunk round trips (library-compressed in the test)', () => {
  const raw = sample(50_000);

  it('PASS_THROUGH returns the bytes', () => {
    expectBytes(decompressChunk(ChunkCodec.PASS_THROUGH, raw, raw.length), raw);
  });

  it('SNAPPY raw blocks', () => {
    expectBytes(decompressChunk(ChunkCodec.SNAPPY, Uint8Array.from(snappyCompress(Buffer.from(raw))), raw.length), raw);
  });

  it('ZSTANDARD frames with and without a bound', () => {
    const z = Uint8Array.from(zstdCompress(Buffer.from(raw)));
    expectBytes(decompressChunk(ChunkCodec.ZSTANDARD, z, raw.length), raw);
    expectBytes(decompressChunk(ChunkCodec.ZSTANDARD, z), raw);
  });

  it('LZ4 bare blocks decompress into a larger bound and return the actual length', () => {
    const out = decompressChunk(ChunkCodec.LZ4, lz4Block(raw), raw.length + 1000);
    expect(out.length).toBe(raw.length);
    expectBytes(out, raw);
  });

  it('LZ4_LENGTH_PREFIXED (i32 LE length + block)', () => {
    const c = Uint8Array.from(lz4Compress(Buffer.from(raw)));
    expect(Buffer.from(c.subarray(0, 4)).readInt32LE()).toBe(raw.length);
    expectBytes(decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, c, raw.length), raw);
  });

  it.each(['BE', 'LE'] as const)('GZIP zlib stream with a %s trailer', (order) => {
    expectBytes(decompressChunk(ChunkCodec.GZIP, gzipChunk(raw, order), raw.length, undefined, order), raw);
  });

  it.each([
    ['DELTA', ChunkCodec.DELTA, false], ['DELTADELTA', ChunkCodec.DELTADELTA, true],
  ] as const)('%s over 64-bit and 32-bit words, both byte orders', (_name, codec, twice) => {
    const longs = new BigInt64Array([1700000000000n, 1700000001000n, 1700000002000n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 0n, 7n]);
    const ints = new Int32Array([10, 20, 30, 25, -2147483648, 2147483647, 0]); // odd count: 28 bytes → 32-bit words
    for (const order of ['BE', 'LE'] as const) {
      for (const words of [longs, ints]) {
        const raw8 = Buffer.alloc(words.byteLength);
        words.forEach((w, i) => {
          if (typeof w === 'bigint') {
            if (order === 'LE') raw8.writeBigInt64LE(w, i * 8); else raw8.writeBigInt64BE(w, i * 8);
          } else if (order === 'LE') raw8.writeInt32LE(w, i * 4); else raw8.writeInt32BE(w, i * 4);
        });
        const raw = Uint8Array.from(raw8);
        const chunk = deltaChunk(raw, order, twice);
        expect(chunk[0]).toBe(words instanceof BigInt64Array ? 1 : 0);
        expectBytes(decompressChunk(codec, chunk, raw.length, undefined, order), raw);
        expect(declaredSize(codec, chunk, order)).toBe(raw.length);
      }
    }
  });

  it('DELTA handles zero and one value', () => {
    const one = Uint8Array.from(Buffer.from('0000000000000007', 'hex'));
    expectBytes(decompressChunk(ChunkCodec.DELTA, deltaChunk(one, 'BE', false), 8), one);
    expectBytes(decompressChunk(ChunkCodec.DELTADELTA, deltaChunk(new Uint8Array(0), 'BE', true), 8), new Uint8Array(0));
  });
});

describe('§9.8 test vectors', () => {
  it('ZSTANDARD "testing123" (19 bytes, content size 10)', () => {
    const z = hex('28 B5 2F FD 20 0A 51 00 00 74 65 73 74 69 6E 67 31 32 33');
    expect(declaredSize(ChunkCodec.ZSTANDARD, z)).toBe(10);
    expectBytes(decompressChunk(ChunkCodec.ZSTANDARD, z, 10), ascii('testing123'));
  });

  it('GZIP "testing123" in a BE buffer (22 bytes, trailer 00 00 00 0A)', () => {
    const g = hex('78 9C 2B 49 2D 2E C9 CC 4B 37 34 32 06 00 16 45 03 95 | 00 00 00 0A');
    expect(declaredSize(ChunkCodec.GZIP, g, 'BE')).toBe(10);
    expectBytes(decompressChunk(ChunkCodec.GZIP, g, 10, undefined, 'BE'), ascii('testing123'));
    // Node's zlib makes the JDK's bytes for this input (§9.8 writer notes).
    expect(gzipChunk(ascii('testing123'), 'BE')).toEqual(g);
  });

  it('GZIP trailer of the 180224-byte fox text reads back 00 02 C0 00', () => {
    const raw = ascii('the quick brown fox jumps over the lazy dog\n'.repeat(4096));
    expect(raw.length).toBe(180224);
    const g = gzipChunk(raw, 'BE');
    expect(Array.from(g.subarray(g.length - 4))).toEqual([0x00, 0x02, 0xc0, 0x00]);
    expect(g.length).toBeLessThan(raw.length);
    expectBytes(decompressChunk(ChunkCodec.GZIP, g, raw.length), raw);
  });
});

describe('declaredSize', () => {
  const raw = sample(1000);
  it('reads each codec\'s own size field', () => {
    expect(declaredSize(ChunkCodec.PASS_THROUGH, raw)).toBe(1000);
    expect(declaredSize(ChunkCodec.SNAPPY, Uint8Array.from(snappyCompress(Buffer.from(raw))))).toBe(1000);
    expect(declaredSize(ChunkCodec.ZSTANDARD, Uint8Array.from(zstdCompress(Buffer.from(raw))))).toBe(1000);
    expect(declaredSize(ChunkCodec.LZ4, lz4Block(raw))).toBeUndefined();
    expect(declaredSize(ChunkCodec.LZ4_LENGTH_PREFIXED, Uint8Array.from(lz4Compress(Buffer.from(raw))))).toBe(1000);
    expect(declaredSize(ChunkCodec.GZIP, gzipChunk(raw, 'LE'), 'LE')).toBe(1000);
  });

  it('reports a zstd frame without content size as undefined', () => {
    // Single raw block, no Frame_Content_Size (descriptor 0x00, window byte 0x48).
    const frame = hex('28 B5 2F FD 00 48 | 19 00 00 | 61 62 63');
    expect(declaredSize(ChunkCodec.ZSTANDARD, frame)).toBeUndefined();
    expectBytes(decompressChunk(ChunkCodec.ZSTANDARD, frame, 100), ascii('abc'));
  });

  it('rejects negative sizes', () => {
    expect(thrown(() => declaredSize(ChunkCodec.LZ4_LENGTH_PREFIXED, hex('ffffffff 00'))).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => declaredSize(ChunkCodec.GZIP, hex('00 80000000'), 'BE')).code).toBe('PINOT_CORRUPT');
  });
});

describe('unknown and unsupported codecs', () => {
  it.each([8, 9, -1, 100, 2.5])('id %s is PINOT_UNSUPPORTED_CODEC naming the id', (id) => {
    const err = thrown(() => decompressChunk(id, hex('00'), 10, ctx));
    expect(err.code).toBe('PINOT_UNSUPPORTED_CODEC');
    expect(err.detail).toContain(String(id));
    expect(err.context).toMatchObject(ctx);
  });

  it('names known codecs', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(codecName)).toEqual([
      'PASS_THROUGH', 'SNAPPY', 'ZSTANDARD', 'LZ4', 'LZ4_LENGTH_PREFIXED', 'GZIP', 'DELTA', 'DELTADELTA',
    ]);
    expect(codecName(42)).toBe('unknown(42)');
  });
});

describe('corrupt input → PINOT_CORRUPT with the library error as cause', () => {
  const garbage = hex('0a ff ff ff ff ff ff ff 13 37 00 11');
  it.each([
    ['SNAPPY', ChunkCodec.SNAPPY],
    ['ZSTANDARD', ChunkCodec.ZSTANDARD],
    ['LZ4', ChunkCodec.LZ4],
    ['LZ4_LENGTH_PREFIXED', ChunkCodec.LZ4_LENGTH_PREFIXED],
    ['GZIP', ChunkCodec.GZIP],
  ] as const)('%s', (_name, codec) => {
    const err = thrown(() => decompressChunk(codec, garbage, 1000, ctx));
    expect(err.code).toBe('PINOT_CORRUPT');
    expect(err.context).toMatchObject(ctx);
  });

  it('keeps the library error as cause', () => {
    const err = thrown(() => decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, hex('05000000 ff0102'), 100, ctx));
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('truncated zstd frame', () => {
    const z = Uint8Array.from(zstdCompress(Buffer.from(sample(5000))));
    expect(thrown(() => decompressChunk(ChunkCodec.ZSTANDARD, z.subarray(0, z.length - 3), 5000)).code).toBe('PINOT_CORRUPT');
  });

  it('GZIP whose trailer disagrees with the stream, or in the wrong byte order', () => {
    const raw = sample(300);
    const wrong = concat(deflateSync(raw), u32(299, 'BE'));
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, wrong, 1000)).detail).toMatch(/299/);
    const longer = concat(deflateSync(raw), u32(301, 'BE'));
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, longer, 1000)).detail).toMatch(/inflated to 300 bytes, its trailer says 301/);
    const le = gzipChunk(raw, 'LE');
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, le, 1000, undefined, 'BE')).code).toBe('PINOT_CORRUPT');
  });

  it('DELTA with a bad flag, a negative count, or a payload past the end', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.DELTA, hex('02 00000001 00000000'), 100)).detail).toMatch(/flag 2/);
    expect(thrown(() => decompressChunk(ChunkCodec.DELTA, hex('00 ffffffff'), 100)).detail).toMatch(/negative/);
    expect(thrown(() => decompressChunk(ChunkCodec.DELTA, hex('00 00000003 00000001 00000064 00'), 100)).detail)
      .toMatch(/does not fit/);
    expect(thrown(() => decompressChunk(ChunkCodec.DELTADELTA, hex('01 00000002 0000'), 100)).code).toBe('PINOT_CORRUPT');
    // Count 3 promises two 4-byte deltas; the LZ4 payload holds one.
    const block = lz4Block(hex('00000001'));
    const short = concat(hex('00 00000003 00000005'), u32(block.length, 'BE'), block);
    expect(thrown(() => decompressChunk(ChunkCodec.DELTA, short, 100)).detail).toMatch(/decompressed to 4 bytes, expected 8/);
  });

  it('chunks too short for their size fields', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, hex('0500'), 100)).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, hex('0500'), 100)).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => decompressChunk(ChunkCodec.SNAPPY, hex('ffffffffff'), 100)).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => decompressChunk(ChunkCodec.SNAPPY, new Uint8Array(0), 100)).detail).toMatch(/no valid length varint/);
  });
});

describe('decompression bombs are refused before allocation', () => {
  const raw = new Uint8Array(1 << 20); // 1 MiB of zeros compresses extremely well

  it('ZSTANDARD content size above the bound', () => {
    const err = thrown(() => decompressChunk(ChunkCodec.ZSTANDARD, Uint8Array.from(zstdCompress(Buffer.from(raw))), 4096, ctx));
    expect(err.code).toBe('PINOT_CORRUPT');
    expect(err.detail).toMatch(/1048576/);
  });

  it('ZSTANDARD without content size still stops at the bound', () => {
    // Raw block of 100 bytes, no content size: a 10-byte bound must fail, not grow.
    const frame = concat(hex('28 B5 2F FD 00 48'), hex('21 03 00'), new Uint8Array(100));
    expect(decompressChunk(ChunkCodec.ZSTANDARD, frame, 100).length).toBe(100);
    expect(thrown(() => decompressChunk(ChunkCodec.ZSTANDARD, frame, 10)).code).toBe('PINOT_CORRUPT');
  });

  it('LZ4 length prefix above the bound, or impossible for the block length', () => {
    const c = Uint8Array.from(lz4Compress(Buffer.from(raw)));
    expect(thrown(() => decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, c, 4096)).detail).toMatch(/1048576/);
    const liar = concat(u32(2_000_000_000, 'LE'), hex('00'));
    expect(thrown(() => decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, liar)).detail).toMatch(/declares 2000000000/);
  });

  it('a declared size the compressed length cannot produce is refused even under a generous bound', () => {
    const lz4Liar = concat(u32(1_000_000, 'LE'), hex('1f 00 01 00'));
    expect(thrown(() => decompressChunk(ChunkCodec.LZ4_LENGTH_PREFIXED, lz4Liar, 1 << 24)).detail)
      .toMatch(/chunk of 4 bytes cannot decompress to the 1000000/);
    // zstd frame: descriptor 0x80 (4-byte content size), window byte, content size 2^24 LE, a 3-byte raw block.
    const zstdLiar = hex('28 B5 2F FD 80 00 | 00 00 00 01 | 19 00 00 61 62 63');
    expect(declaredSize(ChunkCodec.ZSTANDARD, zstdLiar)).toBe(1 << 24);
    expect(thrown(() => decompressChunk(ChunkCodec.ZSTANDARD, zstdLiar, 1 << 25)).detail).toMatch(/cannot decompress to the 16777216/);
  });

  it('LZ4 bare blocks cannot exceed the bound', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.LZ4, lz4Block(raw), 4096)).code).toBe('PINOT_CORRUPT');
  });

  it('SNAPPY length varint above the bound', () => {
    const s = Uint8Array.from(snappyCompress(Buffer.from(raw)));
    expect(thrown(() => decompressChunk(ChunkCodec.SNAPPY, s, 4096)).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => decompressChunk(ChunkCodec.SNAPPY, hex('ffffffff07 00'))).detail).toMatch(/declares 2147483647/);
  });

  it('GZIP trailer above the bound, and a stream longer than its trailer', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, gzipChunk(raw, 'BE'), 4096)).code).toBe('PINOT_CORRUPT');
    const lying = concat(deflateSync(raw), u32(4096, 'BE'));
    expect(thrown(() => decompressChunk(ChunkCodec.GZIP, lying, 1 << 21)).code).toBe('PINOT_CORRUPT');
  });

  it('DELTA count above the bound', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.DELTA, hex('01 10000000 0000000000000000'), 4096)).code).toBe('PINOT_CORRUPT');
  });

  it('PASS_THROUGH longer than the bound', () => {
    expect(thrown(() => decompressChunk(ChunkCodec.PASS_THROUGH, raw, 4096)).code).toBe('PINOT_CORRUPT');
  });
});
