/**
 * The parquet.thrift structs the direct writer writes, and their Thrift compact encoding. Field ids and enum
 * values follow apache/parquet-format's src/main/thrift/parquet.thrift; only the fields we write are modelled.
 */
import { CompactWriter, CT } from './thrift-writer.js';

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
export type Repetition = 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
export type Encoding = 'PLAIN' | 'PLAIN_DICTIONARY' | 'RLE' | 'BIT_PACKED' | 'RLE_DICTIONARY';
export type CompressionCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD';
export type ConvertedType = 'UTF8' | 'LIST' | 'JSON' | 'TIMESTAMP_MILLIS' | 'TIMESTAMP_MICROS' | 'DECIMAL';
export type LogicalType =
  | { type: 'STRING' } | { type: 'JSON' } | { type: 'LIST' }
  | { type: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: 'MILLIS' | 'MICROS' }
  | { type: 'DECIMAL'; scale: number; precision: number };
export interface SchemaElement {
  name: string; type?: PhysicalType; typeLength?: number; repetitionType?: Repetition; numChildren?: number;
  convertedType?: ConvertedType; scale?: number; precision?: number; fieldId?: number; logicalType?: LogicalType;
}
export interface Statistics { nullCount?: number; minValue?: Uint8Array; maxValue?: Uint8Array }
export interface DataPageHeader {
  numValues: number; encoding: Encoding; definitionLevelEncoding: Encoding; repetitionLevelEncoding: Encoding; statistics?: Statistics;
}
export interface DictionaryPageHeader { numValues: number; encoding: Encoding; isSorted?: boolean }
export interface PageHeader {
  type: 'DATA_PAGE' | 'DICTIONARY_PAGE'; uncompressedPageSize: number; compressedPageSize: number;
  dataPageHeader?: DataPageHeader; dictionaryPageHeader?: DictionaryPageHeader;
}
export interface PageEncodingStats { pageType: 'DATA_PAGE' | 'DICTIONARY_PAGE'; encoding: Encoding; count: number }
export interface ColumnMetaData {
  type: PhysicalType; encodings: Encoding[]; pathInSchema: string[]; codec: CompressionCodec; numValues: number;
  totalUncompressedSize: number; totalCompressedSize: number; dataPageOffset: number; dictionaryPageOffset?: number;
  statistics?: Statistics; encodingStats?: PageEncodingStats[];
}
export interface ColumnChunk { fileOffset: number; metaData: ColumnMetaData }
export interface RowGroup {
  columns: ColumnChunk[]; totalByteSize: number; numRows: number; fileOffset?: number; totalCompressedSize?: number; ordinal?: number;
}
export interface KeyValue { key: string; value?: string }
export interface FileMetaData {
  version: number; schema: SchemaElement[]; numRows: number; rowGroups: RowGroup[]; keyValueMetadata?: KeyValue[];
  createdBy?: string; /** One entry per leaf column, in leaf order. */ columnOrders?: 'TYPE_DEFINED_ORDER'[];
}

// Enum values (parquet.thrift).
const TYPE: Record<PhysicalType, number> = {
  BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7,
};
const CONVERTED: Record<ConvertedType, number> = {
  UTF8: 0, LIST: 3, DECIMAL: 5, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10, JSON: 19,
};
const REPETITION: Record<Repetition, number> = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 };
const ENCODING: Record<Encoding, number> = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3, BIT_PACKED: 4, RLE_DICTIONARY: 8 };
const CODEC: Record<CompressionCodec, number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, ZSTD: 6 };
const PAGE_TYPE: Record<'DATA_PAGE' | 'DICTIONARY_PAGE', number> = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 };
// Union member ids of LogicalType and TimeUnit.
const LOGICAL = { STRING: 1, LIST: 3, DECIMAL: 5, TIMESTAMP: 8, JSON: 12 } as const;
const TIME_UNIT = { MILLIS: 1, MICROS: 2 } as const;

function emptyStructField(w: CompactWriter, id: number): void {
  w.structField(id);
  w.endStruct();
}

function writeStatistics(w: CompactWriter, id: number, s: Statistics): void {
  w.structField(id);
  if (s.nullCount !== undefined) w.i64Field(3, s.nullCount);
  if (s.maxValue !== undefined) w.binaryField(5, s.maxValue);
  if (s.minValue !== undefined) w.binaryField(6, s.minValue);
  w.endStruct();
}

function writeLogicalType(w: CompactWriter, id: number, t: LogicalType): void {
  w.structField(id);
  switch (t.type) {
    case 'STRING': case 'JSON': case 'LIST':
      emptyStructField(w, LOGICAL[t.type]);
      break;
    case 'TIMESTAMP':
      w.structField(LOGICAL.TIMESTAMP);
      w.boolField(1, t.isAdjustedToUTC);
      w.structField(2);
      emptyStructField(w, TIME_UNIT[t.unit]);
      w.endStruct();
      w.endStruct();
      break;
    case 'DECIMAL':
      w.structField(LOGICAL.DECIMAL);
      w.i32Field(1, t.scale);
      w.i32Field(2, t.precision);
      w.endStruct();
      break;
  }
  w.endStruct();
}

function writeSchemaElement(w: CompactWriter, e: SchemaElement): void {
  w.beginStruct();
  if (e.type !== undefined) w.i32Field(1, TYPE[e.type]);
  if (e.typeLength !== undefined) w.i32Field(2, e.typeLength);
  if (e.repetitionType !== undefined) w.i32Field(3, REPETITION[e.repetitionType]);
  w.stringField(4, e.name);
  if (e.numChildren !== undefined) w.i32Field(5, e.numChildren);
  if (e.convertedType !== undefined) w.i32Field(6, CONVERTED[e.convertedType]);
  if (e.scale !== undefined) w.i32Field(7, e.scale);
  if (e.precision !== undefined) w.i32Field(8, e.precision);
  if (e.fieldId !== undefined) w.i32Field(9, e.fieldId);
  if (e.logicalType !== undefined) writeLogicalType(w, 10, e.logicalType);
  w.endStruct();
}

function writeColumnMetaData(w: CompactWriter, id: number, m: ColumnMetaData): void {
  w.structField(id);
  w.i32Field(1, TYPE[m.type]);
  w.listField(2, m.encodings.length, CT.I32);
  for (const e of m.encodings) w.zigzag(ENCODING[e]);
  w.listField(3, m.pathInSchema.length, CT.BINARY);
  for (const p of m.pathInSchema) w.string(p);
  w.i32Field(4, CODEC[m.codec]);
  w.i64Field(5, m.numValues);
  w.i64Field(6, m.totalUncompressedSize);
  w.i64Field(7, m.totalCompressedSize);
  w.i64Field(9, m.dataPageOffset);
  if (m.dictionaryPageOffset !== undefined) w.i64Field(11, m.dictionaryPageOffset);
  if (m.statistics !== undefined) writeStatistics(w, 12, m.statistics);
  if (m.encodingStats !== undefined) {
    w.listField(13, m.encodingStats.length, CT.STRUCT);
    for (const s of m.encodingStats) {
      w.beginStruct();
      w.i32Field(1, PAGE_TYPE[s.pageType]);
      w.i32Field(2, ENCODING[s.encoding]);
      w.i32Field(3, s.count);
      w.endStruct();
    }
  }
  w.endStruct();
}

function writeRowGroup(w: CompactWriter, g: RowGroup): void {
  w.beginStruct();
  w.listField(1, g.columns.length, CT.STRUCT);
  for (const c of g.columns) {
    w.beginStruct();
    w.i64Field(2, c.fileOffset);
    writeColumnMetaData(w, 3, c.metaData);
    w.endStruct();
  }
  w.i64Field(2, g.totalByteSize);
  w.i64Field(3, g.numRows);
  if (g.fileOffset !== undefined) w.i64Field(5, g.fileOffset);
  if (g.totalCompressedSize !== undefined) w.i64Field(6, g.totalCompressedSize);
  if (g.ordinal !== undefined) w.i16Field(7, g.ordinal);
  w.endStruct();
}

/** A page header in the compact protocol (it precedes the page's bytes in the column chunk). */
export function encodePageHeader(header: PageHeader): Uint8Array {
  const w = new CompactWriter(64);
  w.beginStruct();
  w.i32Field(1, PAGE_TYPE[header.type]);
  w.i32Field(2, header.uncompressedPageSize);
  w.i32Field(3, header.compressedPageSize);
  const d = header.dataPageHeader;
  if (d !== undefined) {
    w.structField(5);
    w.i32Field(1, d.numValues);
    w.i32Field(2, ENCODING[d.encoding]);
    w.i32Field(3, ENCODING[d.definitionLevelEncoding]);
    w.i32Field(4, ENCODING[d.repetitionLevelEncoding]);
    if (d.statistics !== undefined) writeStatistics(w, 5, d.statistics);
    w.endStruct();
  }
  const p = header.dictionaryPageHeader;
  if (p !== undefined) {
    w.structField(7);
    w.i32Field(1, p.numValues);
    w.i32Field(2, ENCODING[p.encoding]);
    if (p.isSorted !== undefined) w.boolField(3, p.isSorted);
    w.endStruct();
  }
  w.endStruct();
  return w.finish();
}

/** The footer's FileMetaData in the compact protocol (without the length and magic that follow it). */
export function encodeFileMetaData(meta: FileMetaData): Uint8Array {
  const w = new CompactWriter(4096);
  w.beginStruct();
  w.i32Field(1, meta.version);
  w.listField(2, meta.schema.length, CT.STRUCT);
  for (const e of meta.schema) writeSchemaElement(w, e);
  w.i64Field(3, meta.numRows);
  w.listField(4, meta.rowGroups.length, CT.STRUCT);
  for (const g of meta.rowGroups) writeRowGroup(w, g);
  if (meta.keyValueMetadata !== undefined) {
    w.listField(5, meta.keyValueMetadata.length, CT.STRUCT);
    for (const kv of meta.keyValueMetadata) {
      w.beginStruct();
      w.stringField(1, kv.key);
      if (kv.value !== undefined) w.stringField(2, kv.value);
      w.endStruct();
    }
  }
  if (meta.createdBy !== undefined) w.stringField(6, meta.createdBy);
  if (meta.columnOrders !== undefined) {
    w.listField(7, meta.columnOrders.length, CT.STRUCT);
    for (const _order of meta.columnOrders) {
      // ColumnOrder union, member 1 TYPE_ORDER: an empty TypeDefinedOrder struct.
      w.beginStruct();
      emptyStructField(w, 1);
      w.endStruct();
    }
  }
  w.endStruct();
  return w.finish();
}
