import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SegmentFormatError } from '../../src/errors.js';
import { bytesRange, subRange } from '../../src/sources/pinot/bytes.js';
import { readRoaringBitmap } from '../../src/sources/pinot/roaring.js';
import { describeFixtures } from '../support/fixtures.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/[\s|]/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

function read(bytes: Uint8Array) {
  return readRoaringBitmap(bytesRange(bytes));
}

/** Little-endian byte writer for hand-built bitmaps. */
class LE {
  private readonly out: number[] = [];
  u16(v: number): this {
    this.out.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u8(v: number): this {
    this.out.push(v);
    return this;
  }
  get length(): number {
    return this.out.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

type Spec =
  | { key: number; kind: 'array'; lows: number[] }
  | { key: number; kind: 'bitmap'; lows: number[] }
  | { key: number; kind: 'run'; runs: [number, number][] };

function lowsOf(c: Spec): number[] {
  if (c.kind !== 'run') return c.lows;
  return c.runs.flatMap(([s, l]) => Array.from({ length: l + 1 }, (_, i) => s + i));
}

/** Serialises containers as RoaringFormatSpec describes, with the cookie the spec implies. */
function serialise(containers: Spec[], opts: { cookie?: 12346 | 12347 } = {}): Uint8Array {
  const n = containers.length;
  const cookie = opts.cookie ?? (containers.some((c) => c.kind === 'run') ? 12347 : 12346);
  const head = new LE();
  if (cookie === 12347) {
    head.u32(12347 | ((n - 1) << 16));
    for (let b = 0; b < Math.ceil(n / 8); b++) {
      let flags = 0;
      for (let i = b * 8; i < Math.min(n, b * 8 + 8); i++) if (containers[i]!.kind === 'run') flags |= 1 << (i - b * 8);
      head.u8(flags);
    }
  } else {
    head.u32(12346).u32(n);
  }
  for (const c of containers) head.u16(c.key).u16(lowsOf(c).length - 1);
  const withOffsets = cookie === 12346 || n >= 4;
  const bodies = containers.map((c) => {
    const w = new LE();
    if (c.kind === 'run') {
      w.u16(c.runs.length);
      for (const [s, l] of c.runs) w.u16(s).u16(l);
    } else if (c.kind === 'array') {
      for (const v of c.lows) w.u16(v);
    } else {
      const words = new Uint32Array(2048);
      for (const v of c.lows) words[v >>> 5]! |= 1 << (v & 31);
      for (const x of words) w.u32(x);
    }
    return w.bytes();
  });
  let pos = head.length + (withOffsets ? 4 * n : 0);
  for (const b of bodies) {
    if (withOffsets) head.u32(pos);
    pos += b.length;
  }
  const out = new Uint8Array(pos);
  out.set(head.bytes());
  let at = head.length;
  for (const b of bodies) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function expectedValues(containers: Spec[]): number[] {
  return containers.flatMap((c) => lowsOf(c).map((low) => c.key * 65536 + low));
}

function formatError(fn: () => unknown): SegmentFormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SegmentFormatError) return err;
    throw err;
  }
  throw new Error('expected a SegmentFormatError');
}

describe('readRoaringBitmap: byte vectors from §10', () => {
  it('docs 0–99 written by the ≥1.0 writer (one run container, cookie 12347)', () => {
    const b = read(hex('3B 30 00 00 | 01 | 00 00 63 00 | 01 00 00 00 63 00'));
    expect(b.size).toBe(100);
    expect(Array.from(b.toArray())).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(b.contains(99)).toBe(true);
    expect(b.contains(100)).toBe(false);
  });

  it('docs 0–99 written by the pre-1.0 writer (array container, cookie 12346, 216 bytes)', () => {
    const values = new LE();
    for (let i = 0; i < 100; i++) values.u16(i);
    const bytes = new Uint8Array(216);
    bytes.set(hex('3A 30 00 00 01 00 00 00 | 00 00 63 00 | 10 00 00 00'));
    bytes.set(values.bytes(), 16);
    const b = read(bytes);
    expect(b.size).toBe(100);
    expect(Array.from(b.valuesInRange(95, 1000))).toEqual([95, 96, 97, 98, 99]);
  });

  it('docs {2, 5, 7}', () => {
    const b = read(hex('3A 30 00 00 01 00 00 00 00 00 02 00 10 00 00 00 02 00 05 00 07 00'));
    expect(Array.from(b.toArray())).toEqual([2, 5, 7]);
    expect([0, 2, 3, 5, 7, 8].map((v) => b.contains(v))).toEqual([false, true, false, true, true, false]);
  });

  it('four run containers with the offset header (n ≥ 4)', () => {
    const bytes = hex(
      '3B 30 03 00 | 0F | 00 00 09 00 01 00 09 00 02 00 09 00 03 00 09 00 | 25 00 00 00 2B 00 00 00 31 00 00 00 37 00 00 00'
      + ' 01 00 00 00 09 00'.repeat(4),
    );
    expect(bytes.length).toBe(61);
    const b = read(bytes);
    const expected = [0, 1, 2, 3].flatMap((k) => Array.from({ length: 10 }, (_, i) => k * 65536 + i));
    expect(Array.from(b.toArray())).toEqual(expected);
    expect(Array.from(b.valuesInRange(65536 + 8, 2 * 65536 + 2))).toEqual([65544, 65545, 131072, 131073]);
  });

  it('even docs 0 … 69998 (a bitmap container then an array container, 12680 bytes)', () => {
    const bytes = new Uint8Array(12680);
    bytes.set(hex('3A 30 00 00 02 00 00 00 | 00 00 FF 7F 01 00 B7 08 | 18 00 00 00 18 20 00 00'));
    bytes.fill(0x55, 24, 24 + 8192);
    const tail = new LE();
    for (let v = 0; v <= 69998 - 65536; v += 2) tail.u16(v);
    bytes.set(tail.bytes(), 24 + 8192);
    const b = read(bytes);
    expect(b.size).toBe(35000);
    expect(b.contains(65534)).toBe(true);
    expect(b.contains(65535)).toBe(false);
    expect(b.contains(69998)).toBe(true);
    expect(b.contains(70000)).toBe(false);
    expect(Array.from(b.valuesInRange(65530, 65541))).toEqual([65530, 65532, 65534, 65536, 65538, 65540]);
    expect(Array.from(b.toArray())).toEqual(Array.from({ length: 35000 }, (_, i) => 2 * i));
  });

  it('the 8-byte empty vector of pre-0.11 segments means no nulls', () => {
    const b = read(hex('3A 30 00 00 00 00 00 00'));
    expect(b.size).toBe(0);
    expect(b.contains(0)).toBe(false);
    expect(b.toArray().length).toBe(0);
    expect(b.valuesInRange(0, 100).length).toBe(0);
  });
});

describe('readRoaringBitmap: hand-built containers of each kind across high keys', () => {
  const dense = Array.from({ length: 5000 }, (_, i) => (i * 13) % 65536).sort((a, b) => a - b);
  const containers: Spec[] = [
    { key: 0, kind: 'array', lows: [0, 1, 4095, 65535] },
    { key: 1, kind: 'run', runs: [[0, 0], [10, 5], [65530, 5]] },
    { key: 7, kind: 'bitmap', lows: dense },
    { key: 300, kind: 'array', lows: [42] },
    { key: 0xffff, kind: 'run', runs: [[65500, 35]] },
  ];
  const expected = expectedValues(containers);

  for (const variant of ['with offsets (n = 5)', 'without offsets (n = 3)'] as const) {
    const used = variant.startsWith('with ') ? containers : [containers[1]!, containers[2]!, containers[4]!];
    const want = variant.startsWith('with ') ? expected : expectedValues(used);

    it(`decodes every value, ${variant}`, () => {
      const b = read(serialise(used));
      expect(b.size).toBe(want.length);
      expect(Array.from(b.toArray())).toEqual(want);
    });

    it(`contains() agrees with the value set, ${variant}`, () => {
      const b = read(serialise(used));
      const set = new Set(want);
      const probes = [...want.slice(0, 50), ...want.slice(-50), 2, 65536 + 9, 65536 + 16, 7 * 65536 + 1, 4294967295, 4294967296, -1, 0.5];
      for (const p of probes) expect(b.contains(p), `contains(${p})`).toBe(set.has(p));
    });

    it(`valuesInRange() in batches equals a filter of the value set, ${variant}`, () => {
      const b = read(serialise(used));
      for (const batch of [1000, 65536, 100_000]) {
        const got: number[] = [];
        for (let s = 0; s < 301 * 65536; s += batch) got.push(...b.valuesInRange(s, s + batch));
        expect(got).toEqual(want.filter((v) => v < 301 * 65536));
      }
      expect(Array.from(b.valuesInRange(4294967290, 4294967296))).toEqual(want.filter((v) => v >= 4294967290));
      expect(b.valuesInRange(10, 10).length).toBe(0);
      expect(b.valuesInRange(20, 10).length).toBe(0);
    });
  }

  it('a bitmap container with all 65536 values and a 12346 bitmap of array containers only', () => {
    const full: Spec = { key: 2, kind: 'bitmap', lows: Array.from({ length: 65536 }, (_, i) => i) };
    const b = read(serialise([full, { key: 3, kind: 'array', lows: [5] }]));
    expect(b.size).toBe(65537);
    expect(b.contains(2 * 65536 + 65535)).toBe(true);
    expect(Array.from(b.valuesInRange(3 * 65536 - 2, 3 * 65536 + 10))).toEqual([196606, 196607, 196613]);
  });

  it('reads a bitmap from a sub-range and ignores bytes after it', () => {
    const inner = serialise(containers);
    const padded = new Uint8Array(inner.length + 20);
    padded.set(inner, 10);
    const b = readRoaringBitmap(subRange(bytesRange(padded), 10, padded.length));
    expect(Array.from(b.toArray())).toEqual(expected);
  });
});

describe('readRoaringBitmap: bad input', () => {
  const good = serialise([
    { key: 0, kind: 'array', lows: [1, 2, 3] },
    { key: 5, kind: 'run', runs: [[100, 9]] },
  ]);

  it('an empty buffer is truncated at offset 0', () => {
    const err = formatError(() => read(new Uint8Array(0)));
    expect(err.code).toBe(ErrorCodes.PINOT_TRUNCATED);
    expect(err.context).toMatchObject({ index: 'nullvalue_vector', offset: 0 });
  });

  it('an unknown cookie is a bad magic', () => {
    const err = formatError(() => read(hex('3C 30 00 00 01 00 00 00')));
    expect(err.code).toBe(ErrorCodes.PINOT_BAD_MAGIC);
    expect(err.context.offset).toBe(0);
    expect(err.message).toContain('0x0000303c');
  });

  it('every strict prefix of a valid bitmap is truncated, never decoded', () => {
    for (let len = 0; len < good.length; len++) {
      const err = formatError(() => read(good.subarray(0, len)));
      expect(err.code, `prefix of ${len} bytes`).toBe(ErrorCodes.PINOT_TRUNCATED);
      expect(err.context.index).toBe('nullvalue_vector');
      expect(err.context.offset).toBeLessThanOrEqual(len);
    }
  });

  it('a 12346 container count above 65536 is corrupt', () => {
    const err = formatError(() => read(hex('3A 30 00 00 01 00 01 00')));
    expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(err.context.offset).toBe(4);
  });

  it('keys that do not ascend are corrupt', () => {
    const bytes = serialise([{ key: 4, kind: 'array', lows: [1] }, { key: 3, kind: 'array', lows: [1] }]);
    const err = formatError(() => read(bytes));
    expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(err.context.offset).toBe(12);
  });

  it('a container offset that does not match the layout is corrupt', () => {
    const bytes = serialise([{ key: 0, kind: 'array', lows: [1] }, { key: 1, kind: 'array', lows: [1] }]);
    bytes[20] = bytes[20]! + 2; // second container's offset
    const err = formatError(() => read(bytes));
    expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(err.message).toContain('container 1 offset');
  });

  it('a bitmap container whose popcount differs from its cardinality is corrupt', () => {
    const bytes = serialise([{ key: 0, kind: 'bitmap', lows: Array.from({ length: 5000 }, (_, i) => i) }]);
    bytes[bytes.length - 1] = 0x80; // one extra bit
    const err = formatError(() => read(bytes));
    expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(err.context.offset).toBe(16);
  });

  it('runs that overflow 65535, overlap or disagree with the cardinality are corrupt', () => {
    const overflow = serialise([{ key: 0, kind: 'run', runs: [[65530, 5]] }]);
    overflow[overflow.length - 2] = 6; // length 6 from 65530 passes 65535
    expect(formatError(() => read(overflow)).code).toBe(ErrorCodes.PINOT_CORRUPT);

    const overlap = serialise([{ key: 0, kind: 'run', runs: [[0, 5], [6, 1]] }]);
    overlap[overlap.length - 4] = 5; // second run starts inside the first
    expect(formatError(() => read(overlap)).code).toBe(ErrorCodes.PINOT_CORRUPT);

    const count = serialise([{ key: 0, kind: 'run', runs: [[0, 5]] }]);
    count[7] = 9; // header cardinality − 1 = 9, runs hold 6
    const err = formatError(() => read(count));
    expect(err.code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect(err.message).toContain('holds 6 values');
  });

  it('an array container that does not ascend is corrupt', () => {
    const bytes = serialise([{ key: 0, kind: 'array', lows: [1, 2, 3] }]);
    bytes[bytes.length - 2] = 1; // last value 3 → 1
    expect(formatError(() => read(bytes)).code).toBe(ErrorCodes.PINOT_CORRUPT);
  });

  it('keeps the caller context and lets it name another index', () => {
    const err = formatError(() => readRoaringBitmap(bytesRange(new Uint8Array(2)), { column: 'c', index: 'inverted_index' }));
    expect(err.context).toMatchObject({ column: 'c', index: 'inverted_index', offset: 0 });
  });
});

describeFixtures('readRoaringBitmap on column7.bitmap.inv (v1 2022 fixture, §11)', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw', (dir) => {
  const seg = join(dir, 'testTable_1756015683_1756015683');
  const CARDINALITY = 359; // column.column7.cardinality
  const DOCS = 100_000;
  const ENTRIES = 134_090; // column.column7.totalNumberOfEntries
  const BITS = 9;

  /** §11: (cardinality + 1) × u32 BE offsets, then one portable bitmap per dict id. */
  function invertedIndex() {
    const bytes = new Uint8Array(readFileSync(join(seg, 'column7.bitmap.inv')));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const offsets = Array.from({ length: CARDINALITY + 1 }, (_, d) => view.getUint32(4 * d));
    const range = bytesRange(bytes);
    const bitmaps = Array.from({ length: CARDINALITY }, (_, d) =>
      readRoaringBitmap(subRange(range, offsets[d]!, offsets[d + 1]!), { index: 'inverted_index', column: 'column7' }));
    return { bytes, offsets, bitmaps };
  }

  /** §9.3: the docs' dict ids from the fixed-bit MV forward index, via the row-start bitmap. */
  function forwardIndex(): number[][] {
    const fwd = new Uint8Array(readFileSync(join(seg, 'column7.mv.fwd')));
    const docsPerChunk = Math.ceil(2048 / Math.floor(ENTRIES / DOCS));
    const bitmapStart = Math.ceil(DOCS / docsPerChunk) * 4;
    const valuesStart = bitmapStart + Math.ceil(ENTRIES / 8);
    expect(fwd.length).toBe(valuesStart + Math.ceil((ENTRIES * BITS) / 8));
    const bit = (base: number, i: number) => (fwd[base + (i >>> 3)]! >>> (7 - (i & 7))) & 1;
    const rows: number[][] = [];
    for (let j = 0; j < ENTRIES; j++) {
      let id = 0;
      for (let k = 0; k < BITS; k++) id = (id << 1) | bit(valuesStart, j * BITS + k);
      if (bit(bitmapStart, j) === 1) rows.push([]);
      rows[rows.length - 1]!.push(id);
    }
    return rows;
  }

  it('has absolute offsets starting at 4·(cardinality + 1) and ending at the file size', () => {
    const { bytes, offsets } = invertedIndex();
    expect(offsets[0]).toBe(4 * (CARDINALITY + 1));
    expect(offsets[CARDINALITY]).toBe(bytes.length);
  });

  it('uses both cookies, as SOURCES.md states', () => {
    const { bytes, offsets } = invertedIndex();
    const cookies = new Set(offsets.slice(0, -1).map((o) => bytes[o]! | (bytes[o + 1]! << 8)));
    expect([...cookies].sort()).toEqual([12346, 12347]);
  });

  it('bitmap d holds exactly the docs whose row contains dict id d (checked against column7.mv.fwd)', () => {
    const { bitmaps } = invertedIndex();
    const rows = forwardIndex();
    expect(rows.length).toBe(DOCS);
    const expected: number[][] = Array.from({ length: CARDINALITY }, () => []);
    rows.forEach((ids, doc) => {
      for (const id of new Set(ids)) expected[id]!.push(doc);
    });
    bitmaps.forEach((b, d) => {
      expect(b.size, `dict id ${d}`).toBe(expected[d]!.length);
      expect(Array.from(b.toArray()), `dict id ${d}`).toEqual(expected[d]);
    });
  });

  it('covers every doc, and batched valuesInRange() matches toArray()', () => {
    const { bitmaps } = invertedIndex();
    const seen = new Uint8Array(DOCS);
    for (const b of bitmaps) for (const doc of b.toArray()) seen[doc] = 1;
    expect(seen.every((x) => x === 1)).toBe(true);
    for (const b of [bitmaps[0]!, bitmaps[CARDINALITY - 1]!, bitmaps[100]!]) {
      const batched: number[] = [];
      for (let s = 0; s < DOCS; s += 4096) batched.push(...b.valuesInRange(s, s + 4096));
      expect(batched).toEqual(Array.from(b.toArray()));
    }
  });

  it('contains() on the last dict id (maxValue 2147483647) agrees with the forward index', () => {
    const { bitmaps } = invertedIndex();
    const rows = forwardIndex();
    const last = bitmaps[CARDINALITY - 1]!;
    for (let doc = 0; doc < DOCS; doc += 997) expect(last.contains(doc)).toBe(rows[doc]!.includes(CARDINALITY - 1));
  });
});
