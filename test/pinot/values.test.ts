import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';
import {
  bigDecimalByteSize, bigDecimalToPlainString, bigDecimalToString, decodeBigDecimal, decodeMapValue, decodeUtf8,
  stripTrailingZeros, varBytesAt, varBytesToStrings, type BigDecimalValue,
} from '../../src/sources/pinot/values.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));

/** Independent encoder: Java `BigDecimalUtils.serialize` (i16 BE scale + minimal BE two's complement). */
function encodeBigDecimal(unscaled: bigint, scale: number): Uint8Array {
  const bytes: number[] = [];
  let x = unscaled;
  do {
    bytes.unshift(Number(BigInt.asUintN(8, x)));
    x >>= 8n;
  } while (!((x === 0n && (bytes[0]! & 0x80) === 0) || (x === -1n && (bytes[0]! & 0x80) !== 0)));
  return Uint8Array.of((scale >> 8) & 0xff, scale & 0xff, ...bytes);
}

function expectCorrupt(fn: () => unknown, detail: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SegmentFormatError);
    expect((err as SegmentFormatError).code).toBe('PINOT_CORRUPT');
    expect((err as SegmentFormatError).detail).toMatch(detail);
    return;
  }
  expect.fail('expected PINOT_CORRUPT');
}

describe('BIG_DECIMAL (§4.3 BigDecimalUtilsTest vectors)', () => {
  const vectors: [string, string, bigint, number, string, string][] = [
    // input, bytes, unscaled, scale, toPlainString, bigDecimalToString
    ['0', '00 00 00', 0n, 0, '0', '0'],
    ['0.0', '00 01 00', 0n, 1, '0.0', '0.0'],
    ['0.123456789', '00 09 07 5B CD 15', 123456789n, 9, '0.123456789', '0.123456789'],
    ['-0.123456789', '00 09 F8 A4 32 EB', -123456789n, 9, '-0.123456789', '-0.123456789'],
    ['123456789', '00 00 07 5B CD 15', 123456789n, 0, '123456789', '123456789'],
    ['-123456789', '00 00 F8 A4 32 EB', -123456789n, 0, '-123456789', '-123456789'],
    ['1.2345679E+8', 'FF FF 00 BC 61 4F', 12345679n, -1, '123456790', '12345679E+1'],
    ['-1.2345679E+8', 'FF FF FF 43 9E B1', -12345679n, -1, '-123456790', '-12345679E+1'],
    ['1.50', '00 02 00 96', 150n, 2, '1.50', '1.50'],
    ['-1', '00 00 FF', -1n, 0, '-1', '-1'],
    ['128', '00 00 00 80', 128n, 0, '128', '128'],
    ['-128', '00 00 80', -128n, 0, '-128', '-128'],
  ];

  it.each(vectors)('%s ← %s', (_input, bytes, unscaled, scale, plain, text) => {
    const v = decodeBigDecimal(hex(bytes));
    expect(v).toEqual({ unscaled, scale });
    expect(bigDecimalToPlainString(v)).toBe(plain);
    expect(bigDecimalToString(v)).toBe(text);
    // BigDecimalUtilsTest asserts byteSize = serialised length; the test encoder must agree with the vector.
    expect(bigDecimalByteSize(v)).toBe(hex(bytes).length);
    expect(encodeBigDecimal(unscaled, scale)).toEqual(hex(bytes));
  });

  it('decodes 123456789.0123456789 at scale 128 (59 bytes starting 00 80 10 FC)', () => {
    const unscaled = 1234567890123456789n * 10n ** 118n;
    const bytes = encodeBigDecimal(unscaled, 128);
    expect(bytes.length).toBe(59);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x80, 0x10, 0xfc]);
    const v = decodeBigDecimal(bytes);
    expect(v).toEqual({ unscaled, scale: 128 });
    expect(bigDecimalByteSize(v)).toBe(59);
    expect(bigDecimalToPlainString(v)).toBe('123456789.0123456789' + '0'.repeat(118));
    expect(bigDecimalToString(stripTrailingZeros(v))).toBe('123456789.0123456789');
  });

  it('round-trips long positive and negative values through the BigInt path', () => {
    for (const u of [2n ** 63n, -(2n ** 63n), 2n ** 47n, -(2n ** 47n) - 1n, 10n ** 40n + 7n, -(10n ** 40n) - 7n]) {
      for (const scale of [-32768, -5, 0, 7, 32767]) {
        const bytes = encodeBigDecimal(u, scale);
        expect(decodeBigDecimal(bytes)).toEqual({ unscaled: u, scale });
        expect(bigDecimalByteSize({ unscaled: u, scale })).toBe(bytes.length);
      }
    }
  });

  it('gives the fixed-precision sizes 18 → 10, 32 → 16, 38 → 18 bytes', () => {
    const size = (p: number): number => bigDecimalByteSize({ unscaled: 10n ** BigInt(p) - 1n, scale: 0 });
    expect([size(18), size(32), size(38)]).toEqual([10, 16, 18]);
  });

  it('prints like Java toPlainString for small, negative-scale and zero values', () => {
    const p = (unscaled: bigint, scale: number): string => bigDecimalToPlainString({ unscaled, scale });
    expect(p(1n, 10)).toBe('0.0000000001');
    expect(p(-1n, 4)).toBe('-0.0001');
    expect(p(1n, -3)).toBe('1000');
    expect(p(-25n, -2)).toBe('-2500');
    expect(p(0n, -3)).toBe('0');
    expect(p(0n, 3)).toBe('0.000');
    expect(p(12345n, 5)).toBe('0.12345');
    expect(p(12345n, 4)).toBe('1.2345');
  });

  it('keeps the scale in bigDecimalToString (E+n only for negative scales)', () => {
    expect(bigDecimalToString({ unscaled: 1n, scale: -3 })).toBe('1E+3');
    expect(bigDecimalToString({ unscaled: 0n, scale: -2 })).toBe('0E+2');
    expect(bigDecimalToString({ unscaled: 1n, scale: 10 })).toBe('0.0000000001');
  });

  it('strips trailing zeros like Java (zero becomes scale 0)', () => {
    const s = (unscaled: bigint, scale: number): BigDecimalValue => stripTrailingZeros({ unscaled, scale });
    expect(s(150n, 2)).toEqual({ unscaled: 15n, scale: 1 });
    expect(s(9044800n, 2)).toEqual({ unscaled: 90448n, scale: 0 });
    expect(s(1000n, 0)).toEqual({ unscaled: 1n, scale: -3 });
    expect(s(217599600n, 0)).toEqual({ unscaled: 2175996n, scale: -2 });
    expect(s(-100n, 4)).toEqual({ unscaled: -1n, scale: 2 });
    expect(s(0n, 5)).toEqual({ unscaled: 0n, scale: 0 });
    expect(s(7n, 3)).toEqual({ unscaled: 7n, scale: 3 });
  });

  it('rejects values shorter than scale + one byte', () => {
    expectCorrupt(() => decodeBigDecimal(hex('00 01')), /shorter than 3/);
    expectCorrupt(() => decodeBigDecimal(new Uint8Array(0)), /0 bytes/);
  });
});

describe('MAP frame (§4.3 MapUtilsTest vectors)', () => {
  /** Independent encoder of the frame: i32 n, then (i32 keyLen, key, i32 valLen, JSON value) per entry. */
  function frame(entries: [string, string][]): Uint8Array {
    const parts: Buffer[] = [];
    const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
    parts.push(i32(entries.length));
    for (const [k, v] of entries) {
      const kb = Buffer.from(k, 'utf8');
      const vb = Buffer.from(v, 'utf8');
      parts.push(i32(kb.length), kb, i32(vb.length), vb);
    }
    return Uint8Array.from(Buffer.concat(parts));
  }

  it('decodes the empty map (4 zero bytes) to {}', () => {
    expect(decodeMapValue(hex('00000000'))).toBe('{}');
  });

  it('decodes {"a": "x", "b": 1} from the 26-byte master frame', () => {
    const bytes = hex('00 00 00 02 | 00 00 00 01 61 | 00 00 00 03 22 78 22 | 00 00 00 01 62 | 00 00 00 01 31');
    expect(bytes.length).toBe(26);
    expect(frame([['a', '"x"'], ['b', '1']])).toEqual(bytes);
    const text = decodeMapValue(bytes);
    expect(text).toBe('{"a":"x","b":1}');
    expect(JSON.parse(text)).toEqual({ a: 'x', b: 1 });
  });

  it('keeps the frame order (1.3–1.5.x write input order) and inserts values verbatim', () => {
    const text = decodeMapValue(frame([['b', '[1,{"c":null}]'], ['a', 'true'], ['z', '-1.5e3']]));
    expect(text).toBe('{"b":[1,{"c":null}],"a":true,"z":-1.5e3}');
    expect(JSON.parse(text)).toEqual({ b: [1, { c: null }], a: true, z: -1500 });
  });

  it('JSON-escapes keys, including quotes, control characters and non-ASCII', () => {
    const key = 'quote" back\\ nl\n 漢字 é';
    const text = decodeMapValue(frame([[key, '"v"']]));
    expect(JSON.parse(text)).toEqual({ [key]: 'v' });
  });

  it('rejects frames whose counts or lengths do not fit the bytes', () => {
    expectCorrupt(() => decodeMapValue(hex('000000')), /no entry count/);
    expectCorrupt(() => decodeMapValue(hex('7fffffff 00000000 00000000')), /claims 2147483647 entries/);
    expectCorrupt(() => decodeMapValue(hex('ffffffff')), /claims -1 entries/);
    expectCorrupt(() => decodeMapValue(hex('00000001 ffffffff 00000000')), /a key of -1 bytes/);
    expectCorrupt(() => decodeMapValue(hex('00000001 00000001 61 00000009 31')), /a value of 9 bytes/);
    expectCorrupt(() => decodeMapValue(hex('00000001 00000001 61 000000')), /inside the length of a value/);
    expectCorrupt(() => decodeMapValue(hex('00000001 00000001 61 00000000')), /empty JSON value/);
    expectCorrupt(() => decodeMapValue(hex('00000000 00')), /1 bytes after/);
  });
});

describe('UTF-8 helpers', () => {
  it('splits VarBytes into views and strings', () => {
    const data = new TextEncoder().encode('abcété漢');
    const values = { offsets: Int32Array.of(0, 3, 3, 8, 11), data };
    expect(varBytesToStrings(values)).toEqual(['abc', '', 'été', '漢']);
    expect(Array.from(varBytesAt(values, 2))).toEqual(Array.from(new TextEncoder().encode('été')));
    expect(decodeUtf8(Uint8Array.of(0x61, 0xff))).toBe('a\uFFFD');
  });
});
