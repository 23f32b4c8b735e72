/**
 * Synthetic REALTIME segments: K consecutive LLC segments of one partition
 * (`<table>__<partition>__<sequence>__<yyyyMMdd'T'HHmm'Z'>`), each covering the next time range of the preset,
 * written as a server commits them (realtime-commit flavour, stream offsets `seq·rows … (seq+1)·rows`).
 * Deterministic for a seed: the same seed gives the same files, except the creation time in `creation.meta`
 * (and so the tarball bytes); the data of segment k column c comes from its own random stream.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes } from '../errors.js';
import { parseSchema, parseTableConfig, planSegment } from '../sources/pinot/write/pinot-schema.js';
import { writeSegment, type ArchiveCompressionName, type ColumnSource, type WrittenSegment } from '../sources/pinot/write/segment-writer.js';
import { getPreset, schemaPreset, type Preset, type PresetContext } from './presets.js';

export interface GenerateOptions {
  /** A preset name (`events`, `baseball`), or a Pinot schema file with generic values. */
  preset?: string;
  schemaFile?: string;
  /** Rows per segment. */
  rows: number;
  seed: number | string;
  /** Output directory (created if missing). */
  out: string;
  /** Number of consecutive segments (default 1). */
  segments?: number;
  /** Tarball compression; `none` (default) leaves segment directories. */
  archive?: ArchiveCompressionName | 'none';
  /** With an archive, keep the segment directory too (default false). */
  keepDirectories?: boolean;
  layout?: 'v1' | 'v3';
  partition?: number;
  /** Sequence number of the first segment (default 0). */
  firstSequence?: number;
  /** Start of the first segment's time range (default 2026-11-26T00:00Z). */
  startMs?: number;
  /** `creation.meta` time (default now). */
  creationTimeMs?: number;
  /** Called after each segment. */
  onSegment?(segment: GeneratedSegment): void;
}

export interface GeneratedSegment extends WrittenSegment {
  sequence: number;
  startMs: number;
  endMs: number;
}

export const DEFAULT_START_MS = Date.UTC(2026, 10, 26);

async function presetOf(o: GenerateOptions): Promise<Preset> {
  if (o.preset !== undefined && o.schemaFile !== undefined) {
    throw new ConfigError(ErrorCodes.USAGE, 'give either a preset or a schema file, not both');
  }
  if (o.schemaFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(o.schemaFile, 'utf8'));
    } catch (err) {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `cannot read schema ${o.schemaFile}: ${(err as Error).message}`, { context: { file: o.schemaFile }, cause: err });
    }
    parseSchema(json);
    return schemaPreset(json as Record<string, unknown>);
  }
  return getPreset(o.preset ?? 'events');
}

export async function generateSegments(o: GenerateOptions): Promise<GeneratedSegment[]> {
  const count = o.segments ?? 1;
  if (!Number.isSafeInteger(o.rows) || o.rows < 1) throw new ConfigError(ErrorCodes.USAGE, `rows must be a positive integer, got ${o.rows}`);
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(ErrorCodes.USAGE, `segments must be a positive integer, got ${count}`);
  const preset = await presetOf(o);
  const plan = planSegment(parseSchema(preset.schema), parseTableConfig(preset.table));
  const partition = o.partition ?? 0;
  const first = o.firstSequence ?? 0;
  const start = o.startMs ?? DEFAULT_START_MS;
  const out: GeneratedSegment[] = [];
  for (let k = 0; k < count; k++) {
    const sequence = first + k;
    const startMs = start + k * preset.segmentSpanMs;
    const ctx: PresetContext = { rows: o.rows, segment: sequence, seed: o.seed, startMs, endMs: startMs + preset.segmentSpanMs };
    const source: ColumnSource = { totalDocs: o.rows, column: (name) => preset.column(name, ctx) };
    const written = await writeSegment({
      plan,
      source,
      outDir: o.out,
      llc: { partition, sequence, creationTimeMs: startMs },
      layout: o.layout,
      flavour: 'realtime-commit',
      offsets: { start: String(sequence * o.rows), end: String((sequence + 1) * o.rows) },
      creationTimeMs: o.creationTimeMs,
      archive: o.archive === undefined || o.archive === 'none' ? undefined : { compression: o.archive },
      removeDirectory: !o.keepDirectories,
    });
    const generated = { ...written, sequence, startMs, endMs: startMs + preset.segmentSpanMs };
    o.onSegment?.(generated);
    out.push(generated);
  }
  return out;
}
