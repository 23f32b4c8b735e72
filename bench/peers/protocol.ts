/** What the bench's parent process asks a writer child to do, and what the child reports back. */
import type { ParquetCodec } from '../../src/pipeline/parquet-options.js';

export const WRITERS = ['ours', 'ours-2t', 'ours-wasm', 'duckdb', 'parquet-wasm', 'hyparquet-writer', 'parquetjs'] as const;
export type WriterName = (typeof WRITERS)[number];

export interface PeerJob {
  writer: WriterName;
  /** Segment directory or archive. */
  location: string;
  /** Label of the segment in the results (e.g. `events 1M`). */
  segment: string;
  codec: ParquetCodec;
  /** Only the first maxRows rows (parquetjs, whose speed makes full 10M-row runs impractical). */
  maxRows?: number;
  /** Directory for the output files (removed by the parent). */
  workDir: string;
}

export interface Measurement {
  writer: WriterName;
  segment: string;
  codec: ParquetCodec;
  rows: number;
  runs: number;
  /** Median wall time of the write (for DuckDB: the COPY alone). */
  seconds: number;
  /** User + system CPU of the median run (DuckDB's COPY runs on several threads, ours on one). */
  cpuSeconds: number;
  /** DuckDB only: median time to load the rows into its in-memory table. */
  loadSeconds?: number;
  /** Every run's wall time, in run order (with interleaved writers, run r of each belongs to round r). */
  allSeconds: number[];
  rowsPerSec: number;
  /** DuckDB only: rows ÷ (load + COPY), median of runs. */
  loadAndWriteRowsPerSec?: number;
  /** Parquet bytes written per second. */
  parquetMbPerSec: number;
  /** Ours only: segment index bytes (forward index, dictionary, null vector of the exported columns) per second. */
  segmentMbPerSec?: number;
  segmentIndexBytes: number;
  fileBytes: number;
  rowGroups: number;
  rowsPerRowGroup: number;
  /** process.resourceUsage().maxRSS of the writer's own child process, MB. */
  peakRssMb: number;
  /** RSS once the input was prepared, before the first run (input materialisation is not the writer's). */
  inputRssMb: number;
  notes: string[];
}

/**
 * Parent → child, after the child said `ready`: run the write once more, or finish (check the last file, report
 * the Measurement and exit). The parent interleaves the runs of several children, one run at a time, so writers
 * compared with each other run in the same minutes of a machine whose speed drifts.
 */
export type ToChild = { type: 'run' } | { type: 'finish' };

/** Child → parent: input prepared; one run done; the measurement of all runs. */
export type FromChild =
  | { type: 'ready' }
  | { type: 'ran'; timing: RunTiming }
  | { type: 'measured'; measurement: Measurement };

/** The timing of one run. */
export interface RunTiming {
  seconds: number;
  cpuSeconds: number;
  loadSeconds?: number;
}

/** Times `fn` (wall and CPU). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export function rssMb(): number {
  return Math.round(process.memoryUsage.rss() / 1024 / 1024);
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
