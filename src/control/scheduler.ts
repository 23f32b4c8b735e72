/**
 * Runs a job on a Quartz cron `schedule` (the table config key, as Pinot's controller reads it) and on demand.
 * Quartz syntax via croner 11 in Quartz mode (shared/docs/libraries.md §8): seconds first, 6 or 7 fields
 * (optional year), `?`, `L`, `W`, `#`, day-of-week 1 = Sunday; always evaluated in UTC.
 *
 * Runs never overlap: a trigger (scheduled or on demand) while a run is in progress schedules exactly one
 * more run after it, and every caller of `trigger()` waits for a run that started after its call.
 */
import { Cron, type CronOptions } from 'croner';
import { ConfigError, ErrorCodes } from '../errors.js';

export const QUARTZ_OPTIONS: CronOptions = {
  mode: '6-or-7-parts',
  alternativeWeekdays: true,
  sloppyRanges: true,
  timezone: 'UTC',
};

export const SCHEDULE_ACCEPTS = "a Quartz cron expression with seconds (6 or 7 fields, UTC), e.g. '0 0/15 * * * ?' or '0 0 2 ? * MON-FRI'";

/** Undefined when `expr` is a valid Quartz expression, else the parser's complaint. */
export function scheduleProblem(expr: string): string | undefined {
  try {
    const cron = new Cron(expr, { ...QUARTZ_OPTIONS, paused: true });
    cron.stop();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The next `count` fire times after `from` (UTC), for validation output and tests. */
export function nextFireTimes(expr: string, count: number, from: Date = new Date()): Date[] {
  const cron = new Cron(expr, { ...QUARTZ_OPTIONS, paused: true });
  try {
    return cron.nextRuns(count, from);
  } finally {
    cron.stop();
  }
}

export type TriggerKind = 'schedule' | 'demand';

export interface SchedulerOptions {
  /** Quartz expression; absent: on demand only. */
  schedule?: string;
  run(kind: TriggerKind): Promise<void>;
  /** Errors of runs (a failed run never stops the schedule). Default: ignored. */
  onError?(err: unknown): void;
}

interface Pending {
  kind: TriggerKind;
  done: Promise<void>;
  resolve(): void;
}

function pending(kind: TriggerKind): Pending {
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  return { kind, done, resolve };
}

export class Scheduler {
  private cron: Cron | undefined;
  private current: Pending | undefined;
  private queued: Pending | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    if (options.schedule !== undefined) {
      const problem = scheduleProblem(options.schedule);
      if (problem !== undefined) {
        throw new ConfigError(ErrorCodes.CONFIG_INVALID, `schedule = ${JSON.stringify(options.schedule)}: ${problem}; expected ${SCHEDULE_ACCEPTS}`, {
          context: { key: 'schedule' },
        });
      }
    }
  }

  /** Starts the cron timer (no-op without a schedule). */
  start(): void {
    if (this.stopped || this.cron !== undefined || this.options.schedule === undefined) return;
    this.cron = new Cron(this.options.schedule, { ...QUARTZ_OPTIONS, unref: true }, () => void this.trigger('schedule'));
  }

  nextRun(): Date | null {
    return this.cron?.nextRun() ?? null;
  }

  get isRunning(): boolean {
    return this.current !== undefined;
  }

  /** Runs the job now, or once more right after the current run; resolves when that run has finished. */
  trigger(kind: TriggerKind = 'demand'): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.current === undefined) {
      this.current = pending(kind);
      this.loop = this.drain();
      return this.current.done;
    }
    this.queued ??= pending(kind);
    return this.queued.done;
  }

  /** Stops the timer and waits for the run in progress (a queued run is dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cron?.stop();
    this.cron = undefined;
    const queued = this.queued;
    this.queued = undefined;
    queued?.resolve();
    await this.loop;
  }

  private async drain(): Promise<void> {
    while (this.current !== undefined) {
      const run = this.current;
      try {
        await this.options.run(run.kind);
      } catch (err) {
        this.options.onError?.(err);
      }
      run.resolve();
      this.current = this.stopped ? undefined : this.queued;
      this.queued = undefined;
    }
  }
}
