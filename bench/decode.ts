/**
 * Decode throughput and peak memory of the SegmentReader: rows/s and MB/s (of segment index bytes) for
 * every column of a segment, median of N passes, with and without Arrow dictionary vectors.
 *
 *   node dist/bench/decode.js [segment ...] [--passes N] [--batch-rows N] [--out bench/results/decode.json]
 *
 * Default segments: baseballStats (real, 97,889 rows, 25 dictionary-encoded INT/STRING columns) and the
 * Pinot 1.5.1 `events` REALTIME segment (5,000 rows: null vectors, raw V4 LZ4 strings, MV, BIG_DECIMAL).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SegmentReader } from '../src/sources/segment-reader.js';
import { median } from './support.js';

interface Result {
  segment: string;
  mode: string;
  rows: number;
  columns: number;
  indexBytes: number;
  medianMs: number;
  rowsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    passes: { type: 'string', default: '5' },
    'batch-rows': { type: 'string', default: '65536' },
    out: { type: 'string', default: 'bench/results/decode.json' },
  },
});
const passes = Number(values.passes);
const batchRows = Number(values['batch-rows']);
const segments = positionals.length > 0 ? positionals : [
  resolve('..', 'shared', 'fixtures', 'pinot-segments', 'baseballStats-v3', 'baseballStats_OFFLINE_0.2024-10.tar.gz'),
  resolve('..', 'shared', 'fixtures', 'pinot-generated', '1.5.1', 'events__0__12__20261126T0000Z.tar.gz'),
];


const results: Result[] = [];
for (const location of segments) {
  const reader = await SegmentReader.open(location);
  try {
    const columns = [...reader.metadata.columns.keys()];
    let indexBytes = 0;
    for (const c of columns) {
      for (const index of ['forward_index', 'dictionary', 'nullvalue_vector'] as const) {
        indexBytes += reader.segment.layout.indexRange(c, index)?.length ?? 0;
      }
    }
    for (const keepDictionaries of [true, false]) {
      const times: number[] = [];
      let rows = 0;
      for (let p = 0; p < passes; p++) {
        rows = 0;
        const t0 = performance.now();
        for await (const batch of reader.batches({ batchRows, keepDictionaries })) rows += batch.numRows;
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      results.push({
        segment: reader.name,
        mode: keepDictionaries ? 'arrow dictionaries' : 'values materialised',
        rows,
        columns: columns.length,
        indexBytes,
        medianMs: Math.round(ms * 10) / 10,
        rowsPerSec: Math.round(rows / (ms / 1000)),
        mbPerSec: Math.round((indexBytes / 1e6 / (ms / 1000)) * 10) / 10,
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      });
    }
  } finally {
    await reader.close();
  }
}

console.table(results);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), node: process.version, passes, batchRows, results }, null, 2) + '\n');
