/** PLAIN encoders and page compressors of the direct writer, checked value by value and by independent decompressors. */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { uncompressSync as snappyUncompress } from 'snappy';
import zstd from 'zstd-napi/binding.js';
import { plainBoolean, plainByteArray, plainFixed } from '../../../src/pipeline/direct/plain.js';
import { pageCompressor } from '../../../src/pipeline/direct/compress.js';

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

describe('plainFixed', () => {
  it('copies INT32 values little-endian, from a subarray, only `count` of them', () => {
    const all = new Int32Array([9, -1, 2147483647, -2147483648, 5]);
    const bytes = plainFixed(all.subarray(1), undefined, 3);
    expect(bytes.length).toBe(12);
    expect([0, 4, 8].map((o) => view(bytes).getInt32(o, true))).toEqual([-1, 2147483647, -2147483648]);
    all[1] = 0; // a copy, not a view of the input
    expect(view(bytes).getInt32(0, true)).toBe(-1);
  });

  it('gathers through an index, keeping float bits (NaN payloads, -0) exactly', () => {
    const f32 = new Float32Array(4);
    new Uint32Array(f32.buffer).set([0x7fc00001, 0x80000000, 0x3f800000, 0xff800000]); // NaN with payload, -0, 1, -Inf
    const bytes = plainFixed(f32, new Int32Array([3, 0, 1, 0]), 4);
    expect([0, 4, 8, 12].map((o) => view(bytes).getUint32(o, true))).toEqual([0xff800000, 0x7fc00001, 0x80000000, 0x7fc00001]);

    const f64 = new Float64Array([1.5, -0, NaN, 1e300]);
    const u = new BigUint64Array(f64.buffer);
    u[2] = 0x7ff8000000000123n;
    const b64 = plainFixed(f64, new Int32Array([2, 1, 3]), 3);
    expect([0, 8, 16].map((o) => view(b64).getBigUint64(o, true))).toEqual([0x7ff8000000000123n, u[1], u[3]]);
  });

  it('gathers INT64 from a BigInt64Array', () => {
    const big = new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]);
    const bytes = plainFixed(big, new Int32Array([2, 0, 1]), 3);
    expect([0, 8, 16].map((o) => view(bytes).getBigInt64(o, true))).toEqual([42n, -(2n ** 63n), 2n ** 63n - 1n]);
  });

  it('rejects an index or count outside the values', () => {
    expect(() => plainFixed(new Int32Array(3), new Int32Array([0, 3]), 2)).toThrow(/index 3 is outside the 3 values/);
    expect(() => plainFixed(new Float64Array(3), new Int32Array([-1]), 1)).toThrow(/index -1 is outside/);
    expect(() => plainFixed(new Int32Array(3), undefined, 4)).toThrow(/count 4 is outside the 3 values/);
  });
});

describe('plainBoolean', () => {
  const values = Array.from({ length: 21 }, (_, i) => i % 3 === 0 || i === 20);
  function bitmap(offset: number): Uint8Array {
    const b = new Uint8Array(Math.ceil((values.length + offset) / 8)).fill(0);
    values.forEach((v, i) => { if (v) b[(i + offset) >>> 3]! |= 1 << ((i + offset) & 7); });
    return b;
  }
  function bits(bytes: Uint8Array, n: number): boolean[] {
    return Array.from({ length: n }, (_, i) => ((bytes[i >>> 3]! >>> (i & 7)) & 1) === 1);
  }

  it('copies an aligned bitmap and clears the padding bits', () => {
    const b = bitmap(8);
    b[b.length - 1]! |= 0xe0; // garbage after the last value
    const out = plainBoolean(b, 8, undefined, 21);
    expect(out.length).toBe(3);
    expect(bits(out, 21)).toEqual(values);
    expect(out[2]! >>> 5).toBe(0);
  });

  it('shifts an unaligned bitmap and gathers through an index', () => {
    expect(bits(plainBoolean(bitmap(5), 5, undefined, 21), 21)).toEqual(values);
    const index = new Int32Array([20, 1, 0, 3, 3, 2, 9, 10, 12]);
    expect(bits(plainBoolean(bitmap(3), 3, index, index.length), index.length)).toEqual(Array.from(index, (i) => values[i]));
  });

  it('rejects an index outside the bitmap', () => {
    expect(() => plainBoolean(new Uint8Array(1), 2, new Int32Array([6]), 1)).toThrow(/index 6 is outside the 6 values/);
  });
});

describe('plainByteArray', () => {
  const enc = new TextEncoder();
  const strings = ['', 'a', 'ünïcode ✓', 'x'.repeat(33), 'y'.repeat(300)];
  const parts = strings.map((s) => enc.encode(s));
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => { offsets[i + 1] = offsets[i]! + p.length; });
  const data = new Uint8Array(offsets[parts.length]!);
  parts.forEach((p, i) => data.set(p, offsets[i]!));

  function decode(bytes: Uint8Array): string[] {
    const out: string[] = [];
    const dec = new TextDecoder();
    for (let pos = 0; pos < bytes.length;) {
      const n = view(bytes).getUint32(pos, true);
      out.push(dec.decode(bytes.subarray(pos + 4, pos + 4 + n)));
      pos += 4 + n;
    }
    return out;
  }

  it('writes length-prefixed values in order', () => {
    const bytes = plainByteArray(offsets, data, undefined, strings.length);
    expect(bytes.length).toBe(4 * strings.length + data.length);
    expect(decode(bytes)).toEqual(strings);
    expect(decode(plainByteArray(offsets, data, undefined, 2))).toEqual(['', 'a']);
  });

  it('gathers through an index (repeats allowed), short and long values', () => {
    const index = new Int32Array([4, 2, 2, 0, 3, 1]);
    expect(decode(plainByteArray(offsets, data, index, index.length))).toEqual(Array.from(index, (i) => strings[i]));
  });

  it('copies every length from 0 to 200 bytes exactly, from data at an unaligned offset', () => {
    const lengths = Array.from({ length: 201 }, (_, i) => i).concat([3, 4, 5, 127, 128, 129]);
    const offs = new Int32Array(lengths.length + 1);
    lengths.forEach((n, i) => { offs[i + 1] = offs[i]! + n; });
    const backing = new Uint8Array(offs[lengths.length]! + 3);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 131 + 7) & 0xff;
    const bytes = backing.subarray(3);
    const expected: number[] = [];
    lengths.forEach((n, i) => {
      expected.push(n & 0xff, n >>> 8, 0, 0);
      for (let k = 0; k < n; k++) expected.push(bytes[offs[i]! + k]!);
    });
    expect([...plainByteArray(offs, bytes, undefined, lengths.length)]).toEqual(expected);
  });

  it('rejects offsets past the data and indexes past the offsets', () => {
    expect(() => plainByteArray(new Int32Array([0, 2, 9]), new Uint8Array(4), undefined, 2)).toThrow(/value 1 has offsets 2\.\.9 outside the 4 data bytes/);
    expect(() => plainByteArray(offsets, data, new Int32Array([5]), 1)).toThrow(/index 5 is outside the 5 values/);
  });
});

describe('PLAIN values after a head (a data page\'s levels) in one buffer', () => {
  const concat = (...parts: Uint8Array[]): number[] => parts.flatMap((p) => [...p]);
  // Four bytes keep fixed-width values word-aligned; three do not (the gather then goes through a scratch array).
  const heads = [[Uint8Array.of(1, 2, 3), Uint8Array.of(4)], [Uint8Array.of(9, 8, 7)], []];

  it.each(heads.map((h) => [h.reduce((n, p) => n + p.length, 0), h] as const))('a %i-byte head, then exactly the bytes written without one', (_, head) => {
    const i32 = Int32Array.of(5, -6, 7, 2 ** 31 - 1);
    const f64 = Float64Array.of(NaN, -0, 1.5, -Infinity);
    const i64 = BigInt64Array.of(-1n, 2n ** 62n, 3n);
    const index = Int32Array.of(2, 0, 1, 0);
    const flat = concat(...head);
    for (const values of [i32, f64, i64]) {
      expect([...plainFixed(values, undefined, 3, head)]).toEqual(flat.concat([...plainFixed(values, undefined, 3)]));
      const ix = index;
      expect([...plainFixed(values, ix, ix.length, head)]).toEqual(flat.concat([...plainFixed(values, ix, ix.length)]));
    }
    const bitmap = Uint8Array.of(0b10110101, 0b01101100, 0b111);
    expect([...plainBoolean(bitmap, 8, undefined, 11, head)]).toEqual(flat.concat([...plainBoolean(bitmap, 8, undefined, 11)]));
    expect([...plainBoolean(bitmap, 3, Int32Array.of(4, 0, 9), 3, head)]).toEqual(flat.concat([...plainBoolean(bitmap, 3, Int32Array.of(4, 0, 9), 3)]));
    const lengths = Array.from({ length: 140 }, (_, i) => (i * 37) % 141);
    const offs = new Int32Array(lengths.length + 1);
    lengths.forEach((n, i) => { offs[i + 1] = offs[i]! + n; });
    const bytes = Uint8Array.from({ length: offs[lengths.length]! }, (_, i) => (i * 29 + 3) & 0xff);
    const expected: number[] = [...flat];
    lengths.forEach((n, i) => expected.push(n & 0xff, n >>> 8, 0, 0, ...bytes.subarray(offs[i]!, offs[i]! + n)));
    expect([...plainByteArray(offs, bytes, undefined, lengths.length, head)]).toEqual(expected);
    const gather = Int32Array.of(139, 3, 3, 0, 70, 138);
    const gathered: number[] = [...flat];
    for (const j of gather) gathered.push(lengths[j]! & 0xff, lengths[j]! >>> 8, 0, 0, ...bytes.subarray(offs[j]!, offs[j + 1]!));
    expect([...plainByteArray(offs, bytes, gather, gather.length, head)]).toEqual(gathered);
  });
});

describe('PLAIN into a reused output buffer (the writer\'s page buffer)', () => {
  // The writer hands every page body the same buffer, still holding the last page's bytes: an encoder must
  // write every byte it returns (booleans are OR-ed bit by bit, so they must clear theirs first).
  const dirty = (): { output: (n: number) => Uint8Array; buffer: Uint8Array } => {
    const buffer = new Uint8Array(4096).fill(0xff);
    return { buffer, output: (n) => buffer.subarray(0, n) };
  };
  const head = [Uint8Array.of(7, 7, 7)];

  it('writes the same bytes as into a fresh array, for every encoder, with and without a head and an index', () => {
    const f64 = Float64Array.of(NaN, -0, 1.5, -Infinity);
    const i32 = Int32Array.of(5, -6, 7, 2 ** 31 - 1);
    const index = Int32Array.of(2, 0, 1, 3);
    const bitmap = Uint8Array.of(0b10110101, 0b01101100, 0b111);
    const offs = Int32Array.of(0, 3, 3, 10);
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    for (const h of [undefined, head]) {
      for (const values of [i32, f64]) {
        const { output, buffer } = dirty();
        const got = plainFixed(values, index, 4, h, output);
        expect(got.buffer).toBe(buffer.buffer);
        expect([...got]).toEqual([...plainFixed(values, index, 4, h)]);
        expect([...plainFixed(values, undefined, 3, h, dirty().output)]).toEqual([...plainFixed(values, undefined, 3, h)]);
      }
      expect([...plainBoolean(bitmap, 3, undefined, 13, h, dirty().output)]).toEqual([...plainBoolean(bitmap, 3, undefined, 13, h)]);
      expect([...plainBoolean(bitmap, 0, Int32Array.of(4, 0, 9), 3, h, dirty().output)]).toEqual([...plainBoolean(bitmap, 0, Int32Array.of(4, 0, 9), 3, h)]);
      expect([...plainByteArray(offs, bytes, Int32Array.of(2, 1, 0), 3, h, dirty().output)]).toEqual([...plainByteArray(offs, bytes, Int32Array.of(2, 1, 0), 3, h)]);
    }
  });
});

describe('pageCompressor', () => {
  // A page-like input: repetitive with some noise, 200 KB.
  const input = new Uint8Array(200_000);
  for (let i = 0; i < input.length; i++) input[i] = (i % 251) ^ ((i * 2654435761) >>> 29);

  it('UNCOMPRESSED returns the input', () => {
    expect(pageCompressor('UNCOMPRESSED')(input)).toBe(input);
  });

  it('SNAPPY, GZIP and ZSTD round-trip through their own decompressors', () => {
    const snappy = pageCompressor('SNAPPY')(input);
    expect(snappy.length).toBeLessThan(input.length);
    expect(new Uint8Array(snappyUncompress(snappy) as Buffer)).toEqual(input);
    // A plain array owning its whole buffer: no Buffer semantics, and the column pool transfers it uncopied.
    expect(Buffer.isBuffer(snappy)).toBe(false);
    expect([snappy.byteOffset, snappy.byteLength]).toStrictEqual([0, snappy.buffer.byteLength]);

    const gzip = pageCompressor('GZIP')(input);
    expect(gzip.length).toBeLessThan(input.length);
    expect(new Uint8Array(gunzipSync(gzip))).toEqual(input);

    const compress = pageCompressor('ZSTD');
    const a = compress(input);
    const b = compress(input.subarray(0, 1000)); // the reused output buffer must not alias earlier results
    for (const [c, src] of [[a, input], [b, input.subarray(0, 1000)]] as const) {
      const out = new Uint8Array(src.length);
      expect(zstd.decompress(out, c)).toBe(src.length);
      expect(out).toEqual(src);
    }
    expect(a.length).toBeLessThan(input.length);
  });

  it('rejects an unknown codec with a ParquetError', () => {
    expect(() => pageCompressor('LZO' as never)).toThrow(/PARQUET_WRITE_FAILED.*unsupported page codec LZO/);
  });
});
