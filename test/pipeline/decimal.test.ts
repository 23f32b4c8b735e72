/** BIG_DECIMAL text → exact DECIMAL(P,S) values and plain strings, never through a double. */
import { describe, expect, it } from 'vitest';
import { Utf8 } from 'apache-arrow';
import {
  parseDecimalText, plainDecimalString, readDecimal128, toDecimal, toPlainDecimal, utf8ToDecimalData, writeDecimal128,
} from '../../src/pipeline/decimal.js';
import { utf8Data } from '../../src/pipeline/arrow-data.js';

describe('decimal text', () => {
  it('parses plain and exponent forms into unscaled digits and scale', () => {
    expect(parseDecimalText('-12.340')).toStrictEqual({ unscaled: -12340n, scale: 3 });
    expect(parseDecimalText('12345679E+1')).toStrictEqual({ unscaled: 12345679n, scale: -1 });
    expect(parseDecimalText('1E-10')).toStrictEqual({ unscaled: 1n, scale: 10 });
    expect(parseDecimalText('.5')).toStrictEqual({ unscaled: 5n, scale: 1 });
    expect(parseDecimalText('abc')).toBeUndefined();
    expect(parseDecimalText('')).toBeUndefined();
    expect(parseDecimalText('1.2.3')).toBeUndefined();
  });

  it('prints the plain string Java toPlainString prints', () => {
    expect(toPlainDecimal('1E+3')).toBe('1000');
    expect(toPlainDecimal('2.175996E+8')).toBe('217599600');
    expect(toPlainDecimal('-0.0001')).toBe('-0.0001');
    expect(toPlainDecimal('0E+2')).toBe('0');
    expect(plainDecimalString({ unscaled: -5n, scale: 3 })).toBe('-0.005');
    expect(plainDecimalString({ unscaled: 31415n, scale: 4 })).toBe('3.1415');
  });

  it('rescales exactly, refusing digits it would have to drop and values past the precision', () => {
    const spec = { precision: 5, scale: 2 };
    expect(toDecimal('0.29', spec)).toBe(29n);
    expect(toDecimal('123.4', spec)).toBe(12340n);
    expect(toDecimal('1E+2', spec)).toBe(10000n);
    expect(toDecimal('-999.99', spec)).toBe(-99999n);
    expect(toDecimal('1.500', spec)).toBe(150n);
    expect(toDecimal('0.001', spec)).toBe('it has more than 2 digit(s) after the point');
    expect(toDecimal('1000', spec)).toBe('it needs more than 5 digit(s)');
    expect(toDecimal('-1000.00', spec)).toBe('it needs more than 5 digit(s)');
    expect(toDecimal('x', spec)).toBe('it is not a decimal number');
  });

  it('keeps 38 digits exact (beyond what a double holds)', () => {
    const max = '9'.repeat(38);
    expect(toDecimal(max, { precision: 38, scale: 0 })).toBe(BigInt(max));
    expect(toDecimal('3.1415926535897932384626433832795028841', { precision: 38, scale: 37 })).toBe(31415926535897932384626433832795028841n);
  });

  it('writes 128-bit two\'s complement little-endian words that read back', () => {
    const words = new Uint32Array(4 * 4);
    const values = [0n, -1n, 10n ** 38n - 1n, -(10n ** 38n - 1n)];
    values.forEach((v, i) => writeDecimal128(words, i, v));
    expect(values.map((_, i) => readDecimal128(words, i))).toStrictEqual(values);
    expect([...words.subarray(4, 8)]).toStrictEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it('converts a Utf8 column keeping nulls, and names the first value that does not fit', () => {
    const data = utf8Data(new Utf8(), ['1.5', null, '-2']);
    const out = utf8ToDecimalData(data, { precision: 4, scale: 1 }, () => expect.fail('no failure expected'));
    expect(out.nullCount).toBe(1);
    expect([readDecimal128(out.values as Uint32Array, 0), readDecimal128(out.values as Uint32Array, 2)]).toStrictEqual([15n, -20n]);
    const failures: [number, string, string][] = [];
    expect(() => utf8ToDecimalData(utf8Data(new Utf8(), ['1', '0.25']), { precision: 4, scale: 1 }, (row, text, reason) => {
      failures.push([row, text, reason]);
      throw new Error('stop');
    })).toThrow('stop');
    expect(failures).toStrictEqual([[1, '0.25', 'it has more than 1 digit(s) after the point']]);
  });

  it('reads sliced Utf8 data at the slice', () => {
    const data = utf8Data(new Utf8(), ['1', '2', null, '4']).slice(1, 3);
    const out = utf8ToDecimalData(data, { precision: 3, scale: 0 }, () => expect.fail('fits'));
    expect(out.length).toBe(3);
    expect(readDecimal128(out.values as Uint32Array, 0)).toBe(2n);
    expect(out.getValid(1)).toBe(false);
    expect(readDecimal128(out.values as Uint32Array, 2)).toBe(4n);
  });
});
