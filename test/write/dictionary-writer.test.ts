/**
 * Dictionary writer (§8): the spec's vectors, a seeded round trip through `readDictionary` for every stored
 * type and both STRING/BYTES/BIG_DECIMAL forms, bad input, and every dictionary of the Pinot-written fixture
 * segments re-encoded byte for byte.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesRange } from '../../src/sources/pinot/bytes.js';
import { isVarLengthDictionary, readDictionary } from '../../src/sources/pinot/dictionary.js';
import type { StoredType, ValueBlock } from '../../src/sources/pinot/types.js';
import { writeDictionary } from '../../src/sources/pinot/write/dictionary-writer.js';
import { encodeBigDecimal } from '../../src/sources/pinot/write/value-encoders.js';
import { describeFixtures } from '../support/fixtures.js';
import {
  GENERATED_DIR, GENERATED_SEGMENTS, REAL_DIR, REAL_SEGMENTS, SEED, firstDifference, hex, randInt, rng, toHex, withSegment, expectUsage, strings, varBytes,
} from './fixture-segments.js';





describe('spec §8 vectors', () => {
  it('§8.2 empty var-length dictionary (20 bytes)', () => {
    expect(toHex(writeDictionary({ storedType: 'STRING', values: strings(), varLength: true })))
      .toBe(toHex(hex('2E 76 6C 3B 00 00 00 01 00 00 00 00 00 00 00 10 00 00 00 14')));
  });

  it('§8.2 "", "a", "bc" (35 bytes)', () => {
    expect(toHex(writeDictionary({ storedType: 'STRING', values: strings('', 'a', 'bc'), varLength: true })))
      .toBe(toHex(hex('2E 76 6C 3B 00 00 00 01 00 00 00 03 00 00 00 10 | 00 00 00 20 00 00 00 20 00 00 00 21 00 00 00 23 | 61 62 63')));
  });

  it('§8.1 INT dictionary 617, 824 is BE', () => {
    expect(toHex(writeDictionary({ storedType: 'INT', values: { kind: 'INT', values: Int32Array.of(617, 824) }, varLength: false })))
      .toBe('0000026900000338');
  });

  it('§8.3 STRING fixed width 15: "6-1 6-1 6-3" NUL-padded; "" is an all-zero entry', () => {
    const out = writeDictionary({ storedType: 'STRING', values: strings('', '6-1 6-1 6-3'), varLength: false, entryWidth: 15 });
    expect(toHex(out)).toBe('00'.repeat(15) + toHex(hex('36 2D 31 20 36 2D 31 20 36 2D 33 00 00 00 00')));
    // Without an explicit width the longest value decides (Pinot's `_numBytesPerEntry`).
    expect(writeDictionary({ storedType: 'STRING', values: strings('', '6-1 6-1 6-3'), varLength: false }).length).toBe(22);
  });

  it('BYTES / BIG_DECIMAL fixed width: equal-length values back to back', () => {
    const bd = [encodeBigDecimal('1'), encodeBigDecimal('2')];
    expect(toHex(writeDictionary({ storedType: 'BIG_DECIMAL', values: { kind: 'BYTES', values: varBytes(bd) }, varLength: false })))
      .toBe('000001000002');
  });
});

describe('ordering and bad input', () => {
  it('accepts Java orders: −0.0 before 0.0, NaN last; STRING by UTF-16 code units', () => {
    expect(writeDictionary({ storedType: 'DOUBLE', values: { kind: 'DOUBLE', values: Float64Array.of(-Infinity, -0, 0, 1, NaN) }, varLength: false }).length).toBe(40);
    expect(writeDictionary({ storedType: 'FLOAT', values: { kind: 'FLOAT', values: Float32Array.of(-1, -0, 0, Infinity) }, varLength: false }).length).toBe(16);
    // U+1F600 is a surrogate pair (D83D …) in UTF-16, so Java sorts it before U+FFFD although its UTF-8 is larger.
    expect(writeDictionary({ storedType: 'STRING', values: strings('a', '\u{1F600}', '\uFFFD'), varLength: true }).length).toBe(16 + 16 + 8);
    expectUsage(() => writeDictionary({ storedType: 'STRING', values: strings('\uFFFD', '\u{1F600}'), varLength: true }), /strictly ascending/);
  });

  it('rejects unsorted, duplicate and mistyped values', () => {
    expectUsage(() => writeDictionary({ storedType: 'INT', values: { kind: 'INT', values: Int32Array.of(1, 3, 2) }, varLength: false }), /entry 2 \(2\) does not follow entry 1 \(3\)/);
    expectUsage(() => writeDictionary({ storedType: 'LONG', values: { kind: 'LONG', values: BigInt64Array.of(1n, 1n) }, varLength: false }), /strictly ascending/);
    expectUsage(() => writeDictionary({ storedType: 'DOUBLE', values: { kind: 'DOUBLE', values: Float64Array.of(0, -0) }, varLength: false }), /strictly ascending/);
    expectUsage(() => writeDictionary({ storedType: 'BYTES', values: strings('b', 'a'), varLength: true }), /strictly ascending/);
    expectUsage(() => writeDictionary({ storedType: 'LONG', values: { kind: 'INT', values: Int32Array.of(1) }, varLength: false }), /needs LONG values/);
    expectUsage(() => writeDictionary({ storedType: 'MAP', values: strings(), varLength: true }), /MAP columns have no dictionary/);
  });

  it('rejects a value longer than the fixed width, unequal BYTES lengths and NUL inside fixed STRING values', () => {
    expectUsage(() => writeDictionary({ storedType: 'STRING', values: strings('ab', 'abcdef'), varLength: false, entryWidth: 4 }), /value 1 is 6 bytes, longer than the fixed entry width 4/);
    expectUsage(() => writeDictionary({ storedType: 'BYTES', values: strings('a', 'bc'), varLength: false }), /needs values of one length/);
    expectUsage(() => writeDictionary({ storedType: 'STRING', values: strings('a\0b'), varLength: false }), /NUL byte/);
  });
});

// ---------------------------------------------------------------------------------------------------------

function randomSorted(r: () => number, type: StoredType, n: number): ValueBlock {
  switch (type) {
    case 'INT': {
      const s = [...new Set(Array.from({ length: n }, () => (r() * 2 ** 32) | 0))].sort((a, b) => a - b);
      return { kind: 'INT', values: Int32Array.from(s) };
    }
    case 'LONG': {
      const s = [...new Set(Array.from({ length: n }, () => BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 53)) * 4099n)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind: 'LONG', values: BigInt64Array.from(s) };
    }
    case 'FLOAT': case 'DOUBLE': {
      const raw = Array.from({ length: n }, () => (r() - 0.5) * 10 ** randInt(r, -5, 30));
      const rounded = type === 'FLOAT' ? raw.map((x) => Math.fround(x)) : raw;
      const s = [...new Set(rounded)].sort((a, b) => a - b);
      return type === 'FLOAT' ? { kind: 'FLOAT', values: Float32Array.from(s) } : { kind: 'DOUBLE', values: Float64Array.from(s) };
    }
    default: {
      const vals = Array.from({ length: n }, () => Array.from({ length: randInt(r, 0, 12) }, () => 1 + Math.floor(r() * 255)));
      const unique = [...new Map(vals.map((v) => [v.join(','), Uint8Array.from(v)])).values()];
      unique.sort((a, b) => Buffer.compare(a, b));
      return { kind: 'BYTES', values: varBytes(unique) };
    }
  }
}

describe(`round trip through readDictionary (seed ${SEED})`, () => {
  it('every stored type, var-length and fixed-width forms, 0 … 400 entries', () => {
    const r = rng(SEED);
    for (let iter = 0; iter < 40; iter++) {
      for (const type of ['INT', 'LONG', 'FLOAT', 'DOUBLE', 'BYTES'] as StoredType[]) {
        const values = randomSorted(r, type, randInt(r, 0, 400));
        const cardinality = values.kind === 'BYTES' ? values.values.offsets.length - 1 : values.values.length;
        for (const varLength of type === 'BYTES' ? [true] : [false]) {
          const bytes = writeDictionary({ storedType: type, values, varLength });
          const back = readDictionary(bytesRange(bytes), { storedType: type, cardinality });
          expect(back, `${type} #${iter}`).toEqual(values);
        }
      }
      // STRING in both forms: random text (BMP, supplementary and U+E000…U+FFFF characters) in Java's order,
      // which is JS's default string order (UTF-16 code units).
      const pool = ['a', 'z', 'é', '✓', '\uE000', '\uFFFD', '\u{1F600}', '\u{10FFFF}', '0'];
      const texts = [...new Set(Array.from({ length: randInt(r, 1, 200) }, () =>
        Array.from({ length: randInt(r, 0, 5) }, () => pool[randInt(r, 0, pool.length - 1)]).join('')))].sort();
      const s = strings(...texts);
      const n = texts.length;
      for (const varLength of [true, false]) {
        const bytes = writeDictionary({ storedType: 'STRING', values: s, varLength, entryWidth: varLength ? undefined : 24 });
        if (varLength) expect(isVarLengthDictionary(bytes)).toBe(true);
        const back = readDictionary(bytesRange(bytes), { storedType: 'STRING', cardinality: n, entryWidth: varLength ? undefined : 24 });
        expect(back, `STRING #${iter} varLength=${varLength}`).toEqual(s);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

async function compareDictionaries(location: string): Promise<string[]> {
  return withSegment(location, ({ columns, index }) => {
    const matched: string[] = [];
    for (const col of columns) {
      const pinot = index(col.name, 'dictionary');
      if (pinot === undefined) continue;
      const values = readDictionary(bytesRange(pinot), {
        storedType: col.storedType, cardinality: col.cardinality, entryWidth: col.dictionaryElementSize, paddingCharacter: col.paddingCharacter,
      });
      const varLength = col.storedType !== 'INT' && col.storedType !== 'LONG' && col.storedType !== 'FLOAT' && col.storedType !== 'DOUBLE'
        && isVarLengthDictionary(pinot);
      // The entry width is derived from the values, as Pinot's creator derives it.
      const ours = writeDictionary({ storedType: col.storedType, values, varLength });
      expect(firstDifference(ours, pinot), `${location} ${col.name} dictionary`).toBeUndefined();
      matched.push(col.name);
    }
    return matched;
  });
}

describeFixtures('dictionaries of Pinot 1.5.1 segments re-encode byte for byte', GENERATED_DIR, (dir) => {
  for (const name of GENERATED_SEGMENTS) {
    it(name, async () => {
      const matched = await compareDictionaries(join(dir, name));
      console.log(`[dictionary] ${name}: ${matched.join(', ')}`);
      expect(matched.length).toBeGreaterThan(0);
    });
  }
});

describeFixtures('dictionaries of real segments re-encode byte for byte', REAL_DIR, (dir) => {
  for (const name of REAL_SEGMENTS.filter((s) => !s.startsWith('legacyRawInverted'))) {
    it(name, async () => {
      const matched = await compareDictionaries(join(dir, name));
      console.log(`[dictionary] ${name}: ${matched.join(', ')}`);
      expect(matched.length).toBeGreaterThan(0);
    });
  }
});
