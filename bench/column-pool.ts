/**
 * The direct writer in process vs. its column chunks encoded on worker threads (src/pipeline/direct/column-pool.ts).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/column-pool.js [segment-dir] [--codec SNAPPY] [--passes 2] [--group-rows N]
 *
 * Each run is its own process (so maxRSS is that run's): in-process (segmentToParquet, writer=direct), then
 * the pool with 1 and 2 threads. All columns, one row group unless --group-rows. Reports wall s, CPU s (user +
 * system of the whole process, workers included), rows/s, maxRSS and the output's SHA-256 (the pool's must
 * equal the in-process one: the files are byte-identical). Start-up of the workers is inside the timing.
 * `--one <mode>` runs one measurement and prints it as JSON (what the driver spawns).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/cli/node-flags.js';
import { ColumnEncoderPool } from '../src/pipeline/direct/column-pool.js';
import { ParquetFileWriter } from '../src/pipeline/direct/file-writer.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetCodec, type ParquetOptions } from '../src/pipeline/parquet-options.js';
import { segmentFileMetadata, segmentToParquet } from '../src/pipeline/segment-export.js';
import { planFor } from '../src/pipeline/streams.js';
import { segmentSchemaJson } from '../src/pipeline/table-schema.js';
import { DIRECT_CREATED_BY } from '../src/pipeline/version.js';
import { SegmentReader } from '../src/sources/segment-reader.js';
import { median } from './support.js';

const DEFAULT_SEGMENT = '/tmp/pinot-parquet-export-bench-cache/events-1000000-seed1/events__0__0__20261126T0000Z';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    codec: { type: 'string', default: 'SNAPPY' },
    passes: { type: 'string', default: '2' },
    'group-rows': { type: 'string' },
    one: { type: 'string' },
  },
});
const segment = positionals[0] ?? DEFAULT_SEGMENT;
const codec = args.codec.toUpperCase() as ParquetCodec;

interface Result {
  mode: string;
  rows: number;
  bytes: number;
  wallS: number;
  cpuS: number;
  maxRssMb: number;
  sha256: string;
}

async function measure(mode: string): Promise<Result> {
  const reader = await SegmentReader.open(segment);
  try {
    const rows = reader.segment.exportDocs;
    const groupRows = args['group-rows'] === undefined ? rows : Number(args['group-rows']);
    // One row group of every row: no byte cap splits it.
    const parquet: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS, compressionCodec: codec, rowGroupSizeBytes: 2 ** 50, writer: 'direct' };
    const hash = createHash('sha256');
    let bytes = 0;
    const out = (chunk: Uint8Array): void => {
      hash.update(chunk);
      bytes += chunk.length;
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (mode === 'in-process') {
      for await (const chunk of segmentToParquet(reader, { parquet, rowsPerRowGroup: groupRows })) out(chunk);
    } else {
      const threads = Number(mode.replace(/\D/g, ''));
      await pooled(reader, parquet, threads, groupRows, out);
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      mode, rows, bytes, wallS, cpuS: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024, sha256: hash.digest('hex'),
    };
  } finally {
    await reader.close();
  }
}

/** What directSegment would do with the pool: every column of a row group asked for at once, written in order. */
async function pooled(reader: SegmentReader, parquet: ParquetOptions, threads: number, groupRows: number, out: (chunk: Uint8Array) => void): Promise<void> {
  const plan = planFor({ parquet, sourceSchema: reader.schema({ keepDictionaries: 'all' }), segmentName: reader.name }, { maxShippedDictionary: Infinity });
  const dictionaryColumns = plan.dictionaryColumns.concat(plan.nestedDictionary ? plan.columns.filter((c) => !c.singleValue).map((c) => c.name) : []);
  const schemaJson = segmentSchemaJson(reader.metadata, reader.segment.columns(plan.sourceColumns));
  const writer = new ParquetFileWriter(plan.schema, {
    codec: parquet.compressionCodec, pageSizeBytes: parquet.pageSizeBytes, dictionaryColumns, jsonPaths: plan.jsonPaths,
    keyValueMetadata: segmentFileMetadata(reader, schemaJson), createdBy: DIRECT_CREATED_BY,
  });
  const pool = await ColumnEncoderPool.start({
    segmentDir: reader.dir, plan: { parquet }, threads,
    writer: { codec: parquet.compressionCodec, pageSizeBytes: parquet.pageSizeBytes, dictionaryColumns, jsonPaths: plan.jsonPaths },
  });
  try {
    out(writer.start());
    const total = reader.segment.exportDocs;
    for (let start = 0; start < total; start += groupRows) {
      const end = Math.min(total, start + groupRows);
      writer.beginRowGroup(end - start);
      // The whole group at once: a big column must not leave the other workers idle; what waits is compressed pages.
      const jobs = plan.columns.map((_, i) => pool.encode(i, start, end));
      for (let i = 0; i < jobs.length; i++) {
        for (const page of writer.addEncodedColumn(i, await jobs[i]!)) out(page);
      }
      writer.endRowGroup();
    }
    out(writer.finish());
  } finally {
    await pool.close();
  }
}

if (args.one !== undefined) {
  process.stdout.write(JSON.stringify(await measure(args.one)) + '\n');
} else {
  const self = fileURLToPath(import.meta.url);
  const passes = Number(args.passes);
  const extra = ['--codec', codec, ...(args['group-rows'] === undefined ? [] : ['--group-rows', args['group-rows']])];
  const results = new Map<string, Result[]>();
  for (let p = 0; p < passes; p++) {
    for (const mode of ['in-process', 'pool-1', 'pool-2']) {
      const run = spawnSync(process.execPath, [...NODE_FLAGS, self, segment, ...extra, '--one', mode], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (run.status !== 0) throw new Error(`${mode} failed: ${run.stderr}`);
      const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Result;
      results.set(mode, [...(results.get(mode) ?? []), r]);
    }
  }
  const reference = results.get('in-process')![0]!;
  console.log(`segment ${segment}: ${reference.rows} rows, ${codec}, ${(reference.bytes / 1e6).toFixed(1)} MB Parquet, median of ${passes}`);
  console.log('mode        wall s   CPU s   rows/s      maxRSS MB  identical');
  for (const [mode, rs] of results) {
    const wall = median(rs.map((r) => r.wallS));
    const line = [
      mode.padEnd(10), wall.toFixed(2).padStart(7), median(rs.map((r) => r.cpuS)).toFixed(2).padStart(7),
      Math.round(reference.rows / wall).toLocaleString('en-US').padStart(11), median(rs.map((r) => r.maxRssMb)).toFixed(0).padStart(10),
      `  ${rs.every((r) => r.sha256 === reference.sha256) ? 'yes' : 'NO'}`,
    ];
    console.log(line.join(' '));
  }
}
