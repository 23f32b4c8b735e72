/**
 * Column-chunk reads with row-group-scoped dictionaries vs the whole-dictionary path: ms per column chunk
 * (one column of one row group) and the reader's peak RSS, each mode in its own process.
 *
 *   node dist/bench/dictionary-subset.js <segment> [--group-rows 1600000] [--columns a,b] [--out file.json]
 *
 * Modes:
 *   whole     ColumnReader as the batch path uses it: every dictionary decoded whole at open, kept.
 *   budget    PinotSegment.columnChunks() with the default dictionary budget (8 MiB).
 *   windowed  columnChunks({ dictionaryBudgetBytes: 0 }): every dictionary read in windows per chunk.
 * Every mode reads each selected column of each row group [a, b) in writer order (row group by row group).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/cli/node-flags.js';
import { ColumnReader } from '../src/sources/pinot/column-reader.js';
import { SegmentReader } from '../src/sources/segment-reader.js';
import { median } from './support.js';

const MODES = ['whole', 'budget', 'windowed'] as const;
type Mode = (typeof MODES)[number];

interface ColumnResult {
  column: string;
  type: string;
  cardinality: number;
  /** Median ms per chunk; `whole` also pays `openMs` once per column. */
  medianChunkMs: number;
  maxChunkMs: number;
  openMs: number;
  /** Median dictionary entries in a chunk's Data (whole: the whole dictionary). */
  medianDictionaryLength: number;
}

interface ModeResult {
  mode: Mode;
  rows: number;
  groupRows: number;
  groups: number;
  totalMs: number;
  peakRssMb: number;
  columns: ColumnResult[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'group-rows': { type: 'string', default: '1600000' },
    columns: { type: 'string' },
    mode: { type: 'string' },
    out: { type: 'string' },
  },
});
const location = positionals[0];
if (!location) {
  console.error('usage: node dist/bench/dictionary-subset.js <segment> [--group-rows N] [--columns a,b] [--out file.json]');
  process.exit(2);
}
const groupRows = Number(values['group-rows']);

function dictionaryLength(data: { dictionary?: { length: number }; children: { dictionary?: { length: number } }[] }): number {
  return data.dictionary?.length ?? data.children[0]?.dictionary?.length ?? 0;
}

async function runMode(mode: Mode): Promise<ModeResult> {
  const reader = await SegmentReader.open(location!);
  try {
    const segment = reader.segment;
    const names = values.columns ? values.columns.split(',') : segment.columns().map((c) => c.name);
    const columns = segment.columns(names);
    const total = segment.exportDocs;
    const groups: [number, number][] = [];
    for (let a = 0; a < total; a += groupRows) groups.push([a, Math.min(total, a + groupRows)]);
    const times = new Map<string, number[]>(names.map((n) => [n, []]));
    const dictLengths = new Map<string, number[]>(names.map((n) => [n, []]));
    const openMs = new Map<string, number>();
    const started = performance.now();
    let read: (name: string, a: number, b: number) => { dictionary?: { length: number }; children: { dictionary?: { length: number } }[] };
    if (mode === 'whole') {
      const schema = segment.schema({ columns: names });
      const readers = new Map<string, ColumnReader>();
      columns.forEach((c, i) => {
        const t = performance.now();
        readers.set(c.name, ColumnReader.open(c, schema.fields[i]!, segment.layout, segment.metadata.totalDocs, {}));
        openMs.set(c.name, performance.now() - t);
      });
      read = (name, a, b) => readers.get(name)!.read(a, b);
    } else {
      const t = performance.now();
      const chunks = segment.columnChunks({ columns: names, dictionaryBudgetBytes: mode === 'windowed' ? 0 : undefined });
      for (const n of names) openMs.set(n, (performance.now() - t) / names.length);
      read = (name, a, b) => chunks.read(name, a, b);
    }
    for (const [a, b] of groups) {
      for (const name of names) {
        const t = performance.now();
        const data = read(name, a, b);
        times.get(name)!.push(performance.now() - t);
        dictLengths.get(name)!.push(dictionaryLength(data));
      }
    }
    const totalMs = performance.now() - started;
    return {
      mode,
      rows: total,
      groupRows,
      groups: groups.length,
      totalMs: Math.round(totalMs),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      columns: columns.map((c) => ({
        column: c.name,
        type: `${c.dataType}${c.singleValue ? '' : '[]'} ${c.forwardIndexEncoding}`,
        cardinality: c.cardinality,
        medianChunkMs: round(median(times.get(c.name)!)),
        maxChunkMs: round(Math.max(...times.get(c.name)!)),
        openMs: round(openMs.get(c.name)!),
        medianDictionaryLength: median(dictLengths.get(c.name)!),
      })),
    };
  } finally {
    await reader.close();
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (values.mode) {
  const result = await runMode(values.mode as Mode);
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  // One process per mode, so each peak RSS is that mode's alone.
  const results: ModeResult[] = [];
  for (const mode of MODES) {
    const args = [fileURLToPath(import.meta.url), location, '--mode', mode, '--group-rows', String(groupRows)];
    if (values.columns) args.push('--columns', values.columns);
    const child = spawnSync(process.execPath, [...NODE_FLAGS, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as ModeResult;
    results.push(result);
    console.log(`\n${mode}: ${result.rows} rows in ${result.groups} row groups of ≤ ${groupRows}; total ${result.totalMs} ms, peak RSS ${result.peakRssMb} MB`);
    console.table(result.columns.map((c) => ({
      column: c.column, type: c.type, cardinality: c.cardinality, 'ms/chunk (median)': c.medianChunkMs, 'ms/chunk (max)': c.maxChunkMs,
      'open ms': c.openMs, 'dict entries/chunk': c.medianDictionaryLength,
    })));
  }
  if (values.out) writeFileSync(values.out, JSON.stringify({ segment: location, results }, null, 2) + '\n');
}
