/**
 * Segment generation throughput and peak memory: rows/s, MB/s of segment output and peak RSS of writing one
 * synthetic segment, for each requested row count. Each size runs in a fresh child process so its peak RSS is
 * its own. The `events` preset at 10 M rows writes a segment of about 1 GB (the memory check: the writer holds
 * one column at a time).
 *
 *   node dist/bench/generate.js [--rows 1000000,10000000] [--preset events] [--seed 1]
 *                               [--archive none|gzip|zstd|lz4] [--work <dir>] [--out bench/results/generate.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSegments } from '../src/generate/generator.js';

interface Result {
  preset: string;
  rows: number;
  archive: string;
  segmentBytes: number;
  archiveBytes: number | null;
  seconds: number;
  /** CPU time of the writing process (user + system): comparable across runs on a busy machine. */
  cpuSeconds: number;
  rowsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000,10000000' },
    preset: { type: 'string', default: 'events' },
    seed: { type: 'string', default: '1' },
    archive: { type: 'string', default: 'none' },
    work: { type: 'string' },
    out: { type: 'string', default: 'bench/results/generate.json' },
    child: { type: 'boolean', default: false },
  },
});

const archive = values.archive as 'none' | 'gzip' | 'zstd' | 'lz4';

async function runOne(rows: number): Promise<Result> {
  const work = mkdtempSync(join(values.work ?? tmpdir(), 'pinot-generate-bench-'));
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const [segment] = await generateSegments({
      preset: values.preset, rows, seed: values.seed!, out: work, archive, keepDirectories: true,
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = segment!;
    return {
      preset: values.preset!,
      rows,
      archive,
      segmentBytes: s.bytes,
      archiveBytes: s.archivePath ? statSync(s.archivePath).size : null,
      seconds: Math.round(seconds * 100) / 100,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      rowsPerSec: Math.round(rows / seconds),
      mbPerSec: Math.round((s.bytes / 1e6 / seconds) * 10) / 10,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (values.child) {
  process.stdout.write(JSON.stringify(await runOne(Number(values.rows))) + '\n');
} else {
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const rows of values.rows!.split(',').map(Number)) {
    const args = [self, '--child', '--rows', String(rows), '--preset', values.preset!, '--seed', values.seed!, '--archive', archive];
    if (values.work) args.push('--work', values.work);
    const line = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    const r = JSON.parse(line.trim().split('\n').pop()!) as Result;
    results.push(r);
    console.log(`${r.preset} ${r.rows} rows: ${r.seconds} s (${r.cpuSeconds} s CPU), ${r.rowsPerSec} rows/s, ${r.mbPerSec} MB/s `
      + `(${(r.segmentBytes / 1e6).toFixed(1)} MB segment${r.archiveBytes ? `, ${(r.archiveBytes / 1e6).toFixed(1)} MB ${r.archive}` : ''}), peak RSS ${r.peakRssMb} MB`);
  }
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  const machine = { cpus: cpus().length, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) };
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine, results }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
