/**
 * Segment discovery: which segments a table has, whether each is completed, its time range in ms and where
 * to download it. Two sources behind `SegmentSource`:
 *
 * - `ZkSegmentSource`: Pinot's segment ZK metadata, `/<cluster>/PROPERTYSTORE/SEGMENTS/<table>/<segment>`
 *   (ZNRecord, plain or gzip; keys in pinot-segment-format.md §13.3). The listing is *complete*: it holds
 *   consuming and committing segments too, so an LLC sequence number missing below a present one was deleted.
 * - `DeepStoreSegmentSource`: the embedded mode, a deep-store directory `<root>/<rawTable>/` of segment
 *   archives or directories (Pinot's controller data dir layout); times come from each segment's own
 *   metadata.properties. Only completed segments reach deep store, and one may appear late (peer download,
 *   a slow copy), so the listing is not complete.
 *
 * Both cache what cannot change any more (a completed segment with a download URL), so a cycle over a table
 * with 100k segments reads only the new ones.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { errorMessage, ExporterError } from '../errors.js';
import type { TimeUnit } from '../sources/pinot/metadata.js';
import { SegmentReader } from '../sources/segment-reader.js';
import type { ZkClient } from '../state/zk-client.js';
import { ControlError, ControlErrorCodes } from './errors.js';
import { parseLlcName } from './segment-name.js';
import { parseZNRecord, type ZNRecord } from './znrecord.js';

/** ZK statuses (`segment.realtime.status`), plus UNKNOWN for a segment whose metadata could not be read. */
export type SegmentStatus = 'IN_PROGRESS' | 'COMMITTING' | 'DONE' | 'UPLOADED' | 'UNKNOWN';

export interface DiscoveredSegment {
  name: string;
  status: SegmentStatus;
  /** Time range in epoch ms; undefined when unknown (missing, 0 or negative, as Pinot's getStartTimeMs). */
  startTimeMs?: number;
  endTimeMs?: number;
  /** Deep-store URI; '' when the segment is not in deep store (yet): peer download only. */
  downloadUrl: string;
  crc?: string;
  totalDocs?: number;
  sizeBytes?: number;
  /** LLC position, when the name is an LLC name. */
  partition?: number;
  sequence?: number;
}

export interface ListingProblem {
  segment: string;
  error: Error;
}

export interface SegmentListing {
  table: string;
  segments: DiscoveredSegment[];
  /**
   * True when the listing holds every segment that exists, consuming ones included (ZooKeeper): a missing
   * LLC sequence number below a present one of the same partition was deleted and can never appear.
   */
  complete: boolean;
  /** Segments whose metadata could not be read; they are listed with status UNKNOWN (never eligible). */
  problems: ListingProblem[];
}

export interface ListOptions {
  signal?: AbortSignal;
}

export interface SegmentSource {
  list(table: string, options?: ListOptions): Promise<SegmentListing>;
}

export function isCompleted(segment: Pick<DiscoveredSegment, 'status'>): boolean {
  return segment.status === 'DONE' || segment.status === 'UPLOADED';
}

// ---------------------------------------------------------------------------------------------------------
// ZooKeeper

const UNIT_MS: Record<TimeUnit, number> = {
  NANOSECONDS: 1e-6, MICROSECONDS: 1e-3, MILLISECONDS: 1, SECONDS: 1000, MINUTES: 60_000, HOURS: 3_600_000, DAYS: 86_400_000,
};
const STATUSES: readonly SegmentStatus[] = ['IN_PROGRESS', 'COMMITTING', 'DONE', 'UPLOADED'];

/** One segment's ZK metadata record → DiscoveredSegment. Throws CONTROL_SEGMENT_METADATA_INVALID naming the key. */
export function segmentFromZnRecord(record: ZNRecord, where: string): DiscoveredSegment {
  const f = record.simpleFields;
  const bad = (key: string, accepted: string): ControlError => new ControlError(ControlErrorCodes.CONTROL_SEGMENT_METADATA_INVALID,
    `${key} = ${JSON.stringify(f[key])}: expected ${accepted}`, { context: { segment: record.id, key: where } });
  const status = f['segment.realtime.status'] ?? 'UPLOADED';
  if (!STATUSES.includes(status as SegmentStatus)) throw bad('segment.realtime.status', STATUSES.join(', '));
  const unitName = f['segment.time.unit'] ?? 'MILLISECONDS';
  if (!Object.hasOwn(UNIT_MS, unitName)) throw bad('segment.time.unit', Object.keys(UNIT_MS).join(', '));
  const unit = UNIT_MS[unitName as TimeUnit];
  const time = (key: string): number | undefined => {
    const raw = f[key];
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw)) throw bad(key, 'a decimal long');
    const v = Number(raw);
    if (v <= 0) return undefined;
    const ms = Math.floor(v * unit);
    if (!Number.isSafeInteger(ms)) throw bad(key, 'a time that fits in epoch milliseconds');
    return ms;
  };
  const count = (key: string): number | undefined => {
    const raw = f[key];
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw bad(key, 'a non-negative integer');
    return Number(raw);
  };
  const seg: DiscoveredSegment = {
    name: record.id,
    status: status as SegmentStatus,
    downloadUrl: f['segment.download.url'] ?? f['segment.realtime.download.url'] ?? f['segment.offline.download.url'] ?? '',
  };
  assign(seg, 'startTimeMs', time('segment.start.time'));
  assign(seg, 'endTimeMs', time('segment.end.time'));
  assign(seg, 'crc', f['segment.crc']);
  assign(seg, 'totalDocs', count('segment.total.docs'));
  assign(seg, 'sizeBytes', count('segment.size.in.bytes'));
  return withLlc(seg);
}

export interface ZkSegmentSourceOptions {
  client: ZkClient;
  /** Helix cluster name. */
  cluster: string;
  /** Parallel getData requests (default 32). */
  concurrency?: number;
}

export class ZkSegmentSource implements SegmentSource {
  private readonly cache = new Map<string, Map<string, DiscoveredSegment>>();

  constructor(private readonly options: ZkSegmentSourceOptions) {}

  segmentsPath(table: string): string {
    return `/${this.options.cluster}/PROPERTYSTORE/SEGMENTS/${table}`;
  }

  async list(table: string, options: ListOptions = {}): Promise<SegmentListing> {
    const { client } = this.options;
    const dir = this.segmentsPath(table);
    const names = await client.getChildren(dir).catch((err: unknown) => { throw listingFailed(table, dir, err); });
    const cached = this.cache.get(table) ?? new Map<string, DiscoveredSegment>();
    const problems: ListingProblem[] = [];
    const limit = pLimit(this.options.concurrency ?? 32);
    const found = await Promise.all((names ?? []).map((name) => limit(async (): Promise<DiscoveredSegment | undefined> => {
      options.signal?.throwIfAborted();
      const hit = cached.get(name);
      if (hit !== undefined) return hit;
      const path = `${dir}/${name}`;
      const got = await client.getData(path).catch((err: unknown) => { throw listingFailed(table, path, err); });
      if (got === undefined) return undefined; // deleted since the listing
      try {
        return segmentFromZnRecord(parseZNRecord(got.data, path), path);
      } catch (err) {
        problems.push({ segment: name, error: err as Error });
        return withLlc({ name, status: 'UNKNOWN', downloadUrl: '' });
      }
    })));
    const segments = found.filter((s): s is DiscoveredSegment => s !== undefined);
    this.cache.set(table, new Map(segments.filter(isFinal).map((s) => [s.name, s])));
    return { table, segments, complete: true, problems };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Deep store

export interface DeepStoreSegmentSourceOptions {
  /** Deep-store root (local path or file:// URL) holding one folder per raw table, as Pinot's controller data dir. */
  root: string;
  /** Where archives are extracted to read their metadata (default: the OS temp dir). */
  workDir?: string;
  /** Segments opened in parallel (default 2). */
  concurrency?: number;
}

const ARCHIVE_SUFFIX = /\.(tar\.gz|tgz|tar\.zst|tar\.zstd|tar\.lz4|tar\.compressed|tar)$/;

interface CacheEntry {
  mtimeMs: number;
  size: number;
  segment: DiscoveredSegment;
}

export class DeepStoreSegmentSource implements SegmentSource {
  readonly root: string;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly options: DeepStoreSegmentSourceOptions) {
    this.root = options.root.startsWith('file:') ? fileURLToPath(options.root) : resolve(options.root);
  }

  tableDir(table: string): string {
    return join(this.root, rawTableName(table));
  }

  async list(table: string, options: ListOptions = {}): Promise<SegmentListing> {
    const dir = this.tableDir(table);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { table, segments: [], complete: false, problems: [] };
      throw listingFailed(table, dir, err);
    }
    const problems: ListingProblem[] = [];
    const limit = pLimit(this.options.concurrency ?? 2);
    const seen = new Set<string>();
    const found = await Promise.all(entries.filter((e) => !e.name.startsWith('.') && !e.name.endsWith('.tmp')).map((e) => limit(async () => {
      options.signal?.throwIfAborted();
      const path = join(dir, e.name);
      seen.add(path);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) return undefined; // deleted since the listing
      const hit = this.cache.get(path);
      if (hit !== undefined && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit.segment;
      try {
        const segment = await readDeepStoreSegment(path, this.options.workDir);
        this.cache.set(path, { mtimeMs: info.mtimeMs, size: info.size, segment });
        return segment;
      } catch (err) {
        // A half-copied archive, or not a segment at all: listed as UNKNOWN, read again next cycle.
        problems.push({ segment: e.name, error: err as Error });
        return withLlc({ name: e.name.replace(ARCHIVE_SUFFIX, ''), status: 'UNKNOWN', downloadUrl: pathToFileURL(path).href });
      }
    })));
    for (const key of this.cache.keys()) if (key.startsWith(`${dir}/`) && !seen.has(key)) this.cache.delete(key);
    return { table, segments: found.filter((s): s is DiscoveredSegment => s !== undefined), complete: false, problems };
  }
}

/** Opens one deep-store segment (directory or archive) and reads its name, time range and doc count. */
export async function readDeepStoreSegment(path: string, workDir?: string): Promise<DiscoveredSegment> {
  const reader = await SegmentReader.open(path, workDir === undefined ? {} : { workDir });
  try {
    const m = reader.metadata;
    const seg: DiscoveredSegment = { name: m.name, status: 'DONE', downloadUrl: pathToFileURL(path).href, totalDocs: m.totalDocs };
    if (m.timeUnit !== undefined && m.startTime !== undefined && m.endTime !== undefined) {
      const unit = UNIT_MS[m.timeUnit];
      const toMs = (v: bigint): number | undefined => (v > 0n ? Math.floor(Number(v) * unit) : undefined);
      assign(seg, 'startTimeMs', toMs(m.startTime));
      assign(seg, 'endTimeMs', toMs(m.endTime));
    }
    if (m.crc !== undefined) seg.crc = m.crc.toString();
    return withLlc(seg);
  } finally {
    await reader.close();
  }
}

/** `events_REALTIME` → `events`. */
export function rawTableName(table: string): string {
  return table.replace(/_(REALTIME|OFFLINE)$/, '');
}

function withLlc(seg: DiscoveredSegment): DiscoveredSegment {
  const llc = parseLlcName(seg.name);
  return llc === undefined ? seg : { ...seg, partition: llc.partition, sequence: llc.sequence };
}

function isFinal(seg: DiscoveredSegment): boolean {
  return isCompleted(seg) && seg.downloadUrl !== '';
}

function assign<K extends keyof DiscoveredSegment>(seg: DiscoveredSegment, key: K, value: DiscoveredSegment[K] | undefined): void {
  if (value !== undefined) seg[key] = value;
}

function listingFailed(table: string, where: string, err: unknown): ControlError {
  const detail = errorMessage(err);
  return new ControlError(ControlErrorCodes.CONTROL_LISTING_FAILED, `cannot list segments: ${detail}`, {
    context: { table, key: where }, cause: err, retryable: !(err instanceof ExporterError) || err.retryable,
  });
}
