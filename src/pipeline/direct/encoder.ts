/**
 * The direct writer behind the batch-level encoder contract (encoder.ts), so the stream components
 * (`toParquet`, `parquetStage`, `ParquetTransform`) can use it too: record batches are collected up to one
 * row group, then each column's pieces become one column chunk. Memory: one row group of Arrow data plus its
 * encoded bytes. (segmentToParquet does better: it reads one column chunk at a time straight from the segment.)
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { DataType as ArrowTypes } from 'apache-arrow';
import { rowsPerRowGroup, type EncodeOptions, type EncoderSettings, type ParquetEncoder, type ParquetFileSummary, type RowGroupSummary } from '../encoder.js';
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import { concatBytes as concat } from '../concat-bytes.js';
import { arrowBytes } from '../parquet-wasm-encoder.js';
import { DIRECT_CREATED_BY } from '../version.js';
import { concatData } from './concat.js';
import { ParquetFileWriter } from './file-writer.js';

export class DirectEncoder implements ParquetEncoder {
  constructor(private readonly settings: EncoderSettings, private readonly schema: Schema) {}

  async *encode(batches: AsyncIterable<RecordBatch>, options: EncodeOptions = {}): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
    const { settings, schema } = this;
    const listColumns = schema.fields.filter((f) => ArrowTypes.isList(f.type)).map((f) => f.name);
    const writer = new ParquetFileWriter(schema, {
      codec: settings.codec,
      pageSizeBytes: settings.pageSizeBytes,
      dictionaryColumns: settings.nestedDictionary ? [...settings.dictionaryColumns, ...listColumns] : settings.dictionaryColumns,
      jsonPaths: settings.jsonPaths,
      keyValueMetadata: settings.keyValueMetadata,
      createdBy: settings.createdBy ?? DIRECT_CREATED_BY,
    });
    let rowsPerGroup = settings.rowsPerRowGroup ?? (settings.bytesPerRow ? rowsPerRowGroup(settings.rowGroupSizeBytes, settings.bytesPerRow) : undefined);
    const rowGroups: RowGroupSummary[] = [];
    let pending: RecordBatch[] = [];
    let pendingRows = 0;
    let rows = 0;

    const flush = (): Uint8Array => {
      const groupRows = pendingRows;
      writer.beginRowGroup(groupRows);
      const out: Uint8Array[] = [];
      for (let i = 0; i < schema.fields.length; i++) {
        options.signal?.throwIfAborted();
        const data = concatData(pending.map((b) => b.getChildAt(i)!.data[0]!));
        out.push(...writer.writeColumn(i, data));
      }
      rowGroups.push(writer.endRowGroup());
      pending = [];
      pendingRows = 0;
      return concat(out);
    };

    // A finished group is handed out once more rows arrive, so the last chunk always carries the footer.
    let held: Uint8Array | undefined = writer.start();
    for await (const input of batches) {
      options.signal?.throwIfAborted();
      checkSchema(input, schema);
      rowsPerGroup ??= rowsPerRowGroup(settings.rowGroupSizeBytes, input.numRows > 0 ? arrowBytes(input.data) / input.numRows : 0);
      let batch = input;
      while (batch.numRows > 0) {
        if (held !== undefined && pendingRows === 0 && rows > 0) {
          yield held;
          held = undefined;
        }
        const take = Math.min(batch.numRows, rowsPerGroup - pendingRows);
        pending.push(take === batch.numRows ? batch : batch.slice(0, take));
        pendingRows += take;
        rows += take;
        batch = batch.slice(take);
        if (pendingRows === rowsPerGroup) held = held === undefined ? flush() : concat([held, flush()]);
      }
    }
    options.signal?.throwIfAborted();
    const tail: Uint8Array[] = held === undefined ? [] : [held];
    if (pendingRows > 0) tail.push(flush());
    tail.push(writer.finish());
    yield concat(tail);
    return { rows, bytes: writer.position, rowsPerRowGroup: rowsPerGroup ?? rows, rowGroups };
  }
}

/** The ParquetEncoderFactory of the direct writer. */
export function createDirectEncoder(settings: EncoderSettings, schema: Schema): ParquetEncoder {
  return new DirectEncoder(settings, schema);
}

function checkSchema(batch: RecordBatch, schema: Schema): void {
  const fields = batch.schema.fields;
  if (fields.length !== schema.fields.length || fields.some((f, i) => f.name !== schema.fields[i]!.name)) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `a record batch does not have the encoder's schema (${fields.map((f) => f.name).join(', ')})`);
  }
}
