import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { truncateStringLower, truncateStringUpper } from '../../../src/sinks/iceberg/data-file.js';
import { readManifest } from '../../../src/sinks/iceberg/manifest.js';
import { fromSingleValue, parsePrimitiveType, toSingleValue, twosComplementMinimal, type PrimitiveType, type SingleValue } from '../../../src/sinks/iceberg/single-value.js';
import { describeFixtures } from '../../support/fixtures.js';
import { BUNNIES } from './avro-helpers.js';

const t = (s: string): PrimitiveType => parsePrimitiveType(s)!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Iceberg single-value serialisation', () => {
  const cases: [string, SingleValue, string][] = [
    ['boolean', false, '00'],
    ['boolean', true, '01'],
    ['int', 1, '01000000'],
    ['int', -2, 'feffffff'],
    ['int', 2 ** 31 - 1, 'ffffff7f'],
    ['date', 19_000, '384a0000'],
    ['long', 2n, '0200000000000000'],
    ['long', -(2n ** 63n), '0000000000000080'],
    ['time', 3_600_000_000n, '00a493d600000000'], // 0xD693A400
    ['timestamptz', 1_764_115_200_000_000n, hex(le64(1_764_115_200_000_000n))],
    ['timestamp', -1n, 'ffffffffffffffff'],
    ['float', 1, '0000803f'],
    ['float', -0, '00000080'],
    ['double', -0, '0000000000000080'],
    ['double', 0.1, '9a9999999999b93f'],
    ['double', Infinity, '000000000000f07f'],
    ['string', 'New Zealand', '4e6577205a65616c616e64'],
    ['string', 'é🐇', 'c3a9f09f9087'],
    ['binary', Uint8Array.of(0, 255), '00ff'],
    ['fixed[3]', Uint8Array.of(1, 2, 3), '010203'],
    ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09677c4bbda4793f349cb785e7'],
    // Java BigInteger.toByteArray: minimal two's complement, big-endian.
    ['decimal(9,2)', 0n, '00'],
    ['decimal(9,2)', 127n, '7f'],
    ['decimal(9,2)', 128n, '0080'],
    ['decimal(9,2)', 255n, '00ff'],
    ['decimal(9,2)', 1234n, '04d2'],
    ['decimal(9,2)', -1n, 'ff'],
    ['decimal(9,2)', -128n, '80'],
    ['decimal(9,2)', -129n, 'ff7f'],
    ['decimal(38, 0)', 10n ** 38n - 1n, '4b3b4ca85a86c47a098a223fffffffff'],
  ];
  for (const [type, value, bytes] of cases) {
    it(`${type} ${typeof value === 'bigint' ? `${value}n` : value instanceof Uint8Array ? hex(value) : JSON.stringify(Object.is(value, -0) ? '-0' : value)} → ${bytes}`, () => {
      const out = toSingleValue(t(type), value);
      expect(hex(out)).toBe(bytes);
      const back = fromSingleValue(t(type), out);
      if (typeof value === 'number' && typeof back === 'number') expect(Object.is(back, type === 'float' ? Math.fround(value) : value)).toBe(true);
      else expect(back).toEqual(value);
    });
  }

  it('matches Java BigInteger.toByteArray on every byte boundary', () => {
    for (let bits = 1n; bits < 130n; bits++) {
      for (const v of [2n ** bits - 1n, 2n ** bits, -(2n ** bits), -(2n ** bits) - 1n]) {
        const b = twosComplementMinimal(v);
        // Minimal: one byte fewer would not hold the value.
        const bitLength = (v < 0n ? -v - 1n : v).toString(2).length + 1;
        expect(b.length, `${v}`).toBe(Math.ceil(bitLength / 8));
        expect(fromSingleValue(t('decimal(38,0)'), b)).toBe(v);
      }
    }
  });

  it('refuses NaN, out-of-range and mistyped values', () => {
    expect(() => toSingleValue(t('double'), NaN)).toThrow(expect.objectContaining({ code: 'ICEBERG_METADATA_INVALID', message: expect.stringContaining('NaN') }));
    expect(() => toSingleValue(t('int'), 2 ** 31)).toThrow(/32-bit/);
    expect(() => toSingleValue(t('long'), 1)).toThrow(/bigint/);
    expect(() => toSingleValue(t('long'), 2n ** 63n)).toThrow(/64-bit/);
    expect(() => toSingleValue(t('decimal(3,1)'), 1000n)).toThrow(/more than 3 digits/);
    expect(() => toSingleValue(t('fixed[4]'), Uint8Array.of(1))).toThrow(/4 bytes/);
    expect(() => toSingleValue(t('uuid'), 'not-a-uuid')).toThrow(/UUID/);
    expect(() => fromSingleValue(t('int'), Uint8Array.of(1, 2))).toThrow(/2 bytes, expected 4/);
  });

  it('reads promoted bounds by their length (int under long, float under double)', () => {
    expect(fromSingleValue(t('long'), Uint8Array.of(7, 0, 0, 0))).toBe(7n);
    expect(fromSingleValue(t('double'), toSingleValue(t('float'), 1.5))).toBe(1.5);
  });

  it('parses type strings as readers must (spaces in decimal, fixed length)', () => {
    expect(parsePrimitiveType('decimal(9, 2)')).toEqual({ kind: 'decimal', precision: 9, scale: 2 });
    expect(parsePrimitiveType(' fixed[16] ')).toEqual({ kind: 'fixed', length: 16 });
    expect(parsePrimitiveType('decimal(39,0)')).toBeUndefined();
    expect(parsePrimitiveType('varchar')).toBeUndefined();
  });
});

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

describeFixtures('bounds written by Iceberg Java 1.8.1', BUNNIES, (dir) => {
  const read = (name: string) => readManifest(readFileSync(join(dir, 'metadata', name)), name).entries[0]!.dataFile;
  const bounds = (df: Record<string, unknown>, key: 'lower_bounds' | 'upper_bounds') =>
    new Map((df[key] as { key: number; value: Uint8Array }[]).map((e) => [e.key, e.value]));

  it('string bounds of the equality-delete file equal ours', () => {
    const df = read('a01399a1-e864-4562-b921-c8cb56e6e4a9-m1.avro');
    const lower = bounds(df, 'lower_bounds').get(1)!;
    expect(fromSingleValue(t('string'), lower)).toBe('New Zealand');
    expect(hex(toSingleValue(t('string'), 'New Zealand'))).toBe(hex(lower));
    expect(hex(bounds(df, 'upper_bounds').get(1)!)).toBe(hex(lower));
  });

  it('truncated file_path and long pos bounds of the position-delete file equal ours', () => {
    const df = read('e1756967-c907-47e2-8b37-82123c5e5908-m0.avro');
    const lower = bounds(df, 'lower_bounds');
    const upper = bounds(df, 'upper_bounds');
    const FILE_PATH = 2147483546;
    const POS = 2147483545;
    const path = 's3a://hyperparam-iceberg/java/bunnies/data/bunnies-initial.parquet';
    expect(hex(toSingleValue(t('string'), truncateStringLower(path, 16)))).toBe(hex(lower.get(FILE_PATH)!));
    expect(hex(toSingleValue(t('string'), truncateStringUpper(path, 16)!))).toBe(hex(upper.get(FILE_PATH)!));
    expect(fromSingleValue(t('string'), upper.get(FILE_PATH)!)).toBe('s3a://hyperparan');
    expect(fromSingleValue(t('long'), lower.get(POS)!)).toBe(2n);
    expect(hex(toSingleValue(t('long'), 11n))).toBe(hex(upper.get(POS)!));
  });
});
