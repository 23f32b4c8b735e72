/**
 * ParquetEncoder on parquet-wasm 0.8.0 (arrow-rs 59 compiled to wasm32), via `transformParquetStream`.
 *
 * Flow: each Arrow batch is serialised to Arrow IPC (the only way into wasm memory) and handed to the
 * writer through a web ReadableStream whose `pull` runs only when the writer asks for the next batch. The
 * writer buffers a row group, then writes it to its output TransformStream; that write completes only when
 * our consumer reads, so a slow consumer stops the writer, which stops pulling, which stops decoding.
 *
 * What parquet-wasm does not do, and how it is handled here:
 * - Errors: the writer task ignores failed writes and failed input items (it skips them and still writes a
 *   footer). So the input stream never errors: a failing source closes it and the failure is rethrown here,
 *   and the footer's row count is checked against the rows sent (PARQUET_WRITE_FAILED on a mismatch).
 * - No input at all makes it fail ("null first batch"): an empty segment is sent as one 0-row batch.
 * - Column settings take a single path segment, so nested leaves (list elements, struct members) cannot be
 *   configured one by one: they share the global dictionary setting (`nestedDictionary`).
 * - No JSON logical type and an always-written `ARROW:schema`: the footer is patched (parquet-footer.ts).
 */
import { RecordBatch, Struct, Table, makeData, tableToIPC, util, DataType as ArrowTypes, type Data, type Schema } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import { nullData } from './arrow-data.js';
import {
  rowsPerRowGroup, type EncodeOptions, type EncoderSettings, type ParquetEncoder, type ParquetFileSummary,
} from './encoder.js';
import { ParquetError, ParquetErrorCodes } from './parquet-error.js';
import { footerBytes, parseFooter, patchFooter, withFooter } from './parquet-footer.js';
import type { ParquetCodec } from './parquet-options.js';

const CODECS: Record<ParquetCodec, wasm.Compression> = {
  UNCOMPRESSED: wasm.Compression.UNCOMPRESSED,
  SNAPPY: wasm.Compression.SNAPPY,
  GZIP: wasm.Compression.GZIP,
  ZSTD: wasm.Compression.ZSTD,
};

/** The key arrow-rs stores its Arrow schema under; removed so files of one table stay alike. */
export const ARROW_SCHEMA_KEY = 'ARROW:schema';

/** Bytes of a batch's Arrow buffers (dictionaries excluded: they are shared by all batches). */
export function arrowBytes(data: Data): number {
  let n = (data.values?.byteLength ?? 0) + (data.valueOffsets?.byteLength ?? 0) + (data.nullBitmap?.byteLength ?? 0);
  for (const c of data.children) n += arrowBytes(c);
  return n;
}

function writerProperties(settings: EncoderSettings, schema: Schema, rows: number): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[settings.codec])
    .setDataPageSizeLimit(settings.pageSizeBytes)
    .setMaxRowGroupSize(rows)
    .setMaxRowGroupBytes(settings.rowGroupSizeBytes)
    .setDictionaryEnabled(settings.nestedDictionary)
    // Row-group min/max (what engines prune on and Iceberg metrics come from); page-level statistics and
    // the column index cost about a third more encoding time for little use on whole-segment files.
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setCreatedBy(settings.createdBy)
    .setKeyValueMetadata(new Map(settings.keyValueMetadata));
  const dictionary = new Set(settings.dictionaryColumns);
  for (const f of schema.fields) {
    if (ArrowTypes.isList(f.type) || ArrowTypes.isStruct(f.type)) continue;
    b = b.setColumnDictionaryEnabled(f.name, dictionary.has(f.name));
  }
  return b.build();
}

function sameSchema(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && util.compareTypes(f.type, b.fields[i]!.type));
}

function emptyBatch(schema: Schema): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children: schema.fields.map((f) => nullData(f.type, 0)) }));
}

function toWasm(batch: RecordBatch): wasm.RecordBatch {
  const table = wasm.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream'));
  try {
    const b = table.recordBatch(0);
    if (!b) throw new Error('IPC round trip lost the batch');
    return b;
  } finally {
    table.free();
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class ParquetWasmEncoder implements ParquetEncoder {
  constructor(private readonly settings: EncoderSettings, private readonly schema: Schema) {}

  async *encode(batches: AsyncIterable<RecordBatch>, options: EncodeOptions = {}): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
    const { signal } = options;
    signal?.throwIfAborted();
    const source = batches[Symbol.asyncIterator]();
    // Shared by the writer's pull callback, the output pump and this generator.
    const state: {
      failure?: { error: unknown };
      /** The last batch has been handed to the writer: what it writes from now on may hold the footer. */
      lastSent: boolean;
      stopped: boolean;
      outputDone: boolean;
      rowsSent: number;
      /** Finished chunks our consumer has not taken yet. */
      ready: Uint8Array[];
      /** Chunks written after the last batch: the last group(s), the page index and the footer. */
      held: Uint8Array[];
    } = { lastSent: false, stopped: false, outputDone: false, rowsSent: 0, ready: [], held: [] };
    const gate = new Signal();
    const consumer = new Signal();
    let finished = false;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const fail = (error: unknown): void => {
      state.failure ??= { error };
      gate.wake();
      consumer.wake();
    };
    const onAbort = (): void => {
      fail(signal!.reason);
      void reader?.cancel().catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const first = await source.next();
      const rows = this.settings.rowsPerRowGroup
        ?? rowsPerRowGroup(this.settings.rowGroupSizeBytes, this.settings.bytesPerRow ?? (first.done || first.value.numRows === 0 ? 0 : arrowBytes(first.value.data) / first.value.numRows));
      // One batch of lookahead tells whether a batch is the last one before the writer gets it.
      let next: RecordBatch | undefined = first.done ? emptyBatch(this.schema) : first.value;
      let exhausted = first.done === true;

      const input = new ReadableStream<wasm.RecordBatch>({
        pull: async (controller) => {
          const close = (): void => {
            state.lastSent = true;
            controller.close();
          };
          try {
            // Backpressure: while a finished row group waits for our consumer, the writer gets no more rows
            // (so it holds at most the next group). Once everything was sent it only needs to hear the end.
            while (next && !state.stopped && !state.failure && state.ready.length > 0) await gate.wait();
            if (state.stopped || state.failure || !next) return close();
            const batch = next;
            next = undefined;
            if (!exhausted) {
              const r = await source.next();
              if (r.done) exhausted = true;
              else next = r.value;
            }
            if (state.stopped || state.failure) return close();
            if (!sameSchema(batch.schema, this.schema)) {
              throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `a record batch does not have the encoder's schema (${batch.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')})`);
            }
            state.rowsSent += batch.numRows;
            if (!next) state.lastSent = true;
            controller.enqueue(toWasm(batch));
          } catch (error) {
            // Never error the stream: the writer would skip the failure and finish a valid-looking file.
            fail(error);
            close();
          }
        },
      }, { highWaterMark: 0 });

      let output: ReadableStream<Uint8Array>;
      try {
        output = await wasm.transformParquetStream(input, writerProperties(this.settings, this.schema, rows)) as ReadableStream<Uint8Array>;
      } catch (err) {
        if (state.failure) throw state.failure.error;
        throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `parquet-wasm could not start writing: ${String(err)}`, { cause: err });
      }
      const out = output.getReader();
      reader = out;
      // Always reading the writer's output, so it never waits on its own stream; what waits is `ready`.
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await out.read();
            if (done) break;
            // The footer is written only after the last batch, so a chunk written before the writer got it
            // cannot hold the footer; later ones are held back for the footer check and patch.
            if (state.lastSent) state.held.push(value);
            else state.ready.push(value);
            consumer.wake();
          }
        } catch (err) {
          if (!state.stopped) fail(err);
        } finally {
          state.outputDone = true;
          consumer.wake();
        }
      })();

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
      return { rows: tail.rows, bytes, rowsPerRowGroup: rows, rowGroups: tail.rowGroups };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!finished) {
        state.stopped = true;
        gate.wake();
        await reader?.cancel().catch(() => undefined);
        await source.return?.();
      }
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
      last = concat(held);
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
      last = concat([lead[lead.length - 1]!, last]);
      lead = lead.slice(0, -1);
      footer = footerBytes(last);
    }
    const patched = patchFooter(footer, { jsonPaths: this.settings.jsonPaths, dropKeys: [ARROW_SCHEMA_KEY] });
    const body = last.subarray(0, last.length - footer.length - 8);
    return {
      chunks: [...lead, withFooter(body, patched)],
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
