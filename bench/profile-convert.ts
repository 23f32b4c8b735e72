/**
 * Scratch profiler for segment → Parquet conversion: one conversion per process (so peak RSS is that
 * conversion's), timed end to end, with optional stage timers.
 *
 *   node dist/bench/profile-convert.js <segment> [--codec SNAPPY|ZSTD|GZIP|UNCOMPRESSED] [--out file.parquet]
 *        [--row-group-bytes N] [--stages] [--json]
 *
 * `--stages` times the reader alone (decode), then reader + schema conversion (convert), in the same
 * process before the full run, so the full run's peak RSS is not meaningful with it. MB/s is the segment's
 * index bytes (forward index, dictionary, null vector of the exported columns) per second; cpuMs is the
 * process's user + system CPU time during the conversion (steadier than wall time on a busy machine).
 */
import { createWriteStream } from 'node:fs';
import { wasmMemory } from 'parquet-wasm';
import { parseArgs } from 'node:util';
import { parseParquetOptions } from '../src/pipeline/parquet-options.js';
import { segmentBytesPerRow, segmentToParquet } from '../src/pipeline/segment-export.js';
import { planFor } from '../src/pipeline/streams.js';
import { SegmentReader } from '../src/sources/segment-reader.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    codec: { type: 'string', default: 'SNAPPY' },
    out: { type: 'string' },
    'row-group-bytes': { type: 'string' },
    stages: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const location = positionals[0];
if (!location) throw new Error('usage: profile-convert <segment> [--codec C] [--out F] [--stages]');
const config: Record<string, string> = { 'fileFormat.parquet.compressionCodec': values.codec! };
if (values['row-group-bytes']) config['fileFormat.parquet.rowGroupSizeBytes'] = values['row-group-bytes'];
const parquet = parseParquetOptions(config);

const reader = await SegmentReader.open(location);
try {
  const rows = reader.segment.exportDocs;
  const plan = planFor({ sourceSchema: reader.schema({ keepDictionaries: true }), parquet });
  const indexBytes = segmentBytesPerRow(reader, plan.sourceColumns) * rows;
  const stages: Record<string, number> = {};
  if (values.stages) {
    let t = performance.now();
    for await (const b of reader.batches({ columns: plan.sourceColumns, batchRows: 65_536 })) void b;
    stages.decodeMs = performance.now() - t;
    t = performance.now();
    for await (const b of reader.batches({ columns: plan.sourceColumns, batchRows: 65_536 })) plan.convert(b);
    stages.decodeConvertMs = performance.now() - t;
  }
  const sink = values.out ? createWriteStream(values.out) : undefined;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const gen = segmentToParquet(reader, { parquet });
  let bytes = 0;
  let summary;
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      summary = r.value;
      break;
    }
    bytes += r.value.length;
    if (sink && !sink.write(r.value)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (sink) await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const result = {
    segment: reader.name,
    codec: parquet.compressionCodec,
    rows,
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rowsPerSec: Math.round(rows / (ms / 1000)),
    mbPerSec: Math.round((indexBytes / 1e6 / (ms / 1000)) * 10) / 10,
    fileMb: Math.round((bytes / 1e6) * 100) / 100,
    rowGroups: summary.rowGroups.length,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    // The writer's wasm memory: in its worker thread when the encoder reports it, else this thread's.
    wasmMb: Math.round(((summary as { writerMemoryBytes?: number }).writerMemoryBytes ?? wasmMemory().buffer.byteLength) / 2 ** 20),
    ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(v)])),
  };
  console.log(values.json ? JSON.stringify(result) : Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' '));
} finally {
  await reader.close();
}
