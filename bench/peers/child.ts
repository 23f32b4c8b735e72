/**
 * One writer × segment × codec, in a process of its own so its peak RSS is its own: prepares the input
 * (untimed) and says `ready`; then runs the write once per `run` request from the parent (which interleaves
 * the runs of several children); on `finish` checks the last file's footer (row count) with hyparquet and
 * sends the Measurement, all over the fork IPC channel (protocol.ts).
 *
 *   (forked by bench/parquet.ts) node dist/bench/peers/child.js '<PeerJob JSON>'
 */
import { on } from 'node:events';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../support.js';
import { columnShapes, convertedBatches, jsColumns, prepareSegment, type PreparedSegment } from './input.js';
import { peakRssMb, rssMb, type FromChild, type Measurement, type PeerJob, type RunTiming, type ToChild } from './protocol.js';

interface Runner {
  run(file: string): Promise<RunTiming>;
  close?(): void;
  notes: string[];
}

/**
 * Each writer's modules are imported only by its own child: loaded statically, DuckDB's native library and the
 * JS writers added ~45 MB to every child's RSS, ours included.
 */
async function runnerFor(job: PeerJob, p: PreparedSegment): Promise<Runner> {
  switch (job.writer) {
    case 'ours': case 'ours-2t': case 'ours-wasm': {
      const { runOurs } = await import('./ours.js');
      if (job.writer === 'ours') return { run: (f) => runOurs(p, f), notes: ['writer: auto (direct)'] };
      if (job.writer === 'ours-2t') return { run: (f) => runOurs(p, f, 'auto', 2), notes: ['writer: direct, 2 encoder threads'] };
      return { run: (f) => runOurs(p, f, 'parquet-wasm'), notes: ['writer: parquet-wasm'] };
    }
    case 'parquet-wasm': {
      const { runParquetWasm } = await import('./parquet-wasm.js');
      const batches = await convertedBatches(p);
      return { run: (f) => runParquetWasm(p, batches, f), notes: ['input: Arrow batches built beforehand; timed part includes the Arrow IPC copy into wasm'] };
    }
    case 'duckdb': {
      const { openDuckDB } = await import('./duckdb.js');
      const shapes = columnShapes(p);
      const duck = await openDuckDB(p, shapes, await convertedBatches(p));
      return { run: (f) => duck.run(f), close: () => duck.close(), notes: [`DuckDB threads=${duck.threads}; time = COPY only, load timed separately`] };
    }
    case 'hyparquet-writer': case 'parquetjs': {
      const shapes = columnShapes(p);
      const columns = jsColumns(await convertedBatches(p), shapes, p.rows);
      if (job.writer === 'parquetjs') {
        const { runParquetjs } = await import('./parquetjs.js');
        return { run: (f) => runParquetjs(p, shapes, columns, f), notes: ['input: row objects built from JS columns inside the timed loop'] };
      }
      const { runHyparquet } = await import('./hyparquet.js');
      return { run: (f) => runHyparquet(p, shapes, columns, f), notes: ['input: columnar JS arrays built beforehand'] };
    }
  }
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function serve(job: PeerJob): Promise<void> {
  // Subscribed before `ready` is sent, so no request can arrive unheard.
  const requests = on(process, 'message');
  const p = await prepareSegment(job.location, job.codec, job.maxRows);
  let runner: Runner | undefined;
  try {
    runner = await runnerFor(job, p);
    const inputRssMb = rssMb();
    const timings: RunTiming[] = [];
    const file = join(job.workDir, `${job.writer}-${job.codec}.parquet`);
    await send({ type: 'ready' });
    for await (const [request] of requests as AsyncIterable<[ToChild]>) {
      if (request.type === 'run') {
        rmSync(file, { force: true });
        const timing = await runner.run(file);
        timings.push(timing);
        await send({ type: 'ran', timing });
        continue;
      }
      await send({ type: 'measured', measurement: await measurementOf(job, p, runner, timings, file, inputRssMb) });
      return;
    }
  } finally {
    runner?.close?.();
    await p.reader.close();
  }
}

async function measurementOf(job: PeerJob, p: PreparedSegment, runner: Runner, timings: RunTiming[], file: string, inputRssMb: number): Promise<Measurement> {
  if (timings.length === 0) throw new Error('finish before any run');
  // Loaded after the runs, so the footer check does not count in the writer's peak RSS.
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
  if (Number(meta.num_rows) !== p.rows) throw new Error(`${job.writer} wrote ${meta.num_rows} rows to ${file}, expected ${p.rows}`);
  const mid = timings.indexOf([...timings].sort((a, b) => a.seconds - b.seconds)[Math.floor(timings.length / 2)]!);
  const t = timings[mid]!;
  const { size } = statSync(file);
  const loadSeconds = t.loadSeconds === undefined ? undefined : median(timings.map((x) => x.loadSeconds!));
  const m: Measurement = {
    writer: job.writer,
    segment: job.segment,
    codec: job.codec,
    rows: p.rows,
    runs: timings.length,
    seconds: round(t.seconds, 3),
    cpuSeconds: round(t.cpuSeconds, 3),
    allSeconds: timings.map((x) => round(x.seconds, 3)),
    rowsPerSec: Math.round(p.rows / t.seconds),
    parquetMbPerSec: round(size / 1e6 / t.seconds, 1),
    segmentIndexBytes: p.segmentIndexBytes,
    fileBytes: size,
    rowGroups: meta.row_groups.length,
    rowsPerRowGroup: p.rowsPerGroup,
    peakRssMb: peakRssMb(),
    inputRssMb,
    notes: runner.notes,
  };
  if (job.writer.startsWith('ours')) m.segmentMbPerSec = round(p.segmentIndexBytes / 1e6 / t.seconds, 1);
  if (loadSeconds !== undefined) {
    m.loadSeconds = round(loadSeconds, 3);
    m.loadAndWriteRowsPerSec = Math.round(p.rows / median(timings.map((x) => x.seconds + x.loadSeconds!)));
  }
  rmSync(file, { force: true });
  return m;
}

function send(message: FromChild): Promise<void> {
  return new Promise<void>((resolve, reject) => process.send!(message, (err: Error | null) => (err ? reject(err) : resolve())));
}

const job = JSON.parse(process.argv[2] ?? '{}') as PeerJob;
// Without its parent nobody will ask for the next run or read the result.
process.on('disconnect', () => process.exit(1));
try {
  await serve(job);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${job.writer} on ${job.segment} ${job.codec} failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
