/**
 * Reading and patching the Parquet footer (FileMetaData, Thrift compact protocol) that parquet-wasm writes.
 *
 * Why we touch it at all: parquet-wasm 0.8.0 (arrow-rs 59) has no way to write the JSON logical type (the
 * `arrow.json` extension is ignored), and it always stores the writer's Arrow schema under `ARROW:schema`,
 * which would make files of the same table differ with each segment's encodings (Dictionary vs Utf8). Both
 * are fixed here, after the writer is done, on the footer bytes only:
 *
 * - JSON: a STRING leaf's `converted_type` UTF8 (0) becomes JSON (19) and its `logicalType` union member
 *   STRING (1) becomes JSON (12). Both are same-length rewrites in place.
 * - `ARROW:schema` is removed from `key_value_metadata` (the list is re-encoded; the footer length changes,
 *   nothing before the footer moves).
 *
 * It also reads back row counts so the encoder can check that every row it sent was written.
 */
import { ParquetError, ParquetErrorCodes } from './parquet-error.js';
import { CT, CompactReader } from './thrift-compact.js';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

export interface SchemaNode {
  /** Path below the root (the root itself is not listed). */
  path: string[];
  numChildren: number;
  /** Byte offset (in the footer) of the converted_type value, when present. */
  convertedTypeAt?: number;
  convertedType?: number;
  /** Byte offset of the LogicalType union's member header, when present. */
  logicalTypeMemberAt?: number;
  logicalTypeMember?: number;
}

export interface RowGroupInfo {
  numRows: number;
  totalByteSize: number;
  compressedSize?: number;
  /** Offset of the group's first page in the file. */
  fileOffset?: number;
}

export interface FooterInfo {
  /** Byte length of the FileMetaData (without the 8-byte trailer). */
  length: number;
  numRows: number;
  rowGroups: RowGroupInfo[];
  keyValue: Map<string, string>;
  createdBy?: string;
  schema: SchemaNode[];
  /** Where key_value_metadata's list starts and ends, and each entry's byte range and key. */
  keyValueList?: { start: number; end: number; entries: { start: number; end: number; key: string }[] };
}

function schemaElement(r: CompactReader): { name: string; numChildren: number; node: Omit<SchemaNode, 'path' | 'numChildren'> } {
  let name = '';
  let numChildren = 0;
  const node: Omit<SchemaNode, 'path' | 'numChildren'> = {};
  r.struct((id, type) => {
    if (id === 4 && type === CT.BINARY) name = r.string();
    else if (id === 5 && type === CT.I32) numChildren = r.zigzag();
    else if (id === 6 && type === CT.I32) {
      node.convertedTypeAt = r.pos;
      node.convertedType = r.zigzag();
    } else if (id === 10 && type === CT.STRUCT) {
      // LogicalType is a union: exactly one member, itself an (empty or small) struct.
      r.struct((member, memberType) => {
        node.logicalTypeMemberAt = r.pos - 1;
        node.logicalTypeMember = member;
        r.skip(memberType);
        return true;
      });
    } else return false;
    return true;
  });
  return { name, numChildren, node };
}

function rowGroup(r: CompactReader): RowGroupInfo {
  const info: RowGroupInfo = { numRows: 0, totalByteSize: 0 };
  r.struct((id, type) => {
    if (id === 2 && type === CT.I64) info.totalByteSize = r.zigzag();
    else if (id === 3 && type === CT.I64) info.numRows = r.zigzag();
    else if (id === 5 && type === CT.I64) info.fileOffset = r.zigzag();
    else if (id === 6 && type === CT.I64) info.compressedSize = r.zigzag();
    else return false;
    return true;
  });
  return info;
}

/** The FileMetaData bytes of a complete Parquet file (or of any tail of it that holds the whole footer). */
export function footerBytes(tail: Uint8Array): Uint8Array {
  const n = tail.length;
  if (n < 12 || MAGIC.some((m, i) => tail[n - 4 + i] !== m)) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, 'the Parquet output does not end with the PAR1 footer magic');
  }
  const length = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
  if (length + 8 > n) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `the Parquet footer (${length} bytes) is longer than the ${n} bytes given`);
  }
  return tail.subarray(n - 8 - length, n - 8);
}

export function parseFooter(footer: Uint8Array): FooterInfo {
  const r = new CompactReader(footer);
  const info: FooterInfo = { length: footer.length, numRows: 0, rowGroups: [], keyValue: new Map(), schema: [] };
  try {
    r.struct((id, type) => {
      if (id === 2 && type === CT.LIST) {
        const flat: { name: string; numChildren: number; node: Omit<SchemaNode, 'path' | 'numChildren'> }[] = [];
        r.list(() => flat.push(schemaElement(r)));
        info.schema = paths(flat);
      } else if (id === 3 && type === CT.I64) {
        info.numRows = r.zigzag();
      } else if (id === 4 && type === CT.LIST) {
        r.list(() => info.rowGroups.push(rowGroup(r)));
      } else if (id === 5 && type === CT.LIST) {
        const start = r.pos;
        const entries: { start: number; end: number; key: string }[] = [];
        r.list(() => {
          const at = r.pos;
          let key = '';
          let value = '';
          r.struct((fid, ftype) => {
            if (fid === 1 && ftype === CT.BINARY) key = r.string();
            else if (fid === 2 && ftype === CT.BINARY) value = r.string();
            else return false;
            return true;
          });
          entries.push({ start: at, end: r.pos, key });
          info.keyValue.set(key, value);
        });
        info.keyValueList = { start, end: r.pos, entries };
      } else if (id === 6 && type === CT.BINARY) {
        info.createdBy = r.string();
      } else return false;
      return true;
    });
  } catch (err) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `cannot read the Parquet footer: ${(err as Error).message}`, { cause: err });
  }
  return info;
}

/** Depth-first schema elements (root first) → the non-root nodes with their paths. */
function paths(flat: { name: string; numChildren: number; node: Omit<SchemaNode, 'path' | 'numChildren'> }[]): SchemaNode[] {
  const out: SchemaNode[] = [];
  let i = 1;
  const walk = (prefix: string[], count: number): void => {
    for (let c = 0; c < count && i < flat.length; c++) {
      const e = flat[i++]!;
      const path = [...prefix, e.name];
      out.push({ path, numChildren: e.numChildren, ...e.node });
      if (e.numChildren > 0) walk(path, e.numChildren);
    }
  };
  walk([], flat[0]?.numChildren ?? 0);
  return out;
}

const CONVERTED_UTF8 = 0;
const CONVERTED_JSON = 19;
const LOGICAL_STRING = 1;
const LOGICAL_JSON = 12;

export interface FooterPatch {
  /** Leaf paths to mark with the JSON logical type (they must be STRING leaves). */
  jsonPaths?: readonly (readonly string[])[];
  /** key_value_metadata keys to remove. */
  dropKeys?: readonly string[];
}

/** Applies `patch` to FileMetaData bytes; returns new bytes (the input is not modified). */
export function patchFooter(footer: Uint8Array, patch: FooterPatch): Uint8Array {
  const info = parseFooter(footer);
  const out = Uint8Array.from(footer);
  for (const path of patch.jsonPaths ?? []) {
    const key = path.join('\u0000');
    const node = info.schema.find((n) => n.path.join('\u0000') === key);
    if (!node || node.numChildren > 0 || node.logicalTypeMember !== LOGICAL_STRING || node.logicalTypeMemberAt === undefined) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `cannot mark ${path.join('.')} as JSON: it is not a STRING leaf of the written schema`);
    }
    // Member header byte: (delta << 4) | STRUCT, the delta being the member id (first field of the union).
    if (out[node.logicalTypeMemberAt] !== ((LOGICAL_STRING << 4) | CT.STRUCT)) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `unexpected logical type encoding for ${path.join('.')}`);
    }
    out[node.logicalTypeMemberAt] = (LOGICAL_JSON << 4) | CT.STRUCT;
    if (node.convertedTypeAt !== undefined) {
      if (node.convertedType !== CONVERTED_UTF8) {
        throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `unexpected converted type ${node.convertedType} for ${path.join('.')}`);
      }
      out[node.convertedTypeAt] = CONVERTED_JSON * 2; // zigzag(19), one byte like zigzag(0)
    }
  }
  const drop = new Set(patch.dropKeys ?? []);
  const list = info.keyValueList;
  if (!list || !list.entries.some((e) => drop.has(e.key))) return out;
  const kept = list.entries.filter((e) => !drop.has(e.key));
  const header = kept.length < 15 ? [(kept.length << 4) | CT.STRUCT] : [0xf0 | CT.STRUCT, ...varint(kept.length)];
  const size = header.length + kept.reduce((s, e) => s + e.end - e.start, 0);
  const result = new Uint8Array(out.length - (list.end - list.start) + size);
  result.set(out.subarray(0, list.start), 0);
  let at = list.start;
  result.set(header, at);
  at += header.length;
  for (const e of kept) {
    result.set(out.subarray(e.start, e.end), at);
    at += e.end - e.start;
  }
  result.set(out.subarray(list.end), at);
  return result;
}

function varint(n: number): number[] {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return bytes;
}

/** A complete file tail: the bytes before the footer, the footer, its length and the magic. */
export function withFooter(beforeFooter: Uint8Array, footer: Uint8Array): Uint8Array {
  const out = new Uint8Array(beforeFooter.length + footer.length + 8);
  out.set(beforeFooter, 0);
  out.set(footer, beforeFooter.length);
  new DataView(out.buffer).setUint32(beforeFooter.length + footer.length, footer.length, true);
  out.set(MAGIC, beforeFooter.length + footer.length + 4);
  return out;
}

/**
 * Writes `footer`, its length and the magic into `file` at `at` (the end of the bytes before the footer),
 * in place, and returns the file up to the new end: patching a footer that did not grow costs no copy of
 * the row group in front of it. `file` must have room (`at + footer.length + 8` bytes).
 */
export function replaceFooter(file: Uint8Array, at: number, footer: Uint8Array): Uint8Array {
  const end = at + footer.length + 8;
  if (end > file.length) throw new RangeError(`no room for a ${footer.length}-byte footer at ${at} in ${file.length} bytes`);
  file.set(footer, at);
  new DataView(file.buffer, file.byteOffset).setUint32(at + footer.length, footer.length, true);
  file.set(MAGIC, at + footer.length + 4);
  return file.subarray(0, end);
}
