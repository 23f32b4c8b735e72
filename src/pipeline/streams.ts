/**
 * The Parquet stage as stream components: `toParquet` (an async generator: Arrow RecordBatches in, Parquet
 * bytes out, one chunk per row group), `parquetStage` (the same in the `(source, { signal })` form
 * `stream.pipeline` and `compose` take), and `ParquetTransform` (a Node Transform around it: object-mode
 * batches on the writable side, bytes on the readable side).
 *
 * Backpressure is end to end: the encoder hands parquet-wasm (in its writer thread) a batch only when it asks
 * for one and its last row group was read, and decodes at most one batch ahead meanwhile; the Transform
 * acknowledges a written batch only when the encoder took it, and produces the next row group only after
 * the readable side asked for more.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RecordBatch, Schema } from 'apache-arrow';
import { ExporterError } from '../errors.js';
import type { EncoderSettings, ParquetEncoderFactory, ParquetFileSummary } from './encoder.js';
import { unknownJsonKeyHandler } from './json-unknown-keys.js';
import type { ParquetOptions } from './parquet-options.js';
import { createParquetWasmEncoder } from './parquet-wasm-encoder.js';
import { planParquetSchema, type ParquetSchemaPlan, type SchemaMappingOptions } from './schema-mapping.js';

/**
 * The table-schema options (`tableSchema`, `fieldIds`, `timestampWithoutZone`, `jsonShapes` — segmentToParquet
 * infers those not given —, `onUnknownJsonKey`) are the schema mapping's; see SchemaMappingOptions.
 */
export interface ParquetStageOptions
  extends Pick<SchemaMappingOptions, 'tableSchema' | 'fieldIds' | 'timestampWithoutZone' | 'jsonShapes' | 'onUnknownJsonKey'> {
  /** Arrow schema of the incoming batches (e.g. `SegmentReader.schema()`), with its `pinot.*` metadata. */
  sourceSchema: Schema;
  parquet: ParquetOptions;
  /** 'iceberg' writes timestamps in microseconds (Iceberg `timestamp` / `timestamptz`). Default 'parquet'. */
  target?: 'parquet' | 'iceberg';
  keyValueMetadata?: ReadonlyMap<string, string>;
  /** Expected bytes per row, to derive rows per row group from rowGroupSizeBytes. */
  bytesPerRow?: number;
  /** Rows per row group (overrides the derivation). */
  rowsPerRowGroup?: number;
  /** Default: parquet-wasm. */
  encoder?: ParquetEncoderFactory;
  /** Non-fatal notices (a dropped column). Default: none. */
  onWarning?: (message: string) => void;
  /** Added to errors' context. */
  segmentName?: string;
}

/** The schema plan the stage will use (to read only `plan.sourceColumns`, or to show the output schema). */
export function planFor(options: ParquetStageOptions, extra: Pick<SchemaMappingOptions, 'maxShippedDictionary'> = {}): ParquetSchemaPlan {
  return planParquetSchema(options.sourceSchema, {
    ...extra,
    parquet: options.parquet,
    timestampUnit: options.target === 'iceberg' ? 'MICROS' : 'MILLIS',
    timestampWithoutZone: options.timestampWithoutZone,
    tableSchema: options.tableSchema,
    fieldIds: options.fieldIds,
    jsonShapes: options.jsonShapes,
    onUnknownJsonKey: options.onUnknownJsonKey ?? unknownJsonKeyHandler({ behavior: options.parquet.jsonUnknownKeys, warn: options.onWarning }),
  });
}

export function encoderSettings(options: ParquetStageOptions, plan: ParquetSchemaPlan): EncoderSettings {
  const { parquet } = options;
  return {
    codec: parquet.compressionCodec,
    rowGroupSizeBytes: parquet.rowGroupSizeBytes,
    pageSizeBytes: parquet.pageSizeBytes,
    rowsPerRowGroup: options.rowsPerRowGroup,
    bytesPerRow: options.bytesPerRow,
    dictionaryColumns: plan.dictionaryColumns,
    nestedDictionary: plan.nestedDictionary,
    jsonPaths: plan.jsonPaths,
    keyValueMetadata: options.keyValueMetadata ?? new Map(),
  };
}

/**
 * Arrow batches of `options.sourceSchema` → the Parquet file's bytes, one chunk per row group. Returns the
 * file summary. A failure of `batches` or of the conversion ends the generator with that error.
 */
export async function* toParquet(
  batches: AsyncIterable<RecordBatch>, options: ParquetStageOptions & { signal?: AbortSignal }, plan: ParquetSchemaPlan = planFor(options),
): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
  const context = options.segmentName === undefined ? {} : { segment: options.segmentName };
  try {
    for (const column of plan.dropped) {
      options.onWarning?.(`column ${column} is in the segment but not in the table schema: not written`);
    }
    const encoder = (options.encoder ?? createParquetWasmEncoder)(encoderSettings(options, plan), plan.schema);
    return yield* encoder.encode(converted(batches, plan), { signal: options.signal });
  } catch (err) {
    throw err instanceof ExporterError ? err.addContext(context) : err;
  }
}

async function* converted(batches: AsyncIterable<RecordBatch>, plan: ParquetSchemaPlan): AsyncGenerator<RecordBatch, void, undefined> {
  let firstRow = 0;
  for await (const batch of batches) {
    yield plan.convert(batch, firstRow);
    firstRow += batch.numRows;
  }
}

/** `toParquet` as a `stream.pipeline` / `compose` stage. */
export function parquetStage(options: ParquetStageOptions): (source: AsyncIterable<RecordBatch>, opts?: { signal?: AbortSignal }) => AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
  return (source, opts = {}) => toParquet(source, { ...options, signal: opts.signal });
}

/**
 * Node Transform: RecordBatches written (object mode, one buffered) → Parquet bytes read. `summary` is set
 * once the last byte has been pushed.
 */
export class ParquetTransform extends Transform {
  summary?: ParquetFileSummary;
  private slot?: { batch: RecordBatch; ack: () => void };
  private ended = false;
  private wakeSource?: () => void;
  private wakePump?: () => void;
  private pump?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly options: ParquetStageOptions) {
    super({ writableObjectMode: true, writableHighWaterMark: 1 });
  }

  /** The batches as the encoder pulls them; each write is acknowledged when the encoder takes it. */
  private async *source(): AsyncGenerator<RecordBatch, void, undefined> {
    for (;;) {
      while (!this.slot && !this.ended) await new Promise<void>((resolve) => (this.wakeSource = resolve));
      const slot = this.slot;
      if (!slot) return;
      this.slot = undefined;
      slot.ack();
      yield slot.batch;
    }
  }

  private startPump(): Promise<void> {
    this.pump ??= (async () => {
      const out = toParquet(this.source(), { ...this.options, signal: this.abort.signal });
      for (;;) {
        const r = await out.next();
        if (r.done) {
          this.summary = r.value;
          return;
        }
        if (this.destroyed) {
          await out.return(undefined as never);
          return;
        }
        if (!this.push(r.value)) await new Promise<void>((resolve) => (this.wakePump = resolve));
      }
    })();
    return this.pump;
  }

  private wake(): void {
    const w = this.wakeSource;
    this.wakeSource = undefined;
    w?.();
  }

  override _transform(batch: RecordBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.slot = { batch, ack: () => callback() };
    this.wake();
    this.startPump().catch((err: unknown) => this.destroy(err as Error));
  }

  override _flush(callback: TransformCallback): void {
    this.ended = true;
    this.wake();
    this.startPump().then(() => callback(), (err: unknown) => callback(err as Error));
  }

  override _read(size: number): void {
    const w = this.wakePump;
    this.wakePump = undefined;
    w?.();
    super._read(size);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.ended = true;
    this.abort.abort(error ?? new Error('ParquetTransform destroyed'));
    this.wake();
    const w = this.wakePump;
    this.wakePump = undefined;
    w?.();
    callback(error);
  }
}

export function createParquetTransform(options: ParquetStageOptions): ParquetTransform {
  return new ParquetTransform(options);
}
