/**
 * End-to-end export throughput and peak memory: one Pinot segment → Parquet → S3 multipart upload (fauxqs on
 * 127.0.0.1, in its own process) through `exportSegment` and the S3 sink, against conversion alone (the same
 * `exportSegment` pipeline into a sink that discards the bytes) and against the local sink.
 *
 *   node dist/bench/e2e-s3.js [--sizes 100MB,1GB] [--codec ZSTD] [--part-mb 8] [--queue 4] [--runs 1]
 *                             [--quick] [--no-local] [--parallel] [--generate-only] [--seed 1] [--cache <dir>]
 *                             [--out bench/results/e2e-s3.json]
 *
 * Segments: the `events` preset with a fixed seed, sized by on-disk bytes. The rows for a target size come
 * from measured (rows, bytes) points (two small probes first, then every segment generated), fitted as a
 * power law because dictionaries make bytes per row fall as segments grow. Segments are kept in the cache
 * directory, so a rerun only measures.
 *
 * `--parallel` runs the variants of a size at the same time instead of one after another: on a machine shared
 * with many busy processes they then see the same load, which matters more than the CPU they take from each
 * other. Every variant runs in a fresh child process, so `maxRSS` is that variant's own peak; the parent also
 * samples the child's RSS from /proc every 100 ms (the child's own timers stall while wasm encodes).
 *
 * The upload is checked, not assumed: the object's size must equal the bytes conversion produced, its
 * multipart ETag must equal the one computed from the local sink's file (MD5 of the part MD5s, `-<parts>`),
 * and the server must have answered that many UploadPart requests carrying exactly those bytes, one
 * CompleteMultipartUpload and no abort. Any mismatch fails the bench (exit code 1) without writing results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NODE_FLAGS } from '../src/cli/node-flags.js';
import { exportSegment } from '../src/control/export-segment.js';
import { ConfigError, ErrorCodes, ExporterError } from '../src/errors.js';
import { DEFAULT_START_MS, generateSegments } from '../src/generate/generator.js';
import { DEFAULT_PARQUET_OPTIONS, PARQUET_CODECS, type ParquetCodec, type ParquetOptions } from '../src/pipeline/parquet-options.js';
import { createSink, parseOutputConfig, S3_PINOT_FS } from '../src/sinks/fs-config.js';
import { fileWriter, publishVia, type PublishedFile, type Sink, type SinkWriter } from '../src/sinks/sink.js';
import { SegmentReader } from '../src/sources/segment-reader.js';
import { BENCH_S3_CREDENTIALS, startBenchS3Server, type BenchS3Stats } from './s3-server.js';
import { median } from './support.js';

type Variant = 'conversion' | 'local' | 's3';

/** What one variant's child process reports. */
interface ChildResult {
  variant: Variant;
  segment: string;
  rows: number;
  parquetBytes: number;
  rowGroups: number;
  /** Wall time of exportSegment (open → published). */
  seconds: number;
  /** When the last row group was handed to the sink: encoding done, only the sink's tail is left. */
  encodeSeconds: number;
  /** CPU (user + system) of the process during the export. */
  cpuSeconds: number;
  /** `process.resourceUsage().maxRSS` at the end: the process's peak. */
  peakRssMb: number;
  /** Longest and mean event-loop stall during the export (wasm encodes synchronously); null: no samples. */
  loopDelayMaxMs: number | null;
  loopDelayMeanMs: number | null;
  uri: string;
  etag?: string;
  /** Parts as the sink counted them (bytes ÷ part size). */
  sinkParts?: number;
  retries: number;
}

/** The upload-only diagnostic. */
interface UploadResult {
  variant: 'upload';
  uri: string;
  parquetBytes: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  parquetMbPerSec: number;
  retries: number;
}

interface RssWatch {
  peakMb: number;
  /** [seconds since start, MB], at most about 60 points. */
  timeline: [number, number][];
}

interface VariantResult extends ChildResult {
  /** Peak of the parent's /proc samples (every 100 ms). */
  sampledPeakRssMb: number;
  rssTimeline: [number, number][];
  rowsPerSec: number;
  segmentMbPerSec: number;
  parquetMbPerSec: number;
  /** Seconds of every run (the reported run is the median one). */
  runsSeconds: number[];
}

interface S3Check {
  uri: string;
  objectBytes: number;
  /** Checked against the multipart ETag computed from the local sink's file when that variant ran. */
  etag: string;
  partsInEtag: number;
  uploadPartRequests: number;
  uploadPartBytes: number;
  server: BenchS3Stats & { sampledPeakRssMb: number };
}

interface SizeResult {
  target: string;
  segment: string;
  rows: number;
  segmentBytes: number;
  parquetBytes: number;
  conversion: VariantResult;
  local?: VariantResult;
  /** The local sink's file uploaded on its own: how fast the sink and fauxqs go without conversion. */
  upload?: UploadResult & { sampledPeakRssMb: number; check: S3Check };
  s3: VariantResult & { check: S3Check };
  /** End-to-end rows/s ÷ conversion rows/s (wall clock). */
  e2eToConversion: number;
  /** The same on CPU seconds of the exporting process: what upload costs the exporter itself. */
  e2eToConversionCpu: number;
}

const MIB = 1024 * 1024;
const PROBE_ROWS = [25_000, 200_000];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    codec: { type: 'string', default: 'ZSTD' },
    'part-mb': { type: 'string', default: '8' },
    queue: { type: 'string', default: '4' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-local': { type: 'boolean', default: false },
    'generate-only': { type: 'boolean', default: false },
    parallel: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    cache: { type: 'string', default: join(tmpdir(), 'pinot-parquet-export-bench', 'e2e-s3') },
    out: { type: 'string' },
    // Internal: the child processes.
    child: { type: 'string' },
    segment: { type: 'string' },
    rows: { type: 'string' },
    dir: { type: 'string' },
    file: { type: 'string' },
    endpoint: { type: 'string' },
    bucket: { type: 'string' },
  },
});

function usage(detail: string, key: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, detail, { context: { key } });
}

function intOption(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw usage(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`, `--${name}`);
  return n;
}

/** `100MB`, `1GB`, `20mb`: decimal units, as segment sizes are usually quoted. */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)$/i.exec(text.trim());
  if (!m) throw usage(`--sizes takes sizes such as 100MB or 1GB, got ${JSON.stringify(text)}`, '--sizes');
  return Math.round(Number(m[1]) * { KB: 1e3, MB: 1e6, GB: 1e9 }[m[2]!.toUpperCase() as 'KB' | 'MB' | 'GB']);
}

const codec = values.codec!.toUpperCase() as ParquetCodec;
if (!(PARQUET_CODECS as readonly string[]).includes(codec)) throw usage(`--codec must be one of ${PARQUET_CODECS.join(', ')}, got ${values.codec}`, '--codec');
// fauxqs refuses request bodies over 11 MiB; S3 refuses parts under 5 MiB.
const partMb = intOption('part-mb', values['part-mb']!, 5, 8);
const queue = intOption('queue', values.queue!, 1, 64);
const parquet: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS, compressionCodec: codec };
const self = fileURLToPath(import.meta.url);

// ───────────────────────────── child processes ─────────────────────────────

/** Conversion alone: counts the bytes and drops them. Same `exportSegment` pipeline, no I/O. */
class DiscardSink implements Sink {
  readonly uri = 'discard:';
  uriFor(name: string): string {
    return `discard:${name}`;
  }
  async check(): Promise<void> {}
  open(name: string): SinkWriter {
    const started = performance.now();
    let bytes = 0;
    return fileWriter(async () => ({
      write: async (chunk: Uint8Array) => {
        bytes += chunk.byteLength;
      },
      commit: async (): Promise<PublishedFile> => ({ uri: this.uriFor(name), name, bytes, reused: false, seconds: (performance.now() - started) / 1000 }),
      abort: async () => {},
    }), (err) => (err instanceof Error ? err : new Error(String(err))));
  }
  publish(name: string, bytes: AsyncIterable<Uint8Array>): Promise<PublishedFile> {
    return publishVia(this, name, bytes, { segment: name });
  }
  async close(): Promise<void> {}
}

async function childSink(variant: Variant, onRetry: () => void): Promise<Sink> {
  if (variant === 'conversion') return new DiscardSink();
  if (variant === 'local') return createSink(parseOutputConfig({ outputDirURI: resolve(values.dir!) }));
  const target = parseOutputConfig({
    outputDirURI: `s3://${values.bucket}/e2e/`,
    'output.fs.className': S3_PINOT_FS,
    'output.fs.prop.endpoint': values.endpoint!,
    'output.fs.prop.region': 'us-east-1',
    // fauxqs takes any key; these are the launcher's fixed dummy ones, not secrets.
    'output.fs.prop.accessKey': BENCH_S3_CREDENTIALS.accessKeyId,
    'output.fs.prop.secretKey': BENCH_S3_CREDENTIALS.secretAccessKey,
    'output.fs.prop.multiPartUploadPartSize': String(partMb * MIB),
    'output.fs.prop.multiPartUploadQueueSize': String(queue),
  });
  if (target.warnings.length > 0) throw new Error(`unexpected S3 config warnings: ${target.warnings.join('; ')}`);
  return createSink(target, { onEvent: (e) => (e.type === 'retry' ? onRetry() : undefined) });
}

async function runChild(variant: Variant): Promise<ChildResult> {
  let retries = 0;
  const sink = await childSink(variant, () => retries++);
  const reader = await SegmentReader.open(values.segment!);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    let lastChunk = 0;
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await exportSegment({
      reader, sink, parquet, force: true, onProgress: () => {
        lastChunk = performance.now();
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    const file = result.file;
    if (result.summary === undefined) throw new Error(`${file.uri} was reused instead of written; the bench needs a fresh target`);
    return {
      variant,
      segment: reader.name,
      rows: result.rows,
      parquetBytes: file.bytes,
      rowGroups: result.summary.rowGroups.length,
      seconds: round(seconds, 3),
      encodeSeconds: round((lastChunk - t0) / 1000, 3),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      // No samples means the loop never reached its timer phase: the export ran as one promise chain.
      loopDelayMaxMs: loop.count === 0 ? null : round(loop.max / 1e6, 1),
      loopDelayMeanMs: loop.count === 0 ? null : round(loop.mean / 1e6, 1),
      uri: file.uri,
      etag: file.etag,
      sinkParts: file.parts,
      retries,
    };
  } finally {
    await reader.close();
    await sink.close();
  }
}

/** Upload alone: the local sink's file → the S3 sink, to tell the sink's and fauxqs's speed from conversion's. */
async function uploadChild(): Promise<UploadResult> {
  let retries = 0;
  const sink = await childSink('s3', () => retries++);
  try {
    const file = values.file!;
    const name = basename(file);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const published = await sink.publish(name, createReadStream(file, { highWaterMark: MIB }), { segment: name });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      variant: 'upload', uri: published.uri, parquetBytes: published.bytes, seconds: round(seconds, 3),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      parquetMbPerSec: round(published.bytes / 1e6 / seconds, 1), retries,
    };
  } finally {
    await sink.close();
  }
}

async function generateChild(): Promise<{ name: string; dir: string; bytes: number; rows: number; seconds: number }> {
  const rows = Number(values.rows);
  const t0 = performance.now();
  const [s] = await generateSegments({ preset: 'events', rows, seed: values.seed!, out: values.dir!, archive: 'none', creationTimeMs: DEFAULT_START_MS });
  return { name: s!.name, dir: s!.dir, bytes: s!.bytes, rows, seconds: round((performance.now() - t0) / 1000, 1) };
}

// ───────────────────────────── parent ─────────────────────────────

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Samples VmRSS of `pid` from /proc every 100 ms (Linux; elsewhere the samples stay empty). */
function watchRss(pid: number): { stop(): RssWatch } {
  const started = performance.now();
  const samples: [number, number][] = [];
  const sample = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb !== undefined) samples.push([(performance.now() - started) / 1000, Number(kb) / 1024]);
    } catch {
      // The process has exited, or there is no /proc.
    }
  };
  const timer = setInterval(sample, 100);
  sample();
  return {
    stop() {
      clearInterval(timer);
      const peakMb = Math.round(samples.reduce((m, [, mb]) => Math.max(m, mb), 0));
      const step = Math.max(1, Math.ceil(samples.length / 60));
      const timeline = samples.filter((_, i) => i % step === 0).map(([t, mb]): [number, number] => [round(t, 1), Math.round(mb)]);
      return { peakMb, timeline };
    },
  };
}

/** Children still running: killed when the bench fails, so a failed --parallel run leaves nothing behind. */
const live = new Set<ChildProcess>();

/** Runs `node e2e-s3.js --child <mode> …` and returns its last stdout line as JSON, with its sampled RSS. */
async function child<T>(mode: string, args: string[]): Promise<{ result: T; rss: RssWatch }> {
  const proc = spawn(process.execPath, [...NODE_FLAGS, self, '--child', mode, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  live.add(proc);
  proc.once('close', () => live.delete(proc));
  const watch = watchRss(proc.pid!);
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((res, rej) => {
    proc.once('error', rej);
    proc.once('close', res);
  });
  const rss = watch.stop();
  if (code !== 0) throw new Error(`bench child "${mode}" exited with code ${code}`);
  const line = out.trim().split('\n').pop() ?? '';
  return { result: JSON.parse(line) as T, rss };
}

function baseArgs(segmentDir: string): string[] {
  return ['--segment', segmentDir, '--codec', codec, '--part-mb', String(partMb), '--queue', String(queue)];
}

function withRates(r: ChildResult, rss: RssWatch, segmentBytes: number, runsSeconds: number[]): VariantResult {
  return {
    ...r,
    sampledPeakRssMb: rss.peakMb,
    rssTimeline: rss.timeline,
    rowsPerSec: Math.round(r.rows / r.seconds),
    segmentMbPerSec: round(segmentBytes / 1e6 / r.seconds, 1),
    parquetMbPerSec: round(r.parquetBytes / 1e6 / r.seconds, 1),
    runsSeconds,
  };
}

/** The run with the median wall time, carrying every run's seconds. */
function medianRun<T extends { result: ChildResult }>(runs: T[]): T & { runsSeconds: number[] } {
  const m = median(runs.map((r) => r.result.seconds));
  const pick = runs.find((r) => r.result.seconds === m)!;
  return { ...pick, runsSeconds: runs.map((r) => r.result.seconds) };
}

interface CachedSegment {
  name: string;
  dir: string;
  bytes: number;
  rows: number;
}

interface Calibration {
  points: { rows: number; bytes: number }[];
}

function calibrationFile(cache: string, seed: string): string {
  return join(cache, `calibration-events-seed${seed}.json`);
}

function loadCalibration(cache: string, seed: string): Calibration {
  const file = calibrationFile(cache, seed);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Calibration) : { points: [] };
}

function addPoint(cache: string, seed: string, cal: Calibration, rows: number, bytes: number): void {
  if (!cal.points.some((p) => p.rows === rows)) cal.points.push({ rows, bytes });
  cal.points.sort((a, b) => a.rows - b.rows);
  writeFileSync(calibrationFile(cache, seed), JSON.stringify(cal, null, 2) + '\n');
}

/**
 * Rows for `target` bytes: a power law bytes = c·rows^k through the two measured points nearest the target
 * (bytes per row falls as dictionaries saturate, so a straight ratio from a small probe overshoots).
 */
function estimateRows(target: number, points: readonly { rows: number; bytes: number }[]): number {
  if (points.length === 0) throw new Error('no calibration points');
  if (points.length === 1) return Math.round(target * (points[0]!.rows / points[0]!.bytes));
  const near = [...points].sort((a, b) => Math.abs(Math.log(a.bytes / target)) - Math.abs(Math.log(b.bytes / target))).slice(0, 2);
  const [a, b] = near.sort((x, y) => x.rows - y.rows) as [typeof points[0], typeof points[0]];
  const k = Math.log(b.bytes / a.bytes) / Math.log(b.rows / a.rows);
  return Math.max(1, Math.round(b.rows * (target / b.bytes) ** (1 / k)));
}

async function segmentFor(target: number, label: string, cache: string, seed: string): Promise<CachedSegment> {
  const cal = loadCalibration(cache, seed);
  for (const rows of PROBE_ROWS) {
    if (cal.points.some((p) => p.rows === rows)) continue;
    const dir = join(cache, `probe-${process.pid}`);
    try {
      const { result } = await child<CachedSegment>('generate', ['--rows', String(rows), '--seed', seed, '--dir', dir]);
      addPoint(cache, seed, cal, rows, result.bytes);
      console.log(`probe: ${rows} rows → ${(result.bytes / 1e6).toFixed(2)} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = join(cache, `events-seed${seed}-${label}`);
  const marker = join(dir, 'segment.json');
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as CachedSegment;
    if (existsSync(cached.dir)) return cached;
  }
  rmSync(dir, { recursive: true, force: true });
  const rows = estimateRows(target, cal.points);
  console.log(`generating the ${label} segment: ${rows} rows (events preset, seed ${seed}) into ${dir} …`);
  const { result } = await child<CachedSegment & { seconds: number }>('generate', ['--rows', String(rows), '--seed', seed, '--dir', dir]);
  addPoint(cache, seed, cal, rows, result.bytes);
  console.log(`  ${(result.bytes / 1e6).toFixed(1)} MB on disk in ${result.seconds} s`);
  const segment: CachedSegment = { name: result.name, dir: result.dir, bytes: result.bytes, rows };
  // Written last: a generation that was interrupted is not mistaken for a cached segment.
  writeFileSync(marker, JSON.stringify(segment, null, 2) + '\n');
  return segment;
}

/** The multipart ETag S3 gives a file uploaded in `partSize` parts: MD5 of the part MD5s, `-<parts>`. */
async function multipartEtag(file: string, partSize: number): Promise<string> {
  const digests: Buffer[] = [];
  let part = createHash('md5');
  let filled = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MIB }) as AsyncIterable<Buffer>) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, partSize - filled);
      part.update(chunk.subarray(at, at + take));
      filled += take;
      at += take;
      if (filled === partSize) {
        digests.push(part.digest());
        part = createHash('md5');
        filled = 0;
      }
    }
  }
  if (filled > 0) digests.push(part.digest());
  if (digests.length === 1) return `"${digests[0]!.toString('hex')}"`;
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`;
}

function verificationError(detail: string, uri: string): ExporterError {
  return new ExporterError(ErrorCodes.SINK_WRITE_FAILED, `bench verification failed: ${detail}`, { context: { uri } });
}

async function benchSize(label: string, segment: CachedSegment, runs: number, withLocal: boolean, parallel: boolean, cache: string): Promise<SizeResult> {
  const args = baseArgs(segment.dir);
  const partSize = partMb * MIB;
  const conversions: { result: ChildResult; rss: RssWatch }[] = [];
  const uploads: { result: ChildResult; rss: RssWatch; check: S3Check }[] = [];
  let local: { result: ChildResult; rss: RssWatch } | undefined;
  let upload: SizeResult['upload'];
  let expectedEtag: string | undefined;

  const localRuns = async () => {
    const dir = join(cache, `local-out-${process.pid}`);
    try {
      local = await child<ChildResult>('local', [...args, '--dir', dir]);
      const path = fileURLToPath(local.result.uri);
      const size = statSync(path).size;
      if (size !== local.result.parquetBytes) throw verificationError(`local file has ${size} bytes, the sink reported ${local.result.parquetBytes}`, local.result.uri);
      expectedEtag = await multipartEtag(path, partSize);
      const up = await uploadRun<UploadResult>('upload', [...args, '--file', path], partSize);
      upload = { ...up.result, sampledPeakRssMb: up.rss.peakMb, check: up.check };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const run = async (mode: 'conversion' | 's3') => {
    if (mode === 'conversion') conversions.push(await child<ChildResult>('conversion', args));
    else uploads.push(await uploadRun<ChildResult>('s3', args, partSize));
  };
  if (parallel) {
    // All variants at once: on a machine shared by many busy processes they then see the same load.
    await Promise.all([withLocal ? localRuns() : undefined, (async () => {
      for (let i = 0; i < runs; i++) await Promise.all([run('conversion'), run('s3')]);
    })()]);
  } else {
    if (withLocal) await localRuns();
    // Interleaved, so a change in machine load hits both variants alike.
    for (let i = 0; i < runs; i++) {
      await run('conversion');
      await run('s3');
    }
  }
  for (const u of [...uploads, ...(upload ? [upload] : [])]) {
    if (expectedEtag !== undefined && u.check.etag !== expectedEtag) {
      throw verificationError(`object ETag ${u.check.etag} differs from ${expectedEtag} computed from the local sink's file`, u.check.uri);
    }
  }

  const conv = medianRun(conversions);
  const e2e = medianRun(uploads);
  const bytes = conv.result.parquetBytes;
  for (const r of [...conversions, ...uploads, ...(local ? [local] : [])]) {
    if (r.result.parquetBytes !== bytes) throw verificationError(`${r.result.variant} wrote ${r.result.parquetBytes} bytes, conversion ${bytes}`, r.result.uri);
  }
  const conversion = withRates(conv.result, conv.rss, segment.bytes, conv.runsSeconds);
  const s3 = { ...withRates(e2e.result, e2e.rss, segment.bytes, e2e.runsSeconds), check: e2e.check };
  return {
    target: label,
    segment: segment.name,
    rows: conv.result.rows,
    segmentBytes: segment.bytes,
    parquetBytes: bytes,
    conversion,
    local: local ? withRates(local.result, local.rss, segment.bytes, [local.result.seconds]) : undefined,
    upload,
    s3,
    e2eToConversion: round(s3.rowsPerSec / conversion.rowsPerSec, 3),
    e2eToConversionCpu: round(conversion.cpuSeconds / s3.cpuSeconds, 3),
  };
}

/** One end-to-end run against a fresh fauxqs process, then the checks that the object really is there. */
async function uploadRun<R extends { uri: string; parquetBytes: number }>(
  mode: 's3' | 'upload', args: string[], partSize: number,
): Promise<{ result: R; rss: RssWatch; check: S3Check }> {
  const server = await startBenchS3Server({ bucket: 'bench' });
  const serverRss = watchRss(server.pid);
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: server.credentials });
  let run: { result: R; rss: RssWatch };
  let check: Omit<S3Check, 'server'>;
  let final: BenchS3Stats;
  let serverPeak: RssWatch;
  try {
    run = await child<R>(mode, [
      ...args, '--endpoint', server.endpoint, '--bucket', server.bucket,
    ]);
    const r = run.result;
    const key = decodeURIComponent(new URL(r.uri).pathname.slice(1));
    const head = await client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: key }));
    const stats = await server.stats();
    const etag = head.ETag ?? '';
    const partsInEtag = Number(/-(\d+)"?$/.exec(etag)?.[1] ?? 1);
    const uploadPartRequests = stats.requests['UploadPart 2xx'] ?? 0;
    const expectParts = Math.max(1, Math.ceil(r.parquetBytes / partSize));
    const fail = (detail: string) => verificationError(detail, r.uri);
    if (head.ContentLength !== r.parquetBytes) throw fail(`object has ${head.ContentLength} bytes, the export produced ${r.parquetBytes}`);
    if (expectParts > 1) {
      if (partsInEtag !== expectParts) throw fail(`ETag ${etag} says ${partsInEtag} parts, expected ${expectParts}`);
      if (uploadPartRequests !== expectParts) throw fail(`server answered ${uploadPartRequests} UploadPart requests with 2xx, expected ${expectParts}`);
      if (stats.partBytes !== r.parquetBytes) throw fail(`server received ${stats.partBytes} part bytes, expected ${r.parquetBytes}`);
      if ((stats.requests['CompleteMultipartUpload 2xx'] ?? 0) !== 1) throw fail('no (or more than one) CompleteMultipartUpload succeeded');
    } else if (stats.putBytes !== r.parquetBytes) {
      throw fail(`server received ${stats.putBytes} PutObject bytes, expected ${r.parquetBytes}`);
    }
    if ((stats.requests['AbortMultipartUpload 2xx'] ?? 0) > 0) throw fail('an upload was aborted');
    await client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: key }));
    check = { uri: r.uri, objectBytes: head.ContentLength, etag, partsInEtag, uploadPartRequests, uploadPartBytes: stats.partBytes };
  } finally {
    client.destroy();
    final = await server.stop();
    serverPeak = serverRss.stop();
  }
  return { ...run, check: { ...check, server: { ...final, sampledPeakRssMb: serverPeak.peakMb } } };
}

function table(results: SizeResult[]): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const lines = [
    '| segment | variant | seconds | rows/s | segment MB/s | Parquet MB/s | CPU s | peak RSS MB | parts | ÷ conversion (wall) | ÷ conversion (CPU) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const name = `${r.target}: ${mb(r.segmentBytes)} MB, ${r.rows.toLocaleString('en-US')} rows → ${mb(r.parquetBytes)} MB Parquet, ${r.conversion.rowGroups} row group(s)`;
    const c = r.conversion;
    const row = (v: VariantResult, label: string, parts: string) =>
      `| ${name} | ${label} | ${v.seconds.toFixed(1)} | ${v.rowsPerSec.toLocaleString('en-US')} | ${v.segmentMbPerSec} | ${v.parquetMbPerSec} | ${v.cpuSeconds} | ${v.peakRssMb} | ${parts} | `
      + `${(v.rowsPerSec / c.rowsPerSec).toFixed(2)} | ${(c.cpuSeconds / v.cpuSeconds).toFixed(2)} |`;
    lines.push(row(c, 'conversion only', '–'));
    if (r.local) lines.push(row(r.local, 'local sink', '–'));
    lines.push(row(r.s3, `S3 end to end (fauxqs peak ${r.s3.check.server.peakRssMb} MB)`, String(r.s3.check.partsInEtag)));
    const u = r.upload;
    if (u) {
      lines.push(`| ${name} | upload only (file → S3 sink) | ${u.seconds.toFixed(1)} | – | – | ${u.parquetMbPerSec} | ${u.cpuSeconds} | ${u.peakRssMb} | ${u.check.partsInEtag} | – | – |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  // The SDK's notice that releases after January 2027 need Node 22 (see docs/libraries.md §5), once per child.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const quick = values.quick!;
  const sizes = (values.sizes ?? (quick ? '20MB' : '100MB,1GB')).split(',').map((s) => s.trim()).filter(Boolean);
  const runs = intOption('runs', values.runs ?? '1', 1, 9);
  const cache = resolve(values.cache!);
  const seed = values.seed!;
  mkdirSync(cache, { recursive: true });
  const out = resolve(values.out ?? (quick ? join(cache, 'e2e-s3-quick.json') : 'bench/results/e2e-s3.json'));
  const settings = { preset: 'events', seed, codec, partSizeMiB: partMb, queueSize: queue, runs, rowGroupSizeBytes: parquet.rowGroupSizeBytes };
  for (const label of sizes) {
    const segment = await segmentFor(parseSize(label), label, cache, seed);
    console.log(`${label}: ${segment.name}, ${(segment.bytes / 1e6).toFixed(1)} MB, ${segment.rows} rows; ${runs} run(s) per variant`);
    if (values['generate-only']) continue;
    const load = loadavg();
    const r = await benchSize(label, segment, runs, !values['no-local'], values.parallel!, cache);
    const d = r.s3;
    console.log(`  conversion ${r.conversion.seconds} s, S3 ${d.seconds} s (encode done at ${d.encodeSeconds} s, upload tail ${round(d.seconds - d.encodeSeconds, 2)} s), `
      + `e2e ÷ conversion ${r.e2eToConversion}; peak RSS ${r.conversion.peakRssMb} / ${d.peakRssMb} MB; ${d.check.partsInEtag} parts, ETag ${d.check.etag}`);
    const machine = { cpus: cpus().length, loadAverageStart: load.map((x) => round(x, 2)), loadAverageEnd: loadavg().map((x) => round(x, 2)) };
    writeResults(out, settings, { ...r, date: new Date().toISOString(), machine, parallel: values.parallel! });
  }
}

/**
 * Adds one size's result to `out`, replacing an earlier result for the same size; results measured with other
 * settings are dropped, so one file never mixes settings. Sizes can thus be measured in separate invocations.
 */
function writeResults(out: string, settings: Record<string, unknown>, result: SizeResult & { date: string; machine: unknown; parallel: boolean }): void {
  type File = { node: string; settings: Record<string, unknown>; results: (SizeResult & { date: string; machine: unknown; parallel: boolean })[]; markdown: string };
  let previous: File | undefined;
  try {
    previous = JSON.parse(readFileSync(out, 'utf8')) as File;
  } catch {
    previous = undefined;
  }
  const same = previous !== undefined && JSON.stringify(previous.settings) === JSON.stringify(settings) && previous.node === process.version;
  const results = [...(same ? previous!.results.filter((r) => r.target !== result.target) : []), result]
    .sort((a, b) => a.segmentBytes - b.segmentBytes);
  const markdown = table(results);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ node: process.version, settings, results, markdown } satisfies File, null, 2) + '\n');
  console.log(`\n${markdown}\n\nwrote ${out}`);
}

if (values.child !== undefined) {
  const mode = values.child;
  const result = mode === 'generate' ? await generateChild()
    : mode === 'upload' ? await uploadChild()
      : mode === 'conversion' || mode === 'local' || mode === 's3' ? await runChild(mode)
      : (() => {
        throw usage(`unknown child mode ${mode}`, '--child');
      })();
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  try {
    await main();
  } catch (err) {
    for (const proc of live) proc.kill();
    throw err;
  }
}
