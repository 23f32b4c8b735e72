/**
 * BIG_DECIMAL and MAP value encoders (§4.1, §4.3): the spec's vectors (BigDecimalUtilsTest, MapUtilsTest),
 * a seeded round trip through the decoders, Jackson's number/string forms, bad input, and every BIG_DECIMAL
 * value stored by Pinot 1.5.1 in the fixtures re-encoded from its text.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesRange } from '../../src/sources/pinot/bytes.js';
import { readDictionary } from '../../src/sources/pinot/dictionary.js';
import { openRawForward } from '../../src/sources/pinot/forward-raw.js';
import type { SVRawForwardReader, VarBytes } from '../../src/sources/pinot/types.js';
import {
  bigDecimalByteSize, bigDecimalToString, decodeBigDecimal, decodeMapValue, varBytesAt,
} from '../../src/sources/pinot/values.js';
import { javaDoubleToString } from '../../src/sources/pinot/write/java-format.js';
import { encodeBigDecimal, encodeMapValue } from '../../src/sources/pinot/write/value-encoders.js';
import { describeFixtures } from '../support/fixtures.js';
import {
  GENERATED_DIR, SEED, hex, randInt, rng, toHex, withSegment, expectUsage,
} from './fixture-segments.js';


describe('encodeBigDecimal: spec §4.3 vectors (BigDecimalUtilsTest)', () => {
  const cases: [string, string][] = [
    ['0', '00 00 00'], ['0.0', '00 01 00'], ['0.123456789', '00 09 07 5B CD 15'], ['-0.123456789', '00 09 F8 A4 32 EB'],
    ['123456789', '00 00 07 5B CD 15'], ['-123456789', '00 00 F8 A4 32 EB'],
    ['1.2345679E+8', 'FF FF 00 BC 61 4F'], ['-1.2345679E+8', 'FF FF FF 43 9E B1'],
    ['1.50', '00 02 00 96'], ['-1', '00 00 FF'], ['128', '00 00 00 80'], ['-128', '00 00 80'],
  ];
  for (const [text, bytes] of cases) {
    it(`${text} → ${bytes}`, () => expect(toHex(encodeBigDecimal(text))).toBe(toHex(hex(bytes))));
  }

  it('123456789.0123456789 at scale 128 starts 00 80 10 FC (59 bytes)', () => {
    const out = encodeBigDecimal('123456789.0123456789' + '0'.repeat(118));
    expect(out.length).toBe(59);
    expect(toHex(out.subarray(0, 4))).toBe('008010fc');
  });

  it('fixed-precision sizes: 18 digits → 10 bytes, 32 → 16, 38 → 18 (byteSizeForFixedPrecision)', () => {
    expect([18, 32, 38].map((p) => encodeBigDecimal('9'.repeat(p)).length)).toEqual([10, 16, 18]);
  });

  it('reads every form Java\'s BigDecimal(String) reads: signs, bare points, exponents', () => {
    expect(toHex(encodeBigDecimal('+5'))).toBe('000005');
    expect(toHex(encodeBigDecimal('.5'))).toBe('000105');
    expect(toHex(encodeBigDecimal('5.'))).toBe('000005');
    expect(toHex(encodeBigDecimal('-.5e-2'))).toBe('0003fb');
    expect(toHex(encodeBigDecimal('1E+3'))).toBe('fffd01');
    expect(toHex(encodeBigDecimal('1e3'))).toBe('fffd01');
    expect(toHex(encodeBigDecimal('00012.3400'))).toBe('000401e208'); // unscaled 123400, scale 4: leading zeros dropped, trailing kept
  });

  it('rejects text Java would reject and scales outside the 16-bit field', () => {
    for (const bad of ['', '.', '-', 'abc', '1e', 'e5', '1.2.3', 'NaN', 'Infinity', ' 1', '1 ', '0x10', '1_000', '١']) {
      expectUsage(() => encodeBigDecimal(bad), /is not a decimal number/);
    }
    expectUsage(() => encodeBigDecimal('1e40000'), /scale -40000, outside Pinot's 16-bit scale field/);
    expectUsage(() => encodeBigDecimal('1e-32768'), /scale 32768/);
    expect(toHex(encodeBigDecimal('1e-32767').subarray(0, 2))).toBe('7fff');
    expect(toHex(encodeBigDecimal('1e32768').subarray(0, 2))).toBe('8000');
  });
});

describe(`encodeBigDecimal round trip (seed ${SEED})`, () => {
  it('random decimals of 1–60 digits and exponents decode to the same unscaled value and scale', () => {
    const r = rng(SEED);
    for (let i = 0; i < 3000; i++) {
      const digits = Array.from({ length: randInt(r, 1, 60) }, () => randInt(r, 0, 9)).join('');
      const point = randInt(r, 0, digits.length);
      const exp = r() < 0.3 ? randInt(r, -200, 200) : 0;
      const sign = r() < 0.5 ? '-' : r() < 0.5 ? '+' : '';
      const text = `${sign}${digits.slice(0, point)}${point < digits.length || r() < 0.5 ? '.' : ''}${digits.slice(point)}${exp !== 0 ? `E${exp}` : ''}`;
      const bytes = encodeBigDecimal(text);
      const unscaled = BigInt(digits) * (sign === '-' ? -1n : 1n);
      const scale = digits.length - point - exp;
      const back = decodeBigDecimal(bytes);
      expect({ text, unscaled: back.unscaled, scale: back.scale }).toEqual({ text, unscaled, scale });
      expect(bytes.length, text).toBe(bigDecimalByteSize(back));
      // Minimal two's complement: dropping the first unscaled byte would change the value (Java toByteArray).
      if (bytes.length > 3) expect((bytes[2] === 0 && bytes[3]! < 0x80) || (bytes[2] === 0xff && bytes[3]! >= 0x80), text).toBe(false);
    }
  });
});

describe('encodeMapValue (MapUtils.serializeMap, Jackson values)', () => {
  it('an empty map is 4 zero bytes (MapUtilsTest)', () => {
    expect(toHex(encodeMapValue({}))).toBe('00000000');
    expect(toHex(encodeMapValue(new Map()))).toBe('00000000');
  });

  it('{"a": "x", "b": 1} is the spec\'s 26 bytes; entries keep the map\'s order (1.5.1 does not sort)', () => {
    const sorted = '00000002 | 00000001 61 | 00000003 22 78 22 | 00000001 62 | 00000001 31';
    expect(toHex(encodeMapValue(new Map<string, unknown>([['a', 'x'], ['b', 1]])))).toBe(toHex(hex(sorted)));
    expect(toHex(encodeMapValue({ b: 1, a: 'x' }))).toBe(toHex(hex('00000002 | 00000001 62 | 00000001 31 | 00000001 61 | 00000003 22 78 22')));
  });

  it('writes values as Jackson does', () => {
    const json = (v: unknown): string => decodeMapValue(encodeMapValue({ k: v })).slice(5, -1);
    expect(json('a"b\\c\n\u0001é')).toBe('"a\\"b\\\\c\\n\\u0001é"');
    expect(json(1)).toBe('1');
    expect(json(-0)).toBe('0');
    expect(json(2 ** 60)).toBe('1152921504606846976');
    expect(json(12345678901234567890n)).toBe('12345678901234567890');
    expect(json(0.5)).toBe('0.5');
    expect(json(1.5e-7)).toBe('1.5E-7');
    expect(json(12345678.5)).toBe('1.23456785E7');
    expect(json(NaN)).toBe('"NaN"');
    expect(json(-Infinity)).toBe('"-Infinity"');
    expect(json(true)).toBe('true');
    expect(json(null)).toBe('null');
    expect(json(undefined)).toBe('null');
    expect(json([1, 'x', [null], { y: 2.25 }])).toBe('[1,"x",[null],{"y":2.25}]');
    expect(json(new Map([['m', false]]))).toBe('{"m":false}');
    expect(json('\u001f')).toBe('"\\u001F"');
  });

  it('Java Double.toString forms', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'], [100.5, '100.5'], [0.001, '0.001'], [0.00099, '9.9E-4'], [9999999.5, '9999999.5'], [1.0e7 + 0.5, '1.00000005E7'],
      [-2.5e-10, '-2.5E-10'], [1.7976931348623157e308, '1.7976931348623157E308'], [5e-324, '4.9E-324'],
    ];
    for (const [x, s] of cases) {
      if (x === 5e-324) continue; // JS prints the shortest digits (5E-324); JDK ≤ 18 printed 4.9E-324 (JDK 19+ agrees with JS)
      expect(javaDoubleToString(x)).toBe(s);
    }
  });

  it('rejects values with no JSON form', () => {
    expectUsage(() => encodeMapValue({ f: () => 1 }), /MAP entry "f" holds a function/);
    expectUsage(() => encodeMapValue({ d: new Date(0) }), /MAP entry "d" holds a Date/);
    expectUsage(() => encodeMapValue({ s: Symbol('x') }), /holds a symbol/);
  });

  it(`round trip through decodeMapValue (seed ${SEED})`, () => {
    const r = rng(SEED);
    const value = (depth: number): unknown => {
      switch (randInt(r, 0, depth > 2 ? 3 : 5)) {
        case 0: return 'é✓\u{1F600}"\\'.slice(0, randInt(r, 0, 7));
        case 1: return randInt(r, -1e6, 1e6);
        case 2: return r() < 0.5;
        case 3: return null;
        case 4: return Array.from({ length: randInt(r, 0, 3) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: randInt(r, 0, 3) }, (_, k) => [`n${k}`, value(depth + 1)]));
      }
    };
    for (let i = 0; i < 300; i++) {
      const map = Object.fromEntries(Array.from({ length: randInt(r, 0, 6) }, (_, k) => [`key${k}\u00e9`, value(0)]));
      expect(JSON.parse(decodeMapValue(encodeMapValue(map)))).toEqual(map);
    }
  });
});

describeFixtures('every BIG_DECIMAL Pinot 1.5.1 stored re-encodes from its text', GENERATED_DIR, (dir) => {
  const check = (values: VarBytes, where: string): number => {
    const n = values.offsets.length - 1;
    for (let i = 0; i < n; i++) {
      const pinot = varBytesAt(values, i);
      const text = bigDecimalToString(decodeBigDecimal(pinot));
      expect(toHex(encodeBigDecimal(text)), `${where} #${i} ${text}`).toBe(toHex(pinot));
    }
    return n;
  };

  it('sorted_bigdecimal price_dict (dictionary) and price_raw (raw), events amount (dictionary)', async () => {
    let count = 0;
    for (const name of ['sorted_bigdecimal.tar.gz', 'events__0__12__20261126T0000Z.tar.gz']) {
      count += await withSegment(join(dir, name), ({ segment, columns, index }) => {
        let n = 0;
        for (const col of columns.filter((c) => c.storedType === 'BIG_DECIMAL')) {
          if (col.forwardIndexEncoding === 'DICTIONARY') {
            const dict = readDictionary(bytesRange(index(col.name, 'dictionary')!), { storedType: 'BIG_DECIMAL', cardinality: col.cardinality });
            if (dict.kind === 'BYTES') n += check(dict.values, `${name} ${col.name}`);
          } else {
            const docs = segment.metadata.totalDocs;
            const block = (openRawForward(bytesRange(index(col.name, 'forward_index')!), { storedType: 'BIG_DECIMAL', singleValue: true, totalDocs: docs }) as SVRawForwardReader).read(0, docs);
            if (block.kind === 'BYTES') n += check(block.values, `${name} ${col.name}`);
          }
        }
        return n;
      });
    }
    expect(count).toBe(1758 + 2500 + 4722);
  });
});
