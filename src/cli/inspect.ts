/** `pinot-export inspect <segment> [--json] [--crc]`: segment and per-column metadata. */
import { parseArgs } from 'node:util';
import { computeSegmentCrc, parseCreationMeta } from '../sources/pinot/creation-meta.js';
import type { SegmentLayout } from '../sources/pinot/segment-layout.js';
import { SegmentReader } from '../sources/segment-reader.js';
import { parse, readerOptions, S3_OPTIONS } from './args.js';
import type { CliIo } from './program.js';

export interface ColumnReport {
  name: string;
  dataType: string;
  fieldType: string;
  singleValue: boolean;
  encoding: string;
  sorted: boolean;
  cardinality: number;
  bitsPerElement: number | null;
  totalNumberOfEntries: number;
  maxNumberOfMultiValues: number;
  minValue: string | null;
  maxValue: string | null;
  defaultNullValue: string | null;
  forwardIndex: string;
  bytes: { forwardIndex: number | null; dictionary: number | null; nullVector: number | null };
}

export interface SegmentReport {
  name: string;
  table: string | null;
  location: string;
  layout: string;
  totalDocs: number;
  timeColumn: string | null;
  startTime: string | null;
  endTime: string | null;
  timeUnit: string | null;
  crc: string | null;
  computedCrc?: string;
  creationTimeMs: string | null;
  columns: ColumnReport[];
}

function size(layout: SegmentLayout, column: string, index: 'forward_index' | 'dictionary' | 'nullvalue_vector'): number | null {
  return layout.indexRange(column, index)?.length ?? null;
}

export async function inspectSegment(location: string, options: Parameters<typeof SegmentReader.open>[1] & { crc?: boolean } = {}): Promise<SegmentReport> {
  await using reader = await SegmentReader.open(location, options);
  const { metadata: m, segment } = reader;
  const layout = segment.layout;
  let creation: ReturnType<typeof parseCreationMeta> | undefined;
  if (reader.files.has('creation.meta')) {
    const r = reader.files.open('creation.meta');
    creation = parseCreationMeta(r.read(0, r.length));
  }
  const report: SegmentReport = {
    name: m.name,
    table: m.tableName ?? null,
    location: reader.location,
    layout: layout.version,
    totalDocs: m.totalDocs,
    timeColumn: m.timeColumn ?? null,
    startTime: m.startTime?.toString() ?? null,
    endTime: m.endTime?.toString() ?? null,
    timeUnit: m.timeUnit ?? null,
    crc: creation ? String(creation.crc) : (m.crc?.toString() ?? null),
    creationTimeMs: creation ? String(creation.creationTimeMs) : null,
    columns: [...m.columns.values()].map((c) => ({
      name: c.name,
      dataType: c.dataType,
      fieldType: c.fieldType,
      singleValue: c.singleValue,
      encoding: c.forwardIndexEncoding,
      sorted: c.isSorted,
      cardinality: c.cardinality,
      bitsPerElement: c.forwardIndexEncoding === 'DICTIONARY' ? c.bitsPerElement : null,
      totalNumberOfEntries: c.totalNumberOfEntries,
      maxNumberOfMultiValues: c.maxNumberOfMultiValues,
      minValue: c.minValue ?? null,
      maxValue: c.maxValue ?? null,
      defaultNullValue: c.defaultNullValue ?? null,
      forwardIndex: layout.forwardIndexState(c.name),
      bytes: {
        forwardIndex: size(layout, c.name, 'forward_index'),
        dictionary: size(layout, c.name, 'dictionary'),
        nullVector: size(layout, c.name, 'nullvalue_vector'),
      },
    })),
  };
  if (options.crc) report.computedCrc = String(computeSegmentCrc(reader.files));
  return report;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatReport(r: SegmentReport): string {
  const lines = [
    `segment   ${r.name}`,
    `table     ${r.table ?? '-'}`,
    `location  ${r.location}`,
    `layout    ${r.layout}, ${r.totalDocs} docs, ${r.columns.length} columns`,
  ];
  if (r.timeColumn) lines.push(`time      ${r.timeColumn} ${r.startTime ?? '?'} .. ${r.endTime ?? '?'} ${r.timeUnit ?? ''}`.trimEnd());
  if (r.crc) lines.push(`crc       ${r.crc}${r.computedCrc === undefined ? '' : r.computedCrc === r.crc ? ' (verified)' : ` (computed ${r.computedCrc}: MISMATCH)`}`);
  if (r.creationTimeMs) lines.push(`created   ${new Date(Number(r.creationTimeMs)).toISOString()}`);
  const header = ['column', 'type', 'kind', 'encoding', 'cardinality', 'bits', 'fwd bytes', 'dict bytes', 'nulls bytes', 'min', 'max'];
  const rows = r.columns.map((c) => [
    c.name,
    c.dataType,
    `${c.fieldType.toLowerCase()} ${c.singleValue ? 'SV' : 'MV'}`,
    c.forwardIndex !== 'present' ? `${c.encoding} (fwd ${c.forwardIndex})` : c.sorted ? `${c.encoding} sorted` : c.encoding,
    String(c.cardinality),
    c.bitsPerElement === null ? '-' : String(c.bitsPerElement),
    c.bytes.forwardIndex === null ? '-' : String(c.bytes.forwardIndex),
    c.bytes.dictionary === null ? '-' : String(c.bytes.dictionary),
    c.bytes.nullVector === null ? '-' : String(c.bytes.nullVector),
    clip(c.minValue),
    clip(c.maxValue),
  ]);
  return lines.join('\n') + '\n\n' + table([header, ...rows]) + '\n';
}

function clip(v: string | null): string {
  if (v === null) return '-';
  const oneLine = JSON.stringify(v).slice(1, -1);
  return oneLine.length > 32 ? oneLine.slice(0, 31) + '…' : oneLine;
}

export async function runInspect(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(() => parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, crc: { type: 'boolean' }, ...S3_OPTIONS },
  }), ['segment']);
  const report = await inspectSegment(positionals[0]!, { ...readerOptions(values), crc: values.crc ?? false });
  io.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
}
