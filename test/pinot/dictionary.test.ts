import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorContext } from '../../src/errors.js';
import { bytesRange, subRange } from '../../src/sources/pinot/bytes.js';
import { isVarLengthDictionary, readDictionary, type DictionaryOptions } from '../../src/sources/pinot/dictionary.js';
import type { StoredType, ValueBlock } from '../../src/sources/pinot/types.js';
import { describeFixtures } from '../support/fixtures.js';
import { thrown } from '../support/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/[\s|]/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
const utf8 = new TextDecoder();

function read(bytes: Uint8Array, opts: Partial<DictionaryOptions> & { storedType: StoredType; cardinality: number }): ValueBlock {
  return readDictionary(bytesRange(bytes), { column: 'c', ...opts });
}

/** Values of a BYTES block as strings (UTF-8) — also asserts the VarBytes shape. */
function strings(block: ValueBlock): string[] {
  if (block.kind !== 'BYTES') throw new Error(`expected BYTES, got ${block.kind}`);
  const { offsets, data } = block.values;
  expect(offsets[0]).toBe(0);
  expect(offsets[offsets.length - 1]).toBe(data.length);
  return Array.from({ length: offsets.length - 1 }, (_, i) => utf8.decode(data.subarray(offsets[i], offsets[i + 1])));
}

function byteValues(block: ValueBlock): number[][] {
  if (block.kind !== 'BYTES') throw new Error(`expected BYTES, got ${block.kind}`);
  const { offsets, data } = block.values;
  return Array.from({ length: offsets.length - 1 }, (_, i) => Array.from(data.subarray(offsets[i], offsets[i + 1])));
}


function expectError(fn: () => unknown, code: string, context: ErrorContext): void {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(err.context).toMatchObject(context);
}

describe('numeric dictionaries (§8.1)', () => {
  it('decodes BE INT (the 2016 `age` dictionary starts 617, 824) including negatives', () => {
    const block = read(hex('00000269 00000338 80000000 7fffffff ffffffff'), { storedType: 'INT', cardinality: 5 });
    expect(block.kind).toBe('INT');
    expect(Array.from(block.values as Int32Array)).toEqual([617, 824, -2147483648, 2147483647, -1]);
  });

  it('decodes BE LONG as bigint beyond 2^53 (recipes matchTime 1642417200000)', () => {
    const block = read(hex('0000017e67b19b80 8000000000000000 0020000000000001'), { storedType: 'LONG', cardinality: 3 });
    expect(block.kind).toBe('LONG');
    expect(Array.from(block.values as BigInt64Array)).toEqual([1642417200000n, -9223372036854775808n, 9007199254740993n]);
  });

  it('decodes BE FLOAT and DOUBLE', () => {
    const f = read(hex('3fc00000 ff800000 c41f6000'), { storedType: 'FLOAT', cardinality: 3 });
    expect(f.kind).toBe('FLOAT');
    expect(Array.from(f.values as Float32Array)).toEqual([1.5, -Infinity, -637.5]);
    const d = read(hex('400921fb54442d18 fff0000000000000'), { storedType: 'DOUBLE', cardinality: 2 });
    expect(d.kind).toBe('DOUBLE');
    expect(Array.from(d.values as Float64Array)).toEqual([Math.PI, -Infinity]);
  });

  it('works on an unaligned view and does not alias or modify the input', () => {
    const backing = hex('ff 00000001 00000002');
    const view = backing.subarray(1);
    const block = read(view, { storedType: 'INT', cardinality: 2 });
    expect(Array.from(block.values as Int32Array)).toEqual([1, 2]);
    expect(Array.from(backing)).toEqual([0xff, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('reads an empty dictionary', () => {
    expect((read(new Uint8Array(0), { storedType: 'DOUBLE', cardinality: 0 }).values as Float64Array).length).toBe(0);
  });

  it('never treats a LONG dictionary starting with `.vl;` bytes as var-length', () => {
    const block = read(hex('2e766c3b00000001 0000000300000010 0000000000000007'), { storedType: 'LONG', cardinality: 3 });
    expect(Array.from(block.values as BigInt64Array)).toEqual([0x2e766c3b00000001n, 0x0000000300000010n, 7n]);
  });

  it('rejects a buffer that does not hold exactly cardinality × width bytes', () => {
    expectError(() => read(hex('00000001 000000'), { storedType: 'INT', cardinality: 2 }),
      'PINOT_TRUNCATED', { column: 'c', index: 'dictionary', offset: 7 });
    expectError(() => read(hex('00000001 00000002 00'), { storedType: 'INT', cardinality: 2 }),
      'PINOT_CORRUPT', { column: 'c', index: 'dictionary', offset: 8 });
    expectError(() => read(new Uint8Array(16), { storedType: 'LONG', cardinality: 3 }), 'PINOT_TRUNCATED', { index: 'dictionary' });
  });

  it('rejects a negative cardinality and MAP (which never has a dictionary)', () => {
    expectError(() => read(new Uint8Array(0), { storedType: 'INT', cardinality: -1 }), 'PINOT_BAD_METADATA', { column: 'c' });
    expectError(() => read(new Uint8Array(0), { storedType: 'MAP', cardinality: 0 }), 'PINOT_UNSUPPORTED_TYPE', { column: 'c' });
  });
});

describe('var-length dictionaries (§8.2)', () => {
  const EMPTY = hex('2E 76 6C 3B 00 00 00 01 00 00 00 00 00 00 00 10 00 00 00 14');
  const THREE = hex('2E 76 6C 3B 00 00 00 01 00 00 00 03 00 00 00 10 | 00 00 00 20 00 00 00 20 00 00 00 21 00 00 00 23 | 61 62 63');

  it('recognises the var-length header only with magic, version 1 and ≥ 20 bytes', () => {
    expect(isVarLengthDictionary(EMPTY)).toBe(true);
    expect(isVarLengthDictionary(EMPTY.subarray(0, 19))).toBe(false);
    const v2 = EMPTY.slice();
    v2[7] = 2;
    expect(isVarLengthDictionary(v2)).toBe(false);
  });

  it('decodes the 0-value vector (testEmptyDictionary)', () => {
    const block = read(EMPTY, { storedType: 'STRING', cardinality: 0 });
    expect(strings(block)).toEqual([]);
  });

  it('decodes "", "a", "bc" for STRING, BYTES and BIG_DECIMAL alike', () => {
    for (const storedType of ['STRING', 'BYTES', 'BIG_DECIMAL'] as const) {
      const block = read(THREE, { storedType, cardinality: 3 });
      expect(strings(block)).toEqual(['', 'a', 'bc']);
      if (block.kind === 'BYTES') expect(Array.from(block.values.offsets)).toEqual([0, 0, 1, 3]);
    }
  });

  it('ignores entryWidth (it holds the longest value, not the layout)', () => {
    expect(strings(read(THREE, { storedType: 'BYTES', cardinality: 3, entryWidth: 2 }))).toEqual(['', 'a', 'bc']);
  });

  it('rejects a value count different from the cardinality', () => {
    expectError(() => read(THREE, { storedType: 'STRING', cardinality: 4 }), 'PINOT_CORRUPT', { column: 'c', index: 'dictionary', offset: 8 });
  });

  it('rejects offsets going backwards, naming the offending offset entry', () => {
    const bad = THREE.slice();
    bad[27] = 0x1f; // offset 2 (bytes 24–27) := 0x1f, before offset 1 = 0x20
    expectError(() => read(bad, { storedType: 'STRING', cardinality: 3 }), 'PINOT_CORRUPT', { column: 'c', index: 'dictionary', offset: 24 });
  });

  it('rejects offsets past the buffer, into the header, or a truncated offsets array', () => {
    const past = THREE.slice();
    past[31] = 0x24;
    expectError(() => read(past, { storedType: 'STRING', cardinality: 3 }), 'PINOT_TRUNCATED', { index: 'dictionary', offset: 28 });
    const intoOffsets = THREE.slice();
    intoOffsets[19] = 0x1c;
    expectError(() => read(intoOffsets, { storedType: 'STRING', cardinality: 3 }), 'PINOT_CORRUPT', { index: 'dictionary', offset: 16 });
    const header = THREE.slice();
    header[15] = 0x0c;
    expectError(() => read(header, { storedType: 'STRING', cardinality: 3 }), 'PINOT_CORRUPT', { index: 'dictionary', offset: 12 });
    expectError(() => read(THREE.subarray(0, 28), { storedType: 'STRING', cardinality: 3 }), 'PINOT_TRUNCATED', { index: 'dictionary', offset: 16 });
  });
});

describe('fixed-width STRING / BYTES / BIG_DECIMAL dictionaries (§8.3)', () => {
  it('strips NUL padding (recipes `score`, W = 15) and keeps a full-width value whole', () => {
    const bytes = hex('36 2D 31 20 36 2D 31 20 36 2D 33 00 00 00 00 | 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f');
    expect(strings(read(bytes, { storedType: 'STRING', cardinality: 2, entryWidth: 15 }))).toEqual(['6-1 6-1 6-3', 'abcdefghijklmno']);
  });

  it('reads the empty string as an all-NUL entry and multi-byte UTF-8 values', () => {
    const ete = new TextEncoder().encode('été');
    const bytes = new Uint8Array(20);
    bytes.set(ete, 10);
    expect(strings(read(bytes, { storedType: 'STRING', cardinality: 2, entryWidth: 10 }))).toEqual(['', 'été']);
  });

  it('derives the width from length / cardinality when entryWidth is absent', () => {
    expect(strings(read(hex('61 00 62 63'), { storedType: 'STRING', cardinality: 2 }))).toEqual(['a', 'bc']);
    expectError(() => read(hex('61 00 62'), { storedType: 'STRING', cardinality: 2 }), 'PINOT_CORRUPT', { column: 'c', index: 'dictionary' });
  });

  it('rejects bytes in a 0-entry fixed-width dictionary and a bad entryWidth', () => {
    expectError(() => read(hex('00'), { storedType: 'STRING', cardinality: 0 }), 'PINOT_CORRUPT', { column: 'c', index: 'dictionary' });
    expectError(() => read(hex('00'), { storedType: 'STRING', cardinality: 1, entryWidth: -1 }), 'PINOT_BAD_METADATA', { column: 'c' });
    expect(strings(read(new Uint8Array(0), { storedType: 'STRING', cardinality: 0 }))).toEqual([]);
  });

  it('accepts a width-0 dictionary (the only value is empty)', () => {
    expect(strings(read(new Uint8Array(0), { storedType: 'STRING', cardinality: 1, entryWidth: 0 }))).toEqual(['']);
  });

  it('rejects a buffer that is not cardinality × width', () => {
    expectError(() => read(new Uint8Array(29), { storedType: 'STRING', cardinality: 2, entryWidth: 15 }),
      'PINOT_TRUNCATED', { column: 'c', index: 'dictionary', offset: 29 });
    expectError(() => read(new Uint8Array(31), { storedType: 'BYTES', cardinality: 2, entryWidth: 15 }),
      'PINOT_CORRUPT', { column: 'c', index: 'dictionary', offset: 30 });
  });

  it('keeps BYTES and BIG_DECIMAL entries whole (NUL bytes are data there)', () => {
    expect(byteValues(read(hex('0000 00ff 7e00'), { storedType: 'BYTES', cardinality: 3, entryWidth: 2 })))
      .toEqual([[0, 0], [0, 0xff], [0x7e, 0]]);
    // 0 → 00 00 00, -1 → 00 00 FF, 128 (needs 2 bytes) is not fixed-width with these, so: 1.5 → 00 01 0F
    expect(byteValues(read(hex('000000 0000ff 00010f'), { storedType: 'BIG_DECIMAL', cardinality: 3 })))
      .toEqual([[0, 0, 0], [0, 0, 0xff], [0, 1, 0x0f]]);
  });

  it('accepts NUL padding, given as NUL or as the old literal text \\u0000', () => {
    const nul = hex('6c796e6461000000 00 6c796e646120322e30'); // paddingNull: "lynda", "lynda 2.0"
    for (const paddingCharacter of ['\0', '\\u0000', undefined]) {
      expect(strings(read(nul, { storedType: 'STRING', cardinality: 2, entryWidth: 9, paddingCharacter }))).toEqual(['lynda', 'lynda 2.0']);
    }
  });

  it('refuses pre-2016 `%` padding with PINOT_LEGACY_PADDING (fixture v1-2016-padding/paddingPercent)', () => {
    const percent = hex('6c796e646120322e30 6c796e6461252525 25'); // "lynda 2.0", "lynda%%%%"
    expectError(() => read(percent, { storedType: 'STRING', cardinality: 2, entryWidth: 9, paddingCharacter: '%', column: 'name' }),
      'PINOT_LEGACY_PADDING', { column: 'name', index: 'dictionary', offset: 0 });
    expectError(() => read(percent, { storedType: 'STRING', cardinality: 2, entryWidth: 9, paddingCharacter: '%', legacyPadding: 'refuse', column: 'name' }),
      'PINOT_LEGACY_PADDING', { column: 'name', index: 'dictionary', offset: 0 });
  });

  it('strips `%` padding when asked to, as pre-2016 Pinot read it', () => {
    const percent = hex('6c796e646120322e30 6c796e6461252525 25'); // "lynda 2.0", "lynda%%%%"
    expect(strings(read(percent, { storedType: 'STRING', cardinality: 2, entryWidth: 9, paddingCharacter: '%', legacyPadding: 'strip' })))
      .toEqual(['lynda 2.0', 'lynda']);
  });

  it('does not refuse `%`-declared segments for dictionaries padding cannot affect', () => {
    expect(Array.from(read(hex('00000001'), { storedType: 'INT', cardinality: 1, paddingCharacter: '%' }).values as Int32Array)).toEqual([1]);
    expect(byteValues(read(hex('0102'), { storedType: 'BYTES', cardinality: 1, paddingCharacter: '%' }))).toEqual([[1, 2]]);
  });
});

// ---- real segments, read in place ----

/** `key = value` lines of a properties / index_map file (enough for these fixtures: no escapes needed). */
function properties(path: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of readFileSync(path, 'utf8').matchAll(/^([^=\n]+?) = ?(.*)$/gm)) map.set(m[1]!, m[2]!);
  return map;
}

function valueAsText(block: ValueBlock, i: number): string {
  switch (block.kind) {
    case 'BYTES': return utf8.decode(block.values.data.subarray(block.values.offsets[i], block.values.offsets[i + 1]));
    default: return String(block.values[i]);
  }
}

function entryCount(block: ValueBlock): number {
  return block.kind === 'BYTES' ? block.values.offsets.length - 1 : block.values.length;
}

describeFixtures('dictionaries of the v1 2022 segment', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw', (dir) => {
  const seg = join(dir, 'testTable_1756015683_1756015683');
  const meta = properties(join(seg, 'metadata.properties'));
  const columns = [...meta.keys()].filter((k) => k.endsWith('.hasDictionary') && meta.get(k) === 'true')
    .map((k) => k.slice('column.'.length, -'.hasDictionary'.length));

  it('has the 13 dictionary-encoded columns', () => {
    expect(columns.sort()).toEqual(['column1', 'column10', 'column13', 'column2', 'column3', 'column5', 'column6',
      'column7', 'column8', 'column9', 'count', 'daysSinceEpoch', 'weeksSinceEpochSunday']);
  });

  for (const column of columns) {
    it(`${column}: cardinality entries, ascending, first = minValue, last = maxValue`, () => {
      const g = (k: string): string => meta.get(`column.${column}.${k}`)!;
      const storedType = g('dataType') as StoredType;
      const cardinality = Number(g('cardinality'));
      const block = readDictionary(bytesRange(new Uint8Array(readFileSync(join(seg, `${column}.dict`)))), {
        storedType, cardinality, entryWidth: storedType === 'STRING' ? Number(g('lengthOfEachEntry')) : undefined,
        paddingCharacter: '\0', column,
      });
      expect(entryCount(block)).toBe(cardinality);
      expect(valueAsText(block, 0)).toBe(g('minValue'));
      expect(valueAsText(block, cardinality - 1)).toBe(g('maxValue'));
      let unordered = -1;
      for (let i = 1; i < cardinality && unordered < 0; i++) {
        const ascending = block.kind === 'INT' ? block.values[i]! > block.values[i - 1]!
          : valueAsText(block, i) > valueAsText(block, i - 1);
        if (!ascending) unordered = i;
      }
      expect(unordered).toBe(-1);
    });
  }
});

describeFixtures('dictionaries of the 2017 v3 segment (columns.psf after the marker)', 'fixtures/pinot-segments/v3-2017-views', (dir) => {
  const v3 = join(dir, 'segment_0', 'v3');
  const meta = properties(join(v3, 'metadata.properties'));
  const map = properties(join(v3, 'index_map'));
  const psf = bytesRange(new Uint8Array(readFileSync(join(v3, 'columns.psf'))));

  it('decodes every dictionary: 7 sorted entries, STRING ones NUL-stripped', () => {
    const columns = ['Score', 'Description', 'Headline', 'PosterId', 'Id', 'SecondsEpoch', 'Link'];
    for (const column of columns) {
      const start = Number(map.get(`${column}.dictionary.startOffset`));
      const size = Number(map.get(`${column}.dictionary.size`));
      expect(Array.from(psf.read(start, start + 8))).toEqual([0xde, 0xad, 0xbe, 0xef, 0xde, 0xaf, 0xbe, 0xad]);
      const storedType = meta.get(`column.${column}.dataType`) as StoredType;
      const block = readDictionary(subRange(psf, start + 8, start + size), {
        storedType, cardinality: 7, entryWidth: storedType === 'STRING' ? 10 : undefined,
        // The file says `\\u0000`; unescaped, that is the six characters `\u0000` (the 2017 writer's double escape).
        paddingCharacter: meta.get('segment.padding.character')!.replace('\\\\', '\\'), column,
      });
      expect(entryCount(block), column).toBe(7);
      const texts = Array.from({ length: 7 }, (_, i) => valueAsText(block, i));
      for (const t of texts) expect(t.includes('\0'), column).toBe(false);
      if (block.kind === 'INT') {
        for (let i = 1; i < 7; i++) expect(block.values[i]!).toBeGreaterThan(block.values[i - 1]!);
      } else {
        expect([...texts].sort(), column).toEqual(texts);
      }
    }
  });
});
