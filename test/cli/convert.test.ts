/**
 * `pinot-export convert <segment> <out.parquet>`: the file is complete or absent (temporary name + rename),
 * flags and the table config's DataExportTask keys apply, bad input names the flag, key or value.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConvert } from '../../src/cli/convert.js';
import { ExporterError } from '../../src/errors.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { closeDuckdb, duckMetadata, duckRows, metadataOf } from '../pipeline/helpers.js';
import { captureIo } from '../support/cli.js';

afterAll(() => closeDuckdb());

interface Run {
  stdout: string;
  stderr: string;
  error?: ExporterError;
}

async function convert(...args: string[]): Promise<Run> {
  const cap = captureIo();
  let error: ExporterError | undefined;
  try {
    await runConvert(args, cap.io);
  } catch (e) {
    expect(e).toBeInstanceOf(ExporterError);
    error = e as ExporterError;
  }
  return { stdout: cap.stdout(), stderr: cap.stderr(), error };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'convert-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tableConfig(task: Record<string, unknown>): string {
  const path = join(dir, 'table.json');
  writeFileSync(path, JSON.stringify({ tableName: 'events_REALTIME', tableType: 'REALTIME', task: { taskTypeConfigsMap: { DataExportTask: task } } }));
  return path;
}

describe('usage', () => {
  it('needs exactly a segment and an output path', async () => {
    const r = await convert('only-one-arg');
    expect(r.error?.code).toBe('USAGE');
    expect(r.error?.message).toContain('expected <segment> <out.parquet>');
  });

  it('a missing segment fails with SOURCE_NOT_FOUND and writes nothing', async () => {
    const r = await convert('/nonexistent/segment.tar.gz', join(dir, 'out.parquet'));
    expect(r.error?.code).toBe('SOURCE_NOT_FOUND');
    expect(readdirSync(dir)).toStrictEqual([]);
  });
});

describeFixtures('convert on real segments', 'fixtures/pinot-generated/1.5.1', (fixtures) => {
  const events = join(fixtures, 'events__0__12__20261126T0000Z.tar.gz');

  it('writes the Parquet file DuckDB reads back equal to the segment, and nothing else', async () => {
    const out = join(dir, 'events.parquet');
    const r = await convert(events, out);
    expect(r.error).toBeUndefined();
    const size = readFileSync(out).length;
    expect(r.stdout).toMatch(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 5000 rows, 1 row group \\(≤ \\d+ rows each\\), ${size} bytes, SNAPPY\n$`));
    expect(readdirSync(dir)).toStrictEqual(['events.parquet']);
    expect(await duckRows(out)).toStrictEqual(await readRows(events));
  });

  it('--codec and --row-group-bytes apply (and override the table config)', async () => {
    const out = join(dir, 'events.parquet');
    const config = tableConfig({ 'fileFormat.parquet.compressionCodec': 'GZIP' });
    const r = await convert(events, out, '--config', config, '--codec', 'zstd', '--row-group-bytes', '65536');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/ZSTD\n$/);
    const meta = await duckMetadata(out);
    expect(new Set(meta.map((m) => m.compression))).toStrictEqual(new Set(['ZSTD']));
    expect(new Set(meta.map((m) => m.row_group_id)).size).toBeGreaterThan(4);
  });

  it('--config reads task.taskTypeConfigsMap.DataExportTask (numbers as Pinot would coerce them, REALTIME wrapper too)', async () => {
    const out = join(dir, 'events.parquet');
    const config = tableConfig({
      fileFormat: 'parquet', 'fileFormat.parquet.compressionCodec': 'GZIP', 'fileFormat.parquet.decimal.precision': 12,
      'fileFormat.parquet.decimal.scale': '2', 'fileFormat.parquet.enableDictionary': false, 'destination.type': 's3',
    });
    expect((await convert(events, out, '--config', config)).error).toBeUndefined();
    const meta = metadataOf(readFileSync(out));
    expect(new Set(meta.row_groups[0]!.columns.map((c) => c.meta_data!.codec))).toStrictEqual(new Set(['GZIP']));
    expect(meta.schema.find((e) => e.name === 'amount')!.logical_type).toStrictEqual({ type: 'DECIMAL', precision: 12, scale: 2 });
    expect(meta.row_groups[0]!.columns.every((c) => c.meta_data!.dictionary_page_offset === undefined)).toBe(true);

    const wrapped = join(dir, 'wrapped.json');
    writeFileSync(wrapped, JSON.stringify({ REALTIME: JSON.parse(readFileSync(config, 'utf8')) }));
    const out2 = join(dir, 'events2.parquet');
    expect((await convert(events, out2, '--config', wrapped)).error).toBeUndefined();
    expect(metadataOf(readFileSync(out2)).row_groups[0]!.columns[0]!.meta_data!.codec).toBe('GZIP');
  });

  it('--schema follows the table schema and warns on stderr about a column it drops', async () => {
    const schema = JSON.parse(readFileSync(join(fixtures, 'events__0__12__20261126T0000Z.schema.json'), 'utf8')) as { dimensionFieldSpecs: { name: string }[] };
    schema.dimensionFieldSpecs = schema.dimensionFieldSpecs.filter((f) => f.name !== 'session_id');
    const schemaPath = join(dir, 'schema.json');
    writeFileSync(schemaPath, JSON.stringify(schema));
    const out = join(dir, 'events.parquet');
    const r = await convert(events, out, '--schema', schemaPath);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('pinot-export convert: warning: column session_id is in the segment but not in the table schema: not written\n');
    expect(metadataOf(readFileSync(out)).schema.some((e) => e.name === 'session_id')).toBe(false);
  });

  it('a bad --codec names the flag and its value, and writes nothing', async () => {
    const r = await convert(events, join(dir, 'out.parquet'), '--codec', 'LZO');
    expect(r.error?.code).toBe('USAGE');
    expect(r.error?.message).toContain('--codec: fileFormat.parquet.compressionCodec is "LZO"; accepted: SNAPPY, GZIP, ZSTD, UNCOMPRESSED');
    const n = await convert(events, join(dir, 'out.parquet'), '--row-group-bytes=-5');
    expect(n.error?.message).toContain('--row-group-bytes: fileFormat.parquet.rowGroupSizeBytes is "-5"');
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('fileFormat=orc in the table config is a config error naming the key', async () => {
    const r = await convert(events, join(dir, 'out.parquet'), '--config', tableConfig({ fileFormat: 'orc' }));
    expect(r.error?.code).toBe('CONFIG_INVALID');
    expect(r.error?.context.key).toBe('fileFormat');
    expect(r.error?.message).toContain('fileFormat is "orc"; accepted: parquet');
    expect(readdirSync(dir)).toStrictEqual(['table.json']);
  });

  it('a table config without a DataExportTask, or not JSON, is refused', async () => {
    const path = join(dir, 'table.json');
    writeFileSync(path, JSON.stringify({ tableName: 'x' }));
    expect((await convert(events, join(dir, 'o.parquet'), '--config', path)).error?.message).toContain('has no task.taskTypeConfigsMap.DataExportTask');
    writeFileSync(path, '{nope');
    expect((await convert(events, join(dir, 'o.parquet'), '--config', path)).error?.message).toContain('is not JSON');
  });

  it('a failed conversion leaves no file and no temporary file, and keeps an existing target as it was', async () => {
    const out = join(dir, 'prices.parquet');
    writeFileSync(out, 'previous export');
    const config = tableConfig({ 'fileFormat.parquet.decimal.precision': '38', 'fileFormat.parquet.decimal.scale': '10' });
    const r = await convert(join(fixtures, 'sorted_bigdecimal.tar.gz'), out, '--config', config);
    expect(r.error?.code).toBe('PARQUET_VALUE_OUT_OF_RANGE');
    expect(r.error?.message).toMatch(/BIG_DECIMAL value -?[\d.]+ does not fit DECIMAL\(38,10\)/);
    expect(readdirSync(dir).sort()).toStrictEqual(['prices.parquet', 'table.json']);
    expect(readFileSync(out, 'utf8')).toBe('previous export');
  });

  it('a successful conversion replaces an existing target', async () => {
    const out = join(dir, 'events.parquet');
    writeFileSync(out, 'stale');
    expect((await convert(events, out)).error).toBeUndefined();
    expect(readFileSync(out).subarray(0, 4).toString()).toBe('PAR1');
  });

  it('an output directory that does not exist fails naming the file', async () => {
    const out = join(dir, 'missing', 'events.parquet');
    const r = await convert(events, out);
    expect(r.error?.code).toBe('PARQUET_OUTPUT_FAILED');
    expect(r.error?.context.file).toBe(out);
    mkdirSync(join(dir, 'missing'));
    expect(readdirSync(join(dir, 'missing'))).toStrictEqual([]);
  });
});
