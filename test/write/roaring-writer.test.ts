/**
 * Null value vector writer (§10): the spec's vectors, the run-optimisation thresholds, a seeded round trip
 * through `readRoaringBitmap`, and the null vectors of the Pinot 1.5.1 events segments byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { bytesRange, subRange } from '../../src/sources/pinot/bytes.js';
import { readRoaringBitmap } from '../../src/sources/pinot/roaring.js';
import { writeNullVector } from '../../src/sources/pinot/write/roaring-writer.js';
import { describeFixtures } from '../support/fixtures.js';
import { GENERATED_DIR, REAL_DIR, SEED, firstDifference, hex, randInt, rng, toHex, withSegment } from './fixture-segments.js';

const range = (from: number, to: number, step = 1): number[] => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);
const docs = (xs: number[]): Uint32Array => Uint32Array.from(xs);

describe('spec §10 vectors', () => {
  it('docs 0–99: one run container, cookie 12347 (15 bytes)', () => {
    expect(toHex(writeNullVector(docs(range(0, 100))))).toBe(toHex(hex('3B 30 00 00 | 01 | 00 00 63 00 | 01 00 00 00 63 00')));
  });

  it('docs {2, 5, 7}: array smaller than 3 runs, cookie 12346 (22 bytes)', () => {
    expect(toHex(writeNullVector(docs([2, 5, 7])))).toBe(toHex(hex('3A 30 00 00 01 00 00 00 00 00 02 00 10 00 00 00 02 00 05 00 07 00')));
  });

  it('docs k·65536 + (0…9), k = 0…3: four run containers with the offset header (61 bytes)', () => {
    const xs = [0, 1, 2, 3].flatMap((k) => range(k * 65536, k * 65536 + 10));
    expect(toHex(writeNullVector(docs(xs)))).toBe(toHex(new Uint8Array([
      ...hex('3B 30 03 00 | 0F | 00 00 09 00 01 00 09 00 02 00 09 00 03 00 09 00 | 25 00 00 00 2B 00 00 00 31 00 00 00 37 00 00 00'),
      ...hex('01 00 00 00 09 00'.repeat(4)),
    ])));
  });

  it('even docs 0…69998: a bitmap container then an array container (12680 bytes)', () => {
    const out = writeNullVector(docs(range(0, 70000, 2)));
    expect(out.length).toBe(12680);
    expect(toHex(out.subarray(0, 24))).toBe(toHex(hex('3A 30 00 00 02 00 00 00 | 00 00 FF 7F 01 00 B7 08 | 18 00 00 00 18 20 00 00')));
    expect(toHex(out.subarray(24, 32))).toBe('5555555555555555');
  });

  it('an empty set is the 8-byte empty bitmap (Pinot writes no vector then)', () => {
    expect(toHex(writeNullVector(new Uint32Array(0)))).toBe('3a30000000000000');
  });
});

describe('run optimisation (RoaringBitmap 1.6.12 ArrayContainer / BitmapContainer.runOptimize)', () => {
  /** Kind of the single container of a one-container bitmap, read back from its header. */
  function kind(xs: number[]): string {
    const out = writeNullVector(docs(xs));
    const dv = new DataView(out.buffer);
    if (dv.getUint16(0, true) === 12347) return out[4]! & 1 ? 'run' : 'array-or-bitmap';
    return xs.length > 4096 ? 'bitmap' : 'array';
  }

  it('array → run iff 2·card > 2 + 4·runs', () => {
    expect(kind([0, 1])).toBe('array'); // 4 bytes vs 6
    expect(kind([0, 1, 2])).toBe('array'); // 6 vs 6: not strictly smaller
    expect(kind([0, 1, 2, 3])).toBe('run'); // 8 vs 6
    expect(kind([...range(0, 4), ...range(10, 14)])).toBe('run'); // 16 vs 10
    expect(kind([0, 1, 3, 4, 6, 7])).toBe('array'); // 12 vs 14
  });

  it('bitmap → run iff 8192 > 2 + 4·runs', () => {
    // 4097+ values in r runs: run while 2 + 4r < 8192, i.e. r ≤ 2047.
    const withRuns = (r: number): number[] => {
      const xs: number[] = [];
      const per = Math.ceil(4200 / r);
      for (let k = 0; k < r; k++) xs.push(...range(k * (per + 1), k * (per + 1) + per));
      return xs.filter((x) => x < 65536);
    };
    expect(kind(withRuns(2047))).toBe('run');
    expect(kind(withRuns(2048))).toBe('bitmap');
    expect(kind(range(0, 4097))).toBe('run');
    expect(kind(range(0, 8194, 2))).toBe('bitmap');
  });

  it('rejects doc ids that are not strictly ascending', () => {
    for (const bad of [[3, 2], [1, 1]]) {
      try {
        writeNullVector(docs(bad));
        throw new Error('expected a USAGE error');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).code).toBe(ErrorCodes.USAGE);
        expect((err as Error).message).toMatch(/strictly ascending/);
      }
    }
  });
});

describe(`round trip through readRoaringBitmap (seed ${SEED})`, () => {
  it('sparse, dense, run-heavy and threshold-sized containers, up to 20 containers', () => {
    const r = rng(SEED);
    const mark = new Uint8Array(65536);
    for (let iter = 0; iter < 50; iter++) {
      const keys = [...new Set(Array.from({ length: randInt(r, 0, 20) }, () => randInt(r, 0, 32767)))].sort((a, b) => a - b);
      const xs = new Uint32Array(keys.length * 65536);
      let n = 0;
      for (const key of keys) {
        mark.fill(0);
        switch (randInt(r, 0, 4)) {
          case 0: for (let i = randInt(r, 1, 50); i > 0; i--) mark[randInt(r, 0, 65535)] = 1; break;
          case 1: for (let i = randInt(r, 4000, 4200); i > 0; i--) mark[randInt(r, 0, 65535)] = 1; break; // around 4096
          case 2: mark.fill(1, randInt(r, 0, 30000), randInt(r, 30001, 65536)); break; // one long run
          case 3: for (let i = 0; i < 65536; i += randInt(r, 1, 3)) mark[i] = 1; break; // dense bitmap
          default: for (let k = randInt(r, 1, 3000); k > 0; k--) { const s0 = randInt(r, 0, 65500); mark.fill(1, s0, s0 + randInt(r, 1, 30)); }
        }
        for (let i = 0; i < 65536; i++) if (mark[i]) xs[n++] = key * 65536 + i;
      }
      const input = xs.subarray(0, n);
      const back = readRoaringBitmap(bytesRange(writeNullVector(input)));
      expect(back.size, `iteration ${iter}`).toBe(input.length);
      expect(firstDifference(new Uint8Array(back.toArray().buffer), new Uint8Array(input.buffer, 0, 4 * n)), `iteration ${iter}`).toBeUndefined();
    }
  });
});

describeFixtures('null vectors of Pinot 1.5.1 segments re-encode byte for byte', GENERATED_DIR, (dir) => {
  for (const name of ['events__0__12__20261126T0000Z.tar.gz', 'events__0__13__20261126T0100Z.tar.gz']) {
    it(name, async () => {
      const matched = await withSegment(join(dir, name), ({ columns, index }) => {
        const out: string[] = [];
        for (const col of columns) {
          const pinot = index(col.name, 'nullvalue_vector');
          if (pinot === undefined) continue;
          const nulls = readRoaringBitmap(bytesRange(pinot)).toArray();
          expect(firstDifference(writeNullVector(nulls), pinot), `${name} ${col.name}`).toBeUndefined();
          out.push(`${col.name} (${nulls.length} nulls, cookie ${new DataView(pinot.buffer, pinot.byteOffset).getUint16(0, true)})`);
        }
        return out;
      });
      console.log(`[null vector] ${name}: ${matched.join(', ')}`);
      expect(matched.length).toBe(11);
    });
  }
});

describeFixtures('inverted-index bitmaps of the v1 2022 segment (a run-optimised RoaringBitmap writer too)', REAL_DIR, (dir) => {
  it('column7.bitmap.inv: every dict id\'s bitmap re-encodes byte for byte', () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'v1-2022-testTable-mv-raw/testTable_1756015683_1756015683/column7.bitmap.inv')));
    const view = new DataView(bytes.buffer);
    const cardinality = 359;
    const all = bytesRange(bytes);
    for (let d = 0; d < cardinality; d++) {
      const from = view.getUint32(4 * d);
      const to = view.getUint32(4 * d + 4);
      const values = readRoaringBitmap(subRange(all, from, to), { index: 'inverted_index' }).toArray();
      expect(firstDifference(writeNullVector(values), bytes.subarray(from, to)), `dict id ${d}`).toBeUndefined();
    }
  });
});
