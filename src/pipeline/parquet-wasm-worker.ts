/**
 * parquet-wasm's writer in a worker thread, so encoding (single-threaded wasm) overlaps with decoding the
 * next batch on the main thread: on 2 cores the conversion takes about max(decode, encode) instead of their
 * sum. The worker only runs the writer; the main thread keeps every decision (backpressure, footer checks).
 *
 * Protocol (one writer per worker): main → worker `start` with the writer settings (the thread is started
 * earlier, so loading parquet-wasm overlaps with decoding the first batch); then
 * - worker → main `pull`: the writer wants its next batch. main answers `batch` (Arrow IPC stream bytes of
 *   one record batch) or `end`.
 * - worker → main `chunk`: output bytes. A chunk is posted only once the writer's next input is known, i.e.
 *   when the next `batch` or `end` arrives: so every chunk the main thread receives after it sent `end` was
 *   written at or after the close and may hold the footer (see the encoder).
 * - worker → main `done` after the last chunk (with the size its wasm memory grew to), or `error` (then
 *   nothing more).
 *
 * The worker's code is a string (an eval worker): it works the same from dist/ and under vitest, which does
 * not transform worker files. It loads parquet-wasm's Node build by absolute path.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Everything needed to build the writer's WriterProperties (wasm objects cannot cross threads). */
export interface WorkerWriterSpec {
  codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD';
  pageSizeBytes: number;
  rowsPerRowGroup: number;
  rowGroupSizeBytes: number;
  nestedDictionary: boolean;
  /** Top-level leaf columns and whether each gets dictionary pages. */
  columnDictionary: [string, boolean][];
  createdBy: string;
  keyValueMetadata: [string, string][];
}

export type WorkerMessage =
  | { type: 'pull' }
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'done'; memoryBytes: number }
  | { type: 'error'; message: string };

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const wasm = require(workerData.wasmPath);
let spec;
let answer;
let held = [];
let failed = false;
const post = (bytes) => {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  parentPort.postMessage({ type: 'chunk', bytes }, whole ? [bytes.buffer] : []);
};
const release = () => {
  for (const c of held) post(c);
  held = [];
};
const fail = (err) => {
  if (failed) return;
  failed = true;
  parentPort.postMessage({ type: 'error', message: String((err && err.message) || err) });
};
parentPort.on('message', (m) => {
  if (spec === undefined) {
    spec = m.spec;
    write();
    return;
  }
  const a = answer;
  answer = undefined;
  if (a) a(m);
});
function properties() {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression[spec.codec])
    .setDataPageSizeLimit(spec.pageSizeBytes)
    .setMaxRowGroupSize(spec.rowsPerRowGroup)
    .setMaxRowGroupBytes(spec.rowGroupSizeBytes)
    .setDictionaryEnabled(spec.nestedDictionary)
    // Row-group min/max (what engines prune on and Iceberg metrics come from); page-level statistics and
    // the column index cost about a third more encoding time for little use on whole-segment files.
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setCreatedBy(spec.createdBy)
    .setKeyValueMetadata(new Map(spec.keyValueMetadata));
  for (const [name, enabled] of spec.columnDictionary) b = b.setColumnDictionaryEnabled(name, enabled);
  return b.build();
}
function write() {
  const input = new ReadableStream({
    pull: (controller) => new Promise((resolve) => {
      answer = (m) => {
        try {
          if (m.type === 'batch' && !failed) {
            release();
            const table = wasm.Table.fromIPCStream(m.ipc);
            try {
              const batch = table.recordBatch(0);
              if (!batch) throw new Error('IPC round trip lost the batch');
              controller.enqueue(batch);
            } finally {
              table.free();
            }
          } else {
            controller.close();
          }
        } catch (err) {
          // Never error the stream: the writer would skip the failure and finish a valid-looking file.
          fail(err);
          controller.close();
        }
        resolve();
      };
      parentPort.postMessage({ type: 'pull' });
    }),
  }, { highWaterMark: 0 });
  (async () => {
    try {
      const out = (await wasm.transformParquetStream(input, properties())).getReader();
      for (;;) {
        const { done, value } = await out.read();
        if (done) break;
        held.push(value);
      }
      if (failed) return;
      release();
      parentPort.postMessage({ type: 'done', memoryBytes: wasm.wasmMemory().buffer.byteLength });
    } catch (err) {
      fail(err);
    }
  })();
}
`;

let wasmPath: string | undefined;

/** Starts a writer thread; `onMessage` gets its messages in order, `onFailure` a thread error or exit. */
export function startWriterWorker(onMessage: (m: WorkerMessage) => void, onFailure: (err: Error) => void): Worker {
  wasmPath ??= createRequire(import.meta.url).resolve('parquet-wasm');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { wasmPath } });
  worker.on('message', onMessage);
  worker.on('error', onFailure);
  worker.on('exit', (code) => onFailure(new Error(`the parquet-wasm writer thread exited (code ${code})`)));
  return worker;
}

/** Gives the thread its writer settings: the writer starts and asks for its first batch. */
export function startWriting(worker: Worker, spec: WorkerWriterSpec): void {
  worker.postMessage({ type: 'start', spec });
}

/** Hands one batch's IPC bytes to the worker, without a copy when they fill their buffer. */
export function sendBatch(worker: Worker, ipc: Uint8Array): void {
  const whole = ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength && ipc.buffer instanceof ArrayBuffer;
  worker.postMessage({ type: 'batch', ipc }, whole ? [ipc.buffer as ArrayBuffer] : []);
}

export function sendEnd(worker: Worker): void {
  worker.postMessage({ type: 'end' });
}
