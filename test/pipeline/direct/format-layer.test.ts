/**
 * The direct writer's format layer (thrift-writer, format, rle, plain, compress) checked against independent
 * readers: our Thrift reader and hyparquet's for structs, hyparquet and DuckDB for footers and for a small
 * Parquet file assembled here by hand from the pieces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { compressors } from 'hyparquet-compressors';
import { CompactReader, CT } from '../../../src/pipeline/thrift-compact.js';
import { CompactWriter } from '../../../src/pipeline/direct/thrift-writer.js';
import {
  encodeFileMetaData, encodePageHeader, type ColumnChunk, type CompressionCodec, type Encoding, type FileMetaData,
  type PhysicalType, type SchemaElement, type Statistics,
} from '../../../src/pipeline/direct/format.js';
import { bitWidthOf, encodeDictionaryIds, encodeLevels } from '../../../src/pipeline/direct/rle.js';
import { plainBoolean, plainByteArray, plainFixed } from '../../../src/pipeline/direct/plain.js';
import { pageCompressor } from '../../../src/pipeline/direct/compress.js';
import { closeDuckdb, duckQuery, sqlString, withFile } from '../helpers.js';

afterAll(() => closeDuckdb());

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

const MAGIC = new TextEncoder().encode('PAR1');

/** `body` (magic + column chunks) followed by the footer, its 4-byte LE length and the magic. */
function parquetFile(body: Uint8Array[], meta: FileMetaData): Uint8Array {
  const footer = encodeFileMetaData(meta);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, footer.length, true);
  return concat([...body, footer, length, MAGIC]);
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

describe('CompactWriter', () => {
  it('writes what our compact reader reads back', () => {
    const w = new CompactWriter(4); // tiny start: exercises growing
    w.beginStruct();
    w.i32Field(1, -5);
    w.boolField(2, true);
    w.boolField(3, false);
    w.i64Field(20, 2 ** 53); // delta 17: long field header form
    w.stringField(21, 'héllo ✓');
    w.listField(22, 20, CT.I32); // ≥ 15 elements: long list header
    for (let i = 0; i < 20; i++) w.zigzag(i - 10);
    w.structField(23);
    w.i64Field(1, -(2 ** 52)); // our reader is exact up to a zigzag of 2^53
    w.i16Field(7, 300);
    w.endStruct();
    w.binaryField(24, new Uint8Array([0, 255, 7]));
    w.listField(25, 2, CT.STRUCT);
    for (const v of [1, 2]) {
      w.beginStruct();
      w.i32Field(4, v);
      w.endStruct();
    }
    w.i32Field(3000, 2 ** 31 - 1); // id beyond one byte
    w.endStruct();
    const bytes = w.finish();

    const r = new CompactReader(bytes);
    const got: Record<number, unknown> = {};
    r.struct((id, type) => {
      switch (id) {
        case 1: got[id] = r.zigzag(); return true;
        case 2: case 3: got[id] = type === CT.TRUE; return true;
        case 20: got[id] = r.zigzag(); return true;
        case 21: got[id] = r.string(); return true;
        case 22: { const xs: number[] = []; r.list(() => xs.push(r.zigzag())); got[id] = xs; return true; }
        case 23: {
          const inner: Record<number, number> = {};
          r.struct((iid) => { inner[iid] = r.zigzag(); return true; });
          got[id] = inner;
          return true;
        }
        case 24: got[id] = Array.from(r.binary()); return true;
        case 25: {
          const xs: number[] = [];
          r.list(() => r.struct((iid) => { xs.push(iid * 100 + r.zigzag()); return true; }));
          got[id] = xs;
          return true;
        }
        case 3000: got[id] = r.zigzag(); return true;
        default: return false;
      }
    });
    expect(r.pos).toBe(bytes.length);
    expect(got).toEqual({
      1: -5, 2: true, 3: false, 20: 2 ** 53, 21: 'héllo ✓', 22: Array.from({ length: 20 }, (_, i) => i - 10),
      23: { 1: -(2 ** 52), 7: 300 }, 24: [0, 255, 7], 25: [401, 402], 3000: 2 ** 31 - 1,
    });
  });

  it('writes i64 values beyond 2^53 exactly (bigint, and numbers through bigint)', () => {
    const w = new CompactWriter();
    w.beginStruct();
    w.i64Field(1, 2n ** 62n + 1n);
    w.i64Field(2, -(2n ** 63n));
    w.i64Field(3, 2n ** 63n - 1n);
    w.i64Field(4, 2 ** 60);
    w.i64Field(5, -(2 ** 55));
    w.endStruct();
    const bytes = w.finish();
    // hyparquet's own Thrift reader decodes i64 as bigint.
    const parsed = deserializeTCompactProtocol({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 });
    expect(parsed).toEqual({ field_1: 2n ** 62n + 1n, field_2: -(2n ** 63n), field_3: 2n ** 63n - 1n, field_4: 2n ** 60n, field_5: -(2n ** 55n) });
  });

  it('uses the short header forms where the protocol has them', () => {
    const w = new CompactWriter();
    w.beginStruct();
    w.i32Field(1, 1); // delta 1, type I32 (5) → 0x15, zigzag(1) = 2
    w.boolField(3, true); // delta 2, TRUE (1) → 0x21, no value byte
    w.listField(4, 3, CT.BINARY); // delta 1, LIST (9) → 0x19; size 3, BINARY (8) → 0x38
    for (const s of ['a', 'b', 'c']) w.string(s);
    w.endStruct();
    expect(Array.from(w.finish())).toEqual([0x15, 2, 0x21, 0x19, 0x38, 1, 97, 1, 98, 1, 99, 0]);
  });

  it('rejects a non-integer', () => {
    const w = new CompactWriter();
    expect(() => w.i64Field(1, 1.5)).toThrow(/not an integer: 1.5/);
  });
});

describe('encodePageHeader', () => {
  it('writes a data page header our reader decodes with parquet.thrift field ids', () => {
    const stats: Statistics = { nullCount: 3, minValue: new Uint8Array([1, 0, 0, 0]), maxValue: new Uint8Array([9, 0, 0, 0]) };
    const bytes = encodePageHeader({
      type: 'DATA_PAGE', uncompressedPageSize: 1234, compressedPageSize: 567,
      dataPageHeader: { numValues: 100, encoding: 'RLE_DICTIONARY', definitionLevelEncoding: 'RLE', repetitionLevelEncoding: 'BIT_PACKED', statistics: stats },
    });
    const parsed = deserializeTCompactProtocol({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 });
    expect(parsed).toEqual({
      field_1: 0, field_2: 1234, field_3: 567,
      field_5: { field_1: 100, field_2: 8, field_3: 3, field_4: 4, field_5: { field_3: 3n, field_5: new Uint8Array([9, 0, 0, 0]), field_6: new Uint8Array([1, 0, 0, 0]) } },
    });
  });

  it('writes a dictionary page header', () => {
    const bytes = encodePageHeader({
      type: 'DICTIONARY_PAGE', uncompressedPageSize: 10, compressedPageSize: 12,
      dictionaryPageHeader: { numValues: 4, encoding: 'PLAIN', isSorted: true },
    });
    const parsed = deserializeTCompactProtocol({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 });
    expect(parsed).toEqual({ field_1: 2, field_2: 10, field_3: 12, field_7: { field_1: 4, field_2: 0, field_3: true } });
  });
});

describe('encodeFileMetaData', () => {
  // 20 extra INT32 columns make the schema list longer than 15 (the long list header).
  const extra: SchemaElement[] = Array.from({ length: 20 }, (_, i) => ({ name: `c${i}`, type: 'INT32', repetitionType: 'OPTIONAL', fieldId: 100 + i }));
  const schema: SchemaElement[] = [
    { name: 'schema', numChildren: 7 + extra.length },
    { name: 'id', type: 'INT32', repetitionType: 'OPTIONAL', fieldId: 7 },
    { name: 's', type: 'BYTE_ARRAY', repetitionType: 'OPTIONAL', convertedType: 'UTF8', logicalType: { type: 'STRING' }, fieldId: 2147483647 },
    { name: 'j', type: 'BYTE_ARRAY', repetitionType: 'OPTIONAL', convertedType: 'JSON', logicalType: { type: 'JSON' } },
    { name: 'ts', type: 'INT64', repetitionType: 'OPTIONAL', logicalType: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } },
    { name: 'ms', type: 'INT64', repetitionType: 'OPTIONAL', convertedType: 'TIMESTAMP_MILLIS', logicalType: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
    { name: 'price', type: 'FIXED_LEN_BYTE_ARRAY', typeLength: 9, repetitionType: 'OPTIONAL', convertedType: 'DECIMAL', scale: 2, precision: 20, logicalType: { type: 'DECIMAL', scale: 2, precision: 20 } },
    { name: 'tags', repetitionType: 'OPTIONAL', numChildren: 1, convertedType: 'LIST', logicalType: { type: 'LIST' }, fieldId: 9 },
    { name: 'list', repetitionType: 'REPEATED', numChildren: 1 },
    { name: 'element', type: 'BYTE_ARRAY', repetitionType: 'OPTIONAL', convertedType: 'UTF8', logicalType: { type: 'STRING' }, fieldId: 10 },
    ...extra,
  ];
  const leaves = schema.filter((e) => e.type !== undefined).length;
  const meta: FileMetaData = {
    version: 1, schema, numRows: 0, rowGroups: [],
    keyValueMetadata: [{ key: 'ARROW:schema', value: 'xyz' }, { key: 'no-value' }, { key: 'ünïcode', value: '✓' }],
    createdBy: 'pinot-parquet-export test', columnOrders: new Array(leaves).fill('TYPE_DEFINED_ORDER'),
  };
  const file = parquetFile([MAGIC], meta);

  it('is a footer hyparquet parses: schema, field ids, logical types, key-value metadata', () => {
    const m = parquetMetadata(arrayBuffer(file));
    expect(m.version).toBe(1);
    expect(m.num_rows).toBe(0n);
    expect(m.row_groups).toEqual([]);
    expect(m.created_by).toBe('pinot-parquet-export test');
    expect(m.key_value_metadata).toEqual([{ key: 'ARROW:schema', value: 'xyz' }, { key: 'no-value', value: undefined }, { key: 'ünïcode', value: '✓' }]);
    const byName = new Map(m.schema.map((e) => [e.name, e]));
    expect(m.schema.map((e) => e.name)).toEqual(schema.map((e) => e.name));
    expect(byName.get('schema')).toMatchObject({ num_children: 27, repetition_type: undefined, type: undefined });
    expect(byName.get('id')).toMatchObject({ type: 'INT32', repetition_type: 'OPTIONAL', field_id: 7 });
    expect(byName.get('s')).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, field_id: 2147483647 });
    expect(byName.get('j')).toMatchObject({ converted_type: 'JSON', logical_type: { type: 'JSON' } });
    expect(byName.get('ts')).toMatchObject({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } });
    expect(byName.get('ts')!.converted_type).toBeUndefined();
    expect(byName.get('ms')).toMatchObject({ converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } });
    expect(byName.get('price')).toMatchObject({
      type: 'FIXED_LEN_BYTE_ARRAY', type_length: 9, converted_type: 'DECIMAL', scale: 2, precision: 20,
      logical_type: { type: 'DECIMAL', scale: 2, precision: 20 },
    });
    expect(byName.get('tags')).toMatchObject({ num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' }, field_id: 9 });
    expect(byName.get('list')).toMatchObject({ repetition_type: 'REPEATED', num_children: 1 });
    expect(byName.get('list')!.field_id).toBeUndefined();
    expect(byName.get('element')).toMatchObject({ type: 'BYTE_ARRAY', logical_type: { type: 'STRING' }, field_id: 10 });
    expect(byName.get('c19')).toMatchObject({ type: 'INT32', field_id: 119 });
  });

  it('has one TYPE_ORDER column order per leaf (hyparquet Thrift reader)', () => {
    const footer = file.subarray(MAGIC.length, file.length - 8);
    const raw = deserializeTCompactProtocol({ view: new DataView(footer.buffer, footer.byteOffset, footer.byteLength), offset: 0 });
    expect(raw.field_7).toEqual(new Array(leaves).fill({ field_1: {} }));
  });

  it('is a footer DuckDB reads: field ids and types', async () => {
    await withFile(file, async (path) => {
      const rows = await duckQuery(`SELECT name, type, field_id, converted_type, logical_type FROM parquet_schema(${sqlString(path)})`);
      const byName = new Map(rows.map((r) => [r.name, r]));
      expect(byName.get('id')).toMatchObject({ type: 'INT32', field_id: 7n });
      expect(byName.get('s')).toMatchObject({ converted_type: 'UTF8', field_id: 2147483647n });
      expect(byName.get('tags')).toMatchObject({ converted_type: 'LIST', field_id: 9n });
      expect(byName.get('element')).toMatchObject({ field_id: 10n });
      expect(String(byName.get('ts')!.logical_type)).toMatch(/TimestampType\(isAdjustedToUTC=0, unit=TimeUnit\(MILLIS=<null>, MICROS=MicroSeconds\(\)/);
      expect(await duckQuery(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path)})`)).toEqual([{ n: 0 }]);
    });
  });
});

// --- An end-to-end file, assembled by hand ---------------------------------------------------------------------------

interface Page { header: Uint8Array; body: Uint8Array; uncompressed: number }

function page(compress: (b: Uint8Array) => Uint8Array, data: Uint8Array, kind: 'data' | 'dict', numValues: number, encoding: Encoding): Page {
  const body = compress(data);
  const header = encodePageHeader(kind === 'data'
    ? {
      type: 'DATA_PAGE', uncompressedPageSize: data.length, compressedPageSize: body.length,
      dataPageHeader: { numValues, encoding, definitionLevelEncoding: 'RLE', repetitionLevelEncoding: 'RLE' },
    }
    : {
      type: 'DICTIONARY_PAGE', uncompressedPageSize: data.length, compressedPageSize: body.length,
      dictionaryPageHeader: { numValues, encoding },
    });
  return { header, body, uncompressed: data.length };
}

/** Appends a column chunk's pages at `offset`; the first page may be a dictionary page. */
function chunk(
  out: Uint8Array[], offset: number, pages: Page[], hasDictionary: boolean, meta: {
    type: PhysicalType; path: string; codec: CompressionCodec; numValues: number; encodings: Encoding[]; statistics: Statistics;
  },
): { chunk: ColumnChunk; size: number; uncompressed: number } {
  let pos = offset;
  let uncompressed = 0;
  const starts: number[] = [];
  for (const p of pages) {
    starts.push(pos);
    out.push(p.header, p.body);
    pos += p.header.length + p.body.length;
    uncompressed += p.header.length + p.uncompressed;
  }
  const dataPages = hasDictionary ? pages.length - 1 : pages.length;
  return {
    size: pos - offset,
    uncompressed,
    chunk: {
      fileOffset: offset,
      metaData: {
        type: meta.type, encodings: meta.encodings, pathInSchema: [meta.path], codec: meta.codec, numValues: meta.numValues,
        totalUncompressedSize: uncompressed, totalCompressedSize: pos - offset,
        dataPageOffset: starts[hasDictionary ? 1 : 0]!, dictionaryPageOffset: hasDictionary ? starts[0]! : undefined,
        statistics: meta.statistics,
        encodingStats: [
          ...(hasDictionary ? [{ pageType: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
          { pageType: 'DATA_PAGE', encoding: hasDictionary ? 'RLE_DICTIONARY' : 'PLAIN', count: dataPages },
        ],
      },
    },
  };
}

const ROWS = 300;
const words = ['apple', 'b', 'ünïcode ✓', 'a much longer string value that is more than thirty-two bytes long'];

interface Expected { id: number | null; name: string | null; flag: boolean | null; big: bigint | null; score: number | null }

function expectedRows(): Expected[] {
  const rows: Expected[] = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({
      id: i % 7 === 3 ? null : (i * 2654435761) | 0,
      // runs of nulls and of equal words, so levels and ids have RLE runs and bit-packed stretches
      name: (i >= 40 && i < 70) || i % 11 === 0 ? null : words[Math.floor(i / 13) % 4 === 0 ? 0 : i % 4]!,
      flag: i % 5 === 0 ? null : i % 3 === 0,
      big: i % 9 === 0 ? null : BigInt(i) * 2n ** 40n - 2n ** 62n,
      score: i % 4 === 1 ? null : i / 8 - 10,
    });
  }
  return rows;
}

function nonNull<T>(values: (T | null)[]): { levels: Uint8Array; index: Int32Array; nulls: number } {
  const levels = new Uint8Array(values.length);
  const index: number[] = [];
  values.forEach((v, i) => {
    if (v !== null) {
      levels[i] = 1;
      index.push(i);
    }
  });
  return { levels, index: Int32Array.from(index), nulls: values.length - index.length };
}

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function buildFile(codec: CompressionCodec): Uint8Array {
  const compress = pageCompressor(codec);
  const rows = expectedRows();
  const out: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const columns: ColumnChunk[] = [];
  let uncompressedTotal = 0;
  const add = (c: ReturnType<typeof chunk>): void => {
    columns.push(c.chunk);
    offset += c.size;
    uncompressedTotal += c.uncompressed;
  };

  // id: OPTIONAL INT32, PLAIN, two data pages (rows [0, 100) and [100, 300)), values gathered through the non-null index.
  const ids = rows.map((r) => r.id);
  const idValues = Int32Array.from(ids, (v) => v ?? 0);
  const idPages = [[0, 100], [100, ROWS]].map(([a, b]) => {
    const part = nonNull(ids.slice(a, b));
    const data = concat([encodeLevels(part.levels, b! - a!, 1), plainFixed(idValues.subarray(a, b), part.index, part.index.length)]);
    return page(compress, data, 'data', b! - a!, 'PLAIN');
  });
  const idNN = ids.filter((v): v is number => v !== null);
  add(chunk(out, offset, idPages, false, {
    type: 'INT32', path: 'id', codec, numValues: ROWS, encodings: ['PLAIN', 'RLE'],
    statistics: { nullCount: ROWS - idNN.length, minValue: le32(Math.min(...idNN)), maxValue: le32(Math.max(...idNN)) },
  }));

  // name: OPTIONAL BYTE_ARRAY STRING, dictionary page (PLAIN) + one RLE_DICTIONARY data page.
  const names = rows.map((r) => r.name);
  const dict = [...new Set(names.filter((v): v is string => v !== null))].sort();
  const enc = new TextEncoder();
  const dictBytes = dict.map((s) => enc.encode(s));
  const offsets = new Int32Array(dict.length + 1);
  dictBytes.forEach((b, i) => { offsets[i + 1] = offsets[i]! + b.length; });
  const dictData = concat(dictBytes);
  const nameNN = nonNull(names);
  const nameIds = Int32Array.from(nameNN.index, (i) => dict.indexOf(names[i]!));
  const dictPage = page(compress, plainByteArray(offsets, dictData, undefined, dict.length), 'dict', dict.length, 'PLAIN');
  const namePage = page(compress, concat([
    encodeLevels(nameNN.levels, ROWS, 1), encodeDictionaryIds(nameIds, nameIds.length, bitWidthOf(dict.length - 1)),
  ]), 'data', ROWS, 'RLE_DICTIONARY');
  add(chunk(out, offset, [dictPage, namePage], true, {
    type: 'BYTE_ARRAY', path: 'name', codec, numValues: ROWS, encodings: ['PLAIN', 'RLE', 'RLE_DICTIONARY'],
    statistics: { nullCount: nameNN.nulls, minValue: dictBytes[0], maxValue: dictBytes[dictBytes.length - 1] },
  }));

  // flag: OPTIONAL BOOLEAN from an Arrow-style bitmap that starts 3 bits into its first byte.
  const flags = rows.map((r) => r.flag);
  const bitmap = new Uint8Array(Math.ceil((ROWS + 3) / 8));
  flags.forEach((f, i) => { if (f) bitmap[(i + 3) >>> 3]! |= 1 << ((i + 3) & 7); });
  const flagNN = nonNull(flags);
  add(chunk(out, offset, [page(compress, concat([
    encodeLevels(flagNN.levels, ROWS, 1), plainBoolean(bitmap, 3, flagNN.index, flagNN.index.length),
  ]), 'data', ROWS, 'PLAIN')], false, {
    type: 'BOOLEAN', path: 'flag', codec, numValues: ROWS, encodings: ['PLAIN', 'RLE'],
    statistics: { nullCount: flagNN.nulls, minValue: new Uint8Array([0]), maxValue: new Uint8Array([1]) },
  }));

  // big: OPTIONAL INT64 from a BigInt64Array; score: OPTIONAL DOUBLE from a Float64Array.
  const bigs = rows.map((r) => r.big);
  const bigNN = nonNull(bigs);
  add(chunk(out, offset, [page(compress, concat([
    encodeLevels(bigNN.levels, ROWS, 1), plainFixed(BigInt64Array.from(bigs, (v) => v ?? 0n), bigNN.index, bigNN.index.length),
  ]), 'data', ROWS, 'PLAIN')], false, {
    type: 'INT64', path: 'big', codec, numValues: ROWS, encodings: ['PLAIN', 'RLE'], statistics: { nullCount: bigNN.nulls },
  }));
  const scores = rows.map((r) => r.score);
  const scoreNN = nonNull(scores);
  add(chunk(out, offset, [page(compress, concat([
    encodeLevels(scoreNN.levels, ROWS, 1), plainFixed(Float64Array.from(scores, (v) => v ?? 0), scoreNN.index, scoreNN.index.length),
  ]), 'data', ROWS, 'PLAIN')], false, {
    type: 'DOUBLE', path: 'score', codec, numValues: ROWS, encodings: ['PLAIN', 'RLE'], statistics: { nullCount: scoreNN.nulls },
  }));

  const schema: SchemaElement[] = [
    { name: 'schema', numChildren: 5 },
    { name: 'id', type: 'INT32', repetitionType: 'OPTIONAL', fieldId: 1 },
    { name: 'name', type: 'BYTE_ARRAY', repetitionType: 'OPTIONAL', convertedType: 'UTF8', logicalType: { type: 'STRING' }, fieldId: 2 },
    { name: 'flag', type: 'BOOLEAN', repetitionType: 'OPTIONAL' },
    { name: 'big', type: 'INT64', repetitionType: 'OPTIONAL' },
    { name: 'score', type: 'DOUBLE', repetitionType: 'OPTIONAL' },
  ];
  const bodySize = offset - MAGIC.length;
  return parquetFile(out, {
    version: 1, schema, numRows: ROWS,
    rowGroups: [{ columns, totalByteSize: uncompressedTotal, numRows: ROWS, fileOffset: MAGIC.length, totalCompressedSize: bodySize, ordinal: 0 }],
    createdBy: 'format-layer test', columnOrders: new Array(5).fill('TYPE_DEFINED_ORDER'),
  });
}

describe('a Parquet file written by hand with the format layer', () => {
  const expected = expectedRows();
  for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD'] as const) {
    describe(codec, () => {
      const file = buildFile(codec);

      it('reads back with hyparquet', async () => {
        const rows = await parquetReadObjects({ file: arrayBuffer(file), compressors });
        expect(rows).toEqual(expected);
        const m = parquetMetadata(arrayBuffer(file));
        const [id, name] = m.row_groups[0]!.columns.map((c) => c.meta_data!);
        expect(id).toMatchObject({ codec, encodings: ['PLAIN', 'RLE'], statistics: { null_count: 43n } });
        expect(id!.dictionary_page_offset).toBeUndefined();
        expect(name).toMatchObject({
          codec, encodings: ['PLAIN', 'RLE', 'RLE_DICTIONARY'], path_in_schema: ['name'],
          statistics: { min_value: 'a much longer string value that is more than thirty-two bytes long', max_value: 'ünïcode ✓' },
          encoding_stats: [{ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 }, { page_type: 'DATA_PAGE', encoding: 'RLE_DICTIONARY', count: 1 }],
        });
        expect(name!.dictionary_page_offset).toBeLessThan(name!.data_page_offset);
        expect(m.row_groups[0]).toMatchObject({ num_rows: BigInt(ROWS), ordinal: 0, file_offset: 4n });
      });

      it('reads back with DuckDB', async () => {
        await withFile(file, async (path) => {
          const rows = await duckQuery(`SELECT * FROM read_parquet(${sqlString(path)})`);
          expect(rows).toEqual(expected);
          const meta = await duckQuery(`SELECT path_in_schema, compression, stats_min_value, stats_max_value, stats_null_count
            FROM parquet_metadata(${sqlString(path)}) ORDER BY column_id`);
          const idNN = expected.map((r) => r.id).filter((v): v is number => v !== null);
          expect(meta[0]).toMatchObject({
            compression: codec, stats_min_value: String(Math.min(...idNN)), stats_max_value: String(Math.max(...idNN)), stats_null_count: 43n,
          });
        });
      });
    });
  }
});
