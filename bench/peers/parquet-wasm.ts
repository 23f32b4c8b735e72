/**
 * parquet-wasm alone: the Arrow batches our encoder would receive, built before timing (no Pinot decode), sent
 * through `transformParquetStream` with the writer properties our encoder sets (codec, page size, rows and bytes
 * per row group, dictionary pages only on the plan's dictionary columns, chunk-level statistics). The timed part
 * includes the Arrow IPC copy into wasm memory, which is the only way in from JS.
 */
import { open } from 'node:fs/promises';
import { Table, tableToIPC, DataType as ArrowTypes, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import type { PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

const CODECS = {
  UNCOMPRESSED: wasm.Compression.UNCOMPRESSED,
  SNAPPY: wasm.Compression.SNAPPY,
  GZIP: wasm.Compression.GZIP,
  ZSTD: wasm.Compression.ZSTD,
} as const;

function properties(p: PreparedSegment): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[p.parquet.compressionCodec])
    .setDataPageSizeLimit(p.parquet.pageSizeBytes)
    .setMaxRowGroupSize(p.rowsPerGroup)
    .setMaxRowGroupBytes(p.parquet.rowGroupSizeBytes)
    .setDictionaryEnabled(p.plan.nestedDictionary)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk);
  const dictionary = new Set(p.plan.dictionaryColumns);
  for (const f of p.plan.schema.fields) {
    if (ArrowTypes.isList(f.type) || ArrowTypes.isStruct(f.type)) continue;
    b = b.setColumnDictionaryEnabled(f.name, dictionary.has(f.name));
  }
  return b.build();
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

export async function runParquetWasm(p: PreparedSegment, batches: readonly RecordBatch[], file: string): Promise<RunTiming> {
  const { seconds, cpuSeconds } = await timed(async () => {
    let next = 0;
    const input = new ReadableStream<wasm.RecordBatch>({
      pull(controller) {
        if (next < batches.length) controller.enqueue(toWasm(batches[next++]!));
        else controller.close();
      },
    }, { highWaterMark: 0 });
    const output = (await wasm.transformParquetStream(input, properties(p)) as ReadableStream<Uint8Array>).getReader();
    const out = await open(file, 'w');
    try {
      for (;;) {
        const r = await output.read();
        if (r.done) break;
        await out.write(r.value);
      }
    } finally {
      await out.close();
    }
  });
  return { seconds, cpuSeconds };
}
