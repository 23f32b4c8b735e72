/**
 * Java number and value text (Double/Float/BigDecimal.toString, Pinot's hex and defaults): known Java
 * outputs, an independent shortest-digits oracle on random values, and the min/max/default values Pinot
 * 1.5.1 printed in the fixtures' metadata, recomputed from the rows that were fed in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProperties } from '../../src/sources/pinot/properties.js';
import { STORED_TYPE, type DataType, type FieldType, type StoredType } from '../../src/sources/pinot/types.js';
import {
  formatStoredValue, javaBigDecimalToPlainString, javaBigDecimalToString, javaBytesToHex, javaDoubleToString,
  javaFloatToString, parseJavaBigDecimal, pinotDefaultNullValue, stripTrailingZeros, type JavaBigDecimal, type StoredValue,
} from '../../src/sources/pinot/write/java-format.js';
import { validPropertyValue } from '../../src/sources/pinot/write/metadata-writer.js';
import { describeFixtures } from '../support/fixtures.js';
import { rng } from '../support/random.js';
import { readJsonLines } from '../support/rows.js';
import { ExtractedFixtures, GENERATED_151 } from './segment-files-helpers.js';

describe('javaDoubleToString (Double.toString, JDK 19+)', () => {
  it.each([
    [1, '1.0'], [0.1, '0.1'], [-1.5, '-1.5'], [100, '100.0'], [0.5, '0.5'], [12345.678, '12345.678'],
    [1234567, '1234567.0'], [9999999, '9999999.0'], [1e7, '1.0E7'], [12345678.9, '1.23456789E7'],
    [123456789, '1.23456789E8'], [0.001, '0.001'], [9.99e-4, '9.99E-4'], [1e-4, '1.0E-4'], [1e-5, '1.0E-5'],
    [1e21, '1.0E21'], [1e23, '1.0E23'], [2e23, '2.0E23'], [Math.PI, '3.141592653589793'], [Math.E, '2.718281828459045'],
    [0.1 + 0.2, '0.30000000000000004'], [2 ** 53, '9.007199254740992E15'], [2 ** 63, '9.223372036854776E18'] /* (double) Long.MAX_VALUE */,
    [Number.MAX_VALUE, '1.7976931348623157E308'], [2.2250738585072014e-308, '2.2250738585072014E-308'],
    // Double.MIN_VALUE: JS says 5e-324; Java picks the closest of the 1- and 2-digit decimals.
    [Number.MIN_VALUE, '4.9E-324'], [1e-322, '9.9E-323'],
    [Math.fround(0.1), '0.10000000149011612'], [-999.5, '-999.5'], [4999.911094, '4999.911094'],
    [-9.9692876278498e8, '-9.9692876278498E8'],
    [0, '0.0'], [-0, '-0.0'], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
  ])('%s → %s', (x, text) => {
    expect(javaDoubleToString(x)).toBe(text);
  });

  it('round-trips and uses the fewest digits JS needs (random doubles, seed 7)', () => {
    const next = rng(7);
    const view = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 3000; i++) {
      view.setUint32(0, Math.floor(next() * 2 ** 32));
      view.setUint32(4, Math.floor(next() * 2 ** 32));
      const x = view.getFloat64(0);
      if (!Number.isFinite(x) || x === 0) continue;
      const text = javaDoubleToString(x);
      expect(Number(text), text).toBe(x);
      const jsDigits = digitsOf(String(x));
      // Java may take 2 digits where 1 suffices (it then picks the closest of both lengths).
      if (jsDigits.length > 1) expect(digitsOf(text), `${x}`).toBe(jsDigits);
      expect(text).toMatch(Math.abs(x) >= 1e-3 && Math.abs(x) < 1e7 ? /^-?\d+\.\d+$/ : /^-?\d\.\d+E-?\d+$/);
    }
  });
});

/** Significant digits of a decimal text, without leading/trailing zeros. */
function digitsOf(text: string): string {
  const mantissa = text.replace(/^-/, '').split(/[eE]/)[0]!;
  return mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
}

describe('javaFloatToString (Float.toString, JDK 19+)', () => {
  it.each([
    [1, '1.0'], [0.1, '0.1'], [0.3, '0.3'], [1.1, '1.1'], [100, '100.0'], [0.001, '0.001'], [1e-5, '1.0E-5'],
    [1e-10, '1.0E-10'], [1e10, '1.0E10'], [1e7, '1.0E7'], [9999999, '9999999.0'], [16777216, '1.6777216E7'],
    [33554432, '3.3554432E7'], [Math.PI, '3.1415927'], [123456.79, '123456.79'], [-999.5, '-999.5'], [998.75, '998.75'],
    [3.4028234663852886e38, '3.4028235E38'], [1.401298464324817e-45, '1.4E-45'], [3e-45, '2.8E-45'],
    [1.1754943508222875e-38, '1.1754944E-38'],
    [0, '0.0'], [-0, '-0.0'], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
  ])('%s → %s', (x, text) => {
    expect(javaFloatToString(x)).toBe(text);
  });

  it('is the shortest decimal that reads back as the same float (random floats, seed 11)', () => {
    const next = rng(11);
    const view = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < 3000; i++) {
      view.setUint32(0, Math.floor(next() * 2 ** 32));
      const f = view.getFloat32(0);
      if (!Number.isFinite(f) || f === 0) continue;
      const text = javaFloatToString(f);
      expect(Math.fround(Number(text)), text).toBe(f);
      const digits = digitsOf(text).length;
      // Independent check: no decimal with fewer digits (from toPrecision and its neighbours) reads back as f.
      for (let p = 1; p < Math.max(2, digits); p++) {
        expect(shorterExists(f, p), `${f} has a ${p}-digit form; got ${text}`).toBe(false);
      }
    }
  });
});

function shorterExists(f: number, p: number): boolean {
  const [mantissa, exp] = Math.abs(f).toExponential(p - 1).split('e') as [string, string];
  const unit = 10 ** (Number(exp) - (p - 1));
  const s = Number(mantissa.replace('.', ''));
  return [s - 1, s, s + 1].some((c) => c > 0 && Math.fround(Number(`${c}e${Math.round(Math.log10(unit))}`)) === Math.abs(f));
}

describe('BigDecimal', () => {
  // The table of the BigDecimal.toString Javadoc.
  it.each([
    [123n, 0, '123'], [-123n, 0, '-123'], [123n, -1, '1.23E+3'], [123n, -3, '1.23E+5'], [123n, 1, '12.3'],
    [123n, 5, '0.00123'], [123n, 10, '1.23E-8'], [-123n, 12, '-1.23E-10'],
  ])('toString(%s, scale %s) = %s (Javadoc)', (unscaled, scale, text) => {
    expect(javaBigDecimalToString({ unscaled, scale })).toBe(text);
  });

  it.each([
    ['1E+3', '1E+3', '1000'], ['2.175996E+8', '2.175996E+8', '217599600'], ['0', '0', '0'], ['0.00', '0.00', '0.00'],
    ['0E+2', '0E+2', '0'], ['0E-8', '0E-8', '0.00000000'], ['1E-10', '1E-10', '0.0000000001'], ['-0.0001', '-0.0001', '-0.0001'],
    ['0.0000001', '1E-7', '0.0000001'], ['0.000001', '0.000001', '0.000001'], ['1.2345679E+8', '1.2345679E+8', '123456790'],
    ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
    ['-12.50', '-12.50', '-12.50'], ['.5', '0.5', '0.5'], ['5.', '5', '5'], ['+7e2', '7E+2', '700'],
  ])('new BigDecimal("%s"): toString %s, toPlainString %s', (input, text, plain) => {
    const v = parseJavaBigDecimal(input);
    expect(javaBigDecimalToString(v)).toBe(text);
    expect(javaBigDecimalToPlainString(v)).toBe(plain);
  });

  it('parses scale as fraction digits minus the exponent', () => {
    expect(parseJavaBigDecimal('1.50')).toEqual({ unscaled: 150n, scale: 2 });
    expect(parseJavaBigDecimal('1E+3')).toEqual({ unscaled: 1n, scale: -3 });
    expect(parseJavaBigDecimal('-0.0001')).toEqual({ unscaled: -1n, scale: 4 });
    expect(parseJavaBigDecimal('12.3e-2')).toEqual({ unscaled: 123n, scale: 3 });
    for (const bad of ['', '.', 'abc', '1e', '--1', '1.2.3', '1e2.5', ' 1']) expect(() => parseJavaBigDecimal(bad), bad).toThrow(SyntaxError);
    expect(() => parseJavaBigDecimal('1e3000000000')).toThrow(RangeError);
  });

  it('stripTrailingZeros as Java 8+ (zero becomes scale 0)', () => {
    expect(stripTrailingZeros({ unscaled: 1500n, scale: 2 })).toEqual({ unscaled: 15n, scale: 0 });
    expect(stripTrailingZeros({ unscaled: 100n, scale: -1 })).toEqual({ unscaled: 1n, scale: -3 });
    expect(stripTrailingZeros({ unscaled: -120n, scale: 5 })).toEqual({ unscaled: -12n, scale: 4 });
    expect(stripTrailingZeros({ unscaled: 0n, scale: 5 })).toEqual({ unscaled: 0n, scale: 0 });
    expect(javaBigDecimalToString(stripTrailingZeros(parseJavaBigDecimal('217599600')))).toBe('2.175996E+8');
  });
});

describe('stored values in metadata', () => {
  it('formats each stored type as Pinot prints it', () => {
    expect(formatStoredValue('INT', -2147483648)).toBe('-2147483648');
    expect(formatStoredValue('INT', 1)).toBe('1'); // BOOLEAN true
    expect(formatStoredValue('LONG', -9223372036854775808n)).toBe('-9223372036854775808');
    expect(formatStoredValue('LONG', 1795651200486)).toBe('1795651200486'); // TIMESTAMP millis
    expect(formatStoredValue('FLOAT', 0)).toBe('0.0');
    expect(formatStoredValue('FLOAT', -Infinity)).toBe('-Infinity');
    expect(formatStoredValue('DOUBLE', 4999.911094)).toBe('4999.911094');
    expect(formatStoredValue('BIG_DECIMAL', { unscaled: 2175996n, scale: -2 })).toBe('2.175996E+8');
    expect(formatStoredValue('BIG_DECIMAL', '90448.00')).toBe('90448.00');
    expect(formatStoredValue('STRING', ' a,b ')).toBe(' a,b ');
    expect(formatStoredValue('BYTES', Uint8Array.of(0xff, 0xf9, 0x0a, 0x00))).toBe('fff90a00');
    expect(formatStoredValue('BYTES', new Uint8Array(0))).toBe('');
    expect(javaBytesToHex(Uint8Array.of(0, 1, 0xab))).toBe('0001ab');
  });

  it('refuses values of the wrong type or range', () => {
    expect(() => formatStoredValue('INT', 2147483648)).toThrow(TypeError);
    expect(() => formatStoredValue('INT', 1.5)).toThrow(TypeError);
    expect(() => formatStoredValue('LONG', 2n ** 63n)).toThrow(TypeError);
    expect(() => formatStoredValue('LONG', 2 ** 60)).toThrow(TypeError); // not exact as a number
    expect(() => formatStoredValue('STRING', 5)).toThrow(TypeError);
    expect(() => formatStoredValue('BYTES', 'ff')).toThrow(TypeError);
    expect(() => formatStoredValue('MAP', '{}')).toThrow(TypeError);
  });

  it('knows Pinot\'s built-in default null values', () => {
    const cases: [DataType, FieldType, string][] = [
      ['INT', 'DIMENSION', '-2147483648'], ['INT', 'METRIC', '0'], ['LONG', 'DATE_TIME', '-9223372036854775808'],
      ['LONG', 'METRIC', '0'], ['FLOAT', 'DIMENSION', '-Infinity'], ['FLOAT', 'METRIC', '0.0'], ['DOUBLE', 'TIME', '-Infinity'],
      ['DOUBLE', 'METRIC', '0.0'], ['BOOLEAN', 'DIMENSION', '0'], ['TIMESTAMP', 'DATE_TIME', '0'], ['STRING', 'DIMENSION', 'null'],
      ['JSON', 'DIMENSION', 'null'], ['BYTES', 'METRIC', ''], ['BIG_DECIMAL', 'METRIC', '0'], ['MAP', 'COMPLEX', '{}'],
    ];
    for (const [dataType, fieldType, text] of cases) expect(pinotDefaultNullValue(dataType, fieldType), `${dataType} ${fieldType}`).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------------
// Oracle: Pinot's own metadata, recomputed from the input rows.
// ---------------------------------------------------------------------------------------------------

const SEGMENTS = ['events__0__12__20261126T0000Z', 'rawfwd_version2', 'rawfwd_version4', 'rawfwd_version5', 'dictvar_mvraw', 'sorted_bigdecimal'];

interface FieldJson { name: string; dataType: string; singleValueField?: boolean }
interface SchemaJson { dimensionFieldSpecs?: FieldJson[]; metricFieldSpecs?: FieldJson[]; dateTimeFieldSpecs?: FieldJson[] }

function schemaFields(path: string): { name: string; dataType: DataType; fieldType: FieldType }[] {
  const s = JSON.parse(readFileSync(path, 'utf8')) as SchemaJson;
  const tag = (list: FieldJson[] | undefined, fieldType: FieldType) => (list ?? []).map((f) => ({ name: f.name, dataType: f.dataType as DataType, fieldType }));
  return [...tag(s.dimensionFieldSpecs, 'DIMENSION'), ...tag(s.metricFieldSpecs, 'METRIC'), ...tag(s.dateTimeFieldSpecs, 'DATE_TIME')];
}

/** A JSON input value in its stored form. */
function stored(dataType: DataType, v: unknown): StoredValue {
  switch (dataType) {
    case 'INT': return v as number;
    case 'BOOLEAN': return v === true || v === 1 ? 1 : 0;
    case 'LONG':
    case 'TIMESTAMP': return BigInt(v as number | string);
    case 'FLOAT': return Math.fround(v as number);
    case 'DOUBLE': return v as number;
    case 'BIG_DECIMAL': return stripTrailingZeros(parseJavaBigDecimal(String(v)));
    case 'STRING':
    case 'JSON': return v as string;
    case 'BYTES': return Uint8Array.from(Buffer.from(v as string, 'hex'));
    case 'MAP': throw new Error('no MAP columns in these fixtures');
  }
}

/** The stored value of a default text (`defaultNullValue`), as Pinot substitutes it for nulls. */
function storedDefault(dataType: DataType, text: string): StoredValue {
  switch (STORED_TYPE[dataType]) {
    case 'INT': return Number(text);
    case 'LONG': return BigInt(text);
    case 'FLOAT':
    case 'DOUBLE': return Number(text);
    case 'BIG_DECIMAL': return parseJavaBigDecimal(text);
    case 'BYTES': return Uint8Array.from(Buffer.from(text, 'hex'));
    default: return text;
  }
}

function compareStored(type: StoredType, a: StoredValue, b: StoredValue): number {
  switch (type) {
    case 'INT':
    case 'FLOAT':
    case 'DOUBLE': return (a as number) - (b as number);
    case 'LONG': return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0;
    case 'BIG_DECIMAL': {
      const x = a as JavaBigDecimal;
      const y = b as JavaBigDecimal;
      const scale = Math.max(x.scale, y.scale);
      const l = x.unscaled * 10n ** BigInt(scale - x.scale);
      const r = y.unscaled * 10n ** BigInt(scale - y.scale);
      return l < r ? -1 : l > r ? 1 : 0;
    }
    case 'BYTES': return Buffer.compare(a as Uint8Array, b as Uint8Array);
    default: return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  }
}

describeFixtures('metadata values Pinot 1.5.1 printed, recomputed from the input rows', GENERATED_151, (dir) => {
  const fixtures = new ExtractedFixtures(dir);
  afterAll(() => fixtures.cleanup());
  for (const name of SEGMENTS) {
    it(name, async () => {
      const props = parseProperties(await fixtures.text(name, 'v3/metadata.properties'));
      const rows = readJsonLines(join(dir, `${name}.input.jsonl`));
      let checked = 0;
      for (const field of schemaFields(join(dir, `${name}.schema.json`))) {
        const type = STORED_TYPE[field.dataType];
        const key = (k: string) => `column.${field.name}.${k}`;
        const defaultText = pinotDefaultNullValue(field.dataType, field.fieldType);
        expect(props.get(key('defaultNullValue')), key('defaultNullValue')).toBe(type === 'STRING' ? validPropertyValue(defaultText, type) : defaultText);
        const values: StoredValue[] = [];
        for (const row of rows) {
          const v = row[field.name];
          const list = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
          if (list.length === 0) values.push(storedDefault(field.dataType, defaultText));
          else for (const item of list) values.push(stored(field.dataType, item));
        }
        values.sort((a, b) => compareStored(type, a, b));
        for (const [k, v] of [['minValue', values[0]!], ['maxValue', values[values.length - 1]!]] as const) {
          expect(props.get(key(k)), key(k)).toBe(validPropertyValue(formatStoredValue(type, v), type));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(8);
    });
  }
});
