/** Fixture access shared by the writer tests: 1.5.1 tarballs extracted once per test file into a temp dir. */
import { createReadStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractSegmentArchive } from '../../src/sources/deepstore/archive.js';
import { parseIndexMap } from '../../src/sources/pinot/index-map.js';
import { parseSegmentMetadata, type SegmentMetadata } from '../../src/sources/pinot/metadata.js';
import type { ColumnStats, IndexBuffer, SegmentInfo } from '../../src/sources/pinot/write/contracts.js';
import { rng } from '../support/random.js';

export const GENERATED_151 = 'fixtures/pinot-generated/1.5.1';

export const SEGMENTS_151 = [
  'events__0__12__20261126T0000Z',
  'events__0__13__20261126T0100Z',
  'rawfwd_version2',
  'rawfwd_version4',
  'rawfwd_version5',
  'dictvar_mvraw',
  'sorted_bigdecimal',
] as const;

/** Extracted fixture tarballs `<name>.tar.gz`; `dir(name)` is the segment directory inside (holding `v3/`). */
export class ExtractedFixtures {
  private root: string | undefined;
  private readonly done = new Map<string, Promise<string>>();

  constructor(private readonly fixtureDir: string) {}

  dir(name: string): Promise<string> {
    let p = this.done.get(name);
    if (!p) {
      p = this.extract(name);
      this.done.set(name, p);
    }
    return p;
  }

  async file(name: string, path: string): Promise<Buffer> {
    return readFile(join(await this.dir(name), path));
  }

  async text(name: string, path: string): Promise<string> {
    return (await this.file(name, path)).toString('utf8');
  }

  async cleanup(): Promise<void> {
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }

  private async extract(name: string): Promise<string> {
    this.root ??= await mkdtemp(join(tmpdir(), 'writer-fixtures-'));
    const dest = join(this.root, `x-${name}`);
    await extractSegmentArchive(createReadStream(join(this.fixtureDir, `${name}.tar.gz`)), dest);
    // The tarball's single top directory (the segment name, which may differ from the file name).
    const [top, ...more] = await readdir(dest);
    if (top === undefined || more.length > 0) throw new Error(`${name}.tar.gz does not hold one top directory`);
    return join(dest, top);
  }
}

/** The index buffers of a v3 segment directory (without markers), in index_map order. */
export async function v3Buffers(segmentDir: string): Promise<IndexBuffer[]> {
  const indexMap = await readFile(join(segmentDir, 'v3', 'index_map'));
  const psf = await readFile(join(segmentDir, 'v3', 'columns.psf'));
  return parseIndexMap(indexMap).map((e) => ({
    column: e.column,
    indexType: e.indexType as IndexBuffer['indexType'],
    bytes: psf.subarray(e.startOffset + 8, e.startOffset + e.size),
  }));
}

/** Fisher–Yates with a seeded generator, so tests also prove the writer's own ordering. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const next = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// What the repo's reader understood of a segment's metadata, as writer input.

interface SchemaJson {
  dimensionFieldSpecs?: { name: string }[];
  metricFieldSpecs?: { name: string }[];
  dateTimeFieldSpecs?: { name: string }[];
}

/** Column names in schema order (what a writer has at hand), per field type. */
export function schemaLists(path: string): { dimensions: string[]; metrics: string[]; dateTimes: string[] } {
  const s = JSON.parse(readFileSync(path, 'utf8')) as SchemaJson;
  const names = (l?: { name: string }[]) => (l ?? []).map((f) => f.name);
  return { dimensions: names(s.dimensionFieldSpecs), metrics: names(s.metricFieldSpecs), dateTimes: names(s.dateTimeFieldSpecs) };
}

export function segmentInfo(meta: SegmentMetadata, lists: ReturnType<typeof schemaLists>): SegmentInfo {
  return {
    name: meta.name,
    tableName: meta.tableName!,
    totalDocs: meta.totalDocs,
    timeColumn: meta.timeColumn,
    startTime: meta.startTime?.toString(),
    endTime: meta.endTime?.toString(),
    timeUnit: meta.timeUnit,
    realtimeStartOffset: meta.realtimeStartOffset,
    realtimeEndOffset: meta.realtimeEndOffset,
    ...lists,
    complex: [],
  };
}

export function columnStats(meta: SegmentMetadata, order: string[]): ColumnStats[] {
  return order.map((name) => {
    const c = meta.columns.get(name)!;
    return {
      name,
      dataType: c.dataType,
      fieldType: c.fieldType,
      singleValue: c.singleValue,
      hasDictionary: c.hasDictionary,
      isSorted: c.isSorted,
      cardinality: c.cardinality,
      bitsPerElement: c.bitsPerElement,
      lengthOfEachEntry: c.lengthOfEachEntry!,
      maxNumberOfMultiValues: c.maxNumberOfMultiValues,
      totalNumberOfEntries: c.totalNumberOfEntries,
      minValue: c.minValue,
      maxValue: c.maxValue,
      defaultNullValue: c.defaultNullValue!,
      isAutoGenerated: c.isAutoGenerated,
      schemaMaxLength: c.schemaMaxLength,
      datetimeFormat: c.datetimeFormat,
      datetimeGranularity: c.datetimeGranularity,
    };
  });
}

/** SegmentInfo + ColumnStats (columns in schema order) from a fixture's metadata and schema. */
export function writerInputs(metadataText: string, schemaPath: string): { meta: SegmentMetadata; info: SegmentInfo; stats: ColumnStats[] } {
  const meta = parseSegmentMetadata(metadataText);
  const lists = schemaLists(schemaPath);
  return { meta, info: segmentInfo(meta, lists), stats: columnStats(meta, [...lists.dimensions, ...lists.metrics, ...lists.dateTimes]) };
}
