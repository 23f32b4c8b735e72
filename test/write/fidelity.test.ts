/**
 * The segment writer against Pinot itself. For every input of ../shared/fixtures/pinot-generated/1.5.1 (rows,
 * schema, table config) we write a segment and compare it with the tarball Pinot 1.5.1 wrote from the same
 * rows: dictionaries, dictionary-encoded forward indexes and null vectors byte for byte; raw forward indexes
 * by header, chunk table (doc ranges, and offsets where chunks are stored uncompressed) and decompressed
 * chunk contents (compressed bytes differ between compressor builds, §9.8); metadata.properties key by key.
 * `events__0__13…` is the server-committed variant, written with the realtime-commit flavour and its offsets.
 *
 * Real segments from public repositories (baseballStats, the recipes `matches` segments) are decoded with our
 * reader and re-encoded with the settings they show; the same comparison applies, and the metadata keys an older
 * Pinot wrote differently are listed with the reason.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeSegmentCrc } from '../../src/sources/pinot/creation-meta.js';
import { PinotSegment } from '../../src/sources/pinot/segment.js';
import type { IndexType } from '../../src/sources/pinot/types.js';
import { rowsSource, segmentSource, writeSegment } from '../../src/sources/pinot/write/segment-writer.js';
import { describeFixtures, sharedPath } from '../support/fixtures.js';
import { readJsonLines } from '../support/rows.js';
import {
  indexBytes, metadataDifferences, openComparable, rawParts, sameBytes, settingsOf, type ComparableSegment,
} from './segment-compare.js';

const temp = mkdtempSync(join(tmpdir(), 'pinot-fidelity-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const INDEXES: IndexType[] = ['dictionary', 'forward_index', 'nullvalue_vector'];

/** Compares every column's buffers; returns the raw columns whose compressed chunk bytes differ. */
function compareBuffers(ours: ComparableSegment, theirs: ComparableSegment): string[] {
  expect([...ours.metadata.columns.keys()].sort()).toStrictEqual([...theirs.metadata.columns.keys()].sort());
  const compressedDiffer: string[] = [];
  for (const column of theirs.metadata.columns.values()) {
    const name = column.name;
    for (const index of INDEXES) {
      const a = indexBytes(ours, name, index);
      const b = indexBytes(theirs, name, index);
      expect(a !== undefined, `${name}.${index} present in ours`).toBe(b !== undefined);
      if (b === undefined) continue;
      if (index !== 'forward_index' || column.forwardIndexEncoding === 'DICTIONARY') {
        expect(sameBytes(a, b), `${name}.${index} byte-identical (${a!.length} vs ${b.length} bytes)`).toBe(true);
        continue;
      }
      const pa = rawParts(a!, column);
      const pb = rawParts(b, column);
      expect(pa.header, `${name} raw header`).toStrictEqual(pb.header);
      expect(pa.chunkDocs, `${name} chunk doc ranges`).toStrictEqual(pb.chunkDocs);
      expect(pa.chunks.length, `${name} chunk count`).toBe(pb.chunks.length);
      pa.chunks.forEach((chunk, k) => expect(sameBytes(chunk, pb.chunks[k]), `${name} chunk ${k} decompressed`).toBe(true));
      if (pb.codec === 0) expect(sameBytes(a, b), `${name} uncompressed raw index byte-identical`).toBe(true);
      if (!sameBytes(a, b)) compressedDiffer.push(name);
    }
  }
  return compressedDiffer;
}

/** CRCs: ours are right for our files; equal to Pinot's when every buffer and the metadata are identical. */
function compareCrcs(ours: ComparableSegment, theirs: ComparableSegment, identical: boolean): void {
  expect(Number(ours.creation.crc)).toBe(computeSegmentCrc(ours.opened.files));
  if (!identical) return;
  expect(ours.creation.crc).toBe(theirs.creation.crc);
  if (theirs.creation.dataCrc !== undefined) expect(ours.creation.dataCrc).toBe(theirs.creation.dataCrc);
}

describeFixtures('segment writer: Pinot 1.5.1 fixtures', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const names = readdirSync(dir).filter((f) => f.endsWith('.input.jsonl')).map((f) => f.slice(0, -'.input.jsonl'.length)).sort();

  it('has the seven fixture inputs', () => {
    expect(names).toHaveLength(7);
  });

  for (const name of names) {
    it(name, async () => {
      const theirs = await openComparable(join(dir, `${name}.tar.gz`));
      const realtime = theirs.metadata.realtimeStartOffset !== undefined;
      if (name.startsWith('events__0__13')) {
        expect([theirs.metadata.realtimeStartOffset, theirs.metadata.realtimeEndOffset]).toStrictEqual(['1200000', '1205000']);
      }
      const written = await writeSegment({
        schema: readFileSync(join(dir, `${name}.schema.json`), 'utf8'),
        table: readFileSync(join(dir, `${name}.table.json`), 'utf8'),
        source: rowsSource(readJsonLines(join(dir, `${name}.input.jsonl`))),
        outDir: temp,
        segmentName: theirs.metadata.name,
        flavour: realtime ? 'realtime-commit' : 'batch',
        offsets: realtime ? { start: theirs.metadata.realtimeStartOffset!, end: theirs.metadata.realtimeEndOffset! } : undefined,
        creationTimeMs: theirs.creation.creationTimeMs,
      });
      const ours = await openComparable(written.dir);
      try {
        expect(metadataDifferences(ours.props, theirs.props)).toStrictEqual([]);
        const differ = compareBuffers(ours, theirs);
        compareCrcs(ours, theirs, differ.length === 0);
        expect(ours.creation.creationTimeMs).toBe(theirs.creation.creationTimeMs);
        if (differ.length > 0) console.info(`[fidelity] ${name}: compressed chunk bytes differ (contents equal) in ${differ.join(', ')}`);
      } finally {
        await ours.close();
        await theirs.close();
      }
    });
  }
});

/**
 * Metadata keys older Pinot versions wrote differently from 1.5.1, which our writer imitates:
 * - `schemaMaxLength` for STRING/BYTES columns is written by Pinot since 1.0 (absent in 0.x segments);
 * - TIMESTAMP date-time fields have their format normalised to `TIMESTAMP` since 1.0 (0.x kept the schema text).
 */
function olderPinotKey(key: string, theirs: ComparableSegment): boolean {
  if (key.endsWith('.schemaMaxLength') && !theirs.props.has(key)) return true;
  if (key.endsWith('.datetimeFormat')) {
    const column = key.slice('column.'.length, -'.datetimeFormat'.length);
    return theirs.metadata.columns.get(column)?.dataType === 'TIMESTAMP' && theirs.props.get(key) !== 'TIMESTAMP';
  }
  return false;
}

async function reencode(location: string): Promise<void> {
  const theirs = await openComparable(location);
  const settings = settingsOf(theirs);
  const written = await writeSegment({
    schema: settings.schema,
    table: settings.table,
    source: segmentSource(PinotSegment.open(theirs.opened.files, theirs.metadata.name)),
    outDir: mkdtempSync(join(temp, 'reencode-')),
    segmentName: theirs.metadata.name,
    customProperties: settings.customProperties,
    creationTimeMs: theirs.creation.creationTimeMs,
  });
  const ours = await openComparable(written.dir);
  try {
    const diffs = metadataDifferences(ours.props, theirs.props, (k) => olderPinotKey(k, theirs));
    expect(diffs).toStrictEqual([]);
    const allowed = metadataDifferences(ours.props, theirs.props).length;
    const differ = compareBuffers(ours, theirs);
    compareCrcs(ours, theirs, differ.length === 0 && allowed === 0);
    if (allowed > 0) console.info(`[fidelity] ${theirs.metadata.name}: ${allowed} metadata keys differ only as older Pinot wrote them`);
  } finally {
    await ours.close();
    await theirs.close();
  }
}

describeFixtures('segment writer: re-encoding real Pinot segments', 'fixtures/pinot-segments', (dir) => {
  describe('baseballStats (v3, ~0.10 and ~1.3 builds)', () => {
    const folder = join(dir, 'baseballStats-v3');
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.tar.gz'))) {
      it(file, () => reencode(join(folder, file)));
    }
  });

  describe('recipes matches (Pinot 0.12, deep-store objects without suffix)', () => {
    const folder = sharedPath('fixtures/pinot-segments/recipes-matches-v3/deepstore-layout/matches');
    for (const file of readdirSync(folder)) it(file, () => reencode(join(folder, file)));
  });
});
