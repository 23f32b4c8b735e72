/**
 * The generator: one cycle per table = list the segments, then in a compare-and-set loop load the table's
 * record, fold what the listing proves into the progress (eligibility.ts `advanceProgress`: initial
 * watermark, deleted gaps, pruning), select the eligible segments and write the new task set and watermark
 * summary with the version read. A conflict (an executor finished a task meanwhile, or a second generator
 * ran) re-reads and recomputes, so concurrent writers never lose or duplicate a task.
 *
 * One generator per cluster is the goal (leader election, store.campaign); correctness does not depend on
 * it, because every write is a compare-and-set against the record that holds both progress and tasks.
 */
import { emptyTableState, type TableState, type TaskRecord } from '../state/records.js';
import type { StateStore } from '../state/store.js';
import { isStateError, StateErrorCodes } from '../state/errors.js';
import type { ListingProblem, SegmentSource } from './discovery.js';
import { advanceProgress, selectEligible, type AdvanceReport, type EligibilityConfig, type SegmentDecision } from './eligibility.js';
import { ControlError, ControlErrorCodes } from './errors.js';

export interface GeneratorTableConfig extends EligibilityConfig {
  /** The table whose config holds the task (name with type); its record keeps the progress. */
  table: string;
  /** The REALTIME table whose segments are exported (name with type); default `table`. */
  sourceTable?: string;
}

export interface GeneratorOptions {
  store: StateStore;
  source: SegmentSource;
  /** This instance's id, recorded with each cycle. */
  owner: string;
  now?: () => number;
  /** Compare-and-set attempts per cycle (default 5). */
  casAttempts?: number;
}

export interface GenerationReport {
  table: string;
  /** Record version after the cycle (undefined: the table still has no record). */
  version: number | undefined;
  /** False when nothing changed and nothing was written. */
  written: boolean;
  emitted: TaskRecord[];
  decisions: SegmentDecision[];
  advance: AdvanceReport;
  watermarkMs: number;
  problems: ListingProblem[];
  /** Compare-and-set attempts used. */
  attempts: number;
}

export interface GenerateOptions {
  /** E.g. the leadership signal: checked before every write. */
  signal?: AbortSignal;
}

export class Generator {
  private readonly now: () => number;

  constructor(private readonly options: GeneratorOptions) {
    this.now = options.now ?? Date.now;
  }

  async generate(config: GeneratorTableConfig, opts: GenerateOptions = {}): Promise<GenerationReport> {
    const { store, source } = this.options;
    const attempts = this.options.casAttempts ?? 5;
    const listing = await source.list(config.sourceTable ?? config.table, { signal: opts.signal });
    for (let attempt = 1; attempt <= attempts; attempt++) {
      opts.signal?.throwIfAborted();
      const current = await store.read(config.table);
      const nowMs = this.now();
      const base = current?.value ?? emptyTableState(config.table);
      const { state: advanced, report: advance } = advanceProgress(base, listing, config);
      const { tasks, decisions } = selectEligible(advanced, listing.segments, config, nowMs);
      const next: TableState = { ...advanced, tasks: [...advanced.tasks, ...tasks] };
      const report = { table: config.table, emitted: tasks, decisions, advance, watermarkMs: next.watermarkMs, problems: listing.problems, attempts: attempt };
      if (current !== undefined && sameContent(current.value, next)) return { ...report, version: current.version, written: false };
      if (current === undefined && listing.segments.length === 0) return { ...report, version: undefined, written: false };
      next.generator = { cycle: (base.generator?.cycle ?? 0) + 1, atMs: nowMs, owner: this.options.owner };
      opts.signal?.throwIfAborted();
      try {
        const version = await store.compareAndSet(config.table, next, current?.version);
        return { ...report, version, written: true };
      } catch (err) {
        if (!isStateError(err, StateErrorCodes.STATE_CONFLICT)) throw err;
      }
    }
    throw new ControlError(ControlErrorCodes.CONTROL_GENERATOR_CONTENDED, `lost ${attempts} compare-and-sets in a row; the next cycle retries`, {
      context: { table: config.table },
    });
  }
}

/** Equal apart from the generator's own stamp (so an idle cycle writes nothing). */
function sameContent(a: TableState, b: TableState): boolean {
  const { generator: _a, ...ra } = a;
  const { generator: _b, ...rb } = b;
  return JSON.stringify(ra) === JSON.stringify(rb);
}
