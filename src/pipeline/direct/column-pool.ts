/**
 * Column chunks encoded on worker threads. The direct writer's column chunks are independent: N workers each
 * read, convert and encode one chunk (column-worker.ts) while the main thread only places the bytes in file
 * order (ParquetFileWriter.addEncodedColumn). The output is byte-identical to the in-process writer's.
 *
 * Each worker opens the segment directory itself (nothing but job numbers and encoded pages cross threads),
 * holds at most one job and one column chunk at a time, and gets an equal share of the dictionary budget so
 * the pool keeps no more whole dictionaries than one in-process reader would. Jobs beyond one per worker
 * wait in a queue here; the caller bounds how many it asks for ahead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_DICTIONARY_BUDGET_BYTES } from '../../sources/pinot/segment.js';
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import type { EncodedChunk } from './column-chunk.js';
import type { ColumnPoolPlan, ColumnWorkerInit, CrashForTest, ColumnWriterSettings, FromWorker, ToWorker } from './column-worker.js';
import { rebuildError } from './worker-errors.js';

export type { ColumnPoolPlan } from './column-worker.js';

export interface ColumnPoolSpec {
  /** Local directory holding the segment (SegmentReader.dir; for archives the reader's extraction dir). */
  segmentDir: string;
  plan: ColumnPoolPlan;
  legacyPadding?: 'refuse' | 'strip';
  /** Whole Pinot dictionaries kept by all workers together (default: the reader's default), split evenly. */
  dictionaryBudgetBytes?: number;
  writer: ColumnWriterSettings;
  /** Worker threads (≥ 1). */
  threads: number;
  /** Tests only: make a worker die mid-job. */
  crashForTest?: CrashForTest;
}

/** How long close() lets a worker finish its job and close its files before terminating it. */
const CLOSE_GRACE_MS = 10_000;

const HERE = fileURLToPath(import.meta.url);

/**
 * The compiled worker module: beside this one when running from dist/, else dist/ under the repository
 * (vitest runs the .ts sources but cannot transform a worker's).
 */
function workerModule(): string | undefined {
  const path = HERE.endsWith('.js')
    ? join(dirname(HERE), 'column-worker.js')
    : join(resolve(dirname(HERE), '..', '..', '..'), 'dist', 'src', 'pipeline', 'direct', 'column-worker.js');
  return existsSync(path) ? path : undefined;
}

/** Whether worker threads can run here (the compiled worker module exists); else encode in process. */
export function columnPoolAvailable(): boolean {
  return workerModule() !== undefined;
}

interface Job {
  id: number;
  index: number;
  start: number;
  end: number;
  resolve: (chunk: EncodedChunk) => void;
  reject: (err: Error) => void;
}

interface Slot {
  ordinal: number;
  worker: Worker;
  job?: Job;
  alive: boolean;
  /** An uncaught exception in the worker, reported before its exit. */
  crash?: Error;
}

function poolError(detail: string, column?: string): ParquetError {
  return new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, detail, column === undefined ? {} : { context: { column } });
}

export class ColumnEncoderPool {
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closing: Promise<void> | undefined;
  /** Set once no worker is left: every encode fails with it. */
  private broken: Error | undefined;

  private constructor(private readonly slots: Slot[], readonly columns: readonly string[]) {
    for (const slot of slots) this.watch(slot);
  }

  /** Starts `spec.threads` workers and waits until each has opened the segment and planned the file. */
  static async start(spec: ColumnPoolSpec): Promise<ColumnEncoderPool> {
    if (!(Number.isSafeInteger(spec.threads) && spec.threads >= 1)) throw poolError(`column encoder threads must be a whole number ≥ 1, got ${spec.threads}`);
    const module = workerModule();
    if (module === undefined) throw poolError('the column encoder worker is not built (run npm run build); use the in-process writer');
    const budget = spec.dictionaryBudgetBytes ?? DEFAULT_DICTIONARY_BUDGET_BYTES;
    const init: ColumnWorkerInit = {
      segmentDir: spec.segmentDir,
      plan: spec.plan,
      legacyPadding: spec.legacyPadding,
      // A non-number is passed through so the reader rejects it as it would in process.
      dictionaryBudgetBytes: typeof budget === 'number' && budget >= 0 ? Math.floor(budget / spec.threads) : budget,
      writer: spec.writer,
      crashForTest: spec.crashForTest,
    };
    const slots: Slot[] = [];
    const ready: Promise<string[]>[] = [];
    for (let ordinal = 0; ordinal < spec.threads; ordinal++) {
      const worker = new Worker(module, { workerData: { columnWorker: init } });
      slots.push({ ordinal, worker, alive: true });
      ready.push(readyOf(worker, ordinal));
    }
    const started = await Promise.allSettled(ready);
    const failed = started.find((r) => r.status === 'rejected');
    const columns = started.map((r) => (r.status === 'fulfilled' ? r.value : []));
    const disagree = failed === undefined && columns.some((c) => c.join('\0') !== columns[0]!.join('\0'));
    if (failed !== undefined || disagree) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      throw poolError('column encoder workers planned different columns');
    }
    for (const slot of slots) slot.worker.unref();
    return new ColumnEncoderPool(slots, columns[0]!);
  }

  /** Encodes waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Worker threads still running. */
  get threads(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /**
   * Column `index` (plan order) of docs [start, end), read, converted and encoded on a worker; page offsets
   * relative to 0 (see ParquetFileWriter.addEncodedColumn). Fails with what the in-process writer would throw.
   */
  encode(index: number, start: number, end: number): Promise<EncodedChunk> {
    const promise = new Promise<EncodedChunk>((resolve, reject) => {
      if (this.closing !== undefined) throw poolError('the column encoder pool is closed');
      if (this.broken !== undefined) throw this.broken;
      if (!(Number.isSafeInteger(index) && index >= 0 && index < this.columns.length)) {
        throw poolError(`column ${index} requested, the plan has ${this.columns.length} columns`);
      }
      if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
        throw poolError(`rows [${start}, ${end}) requested for column ${this.columns[index]}`, this.columns[index]);
      }
      this.queue.push({ id: this.nextId++, index, start, end, resolve, reject });
      this.dispatch();
    });
    // A job the caller asked for ahead and then stopped waiting for (it failed or aborted and closed the pool)
    // must not become an unhandled rejection; the caller awaiting it still sees the error.
    promise.catch(() => undefined);
    return promise;
  }

  /** Ends the workers (idempotent): queued and running encodes reject; each worker closes its files first. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = poolError('the column encoder pool was closed');
    for (const job of this.queue.splice(0)) job.reject(closed);
    await Promise.all(this.slots.map(async (slot) => {
      const job = slot.job;
      slot.job = undefined;
      job?.reject(closed);
      if (!slot.alive) return;
      const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
      slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS);
      });
      if (await Promise.race([exited, late]) === 'late') await slot.worker.terminate();
      clearTimeout(timer);
    }));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.alive || slot.job !== undefined) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      // Busy workers hold the process (a job is awaited); idle ones do not, so a pool left open never does.
      slot.worker.ref();
      slot.worker.postMessage({ type: 'encode', id: job.id, index: job.index, start: job.start, end: job.end } satisfies ToWorker);
    }
  }

  private watch(slot: Slot): void {
    const { worker } = slot;
    worker.on('message', (m: FromWorker) => {
      const job = slot.job;
      if (job === undefined || m.type === 'ready' || m.id !== job.id) return;
      slot.job = undefined;
      worker.unref();
      if (m.type === 'encoded') job.resolve({ pages: m.pages, metaData: m.metaData, bytes: m.bytes });
      else job.reject(rebuildError(m.error));
      this.dispatch();
    });
    worker.on('error', (err) => {
      slot.crash = err;
    });
    worker.on('exit', (code) => {
      slot.alive = false;
      const job = slot.job;
      slot.job = undefined;
      if (this.closing !== undefined) return;
      const why = `column encoder worker ${slot.ordinal} exited (code ${code})${slot.crash === undefined ? '' : `: ${slot.crash.message}`}`;
      if (job !== undefined) {
        const column = this.columns[job.index]!;
        job.reject(poolError(`${why} while encoding column ${column} rows [${job.start}, ${job.end})`, column));
      }
      if (this.slots.every((s) => !s.alive)) {
        this.broken = poolError(`${why}; no column encoder worker is left`);
        for (const queued of this.queue.splice(0)) queued.reject(this.broken);
      } else {
        this.dispatch();
      }
    });
  }
}

/** The worker's plan columns once it is ready; its start error (same class as in process) otherwise. */
function readyOf(worker: Worker, ordinal: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let crash: Error | undefined;
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'ready') {
        done();
        resolve(m.columns);
      } else if (m.type === 'failed' && m.id === undefined) {
        done();
        reject(rebuildError(m.error));
      }
    };
    const onError = (err: Error): void => {
      crash = err;
    };
    const onExit = (code: number): void => {
      done();
      reject(poolError(`column encoder worker ${ordinal} exited (code ${code}) while starting${crash === undefined ? '' : `: ${crash.message}`}`));
    };
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
