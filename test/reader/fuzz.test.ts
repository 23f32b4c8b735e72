/**
 * Bounded fuzzing of the whole decode path: flip bytes in real segments (anywhere, and in index headers
 * where the lengths and versions live) and decode every row. The only acceptable outcomes are success
 * (the flip hit data) or an ExporterError with a stable code — no TypeError, no raw RangeError, no hang,
 * and no allocation far beyond what the files justify. CI uses a fixed seed so a red run is reproducible;
 * explore more with a random one (the seed is printed for replay):
 *   FUZZ_SEED=random FUZZ_ITERATIONS=2000 npx vitest run test/reader/fuzz.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import { openSegment } from '../../src/sources/deepstore/index.js';
import { parseIndexMap } from '../../src/sources/pinot/index-map.js';
import { memoryFiles } from '../../src/sources/pinot/memory-files.js';
import { PinotSegment } from '../../src/sources/pinot/segment.js';
import { describeFixtures } from '../support/fixtures.js';
import { rng } from '../support/random.js';

const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 1_000_000 : Number(process.env.FUZZ_SEED ?? 20261126);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 120);
const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));


async function loadFiles(location: string): Promise<Map<string, Uint8Array>> {
  const work = mkdtempSync(join(tmpdir(), 'fuzz-'));
  const opened = await openSegment(location, { workDir: work });
  try {
    const files = new Map<string, Uint8Array>();
    for (const name of opened.files.list()) {
      const r = opened.files.open(name);
      files.set(name, Uint8Array.from(r.read(0, r.length)));
    }
    return files;
  } finally {
    await opened.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

function decodeAll(files: Map<string, Uint8Array>): number {
  const segment = PinotSegment.open(memoryFiles(files), 'fuzzed');
  let rows = 0;
  for (const batch of segment.batches({ batchRows: 997 })) rows += batch.numRows;
  return rows;
}

const FIXTURES = [
  'events__0__12__20261126T0000Z.tar.gz',
  'rawfwd_version2.tar.gz',
  'rawfwd_version5.tar.gz',
  'dictvar_mvraw.tar.gz',
  'sorted_bigdecimal.tar.gz',
];

describeFixtures('fuzzed segments give only typed errors', 'fixtures/pinot-generated/1.5.1', (dir) => {
  it(`flipped bytes (seed ${SEED}, ${ITERATIONS} iterations per segment)`, async () => {
    console.log(`fuzz seed ${SEED}`);
    const random = rng(SEED);
    const rssBefore = process.resourceUsage().maxRSS;
    const outcomes = { ok: 0, typed: 0 };
    const codes = new Map<string, number>();
    for (const fixture of FIXTURES) {
      const pristine = await loadFiles(join(dir, fixture));
      expect(decodeAll(pristine)).toBeGreaterThan(0);
      const headers = parseIndexMap(pristine.get('index_map')!).filter((e) => e.size > 8);
      const names = ['columns.psf', 'columns.psf', 'columns.psf', 'index_map', 'metadata.properties'];
      for (let i = 0; i < ITERATIONS; i++) {
        const name = names[Math.floor(random() * names.length)]!;
        const bytes = Uint8Array.from(pristine.get(name)!);
        const flips = 1 + Math.floor(random() * 4);
        const positions: number[] = [];
        for (let f = 0; f < flips; f++) {
          let pos: number;
          if (name === 'columns.psf' && random() < 0.6) {
            // Index headers: where versions, counts, offsets and codec ids are.
            const e = headers[Math.floor(random() * headers.length)]!;
            pos = e.startOffset + Math.floor(random() * Math.min(e.size, 72));
          } else {
            pos = Math.floor(random() * bytes.length);
          }
          bytes[pos] = bytes[pos]! ^ (1 << Math.floor(random() * 8));
          positions.push(pos);
        }
        const files = new Map(pristine);
        files.set(name, bytes);
        try {
          decodeAll(files);
          outcomes.ok++;
        } catch (err) {
          const where = `${fixture} ${name} flips at ${positions.join(',')} (seed ${SEED}, iteration ${i})`;
          if (!(err instanceof ExporterError)) {
            throw new Error(`untyped error for ${where}: ${(err as Error)?.stack ?? String(err)}`);
          }
          expect(KNOWN_CODES.has(err.code), where).toBe(true);
          expect(err.message.length, where).toBeGreaterThan(0);
          codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
          outcomes.typed++;
        }
      }
    }
    console.log('fuzz outcomes', outcomes, Object.fromEntries(codes));
    // Both outcomes must occur, or the fuzzer is not reaching the decoders.
    expect(outcomes.typed).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
    // The fixtures are < 1 MB each: a corrupt length must not make us allocate hundreds of MB.
    const grownMb = (process.resourceUsage().maxRSS - rssBefore) / 1024;
    expect(grownMb).toBeLessThan(400);
  });
});
