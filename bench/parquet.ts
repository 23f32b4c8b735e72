/**
 * Segment → Parquet throughput against peers, in one run on the same rows (issue 4, part 5):
 *   ours          segmentToParquet on the segment with the default writer (auto → the direct writer: Pinot
 *                 dictionaries and ids straight into Parquet pages, one column chunk at a time)
 *   ours-2t       the same with the column chunks encoded on 2 worker threads
 *   ours-wasm     segmentToParquet forced through parquet-wasm (Pinot decode + Arrow batches + arrow-rs in wasm)
 *   duckdb        COPY … TO parquet from its in-memory table (load timed separately; the headline is COPY)
 *   parquet-wasm  the Arrow batches our reader and plan produce, built beforehand (no Pinot decode)
 *   hyparquet-writer  columnar JS arrays (ZSTD through zstd-napi)
 *   parquetjs     @dsnp/parquetjs 1.8.8 from row objects, SNAPPY only, first --parquetjs-rows rows
 * for `events` segments generated once and cached (preset + rows + seed) and the real baseballStats fixture,
 * with the same codec and rows per row group for every writer. Each writer × segment × codec runs in a child
 * process of its own, so its peak RSS (maxRSS) is its own; every child runs node with the pinot-export
 * executable's flags (NODE_FLAGS, src/cli/node-flags.ts). The runs of ours, ours-2t, ours-wasm and DuckDB
 * are interleaved round by round and compared per round (this machine's speed drifts between minutes); the
 * JS writers, whose 10M-row inputs are too big to keep beside DuckDB's, run one after another. Writes
 * bench/results/parquet.json and .svg and prints a markdown table for the README.
 *
 *   node dist/bench/parquet.js [--rows 1000000,10000000] [--codecs SNAPPY,ZSTD] [--runs 3] [--quick]
 *        [--writers ours,duckdb,…] [--parquetjs-rows 1000000] [--no-baseball] [--seed 1] [--cache <dir>]
 *        [--out bench/results/parquet.json] [--svg bench/results/parquet.svg]
 *
 * --quick: events at 100k rows + baseballStats, 1 run, parquetjs capped at 20k rows; results go to the temp
 * dir (not bench/results) unless --out/--svg say otherwise; --out alone puts the chart beside it (.json → .svg).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/cli/node-flags.js';
import { PARQUET_CODECS, type ParquetCodec } from '../src/pipeline/parquet-options.js';
import { barChartSvg, type BarGroup } from './chart.js';
import { WRITERS, type FromChild, type Measurement, type PeerJob, type RunTiming, type ToChild, type WriterName } from './peers/protocol.js';
import { cachedSegment, defaultCacheDir, type BenchSegment } from './peers/segments.js';
import { median } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs as dist/bench/parquet.js). */
const root = resolve(here, '..', '..');

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000,10000000' },
    codecs: { type: 'string', default: 'SNAPPY,ZSTD' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    writers: { type: 'string', default: WRITERS.join(',') },
    'parquetjs-rows': { type: 'string', default: '1000000' },
    'no-baseball': { type: 'boolean', default: false },
    baseball: { type: 'string', default: resolve(root, '..', 'shared', 'fixtures', 'pinot-segments', 'baseballStats-v3', 'baseballStats_OFFLINE_0.2024-10.tar.gz') },
    seed: { type: 'string', default: '1' },
    cache: { type: 'string', default: defaultCacheDir() },
    out: { type: 'string' },
    svg: { type: 'string' },
  },
});

function usage(message: string): never {
  process.stderr.write(`bench/parquet: ${message}\n`);
  process.exit(2);
}

function positiveInts(name: string, text: string): number[] {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isSafeInteger(x) || x < 1)) usage(`--${name} must be positive integers, got ${JSON.stringify(text)}`);
  return xs;
}

// A smoke run must not overwrite the published results: --quick writes under the temp dir unless told otherwise.
const resultsDir = values.quick ? tmpdir() : join(root, 'bench', 'results');
const outPath = values.out ?? join(resultsDir, values.quick ? 'pinot-parquet-bench-quick.json' : 'parquet.json');
// The chart goes beside --out when only --out is given, so a run written elsewhere leaves the published chart alone.
const svgPath = values.svg
  ?? (values.out !== undefined ? values.out.replace(/(\.json)?$/, '.svg') : join(resultsDir, values.quick ? 'pinot-parquet-bench-quick.svg' : 'parquet.svg'));
const rowCounts = values.quick ? [100_000] : positiveInts('rows', values.rows!);
const runs = values.quick ? 1 : positiveInts('runs', values.runs!)[0]!;
// --quick also caps parquetjs (≈5k rows/s) so a smoke run stays short.
const parquetjsRows = Math.min(positiveInts('parquetjs-rows', values['parquetjs-rows']!)[0]!, values.quick ? 20_000 : Infinity);
const codecs = values.codecs!.split(',').map((c) => c.trim().toUpperCase());
for (const c of codecs) if (!(PARQUET_CODECS as readonly string[]).includes(c)) usage(`--codecs: unknown codec ${c} (known: ${PARQUET_CODECS.join(', ')})`);
const writers = values.writers!.split(',').map((w) => w.trim());
for (const w of writers) if (!(WRITERS as readonly string[]).includes(w)) usage(`--writers: unknown writer ${w} (known: ${WRITERS.join(', ')})`);

const log = (line: string): void => void process.stderr.write(line + '\n');

interface Failure {
  writer: WriterName;
  segment: string;
  codec: ParquetCodec;
  error: string;
}

/**
 * A writer child (peers/child.ts) driven one run at a time. Messages the child sends before they are asked for
 * wait in `inbox`; the child's exit fails whatever is awaited.
 */
class Peer {
  private readonly child: ChildProcess;
  private readonly inbox: FromChild[] = [];
  private waiter: { resolve: (m: FromChild) => void; reject: (err: Error) => void } | undefined;
  private gone: Error | undefined;

  constructor(readonly job: PeerJob) {
    // Node runs as the pinot-export executable runs it (NODE_FLAGS), for every writer alike; generous heap: the
    // JS writers' inputs for 10M rows are large JS arrays (a measured cost, not a leak).
    this.child = fork(join(here, 'peers', 'child.js'), [JSON.stringify(job)], {
      execArgv: [...NODE_FLAGS, '--max-old-space-size=16384'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromChild) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w.resolve(m);
      else this.inbox.push(m);
    });
    const end = (err: Error): void => {
      this.gone ??= err;
      this.waiter?.reject(this.gone);
      this.waiter = undefined;
    };
    this.child.on('error', end);
    this.child.on('exit', (code, signal) => end(new Error(`exited with ${signal ?? `code ${code}`}`)));
  }

  private async next<T extends FromChild['type']>(type: T): Promise<Extract<FromChild, { type: T }>> {
    const m = this.inbox.shift() ?? await new Promise<FromChild>((resolve, reject) => {
      if (this.gone) reject(this.gone);
      else this.waiter = { resolve, reject };
    });
    if (m.type !== type) throw new Error(`sent ${m.type} where ${type} was expected`);
    return m as Extract<FromChild, { type: T }>;
  }

  ready(): Promise<unknown> {
    return this.next('ready');
  }

  async run(): Promise<RunTiming> {
    const reply = this.next('ran');
    this.child.send({ type: 'run' } satisfies ToChild);
    return (await reply).timing;
  }

  async finish(): Promise<Measurement> {
    const reply = this.next('measured');
    this.child.send({ type: 'finish' } satisfies ToChild);
    return (await reply).measurement;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

/**
 * Writers whose runs are interleaved with DuckDB's, round by round (the headline comparison). Their inputs are
 * small, so they can all stay prepared beside DuckDB's in-memory table; the JS writers' inputs at 10M rows (GBs
 * of JS arrays each) could not, so they run one writer at a time.
 */
const INTERLEAVED: readonly WriterName[] = ['ours', 'ours-2t', 'ours-wasm', 'duckdb'];

const segments: BenchSegment[] = [];
const skipped: string[] = [];
for (const rows of rowCounts) segments.push(await cachedSegment(values.cache!, 'events', rows, values.seed!, log));
if (!values['no-baseball']) {
  if (existsSync(values.baseball!)) segments.push({ label: 'baseballStats', location: values.baseball!, source: 'fixture' });
  else {
    skipped.push(`baseballStats: fixture ${values.baseball} not found (clone without ../shared); skipped`);
    log(`note: ${skipped.at(-1)}`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'pinot-parquet-bench-'));
const measurements: Measurement[] = [];
const failures: Failure[] = [];
/** `${writer} ${segment} ${codec}` of the measurements whose runs were interleaved with DuckDB's. */
const interleavedWithDuckdb = new Set<string>();
const key = (m: Pick<Measurement, 'writer' | 'segment' | 'codec'>): string => `${m.writer} ${m.segment} ${m.codec}`;
const t0 = performance.now();
const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * Prepares every writer of `group` (each in its own child, one after another), then runs them round by round,
 * each round in an order rotated by one so no writer always runs first or right after the same one.
 */
async function runGroup(group: WriterName[], segment: BenchSegment, codec: ParquetCodec): Promise<void> {
  const peers: Peer[] = [];
  const fail = (peer: Peer, err: unknown): void => {
    failures.push({ writer: peer.job.writer, segment: segment.label, codec, error: (err as Error).message });
    log(`  ${peer.job.writer} FAILED: ${(err as Error).message}`);
    peer.kill();
    peers.splice(peers.indexOf(peer), 1);
  };
  try {
    for (const writer of group) {
      const job: PeerJob = { writer, location: segment.location, segment: segment.label, codec, workDir: work };
      if (writer === 'parquetjs') job.maxRows = parquetjsRows;
      log(`${segment.label} ${codec} ${writer}: preparing …`);
      const peer = new Peer(job);
      peers.push(peer);
      try {
        await peer.ready();
      } catch (err) {
        fail(peer, err);
      }
    }
    for (let r = 0; r < runs; r++) {
      const order = peers.map((_, i) => peers[(i + r) % peers.length]!);
      for (const peer of order) {
        try {
          const t = await peer.run();
          log(`  round ${r + 1}: ${peer.job.writer} ${t.seconds.toFixed(3)} s${t.loadSeconds === undefined ? '' : ` (+ load ${t.loadSeconds.toFixed(3)} s)`}`);
        } catch (err) {
          fail(peer, err);
        }
      }
    }
    const duckdbInGroup = peers.some((p) => p.job.writer === 'duckdb');
    for (const peer of [...peers]) {
      try {
        const m = await peer.finish();
        measurements.push(m);
        if (duckdbInGroup) interleavedWithDuckdb.add(key(m));
        log(`  ${m.writer}: ${m.rows} rows in ${m.seconds} s (median)${m.loadSeconds === undefined ? '' : ` (+ load ${m.loadSeconds} s)`}: ${m.rowsPerSec.toLocaleString('en-US')} rows/s, `
          + `${(m.fileBytes / 1e6).toFixed(1)} MB, ${m.rowGroups} row group(s), peak RSS ${m.peakRssMb} MB`);
      } catch (err) {
        fail(peer, err);
      }
    }
  } finally {
    for (const peer of peers) peer.kill();
  }
}

try {
  for (const segment of segments) {
    for (const codec of codecs as ParquetCodec[]) {
      // parquetjs 1.8.8 cannot write ZSTD (or GZIP dictionaries).
      const chosen = (writers as WriterName[]).filter((w) => w !== 'parquetjs' || codec === 'SNAPPY');
      const together = chosen.filter((w) => INTERLEAVED.includes(w));
      if (together.length > 0) await runGroup(together, segment, codec);
      for (const writer of chosen.filter((w) => !INTERLEAVED.includes(w))) await runGroup([writer], segment, codec);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---- report ---------------------------------------------------------------------------------------------

const duck = (m: Measurement): Measurement | undefined => measurements.find((d) => d.writer === 'duckdb' && d.segment === m.segment && d.codec === m.codec);
const ratio = (a: number, b: number | undefined): number | null => (b ? Math.round((a / b) * 100) / 100 : null);

/**
 * Rows/s of `m` over DuckDB's, round by round, when their runs were interleaved (run r of each in round r):
 * the machine's speed drifts by ±25 % over minutes, and a round's two runs share most of that drift.
 */
function roundRatios(m: Measurement, d: Measurement | undefined): number[] | null {
  if (d === undefined || m === d || !interleavedWithDuckdb.has(key(m)) || !interleavedWithDuckdb.has(key(d))) return null;
  if (m.allSeconds.length !== d.allSeconds.length) return null;
  return m.allSeconds.map((s, r) => ratio(m.rows / s, d.rows / d.allSeconds[r]!)!);
}

interface Row {
  writer: string;
  segment: string;
  codec: string;
  rows: number;
  rowsPerSec: number;
  cpuSeconds: number | null;
  /** The median of byRound when the runs were interleaved with DuckDB's, else the ratio of the medians. */
  vsDuckdbCopy: number | null;
  vsDuckdbCopyByRound: number[] | null;
  vsDuckdbLoadCopy: number | null;
  mbPerSec: string;
  fileMb: number;
  peakRssMb: number | string;
}

const rows: Row[] = [];
for (const m of measurements) {
  const d = duck(m);
  const byRound = roundRatios(m, d);
  rows.push({
    writer: m.writer === 'duckdb' ? 'duckdb COPY' : m.writer,
    segment: m.segment,
    codec: m.codec,
    rows: m.rows,
    rowsPerSec: m.rowsPerSec,
    cpuSeconds: m.cpuSeconds,
    vsDuckdbCopy: byRound === null ? ratio(m.rowsPerSec, d?.rowsPerSec) : median(byRound),
    vsDuckdbCopyByRound: byRound,
    vsDuckdbLoadCopy: ratio(m.rowsPerSec, d?.loadAndWriteRowsPerSec),
    mbPerSec: m.segmentMbPerSec === undefined ? `${m.parquetMbPerSec}` : `${m.parquetMbPerSec} (segment ${m.segmentMbPerSec})`,
    fileMb: Math.round(m.fileBytes / 1e5) / 10,
    peakRssMb: `${m.peakRssMb} (input ${m.inputRssMb})`,
  });
  if (m.writer === 'duckdb' && m.loadAndWriteRowsPerSec !== undefined) {
    rows.push({
      writer: 'duckdb load+COPY',
      segment: m.segment,
      codec: m.codec,
      rows: m.rows,
      rowsPerSec: m.loadAndWriteRowsPerSec,
      cpuSeconds: null,
      vsDuckdbCopy: ratio(m.loadAndWriteRowsPerSec, m.rowsPerSec),
      vsDuckdbCopyByRound: null,
      vsDuckdbLoadCopy: 1,
      mbPerSec: '',
      fileMb: Math.round(m.fileBytes / 1e5) / 10,
      peakRssMb: '',
    });
  }
}

const fmt = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)}×`);
const table = [
  '| writer | segment | codec | rows | rows/s | vs DuckDB COPY | per round | vs DuckDB load+COPY | CPU s | Parquet MB/s | file MB | peak RSS MB (after input) |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.writer} | ${r.segment} | ${r.codec} | ${r.rows.toLocaleString('en-US')} | ${r.rowsPerSec.toLocaleString('en-US')} | ${fmt(r.vsDuckdbCopy)} | ${r.vsDuckdbCopyByRound?.map((x) => x.toFixed(2)).join(' / ') ?? ''} | ${fmt(r.vsDuckdbLoadCopy)} | ${r.cpuSeconds ?? ''} | ${r.mbPerSec} | ${r.fileMb} | ${r.peakRssMb} |`),
].join('\n');

const cpuList = cpus();
const machine = {
  cpuModel: cpuList[0]?.model ?? 'unknown',
  cores: cpuList.length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  /** 1/5/15-minute load averages before and after the run: a busy machine slows every writer. */
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
};
const args = { rows: rowCounts, codecs, runs, quick: values.quick, writers, parquetjsRows, seed: values.seed };
const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine,
  args,
  seconds: Math.round((performance.now() - t0) / 100) / 10,
  method: [
    'Each writer × segment × codec runs in its own child process; times are the median of `runs` runs; peak RSS is that process\'s maxRSS.',
    `Runs of ${INTERLEAVED.join(', ')} are interleaved: all are prepared first, then each round runs every one of them once (one at a time, the order rotated each round). Their "vs DuckDB COPY" is the median of the per-round ratios (vsDuckdbCopyByRound), so drift in the machine's speed between minutes cancels; the other writers run one after another and are compared by the ratio of medians.`,
    'Input preparation (Arrow batches, JS arrays, DuckDB table) happens before timing and is reported as inputRssMb; ours reads the segment inside the timed part.',
    'Rows per row group: derived from rowGroupSizeBytes (128 MiB) and the segment\'s index bytes per row, exactly as segmentToParquet does, and given to every writer.',
    'DuckDB: time = COPY only (headline), on its default thread count; loadSeconds = bulk load of the same rows into its in-memory table (timestamps as TIMESTAMP_MS, JSON as VARCHAR).',
    'hyparquet-writer and parquetjs write JSON columns as UTF8 strings (their JSON types would serialise the text again).',
    'CPU seconds are user + system of the writing process during the timed part (comparable across runs on a busy machine).',
    `parquetjs: SNAPPY only, first ${parquetjsRows.toLocaleString('en-US')} rows.`,
  ],
  skipped,
  failures,
  measurements,
  table: rows,
};

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(report, null, 2) + '\n');
const groups: BarGroup[] = [];
for (const s of segments) {
  for (const codec of codecs) {
    const bars = rows.filter((r) => r.segment === s.label && r.codec === codec).map((r) => ({
      series: r.writer,
      value: r.rowsPerSec,
      label: `${(r.rowsPerSec / 1e6).toFixed(2)}M rows/s${r.vsDuckdbCopy === null || r.writer === 'duckdb COPY' ? '' : ` (${fmt(r.vsDuckdbCopy)})`}`,
    }));
    if (bars.length > 0) groups.push({ title: `${s.label} ${codec}`, bars });
  }
}
writeFileSync(svgPath, barChartSvg(
  'Segment → Parquet, rows/s (higher is better; × = ratio to DuckDB COPY)',
  `${machine.cores} × ${machine.cpuModel}, Node ${process.version}, median of ${runs} run(s), ${report.date.slice(0, 10)}`,
  'rows per second',
  groups,
));

console.log(table);
if (skipped.length > 0) console.log('\n' + skipped.map((s) => `- ${s}`).join('\n'));
if (failures.length > 0) console.log('\nFailures:\n' + failures.map((f) => `- ${f.writer} ${f.segment} ${f.codec}: ${f.error}`).join('\n'));
log(`wrote ${outPath} and ${svgPath} (${report.seconds} s)`);
if (failures.length > 0) process.exitCode = 1;
