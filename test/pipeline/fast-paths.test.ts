/**
 * The conversion's fast paths against the straightforward definitions they replace: BIG_DECIMAL dictionary
 * text, dictionary materialisation, the decimal-exponent rewrite and the in-place footer patch.
 */
import { Binary, Dictionary, Int32, Utf8, makeData, makeVector, type Data } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { materializeDictionary, rewriteUtf8, textsOf, utf8Data } from '../../src/pipeline/arrow-data.js';
import { footerBytes, replaceFooter, withFooter } from '../../src/pipeline/parquet-footer.js';
import { gather, presentBlock } from '../../src/sources/pinot/arrow-values.js';
import { bigDecimalToString, decodeBigDecimal } from '../../src/sources/pinot/values.js';
import { rng } from '../support/random.js';

const decoder = new TextDecoder();

/** Pinot's BigDecimal bytes: i16 BE scale, then `n` unscaled two's complement bytes. */
function randomDecimalBytes(next: () => number): Uint8Array {
  const n = 1 + Math.floor(next() * 10);
  const bytes = new Uint8Array(2 + n);
  const pick = next();
  const scale = pick < 0.1 ? -Math.floor(next() * 5) : pick < 0.2 ? 0 : pick < 0.25 ? 20 + Math.floor(next() * 3) : Math.floor(next() * 8);
  new DataView(bytes.buffer).setInt16(0, scale);
  for (let i = 2; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  if (next() < 0.1) bytes.fill(0, 2); // zero at any scale
  if (next() < 0.1) bytes.fill(0xff, 2); // −1
  return bytes;
}

describe('BIG_DECIMAL dictionary text', () => {
  it('is bigDecimalToString of every entry, for short and long unscaled values and every scale sign', () => {
    const next = rng(42);
    const values = Array.from({ length: 5000 }, () => randomDecimalBytes(next));
    const offsets = new Int32Array(values.length + 1);
    values.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
    const data = new Uint8Array(offsets[values.length]!);
    values.forEach((v, i) => data.set(v, offsets[i]!));
    const block = presentBlock('BIG_DECIMAL', { kind: 'BYTES', values: { offsets, data } });
    if (block.kind !== 'BYTES') throw new Error('expected bytes');
    const got = Array.from({ length: values.length }, (_, i) => decoder.decode(block.values.data.subarray(block.values.offsets[i]!, block.values.offsets[i + 1]!)));
    const want = values.map((v) => bigDecimalToString(decodeBigDecimal(v)));
    expect(got).toEqual(want);
    // The sample reaches every branch: exponent form, plain integers, leading "0.", negatives, long values.
    expect(want.some((t) => t.includes('E+'))).toBe(true);
    expect(want.some((t) => t.startsWith('0.0'))).toBe(true);
    expect(want.some((t) => t.startsWith('-'))).toBe(true);
    expect(want.some((t) => t.replace(/[^0-9]/g, '').length > 16)).toBe(true);
  });

  it('still refuses a value shorter than 3 bytes', () => {
    const block = { kind: 'BYTES' as const, values: { offsets: Int32Array.from([0, 2]), data: Uint8Array.from([0, 1]) } };
    expect(() => presentBlock('BIG_DECIMAL', block)).toThrow(/shorter than 3/);
  });
});

describe('dictionary gather of numeric values', () => {
  it('gives the entry of every id for INT, LONG, FLOAT and DOUBLE, float bits kept exactly', () => {
    const next = rng(11);
    const ids = Int32Array.from({ length: 1000 }, () => Math.floor(next() * 40));
    const longs = BigInt64Array.from({ length: 40 }, (_, i) => (BigInt(i) << 40n) - 7n * BigInt(i) - (i % 2 === 0 ? 2n ** 62n : 0n));
    const ints = Int32Array.from({ length: 40 }, (_, i) => i * 104_729 - 2 ** 30);
    const doubles = Float64Array.from({ length: 40 }, (_, i) => (i === 3 ? NaN : i === 4 ? -0 : Math.sin(i) * 1e300));
    const floats = Float32Array.from({ length: 40 }, (_, i) => (i === 5 ? -Infinity : Math.cos(i) * 1e30));
    new Uint32Array(doubles.buffer)[7] = 0x7ff8dead; // a NaN with a payload (entry 3's high word)
    const cases = [
      { kind: 'INT', values: ints }, { kind: 'LONG', values: longs }, { kind: 'FLOAT', values: floats }, { kind: 'DOUBLE', values: doubles },
    ] as const;
    for (const c of cases) {
      const got = gather(c as never, ids);
      expect(got.kind).toBe(c.kind);
      const values = got.values as typeof c.values;
      expect(values.constructor).toBe(c.values.constructor);
      const width = c.values.BYTES_PER_ELEMENT;
      const src = new Uint8Array(c.values.buffer);
      const out = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      ids.forEach((id, i) => expect(out.subarray(i * width, (i + 1) * width)).toEqual(src.subarray(id * width, (id + 1) * width)));
    }
  });
});

function dictionaryData(entries: (string | null)[], keys: number[], nulls: Set<number>, binary = false): Data {
  const text = utf8Data(new Utf8(), entries);
  const dict: Data<Utf8> | Data<Binary> = binary ? makeData({ type: new Binary(), length: text.length, valueOffsets: text.valueOffsets, data: text.values }) : text;
  const bitmap = new Uint8Array((keys.length + 7) >> 3);
  keys.forEach((_, i) => !nulls.has(i) && (bitmap[i >> 3]! |= 1 << (i & 7)));
  const type = new Dictionary<Utf8 | Binary, Int32>(binary ? new Binary() : new Utf8(), new Int32());
  return makeData({
    type, length: keys.length, data: Int32Array.from(keys), dictionary: makeVector(dict as Data<Utf8>) as never,
    nullBitmap: nulls.size > 0 ? bitmap : undefined, nullCount: nulls.size,
  } as never);
}

describe('materializeDictionary', () => {
  it('gives each row its entry (short, long and empty values), nulls kept', () => {
    const next = rng(7);
    const entries = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? '' : 'v'.repeat(Math.floor(next() * (i % 7 === 0 ? 200 : 20))) + i));
    const keys = Array.from({ length: 4000 }, () => Math.floor(next() * entries.length));
    const nulls = new Set(Array.from({ length: 300 }, () => Math.floor(next() * keys.length)));
    const out = materializeDictionary(dictionaryData(entries, keys, nulls) as never);
    expect(out.nullCount).toBe(nulls.size);
    expect(textsOf(out)).toEqual(keys.map((k, i) => (nulls.has(i) ? null : entries[k])));
  });

  it('works on a slice and on Binary dictionaries', () => {
    const entries = ['a', 'bb', 'ccc', 'dddd'];
    const keys = [3, 2, 1, 0, 1, 2, 3, 3, 0];
    const whole = makeVector(dictionaryData(entries, keys, new Set([4]), true));
    const out = materializeDictionary(whole.slice(2, 8).data[0] as never);
    expect(out.type.toString()).toBe('Binary');
    expect(textsOf(out)).toEqual(['bb', 'a', null, 'ccc', 'dddd', 'dddd']);
  });
});

describe('rewriteUtf8', () => {
  const upper = (t: string): string => `<${t.toUpperCase()}>`;

  it('rewrites exactly the values holding a marker byte and copies the rest', () => {
    const next = rng(3);
    const texts = Array.from({ length: 2000 }, (_, i) => (i % 97 === 0 ? '' : `${next() < 0.2 ? 'e' : ''}x${i}${next() < 0.1 ? 'E' : ''}`));
    const out = rewriteUtf8(utf8Data(new Utf8(), texts), 0x45, 0x65, upper);
    expect(textsOf(out)).toEqual(texts.map((t) => (/[eE]/.test(t) ? upper(t) : t)));
  });

  it('rewrites the first and last values and works on a slice', () => {
    const texts = ['e1', 'a', 'b', 'E2', 'c', 'e3'];
    const sliced = makeVector(utf8Data(new Utf8(), texts)).slice(1, 6).data[0] as Data<Utf8>;
    expect(textsOf(rewriteUtf8(sliced, 0x45, 0x65, upper))).toEqual(['a', 'b', '<E2>', 'c', '<E3>']);
    const whole = utf8Data(new Utf8(), texts);
    expect(textsOf(rewriteUtf8(whole, 0x45, 0x65, upper))).toEqual(['<E1>', 'a', 'b', '<E2>', 'c', '<E3>']);
  });

  it('returns the column itself when no value has a marker', () => {
    const d = utf8Data(new Utf8(), ['1.5', '2', null]);
    expect(rewriteUtf8(d, 0x45, 0x65, upper)).toBe(d);
  });
});

describe('replaceFooter', () => {
  it('writes a shorter footer in place, with its length and the magic', () => {
    const body = Uint8Array.from([0x50, 0x41, 0x52, 0x31, 9, 9, 9]);
    const file = withFooter(body, Uint8Array.from([1, 2, 3, 4, 5]));
    const out = replaceFooter(file, body.length, Uint8Array.from([7, 8]));
    expect(out.buffer).toBe(file.buffer);
    expect([...footerBytes(out)]).toEqual([7, 8]);
    expect([...out]).toEqual([...withFooter(body, Uint8Array.from([7, 8]))]);
  });

  it('refuses a footer that does not fit', () => {
    expect(() => replaceFooter(new Uint8Array(10), 4, new Uint8Array(3))).toThrow(RangeError);
  });
});
