/**
 * The data generator: deterministic per seed (identical files but for creation.meta's time), K consecutive LLC
 * segments with consecutive time ranges and offsets, both presets readable by SegmentReader with their
 * documented shapes, archives, `--schema`, and the `generate` command.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { generateSegments, type GenerateOptions } from '../../src/generate/generator.js';
import { Random } from '../../src/generate/random.js';
import { parseCreationMeta } from '../../src/sources/pinot/creation-meta.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { readRows } from '../support/rows.js';

const temp = mkdtempSync(join(tmpdir(), 'pinot-generate-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function freshDir(): string {
  return mkdtempSync(join(temp, 'out-'));
}

async function generate(o: Partial<GenerateOptions>): Promise<Awaited<ReturnType<typeof generateSegments>>> {
  return generateSegments({ preset: 'events', rows: 2000, seed: 1, out: freshDir(), archive: 'none', ...o });
}

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(join(dir, 'v3')).map((f) => [f, readFileSync(join(dir, 'v3', f))]));
}

describe('determinism', () => {
  it('the same seed gives the same files except the creation time; another seed other data', async () => {
    const [a] = await generate({ seed: 42, creationTimeMs: 1_000 });
    const [b] = await generate({ seed: 42, creationTimeMs: 2_000 });
    const [c] = await generate({ seed: 43, creationTimeMs: 1_000 });
    const fa = filesOf(a!.dir);
    const fb = filesOf(b!.dir);
    expect([...fa.keys()].sort()).toStrictEqual(['columns.psf', 'creation.meta', 'index_map', 'metadata.properties']);
    for (const f of ['columns.psf', 'index_map', 'metadata.properties']) expect(fa.get(f)!.equals(fb.get(f)!), f).toBe(true);
    const ma = parseCreationMeta(fa.get('creation.meta')!);
    const mb = parseCreationMeta(fb.get('creation.meta')!);
    expect([ma.crc, ma.dataCrc]).toStrictEqual([mb.crc, mb.dataCrc]);
    expect([ma.creationTimeMs, mb.creationTimeMs]).toStrictEqual([1000n, 2000n]);
    expect(filesOf(c!.dir).get('columns.psf')!.equals(fa.get('columns.psf')!)).toBe(false);
    expect(await readRows(a!.dir)).not.toStrictEqual(await readRows(c!.dir));
  });

  it('each (seed, segment, column) has its own random stream', () => {
    const draw = (...path: (string | number)[]): number[] => {
      const r = Random.stream(7, ...path);
      return [r.u32(), r.u32(), r.u32()];
    };
    expect(draw('segment', 0, 'column', 'a')).toStrictEqual(draw('segment', 0, 'column', 'a'));
    expect(draw('segment', 0, 'column', 'a')).not.toStrictEqual(draw('segment', 0, 'column', 'b'));
    expect(draw('segment', 0, 'column', 'a')).not.toStrictEqual(draw('segment', 1, 'column', 'a'));
  });
});

describe('K consecutive REALTIME segments', () => {
  it('consecutive LLC names, time ranges and stream offsets', async () => {
    const segments = await generate({ segments: 3, rows: 1500, seed: 5, firstSequence: 7, partition: 2 });
    expect(segments.map((s) => s.name)).toStrictEqual([
      'events__2__7__20261126T0000Z', 'events__2__8__20261126T0100Z', 'events__2__9__20261126T0200Z',
    ]);
    let previousEnd = -1n;
    for (const [k, s] of segments.entries()) {
      await using reader = await SegmentReader.open(s.dir);
      const m = reader.metadata;
      expect(m.totalDocs).toBe(1500);
      expect([m.realtimeStartOffset, m.realtimeEndOffset]).toStrictEqual([String((7 + k) * 1500), String((8 + k) * 1500)]);
      expect(m.timeUnit).toBe('MILLISECONDS');
      expect(m.startTime! >= BigInt(s.startMs) && m.endTime! < BigInt(s.endMs)).toBe(true);
      expect(m.startTime! > previousEnd).toBe(true);
      previousEnd = m.endTime!;
    }
  });
});

describe('presets', () => {
  it('events: null vectors, MV columns, raw and dictionary columns, a sorted time column', async () => {
    const [s] = await generate({ rows: 3000, seed: 9 });
    await using reader = await SegmentReader.open(s!.dir);
    const columns = reader.metadata.columns;
    const withNulls = [...columns.keys()].filter((c) => reader.segment.layout.indexRange(c, 'nullvalue_vector'));
    expect(withNulls.length).toBeGreaterThanOrEqual(8);
    expect([...columns.values()].filter((c) => !c.singleValue).map((c) => c.name).sort()).toStrictEqual(['tags_int', 'tags_str']);
    expect([...columns.values()].filter((c) => c.forwardIndexEncoding === 'RAW').map((c) => c.name).sort()).toStrictEqual(['payload', 'session_id']);
    expect(columns.get('country')!.forwardIndexEncoding).toBe('DICTIONARY');
    expect(columns.get('ts')!.isSorted).toBe(true);
    expect(new Set([...columns.values()].map((c) => c.dataType))).toStrictEqual(
      new Set(['INT', 'BOOLEAN', 'STRING', 'JSON', 'BYTES', 'LONG', 'FLOAT', 'DOUBLE', 'BIG_DECIMAL', 'TIMESTAMP']),
    );
    const rows = await readRows(s!.dir);
    expect(rows).toHaveLength(3000);
    expect(rows.filter((r) => r.country === null).length).toBeGreaterThan(0);
    expect(rows.every((r) => r.ts !== null)).toBe(true);
  });

  it('baseball: baseballStats shape — 20 INT metrics, fixed-width STRING dictionaries, realistic cardinalities', async () => {
    const [s] = await generate({ preset: 'baseball', rows: 20_000, seed: 3 });
    await using reader = await SegmentReader.open(s!.dir);
    const m = reader.metadata;
    const cols = [...m.columns.values()];
    expect(cols).toHaveLength(25);
    expect(cols.filter((c) => c.fieldType === 'METRIC' && c.dataType === 'INT')).toHaveLength(20);
    expect(cols.every((c) => c.forwardIndexEncoding === 'DICTIONARY' && c.singleValue)).toBe(true);
    expect(m.timeColumn).toBeUndefined();
    for (const c of cols.filter((x) => x.dataType === 'STRING')) {
      const dict = reader.segment.layout.indexRange(c.name, 'dictionary')!;
      expect(dict.length, c.name).toBe(c.cardinality * c.dictionaryElementSize!);
    }
    const card = (n: string): number => m.columns.get(n)!.cardinality;
    expect(card('league')).toBeLessThanOrEqual(7);
    expect(card('teamID')).toBe(149);
    expect(card('playerID')).toBeGreaterThan(20_000 * 0.15);
    expect(card('playerName')).toBeLessThan(card('playerID'));
    expect(m.columns.get('playerID')!.dictionaryElementSize).toBe(9);
    expect(await readRows(s!.dir)).toHaveLength(20_000);
  });

  it('any schema file (--schema), with generic values', async () => {
    const schemaFile = join(temp, 'schema.json');
    writeFileSync(schemaFile, JSON.stringify({
      schemaName: 'custom',
      dimensionFieldSpecs: [{ name: 'd', dataType: 'STRING' }, { name: 'm', dataType: 'LONG', singleValueField: false }],
      metricFieldSpecs: [{ name: 'x', dataType: 'DOUBLE' }],
      dateTimeFieldSpecs: [{ name: 't', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }],
    }));
    const [s] = await generateSegments({ schemaFile, rows: 500, seed: 1, out: freshDir(), archive: 'zstd' });
    expect(s!.name).toMatch(/^custom__0__0__\d{8}T\d{4}Z$/);
    expect(s!.archivePath!.endsWith('.tar.zst')).toBe(true);
    expect(existsSync(s!.dir)).toBe(false);
    const rows = await readRows(s!.archivePath!);
    expect(rows).toHaveLength(500);
    expect(rows.some((r) => r.d === null)).toBe(true);
  });
});

describe('pinot-export generate', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => { out += d.toString(); });
    stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await runCli(args, { stdout, stderr });
    return { code, out, err };
  }

  it('writes gzip tarballs and prints one line per segment', async () => {
    const out = freshDir();
    const r = await cli(['generate', '--preset', 'events', '--rows', '300', '--seed', '4', '--out', out, '--segments', '2']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(readdirSync(out).sort()).toStrictEqual(['events__0__0__20261126T0000Z.tar.gz', 'events__0__1__20261126T0100Z.tar.gz']);
    expect(await readRows(join(out, 'events__0__1__20261126T0100Z.tar.gz'))).toHaveLength(300);
  });

  it('v1 layout without archive', async () => {
    const out = freshDir();
    const r = await cli(['generate', '--preset', 'baseball', '--rows', '100', '--seed', '4', '--out', out, '--archive', 'none', '--layout', 'v1']);
    expect(r.code, r.err).toBe(0);
    const dir = join(out, 'baseballStats__0__0__20261126T0000Z');
    expect(readdirSync(dir)).toContain('playerID.dict');
    expect(await readRows(dir)).toHaveLength(100);
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['generate', '--rows', '10', '--seed', '1', '--out', temp],
      ['generate', '--preset', 'events', '--seed', '1', '--out', temp],
      ['generate', '--preset', 'nope', '--rows', '10', '--seed', '1', '--out', temp],
      ['generate', '--preset', 'events', '--rows', '10', '--seed', '1', '--out', temp, '--archive', 'rar'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/\[USAGE\]/);
    }
  });
});
