/**
 * A column encoder worker thread (see column-pool.ts): opens the segment directory itself, builds the same
 * schema plan as segment-export.ts, and per job reads one column chunk, converts it and encodes it at file
 * offset 0 — exactly what the in-process direct writer does, so the bytes are the same.
 *
 * Protocol: workerData is a ColumnWorkerInit; the worker answers `ready` (plan column names) or `failed`
 * without an id (and exits). Then main → worker `encode` (one at a time: the pool never sends a second job
 * before the answer), worker → main `encoded` or `failed` with the job's id; main → worker `close` closes
 * the reader (its file descriptors) and lets the thread end.
 *
 * vitest does not transform worker files: this runs as compiled JS from dist/ (columnPoolAvailable()).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SegmentReader } from '../../sources/segment-reader.js';
import type { ColumnChunkReader } from '../../sources/pinot/segment.js';
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import type { ParquetOptions } from '../parquet-options.js';
import type { ParquetSchemaPlan } from '../schema-mapping.js';
import { planFor } from '../streams.js';
import type { JsonShape } from '../json-shredding.js';
import type { TableSchema } from '../table-schema.js';
import { ChunkScratch, type EncodedChunk } from './column-chunk.js';
import { pageCompressor } from './compress.js';
import type { ColumnMetaData } from './format.js';
import { chunkSettingsOf, columnPieces, encodeLeafChunk, encodePieces, pieceableColumns, type DirectWriterSettings } from './file-writer.js';
import { directParquetSchema, type LeafColumn } from './parquet-schema.js';
import { serializeError, type SerializedError } from './worker-errors.js';

/** The plan inputs a worker needs, as plain data (structured-clone safe: no functions, no Arrow objects). */
export interface ColumnPoolPlan {
  parquet: ParquetOptions;
  target?: 'parquet' | 'iceberg';
  timestampWithoutZone?: readonly string[];
  tableSchema?: TableSchema;
  jsonShapes?: ReadonlyMap<string, JsonShape>;
}

export type ColumnWriterSettings = Pick<DirectWriterSettings, 'codec' | 'pageSizeBytes' | 'dictionaryPageSizeLimit' | 'dictionaryColumns' | 'jsonPaths'>;

export interface ColumnWorkerInit {
  segmentDir: string;
  plan: ColumnPoolPlan;
  legacyPadding?: 'refuse' | 'strip';
  /** This worker's share of the dictionary budget. */
  dictionaryBudgetBytes?: number;
  writer: ColumnWriterSettings;
  crashForTest?: CrashForTest;
}

/** Tests only: the worker dies on its `job`-th job (0-based): process.exit(70), or an uncaught exception. */
export interface CrashForTest {
  job: number;
  how: 'exit' | 'throw';
}

export type ToWorker = { type: 'encode'; id: number; index: number; start: number; end: number } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; columns: string[] }
  | { type: 'encoded'; id: number; pages: Uint8Array[]; metaData: ColumnMetaData; bytes: number }
  /** Without an id: starting failed. */
  | { type: 'failed'; id?: number; error: SerializedError };

/** Reads, converts and encodes column chunks of one segment (the worker's state between jobs). */
export class ColumnChunkEncoder {
  private readonly scratch = new ChunkScratch();
  private readonly compress: (page: Uint8Array) => Uint8Array;
  private readonly dictionary: ReadonlySet<string>;
  private readonly pieceable: ReadonlySet<string>;

  private constructor(
    private readonly reader: SegmentReader,
    private readonly plan: ParquetSchemaPlan,
    private readonly chunks: ColumnChunkReader,
    private readonly leaves: readonly LeafColumn[],
    private readonly settings: ColumnWriterSettings,
  ) {
    this.compress = pageCompressor(settings.codec);
    this.dictionary = new Set(settings.dictionaryColumns);
    this.pieceable = pieceableColumns(plan.columns, chunks.schema);
  }

  static async open(init: ColumnWorkerInit): Promise<ColumnChunkEncoder> {
    const reader = await SegmentReader.open(init.segmentDir);
    try {
      // As segment-export.ts plans the direct writer's file: every dictionary kept, none shipped whole.
      const plan = planFor({ ...init.plan, sourceSchema: reader.schema({ keepDictionaries: 'all' }), segmentName: reader.name }, { maxShippedDictionary: Infinity });
      const chunks = reader.columnChunks({ columns: plan.sourceColumns, legacyPadding: init.legacyPadding, dictionaryBudgetBytes: init.dictionaryBudgetBytes });
      const leaves = directParquetSchema(plan.schema, init.writer.jsonPaths).leaves;
      return new ColumnChunkEncoder(reader, plan, chunks, leaves, init.writer);
    } catch (err) {
      await reader.close();
      throw err;
    }
  }

  get columns(): string[] {
    return this.plan.columns.map((c) => c.name);
  }

  /** Column `index` (plan order) of docs [start, end), encoded at offset 0. */
  encode(index: number, start: number, end: number): EncodedChunk {
    const column = this.plan.columns[index];
    const leaf = this.leaves[index];
    if (column === undefined || leaf === undefined) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `column ${index} requested, the plan has ${this.plan.columns.length} columns`);
    }
    const where = `rows [${start}, ${end})`;
    const rows = end - start;
    const settingsAt = (offset: number) => chunkSettingsOf(this.settings, this.compress, this.dictionary, leaf, offset);
    if (this.pieceable.has(column.name)) {
      // As the in-process writer does: a raw column a piece at a time, never all its values at once.
      const pieces = columnPieces(start, end, (a, b) => this.plan.convertColumn(index, this.chunks.read(column.name, a, b), b - a, a));
      return encodePieces(leaf, pieces, rows, settingsAt, this.scratch, where);
    }
    const source = column.inSource ? this.chunks.read(column.name, start, end) : undefined;
    const data = this.plan.convertColumn(index, source, rows, start);
    if (data.length !== rows) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `${where}: column ${column.name} has ${data.length} rows, the row group ${rows}`, {
        context: { column: column.name },
      });
    }
    return encodeLeafChunk(leaf, data, settingsAt(0), this.scratch, where);
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}

/** The pages as posted: each owning its whole ArrayBuffer (copied when it does not), and the buffers to transfer. */
function transferable(pages: readonly Uint8Array[]): { pages: Uint8Array[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const out = pages.map((page) => {
    const buffer = page.buffer;
    const whole = buffer instanceof ArrayBuffer && page.byteOffset === 0 && page.byteLength === buffer.byteLength && !transfer.has(buffer);
    const owned = whole ? page : page.slice();
    transfer.add(owned.buffer as ArrayBuffer);
    return owned;
  });
  return { pages: out, transfer: [...transfer] };
}

function serve(port: MessagePort, init: ColumnWorkerInit): void {
  let jobs = 0;
  ColumnChunkEncoder.open(init).then((encoder) => {
    port.on('message', (m: ToWorker) => {
      if (m.type === 'encode' && init.crashForTest?.job === jobs++) {
        if (init.crashForTest.how === 'exit') process.exit(70);
        setImmediate(() => {
          throw new Error('crash for test');
        });
        return;
      }
      if (m.type === 'close') {
        // An unreferenced port no longer holds the thread: it ends once the reader has closed its files.
        port.removeAllListeners('message');
        port.unref();
        void encoder.close();
        return;
      }
      let reply: FromWorker;
      let transfer: ArrayBuffer[] = [];
      try {
        const chunk = encoder.encode(m.index, m.start, m.end);
        const posted = transferable(chunk.pages);
        transfer = posted.transfer;
        reply = { type: 'encoded', id: m.id, pages: posted.pages, metaData: chunk.metaData, bytes: chunk.bytes };
      } catch (err) {
        reply = { type: 'failed', id: m.id, error: serializeError(err) };
      }
      port.postMessage(reply, transfer);
    });
    port.postMessage({ type: 'ready', columns: encoder.columns } satisfies FromWorker);
  }, (err: unknown) => {
    port.postMessage({ type: 'failed', error: serializeError(err) } satisfies FromWorker);
  });
}

if (parentPort !== null && (workerData as { columnWorker?: ColumnWorkerInit } | null)?.columnWorker !== undefined) {
  serve(parentPort, (workerData as { columnWorker: ColumnWorkerInit }).columnWorker);
}
