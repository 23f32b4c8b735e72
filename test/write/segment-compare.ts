/**
 * Test support: open two segments and compare them the way the fidelity tests need — metadata key by key,
 * index buffers byte by byte, raw forward indexes by header, chunk table and decompressed chunk contents — and
 * derive, from a segment Pinot wrote, the schema and table config that reproduce it.
 */
import { openSegment, type OpenedSegment } from '../../src/sources/deepstore/index.js';
import { readAll } from '../../src/sources/pinot/bytes.js';
import { decompressChunk, type ByteOrder } from '../../src/sources/pinot/codecs.js';
import { parseCreationMeta, type CreationMeta } from '../../src/sources/pinot/creation-meta.js';
import { parseSegmentMetadata, type ColumnMetadata, type SegmentMetadata } from '../../src/sources/pinot/metadata.js';
import { parseProperties, type Properties } from '../../src/sources/pinot/properties.js';
import { openSegmentLayout, type SegmentLayout } from '../../src/sources/pinot/segment-layout.js';
import { FIXED_WIDTH, type IndexType } from '../../src/sources/pinot/types.js';

export interface ComparableSegment {
  opened: OpenedSegment;
  metadata: SegmentMetadata;
  layout: SegmentLayout;
  props: Properties;
  creation: CreationMeta;
  close(): Promise<void>;
}

export async function openComparable(location: string): Promise<ComparableSegment> {
  const opened = await openSegment(location);
  const props = parseProperties(readAll(opened.files.open('metadata.properties')));
  const metadata = parseSegmentMetadata(props);
  return {
    opened,
    metadata,
    props,
    layout: openSegmentLayout(opened.files, metadata),
    creation: parseCreationMeta(readAll(opened.files.open('creation.meta'))),
    close: () => opened.cleanup(),
  };
}

export function indexBytes(seg: ComparableSegment, column: string, index: IndexType): Uint8Array | undefined {
  const r = seg.layout.indexRange(column, index);
  return r ? Uint8Array.from(readAll(r)) : undefined;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Keys whose values differ (or exist on one side only), excluding `ignore`d keys. */
export function metadataDifferences(ours: Properties, theirs: Properties, ignore: (key: string) => boolean = () => false): string[] {
  const keys = new Set([...ours.keys(), ...theirs.keys()]);
  const out: string[] = [];
  for (const k of keys) {
    if (ignore(k)) continue;
    const a = ours.getList(k).join(',');
    const b = theirs.getList(k).join(',');
    if (!ours.has(k)) out.push(`${k}: missing in ours (theirs ${JSON.stringify(b)})`);
    else if (!theirs.has(k)) out.push(`${k}: extra in ours (${JSON.stringify(a)})`);
    else if (a !== b) out.push(`${k}: ours ${JSON.stringify(a)} theirs ${JSON.stringify(b)}`);
  }
  return out;
}

/** A raw forward index taken apart: header fields, per-chunk doc ranges, decompressed chunks. */
export interface RawParts {
  format: 'chunk' | 'v4';
  /** Header fields other than chunk offsets (chunk files: version, numChunks, docsPerChunk, entrySize, totalDocs,
   * codec, headerSize; V4/V5/V6: version, targetChunkSize, codec, numChunks). */
  header: number[];
  codec: number;
  /** V4+: first doc id of each chunk with the huge-chunk flag. */
  chunkDocs: number[];
  /** Chunk offsets as stored (they move when a compressor packs a chunk into a different number of bytes). */
  offsets: number[];
  chunks: Uint8Array[];
}

export function rawParts(buf: Uint8Array, column: ColumnMetadata): RawParts {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getInt32(0);
  const fixedSV = column.singleValue && FIXED_WIDTH[column.storedType] !== undefined;
  if (version < 4 || fixedSV) {
    const numChunks = dv.getInt32(4);
    const docsPerChunk = dv.getInt32(8);
    const entrySize = dv.getInt32(12);
    const codec = dv.getInt32(20);
    const headerSize = dv.getInt32(24);
    const wide = version >= 3;
    const offsets: number[] = [];
    for (let k = 0; k < numChunks; k++) offsets.push(wide ? Number(dv.getBigInt64(headerSize + 8 * k)) : dv.getInt32(headerSize + 4 * k));
    const bound = fixedSV ? docsPerChunk * entrySize : docsPerChunk * (4 + entrySize);
    const chunks = offsets.map((o, k) => decompress(codec, buf.subarray(o, offsets[k + 1] ?? buf.length), bound, 'BE'));
    return { format: 'chunk', header: [version, numChunks, docsPerChunk, entrySize, dv.getInt32(16), codec, headerSize], codec, chunkDocs: [], offsets, chunks };
  }
  const codec = dv.getInt32(8);
  const dataStart = dv.getInt32(12);
  const chunkDocs: number[] = [];
  const offsets: number[] = [];
  for (let p = 16; p < dataStart; p += 8) {
    chunkDocs.push(dv.getUint32(p, true));
    offsets.push(dv.getUint32(p + 4, true));
  }
  const chunks = offsets.map((o, k) => decompress(codec, buf.subarray(dataStart + o, k + 1 < offsets.length ? dataStart + offsets[k + 1]! : buf.length), undefined, 'LE'));
  return { format: 'v4', header: [version, dv.getInt32(4), codec, offsets.length], codec, chunkDocs, offsets, chunks };
}

function decompress(codec: number, src: Uint8Array, bound: number | undefined, order: ByteOrder): Uint8Array {
  return Uint8Array.from(decompressChunk(codec, src, bound, undefined, order));
}

interface FieldJson {
  name: string;
  dataType: string;
  singleValueField?: boolean;
  defaultNullValue?: string;
  format?: string;
  granularity?: string;
}

/**
 * The schema and table config that reproduce a segment Pinot wrote: field types and defaults from its metadata,
 * raw columns with the writer version and codec their forward-index headers show, var-length STRING
 * dictionaries and MV_ENTRY_DICT from the buffers, null handling when a null vector exists.
 */
export function settingsOf(seg: ComparableSegment): {
  schema: Record<string, unknown>; table: Record<string, unknown>; customProperties: [string, string][];
} {
  const m = seg.metadata;
  const lists: Record<string, FieldJson[]> = { DIMENSION: [], METRIC: [], DATE_TIME: [] };
  let timeFieldSpec: Record<string, unknown> | undefined;
  const noDictionaryColumns: string[] = [];
  const varLengthDictionaryColumns: string[] = [];
  const fieldConfigList: Record<string, unknown>[] = [];
  let nullHandling = false;
  for (const c of m.columns.values()) {
    const f: FieldJson = { name: c.name, dataType: c.dataType };
    if (!c.singleValue) f.singleValueField = false;
    if (c.defaultNullValue !== undefined) f.defaultNullValue = c.defaultNullValue;
    if (c.fieldType === 'TIME') {
      timeFieldSpec = { incomingGranularitySpec: { name: c.name, dataType: c.dataType, timeType: m.timeUnit ?? 'MILLISECONDS' } };
    } else if (c.fieldType === 'DATE_TIME') {
      lists.DATE_TIME!.push({ ...f, format: c.datetimeFormat ?? '1:MILLISECONDS:EPOCH', granularity: c.datetimeGranularity ?? '1:MILLISECONDS' });
    } else {
      lists[c.fieldType]!.push(f);
    }
    if (seg.layout.indexRange(c.name, 'nullvalue_vector')) nullHandling = true;
    const fwd = indexBytes(seg, c.name, 'forward_index')!;
    if (c.forwardIndexEncoding === 'RAW') {
      noDictionaryColumns.push(c.name);
      const parts = rawParts(fwd, c);
      const codec = ['PASS_THROUGH', 'SNAPPY', 'ZSTANDARD', 'LZ4', 'LZ4', 'GZIP', 'DELTA', 'DELTADELTA'][parts.codec];
      const forward: Record<string, unknown> = { compressionCodec: codec, rawIndexWriterVersion: parts.header[0] };
      if (parts.format === 'chunk') forward.targetDocsPerChunk = parts.header[2];
      fieldConfigList.push({ name: c.name, encodingType: 'RAW', indexes: { forward } });
    } else {
      const dict = indexBytes(seg, c.name, 'dictionary')!;
      if (c.storedType === 'STRING' && dict.length >= 20 && Buffer.from(dict.subarray(0, 4)).toString('latin1') === '.vl;') {
        varLengthDictionaryColumns.push(c.name);
      }
      if (!c.singleValue && fwd.length > 4 && new DataView(fwd.buffer, fwd.byteOffset).getUint32(0) === 0xffabcdef) {
        fieldConfigList.push({ name: c.name, encodingType: 'DICTIONARY', indexes: { forward: { dictIdCompressionType: 'MV_ENTRY_DICT' } } });
      }
    }
  }
  const schema: Record<string, unknown> = {
    schemaName: m.tableName ?? m.name,
    dimensionFieldSpecs: lists.DIMENSION,
    metricFieldSpecs: lists.METRIC,
    dateTimeFieldSpecs: lists.DATE_TIME,
    ...(timeFieldSpec ? { timeFieldSpec } : {}),
  };
  const table: Record<string, unknown> = {
    tableName: m.tableName ?? m.name,
    tableType: m.realtimeStartOffset !== undefined ? 'REALTIME' : 'OFFLINE',
    segmentsConfig: m.timeColumn ? { timeColumnName: m.timeColumn } : {},
    tableIndexConfig: { nullHandlingEnabled: nullHandling, noDictionaryColumns, varLengthDictionaryColumns, segmentFormatVersion: m.indexVersion === 'v3' ? 'v3' : 'v1' },
    fieldConfigList,
  };
  const customProperties = [...m.custom.entries()].map(([k, v]) => [`custom.${k}`, v] as [string, string]);
  return { schema, table, customProperties };
}
