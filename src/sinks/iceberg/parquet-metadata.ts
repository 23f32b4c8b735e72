/**
 * The parts of a Parquet footer (FileMetaData, Thrift compact protocol) Iceberg metrics need: schema elements
 * with field ids and logical types, and per row group the column chunks' sizes, value counts, statistics and
 * page offsets. pipeline/parquet-footer.ts reads only what the encoder checks (row counts, key-value
 * metadata), so this is a second, read-only walk over the same bytes, with the same Thrift reader
 * (pipeline/thrift-compact.ts). No I/O.
 */
import { ErrorCodes, ExporterError } from '../../errors.js';
import { footerBytes } from '../../pipeline/parquet-footer.js';
import { CT, CompactReader } from '../../pipeline/thrift-compact.js';

export const PhysicalType = {
  BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7,
} as const;

export type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

export interface LogicalType {
  /** Thrift union member id: 1 STRING, 5 DECIMAL, 6 DATE, 7 TIME, 8 TIMESTAMP, 12 JSON, 14 UUID … */
  member: number;
  unit?: TimeUnit;
  isAdjustedToUTC?: boolean;
  scale?: number;
  precision?: number;
}

export interface SchemaElement {
  /** Path below the root. */
  path: string[];
  type?: number;
  typeLength?: number;
  /** 0 REQUIRED, 1 OPTIONAL, 2 REPEATED. */
  repetition?: number;
  numChildren: number;
  convertedType?: number;
  fieldId?: number;
  logicalType?: LogicalType;
}

export interface ChunkStatistics {
  nullCount?: number;
  /** min_value / max_value (correct order for every type). */
  minValue?: Uint8Array;
  maxValue?: Uint8Array;
  /** Deprecated min / max (signed order; trusted for numeric types only). */
  min?: Uint8Array;
  max?: Uint8Array;
}

export interface ColumnChunkInfo {
  path: string[];
  type: number;
  numValues: number;
  totalCompressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  statistics?: ChunkStatistics;
}

export interface RowGroupMeta {
  numRows: number;
  columns: ColumnChunkInfo[];
}

export interface ParquetMetadata {
  numRows: number;
  schema: SchemaElement[];
  rowGroups: RowGroupMeta[];
}

function logicalType(r: CompactReader): LogicalType | undefined {
  let out: LogicalType | undefined;
  r.struct((member) => {
    const lt: LogicalType = { member };
    r.struct((id, type) => {
      if (member === 5 && id === 1 && type === CT.I32) lt.scale = r.zigzag();
      else if (member === 5 && id === 2 && type === CT.I32) lt.precision = r.zigzag();
      else if ((member === 7 || member === 8) && id === 1 && (type === CT.TRUE || type === CT.FALSE)) lt.isAdjustedToUTC = type === CT.TRUE;
      else if ((member === 7 || member === 8) && id === 2 && type === CT.STRUCT) {
        r.struct((unit) => {
          lt.unit = unit === 1 ? 'MILLIS' : unit === 2 ? 'MICROS' : 'NANOS';
          r.skip(CT.STRUCT);
          return true;
        });
      } else return false;
      return true;
    });
    out = lt;
    return true;
  });
  return out;
}

function schemaElement(r: CompactReader): { name: string; e: Omit<SchemaElement, 'path'> } {
  let name = '';
  const e: Omit<SchemaElement, 'path'> = { numChildren: 0 };
  r.struct((id, type) => {
    if (id === 1 && type === CT.I32) e.type = r.zigzag();
    else if (id === 2 && type === CT.I32) e.typeLength = r.zigzag();
    else if (id === 3 && type === CT.I32) e.repetition = r.zigzag();
    else if (id === 4 && type === CT.BINARY) name = r.string();
    else if (id === 5 && type === CT.I32) e.numChildren = r.zigzag();
    else if (id === 6 && type === CT.I32) e.convertedType = r.zigzag();
    else if (id === 9 && type === CT.I32) e.fieldId = r.zigzag();
    else if (id === 10 && type === CT.STRUCT) e.logicalType = logicalType(r);
    else return false;
    return true;
  });
  return { name, e };
}

function statistics(r: CompactReader): ChunkStatistics {
  const s: ChunkStatistics = {};
  r.struct((id, type) => {
    // Copies: the bounds outlive the footer bytes.
    if (id === 1 && type === CT.BINARY) s.max = r.binary().slice();
    else if (id === 2 && type === CT.BINARY) s.min = r.binary().slice();
    else if (id === 3 && type === CT.I64) s.nullCount = r.zigzag();
    else if (id === 5 && type === CT.BINARY) s.maxValue = r.binary().slice();
    else if (id === 6 && type === CT.BINARY) s.minValue = r.binary().slice();
    else return false;
    return true;
  });
  return s;
}

function columnMeta(r: CompactReader): ColumnChunkInfo {
  const c: ColumnChunkInfo = { path: [], type: -1, numValues: 0, totalCompressedSize: 0, dataPageOffset: 0 };
  r.struct((id, type) => {
    if (id === 1 && type === CT.I32) c.type = r.zigzag();
    else if (id === 3 && type === CT.LIST) r.list(() => c.path.push(r.string()));
    else if (id === 5 && type === CT.I64) c.numValues = r.zigzag();
    else if (id === 7 && type === CT.I64) c.totalCompressedSize = r.zigzag();
    else if (id === 9 && type === CT.I64) c.dataPageOffset = r.zigzag();
    else if (id === 11 && type === CT.I64) c.dictionaryPageOffset = r.zigzag();
    else if (id === 12 && type === CT.STRUCT) c.statistics = statistics(r);
    else return false;
    return true;
  });
  return c;
}

function rowGroup(r: CompactReader): RowGroupMeta {
  const g: RowGroupMeta = { numRows: 0, columns: [] };
  r.struct((id, type) => {
    if (id === 1 && type === CT.LIST) {
      r.list(() => {
        let meta: ColumnChunkInfo | undefined;
        r.struct((cid, ctype) => {
          if (cid === 3 && ctype === CT.STRUCT) meta = columnMeta(r);
          else return false;
          return true;
        });
        if (!meta) throw new RangeError('a column chunk has no meta_data (external column chunks are not supported)');
        g.columns.push(meta);
      });
    } else if (id === 3 && type === CT.I64) g.numRows = r.zigzag();
    else return false;
    return true;
  });
  return g;
}

/**
 * Parses FileMetaData. `bytes` is the FileMetaData itself, or (`tail: true`) any tail of the file that holds
 * the whole footer and trailer. `where` names the file in errors.
 */
export function readParquetMetadata(bytes: Uint8Array, options: { tail?: boolean; where?: string } = {}): ParquetMetadata {
  try {
    const footer = options.tail ? footerBytes(bytes) : bytes;
    const r = new CompactReader(footer);
    const meta: ParquetMetadata = { numRows: 0, schema: [], rowGroups: [] };
    const flat: { name: string; e: Omit<SchemaElement, 'path'> }[] = [];
    r.struct((id, type) => {
      if (id === 2 && type === CT.LIST) r.list(() => flat.push(schemaElement(r)));
      else if (id === 3 && type === CT.I64) meta.numRows = r.zigzag();
      else if (id === 4 && type === CT.LIST) r.list(() => meta.rowGroups.push(rowGroup(r)));
      else return false;
      return true;
    });
    let i = 1;
    const walk = (prefix: string[], count: number): void => {
      for (let c = 0; c < count && i < flat.length; c++) {
        const { name, e } = flat[i++]!;
        const path = [...prefix, name];
        meta.schema.push({ path, ...e });
        if (e.numChildren > 0) walk(path, e.numChildren);
      }
    };
    walk([], flat[0]?.e.numChildren ?? 0);
    return meta;
  } catch (err) {
    if (err instanceof ExporterError) throw err;
    throw new ExporterError(ErrorCodes.PARQUET_WRITE_FAILED, `cannot read the Parquet footer: ${(err as Error).message}`, {
      context: options.where === undefined ? {} : { uri: options.where }, cause: err,
    });
  }
}
