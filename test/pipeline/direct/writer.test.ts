/**
 * The direct writer end to end: Arrow Data built by hand → ParquetFileWriter → read back by hyparquet and
 * DuckDB; footers compared with what parquet-wasm writes for the same data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Field, List, Struct, Decimal, FixedSizeBinary, Uint32, Dictionary, Int32, Int16, Utf8 as Utf8Type, type Data, type DataType, type Schema as ArrowSchema } from 'apache-arrow';
import { nullData } from '../../../src/pipeline/arrow-data.js';
import { markEveryEntryUsed, markIdsBelow } from '../../../src/sources/pinot/dictionary-subset.js';
import { ParquetFileWriter } from '../../../src/pipeline/direct/file-writer.js';
import { directWriterSupports } from '../../../src/pipeline/direct/parquet-schema.js';
import { ParquetError } from '../../../src/pipeline/parquet-error.js';
import { PARQUET_CODECS } from '../../../src/pipeline/parquet-options.js';
import type { FileMetaData } from 'hyparquet';
import { parquetMetadata } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { closeDuckdb, duckRows, duckSchema, hyparquetRows, withFile, arrayBufferOf } from '../helpers.js';
import {
  Schema, baseSettings, dictionaryData, expectedRows, fieldOf, listData, primitiveData, types, writeDirect, writeWasm, type Cell, type Scalar,
} from './writer-data.js';

afterAll(() => closeDuckdb());

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type TypeName = keyof typeof types;

/** A value of `type` from a small pool (so dictionaries repeat). */
function valueOf(type: TypeName, r: () => number): Scalar {
  const pick = Math.floor(r() * 40);
  switch (type) {
    case 'int32':
      return [-(2 ** 31), 2 ** 31 - 1, 0][pick % 8] ?? (pick - 20) * 1_000_003;
    case 'int64':
      return [-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 32n][pick % 10] ?? BigInt(pick - 20) * 4_294_967_311n;
    case 'float32':
      return (pick - 20) * 1.5;
    case 'float64':
      return (pick - 20) / 7;
    case 'bool':
      return pick % 3 === 0;
    case 'utf8':
      return ['', 'a', 'é', 'zz', '日本'][pick % 6] ?? `v${pick}`;
    case 'binary':
      return Uint8Array.from([pick * 6, 255 - pick, pick % 3]).subarray(0, pick % 4);
    default:
      return 1_700_000_000_000 + (pick - 20) * 86_400_001;
  }
}

function column(type: TypeName, rows: number, seed: number, list: boolean): Cell[] {
  const r = random(seed);
  const scalar = (): Scalar | null => (r() < 0.12 ? null : valueOf(type, r));
  return Array.from({ length: rows }, () => {
    if (!list) return scalar();
    const x = r();
    if (x < 0.1) return null;
    if (x < 0.2) return [];
    return Array.from({ length: 1 + Math.floor(r() * 4) }, scalar);
  });
}

type Kind = 'plain' | 'dict' | 'list' | 'listDict';

interface ColumnSpec {
  name: string;
  type: TypeName;
  kind: Kind;
}

function build(spec: ColumnSpec, cells: readonly Cell[]): Data {
  const type = types[spec.type]() as DataType;
  const unused = [valueOf(spec.type, random(99))];
  switch (spec.kind) {
    case 'plain':
      return primitiveData(type, cells as (Scalar | null)[]);
    case 'dict':
      return dictionaryData(type, cells as (Scalar | null)[], unused);
    case 'list':
      return listData(cells as ((Scalar | null)[] | null)[], (v) => primitiveData(type, v));
    case 'listDict':
      return listData(cells as ((Scalar | null)[] | null)[], (v) => dictionaryData(type, v, unused));
  }
}

const ALL_TYPES = Object.keys(types) as TypeName[];

/** Every type × kind as columns; `rows` per row group, `groups` groups. */
function table(kinds: readonly Kind[], rows: number, groups: number, seed = 1): { schema: ArrowSchema; groups: Data[][]; cells: Cell[][] } {
  const specs = kinds.flatMap((kind) => ALL_TYPES.map((type) => ({ name: `${type}_${kind}`, type, kind })));
  const cells = specs.map((s, i) => column(s.type, rows * groups, seed * 1000 + i, s.kind === 'list' || s.kind === 'listDict'));
  const data: Data[][] = [];
  for (let g = 0; g < groups; g++) data.push(specs.map((s, i) => build(s, cells[i]!.slice(g * rows, (g + 1) * rows))));
  const schema = new Schema(specs.map((s, i) => fieldOf(s.name, data[0]?.[i] ?? build(s, []))));
  return { schema, groups: data, cells };
}

const hexParsers = { stringFromBytes: (b: Uint8Array) => Buffer.from(b).toString('hex') } as const;

function metaOf(bytes: Uint8Array): FileMetaData {
  return parquetMetadata(arrayBufferOf(bytes), { parsers: hexParsers as never });
}

interface ChunkStats {
  path: string;
  null_count: unknown;
  min: unknown;
  max: unknown;
}

/** Per row group and column: null_count, min_value, max_value. */
function statsOf(meta: FileMetaData): ChunkStats[][] {
  return meta.row_groups.map((g) => g.columns.map((c) => {
    const s = c.meta_data!.statistics;
    return { path: c.meta_data!.path_in_schema.join('.'), null_count: s?.null_count, min: s?.min_value, max: s?.max_value };
  }));
}

describe('ParquetFileWriter round trip', () => {
  it('writes every supported type, plain, dictionary and list, over several row groups and many pages', async () => {
    const t = table(['plain', 'dict', 'list', 'listDict'], 150, 3);
    const dictionaryColumns = t.schema.fields.filter((f) => /dict/i.test(f.name)).map((f) => f.name);
    const bytes = writeDirect(t.schema, t.groups, { pageSizeBytes: 64, dictionaryColumns });
    expect(await hyparquetRows(bytes)).toStrictEqual(expectedRows(t.schema, t.cells));
    const meta = metaOf(bytes);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toStrictEqual([150, 150, 150]);
    const wasm = await writeWasm(t.schema, t.groups, { pageSizeBytes: 64, dictionaryColumns });
    expect(statsOf(meta)).toStrictEqual(statsOf(metaOf(wasm)));
    const [ours, theirs] = await Promise.all([withFile(bytes, duckRows), withFile(wasm, duckRows)]);
    expect(ours).toStrictEqual(theirs);
    expect(ours).toHaveLength(450);
  });
});

/** Data pages and dictionary pages per column chunk, from the footer's encoding stats. */
function pageCounts(meta: FileMetaData): { path: string; data: number; dictionary: number; dictionaryOffset: boolean; encodings: string[] }[][] {
  return meta.row_groups.map((g) => g.columns.map((c) => {
    const m = c.meta_data!;
    const count = (type: string): number => (m.encoding_stats ?? []).filter((e) => e.page_type === type).reduce((n, e) => n + e.count, 0);
    return {
      path: m.path_in_schema.join('.'), data: count('DATA_PAGE'), dictionary: count('DICTIONARY_PAGE'),
      dictionaryOffset: m.dictionary_page_offset !== undefined, encodings: [...m.encodings],
    };
  }));
}

describe('ParquetFileWriter pages and codecs', () => {
  it.each(PARQUET_CODECS)('writes %s pages that both readers decode', async (codec) => {
    const t = table(['plain', 'listDict'], 120, 2, 7);
    const dictionaryColumns = t.schema.fields.map((f) => f.name);
    const bytes = writeDirect(t.schema, t.groups, { codec, pageSizeBytes: 100, dictionaryColumns });
    const meta = metaOf(bytes);
    expect(new Set(meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec)))).toStrictEqual(new Set([codec]));
    const expected = expectedRows(t.schema, t.cells);
    expect(await hyparquetRows(bytes)).toStrictEqual(expected);
    expect(await withFile(bytes, duckRows)).toStrictEqual(await withFile(await writeWasm(t.schema, t.groups, { codec, dictionaryColumns }), duckRows));
  });

  it('cuts flat pages exactly where the byte count reaches pageSizeBytes: strings without nulls, fixed-width values with nulls', async () => {
    // 300 six-byte strings are 10 PLAIN bytes each: 100-byte pages hold 10 values, so 30 pages.
    const strings = Array.from({ length: 300 }, (_, i) => `s${String(i).padStart(5, '0')}`);
    // INT32 with every third row null: 200 values of 4 bytes, 40-byte pages of 10 values each.
    const ints = Array.from({ length: 300 }, (_, i) => (i % 3 === 1 ? null : i));
    const data = [primitiveData(types.utf8(), strings), primitiveData(types.int32(), ints)];
    const schema = new Schema([fieldOf('s', data[0]!), fieldOf('n', data[1]!)]);
    const bytes = writeDirect(schema, [data], { pageSizeBytes: 100 });
    const bytes40 = writeDirect(schema, [data], { pageSizeBytes: 40 });
    expect(pageCounts(metaOf(bytes))[0]!.find((c) => c.path === 's')!.data).toBe(30);
    expect(pageCounts(metaOf(bytes40))[0]!.find((c) => c.path === 'n')!.data).toBe(20);
    const rows = strings.map((s, i) => ({ s, n: ints[i] }));
    for (const b of [bytes, bytes40]) {
      expect(await hyparquetRows(b)).toStrictEqual(rows);
      expect(await withFile(b, duckRows)).toStrictEqual(rows);
    }
  });

  it('cuts nullable flat pages at the level where a walk over the levels would, trailing nulls included', async () => {
    // The writer finds these cuts from the values' positions alone; the reference walks every level: a page
    // ends at the first level where the PLAIN bytes of its values reached pageSizeBytes.
    const rows = 500;
    const strings = Array.from({ length: rows }, (_, i) => (i % 7 === 3 || i >= rows - 5 ? null : 'x'.repeat(1 + ((i * 13) % 20))));
    const ints = Array.from({ length: rows }, (_, i) => (i % 5 === 0 || i >= rows - 10 ? null : i));
    const data = [primitiveData(types.utf8(), strings), primitiveData(types.int32(), ints)];
    const schema = new Schema([fieldOf('s', data[0]!), fieldOf('n', data[1]!)]);
    for (const target of [1, 40, 64, 333]) {
      const bytes = writeDirect(schema, [data], { pageSizeBytes: target, codec: 'UNCOMPRESSED' });
      const meta = metaOf(bytes);
      const sizes = [strings.map((v) => (v === null ? null : 4 + v.length)), ints.map((v) => (v === null ? null : 4))];
      meta.row_groups[0]!.columns.forEach((c, i) => {
        expect(dataPageLevels(bytes, c.meta_data!), `${c.meta_data!.path_in_schema.join('.')} at ${target} bytes`).toStrictEqual(levelWalkCuts(sizes[i]!, target));
      });
      const expected = strings.map((v, i) => ({ s: v, n: ints[i] }));
      expect(await hyparquetRows(bytes)).toStrictEqual(expected);
      expect(await withFile(bytes, duckRows)).toStrictEqual(expected);
    }
  });

  it('cuts pages at about pageSizeBytes, lists only at row boundaries', async () => {
    const t = table(['plain', 'list'], 400, 1, 3);
    const small = pageCounts(metaOf(writeDirect(t.schema, t.groups, { pageSizeBytes: 200 })))[0]!;
    const large = pageCounts(metaOf(writeDirect(t.schema, t.groups, { pageSizeBytes: 1 << 20 })))[0]!;
    expect(large.every((c) => c.data === 1)).toBe(true);
    // 400 rows of 8-byte values in 200-byte pages: 25 values a page, about 400 × 0.88 non-null values.
    const int64 = small.find((c) => c.path === 'int64_plain')!;
    expect(int64.data).toBeGreaterThanOrEqual(12);
    expect(int64.data).toBeLessThanOrEqual(16);
    expect(small.find((c) => c.path === 'utf8_list.list.element')!.data).toBeGreaterThan(3);
    // Every list page starts a row: DuckDB reads rows (not values) per page, so a split list would show up here.
    const bytes = writeDirect(t.schema, t.groups, { pageSizeBytes: 10 });
    expect(await withFile(bytes, duckRows)).toStrictEqual(expectedDuck(await withFile(writeDirect(t.schema, t.groups), duckRows)));
    expect(await hyparquetRows(bytes)).toStrictEqual(expectedRows(t.schema, t.cells));
  });
});

/** Levels per page of a page walk over the levels (null: a null level, else the value's PLAIN bytes). */
function levelWalkCuts(sizes: (number | null)[], target: number): number[] {
  const out: number[] = [];
  let bytes = 0;
  let from = 0;
  for (let l = 0; l < sizes.length; l++) {
    if (bytes >= target) {
      out.push(l - from);
      from = l;
      bytes = 0;
    }
    bytes += sizes[l] ?? 0;
  }
  out.push(sizes.length - from);
  return out;
}

/** num_values (levels) of each data page of a column chunk, from the page headers in the file. */
function dataPageLevels(bytes: Uint8Array, m: NonNullable<FileMetaData['row_groups'][number]['columns'][number]['meta_data']>): number[] {
  const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
  const end = start + Number(m.total_compressed_size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  const reader = { view, offset: start };
  while (reader.offset < end) {
    const header = deserializeTCompactProtocol(reader) as { field_1: number; field_3: number; field_5?: { field_1: number } };
    if (header.field_1 === 0) out.push(header.field_5!.field_1);
    reader.offset += header.field_3;
  }
  expect(reader.offset).toBe(end);
  return out;
}

/** Identity; names what the comparison means. */
function expectedDuck<T>(rows: T): T {
  return rows;
}

describe('ParquetFileWriter input shapes', () => {
  it('honours data.offset of sliced data (values, validity, Bool bits, list offsets, dictionary ids)', async () => {
    const t = table(['plain', 'dict', 'list', 'listDict'], 100, 1, 11);
    // Data.slice(offset, length): two groups, rows [13, 48) and [48, 74) of the 100 built.
    const first = t.groups[0]!.map((d) => d.slice(13, 35));
    const second = t.groups[0]!.map((d) => d.slice(48, 26));
    expect([...first, ...second].every((d) => d.offset === 13 || d.offset === 48)).toBe(true);
    const cells = t.cells.map((c) => c.slice(13, 74));
    const dictionaryColumns = t.schema.fields.filter((f) => f.name.includes('ict')).map((f) => f.name);
    const bytes = writeDirect(t.schema, [first, second], { pageSizeBytes: 50, dictionaryColumns });
    expect(await hyparquetRows(bytes)).toStrictEqual(expectedRows(t.schema, cells));
    const wasm = await writeWasm(t.schema, [first, second], { dictionaryColumns });
    expect(await withFile(bytes, duckRows)).toStrictEqual(await withFile(wasm, duckRows));
  });

  it('writes all-null columns of every type, list and dictionary included', async () => {
    const t = table(['plain', 'dict', 'list', 'listDict'], 0, 1);
    const rows = 37;
    const nulls = t.schema.fields.map((f) => nullData(f.type, rows));
    const dictionaryColumns = t.schema.fields.map((f) => f.name);
    const bytes = writeDirect(t.schema, [nulls, nulls], { dictionaryColumns });
    const nullRow = Object.fromEntries(t.schema.fields.map((f) => [f.name, null]));
    expect(await hyparquetRows(bytes)).toStrictEqual(Array.from({ length: 2 * rows }, () => nullRow));
    expect(await withFile(bytes, duckRows)).toStrictEqual(Array.from({ length: 2 * rows }, () => nullRow));
    const meta = metaOf(bytes);
    expect(statsOf(meta)).toStrictEqual(statsOf(metaOf(await writeWasm(t.schema, [nulls, nulls], { dictionaryColumns }))));
    for (const c of meta.row_groups[0]!.columns) {
      expect(c.meta_data!.statistics).toMatchObject({ null_count: BigInt(rows) });
      expect(c.meta_data!.statistics!.min_value).toBeUndefined();
      expect(c.meta_data!.dictionary_page_offset).toBeUndefined();
    }
  });

  it('accepts Dictionary data for a plain field and plain data for a dictionary field', async () => {
    const values = ['b', null, 'a', 'b'];
    const dict = dictionaryData(types.utf8(), values);
    const plain = primitiveData(types.utf8(), values);
    const schema = new Schema([fieldOf('p', plain), fieldOf('d', dict)]);
    const bytes = writeDirect(schema, [[dict, plain]], { dictionaryColumns: ['p', 'd'] });
    expect(await hyparquetRows(bytes)).toStrictEqual(values.map((v) => ({ p: v, d: v })));
    // Only Dictionary data can become a dictionary page.
    expect(pageCounts(metaOf(bytes))[0]!.map((c) => c.dictionaryOffset)).toStrictEqual([true, false]);
  });

  it('writes an empty row group', async () => {
    const t = table(['plain', 'listDict'], 0, 1);
    const bytes = writeDirect(t.schema, t.groups);
    expect(metaOf(bytes).row_groups.map((g) => Number(g.num_rows))).toStrictEqual([0]);
    expect(await hyparquetRows(bytes)).toStrictEqual([]);
    expect(await withFile(bytes, duckRows)).toStrictEqual([]);
  });
});

describe('ParquetFileWriter dictionaries', () => {
  it('writes a dictionary page exactly for dictionary columns with Dictionary data, never for BOOLEAN', () => {
    const t = table(['plain', 'dict', 'listDict'], 50, 2, 5);
    const dictionaryColumns = t.schema.fields.filter((f) => !f.name.startsWith('int32')).map((f) => f.name);
    const meta = metaOf(writeDirect(t.schema, t.groups, { dictionaryColumns }));
    for (const chunk of pageCounts(meta).flat()) {
      const name = chunk.path.split('.')[0]!;
      const expected = name.includes('ict') && !name.startsWith('int32') && !name.startsWith('bool');
      expect({ name, dictionary: chunk.dictionaryOffset, pages: chunk.dictionary }).toStrictEqual({ name, dictionary: expected, pages: expected ? 1 : 0 });
      expect(chunk.encodings).toStrictEqual(expected ? ['PLAIN', 'RLE', 'RLE_DICTIONARY'] : ['PLAIN', 'RLE']);
    }
  });

  it('falls back to PLAIN when the dictionary page would exceed dictionaryPageSizeLimit', async () => {
    // 20 distinct 10-byte values: 280 PLAIN bytes.
    const values = Array.from({ length: 200 }, (_, i) => `value-${String(i % 20).padStart(4, '0')}`);
    const dict = dictionaryData(types.utf8(), values);
    const schema = new Schema([fieldOf('s', dict)]);
    const at = (limit: number): boolean => metaOf(writeDirect(schema, [[dict]], { dictionaryColumns: ['s'], dictionaryPageSizeLimit: limit }))
      .row_groups[0]!.columns[0]!.meta_data!.dictionary_page_offset !== undefined;
    expect(at(280)).toBe(true);
    expect(at(279)).toBe(false);
    const bytes = writeDirect(schema, [[dict]], { dictionaryColumns: ['s'], dictionaryPageSizeLimit: 279 });
    expect(pageCounts(metaOf(bytes))[0]![0]!.encodings).toStrictEqual(['PLAIN', 'RLE']);
    expect(await hyparquetRows(bytes)).toStrictEqual(values.map((s) => ({ s })));
  });

  it('keeps only the used dictionary entries: statistics and the limit ignore unused ones', async () => {
    const values = ['m', null, 'n', 'm'];
    const dict = dictionaryData(types.utf8(), values, ['a-unused-but-smallest', 'z-unused-but-largest']);
    expect(dict.dictionary!.length).toBe(4);
    const schema = new Schema([fieldOf('s', dict)]);
    // 'm' and 'n' PLAIN: 10 bytes; the whole dictionary would need 56.
    const bytes = writeDirect(schema, [[dict]], { dictionaryColumns: ['s'], dictionaryPageSizeLimit: 10 });
    const chunk = metaOf(bytes).row_groups[0]!.columns[0]!.meta_data!;
    expect(chunk.dictionary_page_offset).toBeDefined();
    expect(chunk.statistics).toMatchObject({ min_value: Buffer.from('m').toString('hex'), max_value: Buffer.from('n').toString('hex'), null_count: 1n });
    expect(await hyparquetRows(bytes)).toStrictEqual(values.map((s) => ({ s })));
    expect(await withFile(bytes, duckRows)).toStrictEqual(values.map((s) => ({ s })));
  });
});

describe('ParquetFileWriter and dictionaries marked as fully used', () => {
  it('skips the used-entry search for a marked dictionary (its entries all go to the page) and not for an unmarked one', async () => {
    const values = ['m', null, 'n', 'm'];
    const build = (): Data => dictionaryData(types.utf8(), values, ['a-unused', 'z-unused']);
    const plain = build();
    const marked = build();
    markEveryEntryUsed(marked.dictionary!.data[0]!);
    const schema = new Schema([fieldOf('s', plain)]);
    const chunkOf = (d: Data) => metaOf(writeDirect(schema, [[d]], { dictionaryColumns: ['s'] })).row_groups[0]!.columns[0]!.meta_data!;
    const bounds = (d: Data) => {
      const stats = chunkOf(d).statistics!;
      return [Buffer.from(stats.min_value as string, 'hex').toString(), Buffer.from(stats.max_value as string, 'hex').toString()];
    };
    // Unmarked: only 'm' and 'n' are found used; marked: the writer trusts the mark, so the (unused) ends
    // widen the bounds, which stay true bounds. Rows read back the same either way.
    expect(bounds(plain)).toStrictEqual(['m', 'n']);
    expect(bounds(marked)).toStrictEqual(['a-unused', 'z-unused']);
    expect(chunkOf(marked).total_uncompressed_size).toBeGreaterThan(chunkOf(plain).total_uncompressed_size);
    for (const d of [plain, marked]) {
      const bytes = writeDirect(schema, [[d]], { dictionaryColumns: ['s'] });
      expect(await hyparquetRows(bytes)).toStrictEqual(values.map((s) => ({ s })));
    }
  });
});

describe('ParquetFileWriter and dictionary ids outside the dictionary', () => {
  // Row 1 is null, so the ids are gathered from the non-null rows (in the same pass as the check).
  it.each([['unmarked', false], ['marked as fully used', true], ['without nulls', false]] as const)('refuses an id past the end, naming it and the column (%s)', (_, mark) => {
    const values = _ === 'without nulls' ? ['m', 'n', 'n', 'm'] : ['m', null, 'n', 'm'];
    const d = dictionaryData(types.utf8(), values, ['a-unused']);
    if (mark) markEveryEntryUsed(d.dictionary!.data[0]!);
    (d.values as Int32Array)[2] = 7;
    const schema = new Schema([fieldOf('s', d)]);
    expect(() => writeDirect(schema, [[d]], { dictionaryColumns: ['s'] })).toThrow(/column s: dictionary id 7 is outside the dictionary \(3 entries\)/);
    (d.values as Int32Array)[2] = -1;
    expect(() => writeDirect(schema, [[d]], { dictionaryColumns: ['s'] })).toThrow(/dictionary id -1 is outside the dictionary/);
  });

  it('trusts ids marked in range only for a dictionary at least as long as the mark says', () => {
    // The mark is the reader's promise (its renumbered ids); a wrong one is not caught, which this shows by
    // marking a bad id: the writer then skips its check. A bound above the dictionary's length is ignored.
    const d = dictionaryData(types.utf8(), ['m', 'n', 'n', 'm'], ['a-unused']);
    markEveryEntryUsed(d.dictionary!.data[0]!);
    const ids = d.values as Int32Array;
    ids[2] = 7;
    const schema = new Schema([fieldOf('s', d)]);
    markIdsBelow(ids, 4);
    expect(() => writeDirect(schema, [[d]], { dictionaryColumns: ['s'] })).toThrow(/dictionary id 7 is outside the dictionary \(3 entries\)/);
    markIdsBelow(ids, 3);
    expect(() => writeDirect(schema, [[d]], { dictionaryColumns: ['s'] })).not.toThrow();
  });
});

describe('ParquetFileWriter statistics', () => {
  it('follows the NaN and ±0 rules as parquet-wasm does', async () => {
    const cases: (number | null)[][] = [
      [NaN, -0, 0, 1.5], [0, -0], [-0, 0], [NaN, null, NaN], [NaN, 2, -3], [null, null], [-Infinity, Infinity, NaN],
    ];
    const padded = cases.map((c) => [...c, ...Array.from({ length: 4 - c.length }, () => null)]);
    const fields = padded.flatMap((c, i) => [
      primitiveData(types.float32(), c), primitiveData(types.float64(), c), dictionaryData(types.float64(), c),
      listData(c.map((v, j) => (j === 1 ? null : [v, null])), (v) => primitiveData(types.float32(), v)),
    ].map((d, k) => ({ d, name: `c${i}_${k}` })));
    const schema = new Schema(fields.map((f) => fieldOf(f.name, f.d)));
    const groups = [fields.map((f) => f.d)];
    const ours = statsOf(metaOf(writeDirect(schema, groups, { dictionaryColumns: fields.map((f) => f.name) })));
    expect(ours).toStrictEqual(statsOf(metaOf(await writeWasm(schema, groups))));
    // Spelled out for the first case: NaN ignored, zero min is −0.
    expect(Object.is(ours[0]![0]!.min, -0)).toBe(true);
    expect(ours[0]![0]!.max).toBe(1.5);
    // Both zeros: min −0, max +0.
    expect(Object.is(ours[0]![4]!.min, -0) && Object.is(ours[0]![4]!.max, 0)).toBe(true);
    // Only NaN and nulls: no min/max.
    expect(ours[0]![12]!.min).toBeUndefined();
  });

  it('orders INT64 signed across the 32-bit halves and BYTE_ARRAY unsigned', async () => {
    const longs = [2n ** 32n, -1n, 2n ** 32n - 1n, -(2n ** 32n), 5n, -(2n ** 63n) + 3n, 2n ** 62n];
    const bins = [Uint8Array.of(0x7f), Uint8Array.of(0x80), Uint8Array.of(0x7f, 0), Uint8Array.of(), Uint8Array.of(0xff, 0), Uint8Array.of(0x80, 1), Uint8Array.of(0xfe, 0xff)];
    const columns = [primitiveData(types.int64(), longs), primitiveData(types.binary(), bins), dictionaryData(types.int64(), longs)];
    const schema = new Schema(columns.map((d, i) => fieldOf(`c${i}`, d)));
    const ours = statsOf(metaOf(writeDirect(schema, [columns], { dictionaryColumns: ['c2'] })));
    expect(ours[0]!.map((c) => [c.min, c.max])).toStrictEqual([
      [-(2n ** 63n) + 3n, 2n ** 62n], ['', 'ff00'], [-(2n ** 63n) + 3n, 2n ** 62n],
    ]);
    expect(ours).toStrictEqual(statsOf(metaOf(await writeWasm(schema, [columns]))));
  });
});

describe('ParquetFileWriter footer', () => {
  it('writes logical and converted types, field ids, JSON, key-value metadata and created_by', async () => {
    const id = (n: number): Map<string, string> => new Map([['PARQUET:field_id', String(n)]]);
    const tsMs = primitiveData(types.tsMs(), [1, null]);
    const tsUsLocal = primitiveData(types.tsUsLocal(), [2, 3]);
    const json = primitiveData(types.utf8(), ['{"a":1}', null]);
    const tags = listData([['x'], null], (v) => primitiveData(types.utf8(), v));
    const jsonList = listData([['[1]'], []], (v) => primitiveData(types.utf8(), v));
    const bin = primitiveData(types.binary(), [Uint8Array.of(1), null]);
    const schema = new Schema([
      fieldOf('ts', tsMs, id(1)), fieldOf('local', tsUsLocal, id(2)), fieldOf('payload', json, id(3)),
      new Field('tags', new List(new Field('element', tags.children[0]!.type, true, id(5))), true, id(4)),
      fieldOf('docs', jsonList), fieldOf('bin', bin),
    ]);
    const settings = {
      jsonPaths: [['payload'], ['docs', 'list', 'element']], keyValueMetadata: new Map([['k', 'v'], ['pinot.segment', 's1']]), createdBy: 'me 1.0',
    };
    const bytes = writeDirect(schema, [[tsMs, tsUsLocal, json, tags, jsonList, bin]], settings);
    const meta = metaOf(bytes);
    expect(meta.created_by).toBe('me 1.0');
    expect(meta.key_value_metadata).toStrictEqual([{ key: 'k', value: 'v' }, { key: 'pinot.segment', value: 's1' }]);
    expect(meta.schema.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))).toStrictEqual([
      { name: 'schema', num_children: 6 },
      { name: 'ts', type: 'INT64', repetition_type: 'OPTIONAL', field_id: 1, converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
      { name: 'local', type: 'INT64', repetition_type: 'OPTIONAL', field_id: 2, converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } },
      { name: 'payload', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', field_id: 3, converted_type: 'JSON', logical_type: { type: 'JSON' } },
      { name: 'tags', repetition_type: 'OPTIONAL', num_children: 1, field_id: 4, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', field_id: 5, converted_type: 'UTF8', logical_type: { type: 'STRING' } },
      { name: 'docs', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'JSON', logical_type: { type: 'JSON' } },
      { name: 'bin', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
    ]);
    // The same schema as parquet-wasm's (its root is named arrow_schema).
    const wasm = metaOf(await writeWasm(schema, [[tsMs, tsUsLocal, json, tags, jsonList, bin]], settings));
    expect(meta.schema.slice(1)).toStrictEqual(wasm.schema.slice(1));
    const duckTypes = async (file: Uint8Array): Promise<unknown[]> =>
      (await withFile(file, duckSchema)).map((r) => [r.name, r.type, r.logical_type === null ? null : String(r.logical_type)]).slice(1);
    expect(await duckTypes(bytes)).toStrictEqual(await duckTypes(await writeWasm(schema, [[tsMs, tsUsLocal, json, tags, jsonList, bin]], settings)));
    const g = meta.row_groups[0]!;
    expect(Number(g.file_offset)).toBe(4);
    expect(Number(g.total_compressed_size)).toBe(g.columns.reduce((n, c) => n + Number(c.meta_data!.total_compressed_size), 0));
    expect(Number(g.total_byte_size)).toBe(g.columns.reduce((n, c) => n + Number(c.meta_data!.total_uncompressed_size), 0));
  });
});

describe('ParquetFileWriter refusals', () => {
  const utf8 = primitiveData(types.utf8(), ['a', 'b']);
  const schema = new Schema([fieldOf('a', utf8), fieldOf('b', utf8)]);

  function caught(fn: () => unknown): ParquetError {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ParquetError);
      return err as ParquetError;
    }
    return expect.fail('expected a ParquetError');
  }

  it('names unsupported columns in directWriterSupports and the constructor', () => {
    const unsupported: [string, DataType][] = [
      ['st', new Struct([new Field('x', new Int32(), true)])], ['dec', new Decimal(2, 10, 128)], ['fsb', new FixedSizeBinary(4)],
      ['nested', new List(new Field('element', new List(new Field('element', new Int32(), true)), true))], ['u32', new Uint32()], ['i16', new Int16()],
      ['dict16', new Dictionary(new Utf8Type(), new Int16())],
    ];
    for (const [name, type] of unsupported) {
      const s = new Schema([fieldOf('ok', utf8), new Field(name, type, true)]);
      const support = directWriterSupports(s);
      expect(support.ok).toBe(false);
      expect(support.ok ? '' : support.reason).toContain(`column ${name}`);
      const err = caught(() => new ParquetFileWriter(s, baseSettings));
      expect(err.code).toBe('PARQUET_SCHEMA_MISMATCH');
      expect(err.message).toContain(name);
    }
    expect(directWriterSupports(schema)).toStrictEqual({ ok: true });
    expect(caught(() => new ParquetFileWriter(schema, { ...baseSettings, jsonPaths: [['nope']] })).message).toContain('nope');
  });

  it('refuses columns out of order, wrong lengths, wrong types and unbalanced calls, naming column and row group', () => {
    const w = new ParquetFileWriter(schema, baseSettings);
    w.start();
    w.beginRowGroup(2);
    let err = caught(() => w.writeColumn(1, utf8));
    expect([err.code, err.context.column]).toStrictEqual(['PARQUET_WRITE_FAILED', 'b']);
    expect(err.message).toContain('row group 0');
    err = caught(() => w.writeColumn(0, utf8.slice(0, 1)));
    expect([err.code, err.context.column]).toStrictEqual(['PARQUET_WRITE_FAILED', 'a']);
    err = caught(() => w.writeColumn(0, primitiveData(types.int32(), [1, 2])));
    expect([err.code, err.context.column]).toStrictEqual(['PARQUET_SCHEMA_MISMATCH', 'a']);
    w.writeColumn(0, utf8);
    err = caught(() => w.endRowGroup());
    expect(err.context.column).toBe('b');
    err = caught(() => w.beginRowGroup(2));
    expect(err.message).toContain('still open');
    w.writeColumn(1, utf8);
    expect(w.endRowGroup()).toMatchObject({ rows: 2 });
    err = caught(() => w.writeColumn(0, utf8));
    expect(err.message).toContain('outside a row group');
    const bad = dictionaryData(types.utf8(), ['a', 'b']);
    (bad.values as Int32Array)[1] = 7;
    w.beginRowGroup(2);
    err = caught(() => w.writeColumn(0, bad));
    expect([err.code, err.context.column]).toStrictEqual(['PARQUET_WRITE_FAILED', 'a']);
    expect(err.message).toContain('dictionary id 7');
  });
});
