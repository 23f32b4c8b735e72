/**
 * A column written in pieces (consecutive row ranges encoded one after another, what keeps a raw column's values
 * from being held all at once) reads back the same rows as the column written whole, with the same statistics
 * (null count, min/max in Parquet's order incl. NaN and ±0), page counts that add up, and row-count checks.
 */
import { Field, Schema, type Data, type DataType } from 'apache-arrow';
import { afterAll, expect, it } from 'vitest';
import { ParquetFileWriter } from '../../../src/pipeline/direct/file-writer.js';
import { ParquetError } from '../../../src/pipeline/parquet-error.js';
import { rng } from '../../support/random.js';
import { closeDuckdb, duckRows, hyparquetRows, metadataOf, pageTypes, withFile } from '../helpers.js';
import { baseSettings, primitiveData, types, type Scalar } from './writer-data.js';

afterAll(() => closeDuckdb());

function values(type: keyof typeof types, rows: number, seed: number): (Scalar | null)[] {
  const r = rng(seed);
  return Array.from({ length: rows }, (_, i) => {
    const x = r();
    if (x < 0.1) return null;
    switch (type) {
      case 'int32': return Math.floor((r() - 0.5) * 2 ** 31);
      case 'int64': return BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 4099n;
      case 'float32': return [NaN, -0, 0, Infinity][i % 97] ?? Math.fround((r() - 0.5) * 1e6);
      case 'float64': return [NaN, 0, -0, -Infinity][i % 89] ?? (r() - 0.5) * 1e9;
      case 'bool': return r() < 0.5;
      case 'utf8': return `v${Math.floor(r() * 1e6)}${'x'.repeat(i % 40)}`;
      case 'binary': return Uint8Array.from({ length: i % 9 }, () => Math.floor(r() * 256));
      default: return 1_700_000_000_000 + Math.floor(r() * 1e10);
    }
  });
}

/** Slices of `data` at the given row boundaries. */
function slices(data: Data, cuts: readonly number[]): Data[] {
  const bounds = [0, ...cuts, data.length];
  return bounds.slice(1).map((end, k) => data.slice(bounds[k]!, end - bounds[k]!));
}

function write(schema: Schema, columns: readonly Data[], cuts?: readonly number[]): Uint8Array {
  const writer = new ParquetFileWriter(schema, { ...baseSettings, pageSizeBytes: 2048 });
  const parts = [writer.start()];
  writer.beginRowGroup(columns[0]!.length);
  columns.forEach((d, i) => parts.push(...(cuts ? writer.writeColumnPieces(i, slices(d, cuts)) : writer.writeColumn(i, d))));
  writer.endRowGroup();
  parts.push(writer.finish());
  return Buffer.concat(parts);
}

it('every plain type written in pieces reads back equal, with the whole column\'s statistics', async () => {
  const names = Object.keys(types) as (keyof typeof types)[];
  const rows = 5000;
  const columns = names.map((n, k) => primitiveData(types[n]() as DataType, values(n, rows, 31 + k)));
  const schema = new Schema(names.map((n, k) => new Field(n, columns[k]!.type, true)));
  const whole = write(schema, columns);
  const pieced = write(schema, columns, [1, 700, 701, 4096]);
  expect(await hyparquetRows(pieced)).toStrictEqual(await hyparquetRows(whole));
  await withFile(pieced, async (path) => {
    const fromWhole = await withFile(whole, (p) => duckRows(p));
    expect(await duckRows(path)).toStrictEqual(fromWhole);
  });
  const chunksOf = (bytes: Uint8Array) => metadataOf(bytes).row_groups[0]!.columns.map((c) => c.meta_data!);
  const a = chunksOf(whole);
  const b = chunksOf(pieced);
  b.forEach((m, k) => {
    expect([m.path_in_schema, m.statistics], names[k]).toStrictEqual([a[k]!.path_in_schema, a[k]!.statistics]);
    expect(m.num_values).toBe(a[k]!.num_values);
    // Each piece ends its last page, so pieces add pages; the walk proves the sizes and offsets hold.
    expect(pageTypes(pieced, m).length).toBeGreaterThanOrEqual(pageTypes(whole, a[k]!).length);
    expect(m.dictionary_page_offset).toBeUndefined();
  });
});

it('refuses pieces whose rows do not add up to the row group', () => {
  const data = primitiveData(types.int32(), [1, 2, 3, 4]);
  const schema = new Schema([new Field('n', data.type, true)]);
  const writer = new ParquetFileWriter(schema, baseSettings);
  writer.start();
  writer.beginRowGroup(4);
  let err: unknown;
  try {
    writer.writeColumnPieces(0, [data.slice(0, 3)]);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ParquetError);
  expect((err as ParquetError).detail).toMatch(/column n has 3 rows, the row group 4/);
});
