/**
 * The segments the Parquet bench converts: generated ones cached on disk (keyed by preset, rows and seed, so a
 * rerun reuses them — the 10M-row `events` segment takes minutes to write) and real fixtures.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSegments } from '../../src/generate/generator.js';

export interface BenchSegment {
  /** Short label for tables and the chart, e.g. `events 1M`. */
  label: string;
  /** A segment directory or archive the SegmentReader opens. */
  location: string;
  source: 'generated' | 'fixture';
}

/** Default cache: a fixed directory under the OS temp dir, so reruns find earlier segments. */
export function defaultCacheDir(): string {
  return process.env.PINOT_BENCH_CACHE ?? join(tmpdir(), 'pinot-parquet-export-bench-cache');
}

export function rowsLabel(rows: number): string {
  if (rows >= 1_000_000 && rows % 100_000 === 0) return `${rows / 1_000_000}M`;
  if (rows >= 1000 && rows % 100 === 0) return `${rows / 1000}k`;
  return String(rows);
}

interface CacheMarker {
  preset: string;
  rows: number;
  seed: string;
  segment: string;
  bytes: number;
}

/**
 * The segment directory of `preset` × `rows` × `seed`, generated on first use. Generation writes into a
 * scratch directory renamed into place with a marker file last, so an interrupted run is never mistaken for a
 * cached segment.
 */
export async function cachedSegment(cacheDir: string, preset: string, rows: number, seed: string, log: (line: string) => void): Promise<BenchSegment> {
  const key = `${preset}-${rows}-seed${seed}`;
  const dir = join(cacheDir, key);
  const markerPath = join(dir, 'complete.json');
  const label = `${preset} ${rowsLabel(rows)}`;
  if (existsSync(markerPath)) {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as CacheMarker;
    log(`using cached ${label} segment ${join(dir, marker.segment)}`);
    return { label, location: join(dir, marker.segment), source: 'generated' };
  }
  mkdirSync(cacheDir, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  const scratch = join(cacheDir, `${key}.partial-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  log(`generating ${label} segment (seed ${seed}) into ${dir} …`);
  const t0 = performance.now();
  try {
    const [segment] = await generateSegments({ preset, rows, seed, out: scratch, keepDirectories: true });
    const s = segment!;
    const marker: CacheMarker = { preset, rows, seed, segment: s.name, bytes: s.bytes };
    writeFileSync(join(scratch, 'complete.json'), JSON.stringify(marker, null, 2) + '\n');
    renameSync(scratch, dir);
    log(`generated ${label}: ${(s.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { label, location: join(dir, s.name), source: 'generated' };
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}
