/**
 * ParquetEncoder on parquet-wasm 0.8.0 (arrow-rs 59 compiled to wasm32), via `transformParquetStream`
 * running in a worker thread (parquet-wasm-worker.ts).
 *
 * Flow: each Arrow batch is serialised to Arrow IPC (the only way into wasm memory) and handed to the
 * writer thread when it asks for its next batch; right after, the main thread decodes the following batch,
 * so decoding and encoding overlap. The writer buffers a row group, then emits it; a finished row group
 * waiting for our consumer holds back the writer's next batch, so a slow consumer stops the writer, which
 * stops pulling, which stops decoding (at most one decoded batch waits on the main thread).
 *
 * What parquet-wasm does not do, and how it is handled here:
 * - Errors: the writer task ignores failed writes and failed input items (it skips them and still writes a
 *   footer). So its input stream never errors: a failing source ends it and the failure is rethrown here,
 *   and the footer's row count is checked against the rows sent (PARQUET_WRITE_FAILED on a mismatch).
 * - No input at all makes it fail ("null first batch"): an empty segment is sent as one 0-row batch.
 * - Column settings take a single path segment, so nested leaves (list elements, struct members) cannot be
 *   configured one by one: they share the global dictionary setting (`nestedDictionary`).
 * - No JSON logical type and an always-written `ARROW:schema`: the footer is patched (parquet-footer.ts).
 */
import type { Worker } from 'node:worker_threads';
import { RecordBatch, Struct, Table, makeData, tableToIPC, util, DataType as ArrowTypes, type Data, type Schema } from 'apache-arrow';
import { nullData } from './arrow-data.js';
import {
  rowsPerRowGroup, type EncodeOptions, type EncoderSettings, type ParquetEncoder, type ParquetFileSummary,
} from './encoder.js';
import { concatBytes } from './concat-bytes.js';
import { ParquetError, ParquetErrorCodes } from './parquet-error.js';
import { CREATED_BY } from './version.js';
import { footerBytes, parseFooter, patchFooter, replaceFooter, withFooter } from './parquet-footer.js';
import { sendBatch, sendEnd, startWriterWorker, startWriting, type WorkerMessage, type WorkerWriterSpec } from './parquet-wasm-worker.js';

/** The key arrow-rs stores its Arrow schema under; removed so files of one table stay alike. */
export const ARROW_SCHEMA_KEY = 'ARROW:schema';

/** Bytes of a batch's Arrow buffers (dictionaries excluded: they are shared by all batches). */
export function arrowBytes(data: Data): number {
  let n = (data.values?.byteLength ?? 0) + (data.valueOffsets?.byteLength ?? 0) + (data.nullBitmap?.byteLength ?? 0);
  for (const c of data.children) n += arrowBytes(c);
  return n;
}

function writerSpec(settings: EncoderSettings, schema: Schema, rows: number): WorkerWriterSpec {
  const dictionary = new Set(settings.dictionaryColumns);
  return {
    codec: settings.codec,
    pageSizeBytes: settings.pageSizeBytes,
    rowsPerRowGroup: rows,
    rowGroupSizeBytes: settings.rowGroupSizeBytes,
    nestedDictionary: settings.nestedDictionary,
    columnDictionary: schema.fields
      .filter((f) => !ArrowTypes.isList(f.type) && !ArrowTypes.isStruct(f.type))
      .map((f): [string, boolean] => [f.name, dictionary.has(f.name)]),
    createdBy: settings.createdBy ?? CREATED_BY,
    keyValueMetadata: [...settings.keyValueMetadata],
  };
}

function sameSchema(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && util.compareTypes(f.type, b.fields[i]!.type));
}

function emptyBatch(schema: Schema): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children: schema.fields.map((f) => nullData(f.type, 0)) }));
}


/** A batch ready for the writer thread. */
interface Prepared {
  ipc: Uint8Array;
  rows: number;
}

export class ParquetWasmEncoder implements ParquetEncoder {
  constructor(private readonly settings: EncoderSettings, private readonly schema: Schema) {}

  private prepare(batch: RecordBatch): Prepared {
    if (!sameSchema(batch.schema, this.schema)) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `a record batch does not have the encoder's schema (${batch.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')})`);
    }
    return { ipc: tableToIPC(new Table([batch]), 'stream'), rows: batch.numRows };
  }

  async *encode(batches: AsyncIterable<RecordBatch>, options: EncodeOptions = {}): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
    const { signal } = options;
    signal?.throwIfAborted();
    const source = batches[Symbol.asyncIterator]();
    // Shared by the worker's message handler, the input pump and this generator.
    const state: {
      failure?: { error: unknown };
      /** `end` has been sent: what the writer emits from now on may hold the footer. */
      lastSent: boolean;
      stopped: boolean;
      outputDone: boolean;
      rowsSent: number;
      /** Finished chunks our consumer has not taken yet. */
      ready: Uint8Array[];
      /** Chunks written at or after the close: the last group(s), the page index and the footer. */
      held: Uint8Array[];
    } = { lastSent: false, stopped: false, outputDone: false, rowsSent: 0, ready: [], held: [] };
    const gate = new Signal();
    const consumer = new Signal();
    let finished = false;
    let worker: Worker | undefined;
    let writerMemoryBytes = 0;
    const fail = (error: unknown): void => {
      state.failure ??= { error };
      gate.wake();
      consumer.wake();
    };
    const onAbort = (): void => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    try {
      // The thread starts loading parquet-wasm now, while the first batch is decoded; it gets the writer
      // settings once the rows per row group are known (they may depend on that batch).
      let next: Promise<Prepared | undefined> = Promise.resolve(undefined);
      let exhausted = false;
      const fetch = async (): Promise<Prepared | undefined> => {
        if (exhausted) return undefined;
        const r = await source.next();
        if (r.done) {
          exhausted = true;
          return undefined;
        }
        return this.prepare(r.value);
      };
      const end = (w: Worker): void => {
        state.lastSent = true;
        sendEnd(w);
      };
      const answerPull = async (w: Worker): Promise<void> => {
        try {
          // Backpressure: while a finished row group waits for our consumer, the writer gets no more rows
          // (so it holds at most the next group).
          while (!state.stopped && !state.failure && state.ready.length > 0) await gate.wait();
          if (state.stopped || state.failure) return end(w);
          const batch = await next;
          if (state.stopped || state.failure || !batch) return end(w);
          state.rowsSent += batch.rows;
          sendBatch(w, batch.ipc);
          // The following batch is decoded (and serialised) while the writer encodes this one.
          next = fetch();
          // Observed when the writer asks for it; until then a failure must not be an unhandled rejection.
          next.catch(() => undefined);
        } catch (error) {
          fail(error);
          end(w);
        }
      };
      const onMessage = (m: WorkerMessage): void => {
        switch (m.type) {
          case 'pull':
            void answerPull(worker!);
            return;
          case 'chunk':
            if (state.lastSent) state.held.push(m.bytes);
            else state.ready.push(m.bytes);
            consumer.wake();
            return;
          case 'done':
            writerMemoryBytes = m.memoryBytes;
            state.outputDone = true;
            consumer.wake();
            return;
          case 'error':
            fail(new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `parquet-wasm failed: ${m.message}`));
        }
      };
      worker = startWriterWorker(onMessage, (err) => {
        if (!state.outputDone && !state.stopped) fail(new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `parquet-wasm writer thread failed: ${err.message}`, { cause: err }));
      });

      const first = await source.next();
      const rows = this.settings.rowsPerRowGroup
        ?? rowsPerRowGroup(this.settings.rowGroupSizeBytes, this.settings.bytesPerRow ?? (first.done || first.value.numRows === 0 ? 0 : arrowBytes(first.value.data) / first.value.numRows));
      next = Promise.resolve(this.prepare(first.done ? emptyBatch(this.schema) : first.value));
      exhausted = first.done === true;
      startWriting(worker, writerSpec(this.settings, this.schema, rows));

      let bytes = 0;
      for (;;) {
        if (state.failure) throw state.failure.error;
        const chunk = state.ready.shift();
        if (chunk) {
          gate.wake();
          bytes += chunk.length;
          yield chunk;
          continue;
        }
        if (state.outputDone) break;
        await consumer.wait();
      }
      const tail = this.finishTail(state.held, bytes, state.rowsSent);
      for (const chunk of tail.chunks) {
        bytes += chunk.length;
        yield chunk;
      }
      finished = true;
      return { rows: tail.rows, bytes, rowsPerRowGroup: rows, rowGroups: tail.rowGroups, writerMemoryBytes };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      state.stopped = true;
      gate.wake();
      await worker?.terminate();
      if (!finished) await source.return?.();
    }
  }

  /**
   * Checks the footer against what was sent, patches it and returns the held-back chunks: normally one,
   * the final row group written together with the page index and the footer at close.
   */
  private finishTail(held: Uint8Array[], bytesBefore: number, rowsSent: number): { chunks: Uint8Array[]; rows: number; rowGroups: { rows: number; bytes: number }[] } {
    if (held.length === 0) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, 'parquet-wasm ended without writing a footer');
    }
    let last = held[held.length - 1]!;
    let lead = held.slice(0, -1);
    if (footerLength(last) > last.length) {
      last = concatBytes(held);
      lead = [];
    }
    let footer = footerBytes(last);
    const info = parseFooter(footer);
    if (info.numRows !== rowsSent) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `parquet-wasm wrote ${info.numRows} rows but was given ${rowsSent}`);
    }
    // When the input ended exactly at a group boundary, the group was written before the close and the
    // close wrote only the page index and footer: join them so the last group and the footer are one chunk.
    const lastGroup = info.rowGroups[info.rowGroups.length - 1];
    const lastStart = bytesBefore + held.reduce((n, c) => n + c.length, 0) - last.length;
    if (lead.length > 0 && lastGroup?.fileOffset !== undefined && lastGroup.compressedSize !== undefined
      && lastGroup.fileOffset + lastGroup.compressedSize <= lastStart) {
      last = concatBytes([lead[lead.length - 1]!, last]);
      lead = lead.slice(0, -1);
      footer = footerBytes(last);
    }
    const patched = patchFooter(footer, { jsonPaths: this.settings.jsonPaths, dropKeys: [ARROW_SCHEMA_KEY] });
    const bodyLength = last.length - footer.length - 8;
    // The patched footer is never longer (same-length type rewrites, a dropped key): write it over the old
    // one rather than copying the last row group into a new buffer.
    const tail = patched.length <= footer.length ? replaceFooter(last, bodyLength, patched) : withFooter(last.subarray(0, bodyLength), patched);
    return {
      chunks: [...lead, tail],
      rows: info.numRows,
      rowGroups: info.rowGroups.map((g) => ({ rows: g.numRows, bytes: g.compressedSize ?? g.totalByteSize })),
    };
  }
}

/** A one-waiter wake-up: `wait()` resolves at the next `wake()`. */
class Signal {
  private resolve?: () => void;

  wait(): Promise<void> {
    return new Promise((resolve) => (this.resolve = resolve));
  }

  wake(): void {
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  }
}

/** Footer length + 8 (length field and magic) as the chunk's last 8 bytes say; Infinity if too short. */
function footerLength(chunk: Uint8Array): number {
  return chunk.length >= 8 ? new DataView(chunk.buffer, chunk.byteOffset + chunk.length - 8, 4).getUint32(0, true) + 8 : Infinity;
}

export function createParquetWasmEncoder(settings: EncoderSettings, schema: Schema): ParquetEncoder {
  return new ParquetWasmEncoder(settings, schema);
}
