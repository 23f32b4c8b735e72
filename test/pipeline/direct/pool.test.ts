/**
 * The column encoder pool (src/pipeline/direct/column-pool.ts): column chunks read, converted and encoded on
 * worker threads, placed by ParquetFileWriter.addEncodedColumn. Files assembled from the pool's chunks must
 * be byte-identical to what the in-process direct writer (segmentToParquet) writes; worker errors arrive as
 * the error the in-process writer throws; dead workers reject, never hang.
 *
 * Workers run the compiled module from dist/ (npm test builds first; `npx tsc -p tsconfig.build.json`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ExporterError, SegmentFormatError, SourceError } from '../../../src/errors.js';
import { ColumnEncoderPool, columnPoolAvailable, type ColumnPoolSpec } from '../../../src/pipeline/direct/column-pool.js';
import { ParquetFileWriter, type DirectWriterSettings } from '../../../src/pipeline/direct/file-writer.js';
import { ParquetError } from '../../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetCodec, type ParquetOptions } from '../../../src/pipeline/parquet-options.js';
import type { ParquetSchemaPlan } from '../../../src/pipeline/schema-mapping.js';
import { segmentFileMetadata, segmentToParquet } from '../../../src/pipeline/segment-export.js';
import { planFor } from '../../../src/pipeline/streams.js';
import { segmentSchemaJson } from '../../../src/pipeline/table-schema.js';
import { DIRECT_CREATED_BY } from '../../../src/pipeline/version.js';
import { parseIndexMap } from '../../../src/sources/pinot/index-map.js';
import { SegmentReader } from '../../../src/sources/segment-reader.js';
import { arrayBufferOf, hyparquetRows } from '../helpers.js';
import { PINOT_151_DIR, PINOT_151_SEGMENTS, describeFixtures, sharedPath } from '../../support/fixtures.js';

const BASEBALL = 'fixtures/pinot-segments/baseballStats-v3';
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'column-pool-'));
  temps.push(dir);
  return dir;
}

/** What directSegment builds from the reader: the plan and the file writer's settings. */
function directLayout(reader: SegmentReader, parquet: ParquetOptions): { plan: ParquetSchemaPlan; settings: DirectWriterSettings } {
  const plan = planFor({ parquet, sourceSchema: reader.schema({ keepDictionaries: 'all' }), segmentName: reader.name }, { maxShippedDictionary: Infinity });
  const schemaJson = segmentSchemaJson(reader.metadata, reader.segment.columns(plan.sourceColumns));
  return {
    plan,
    settings: {
      codec: parquet.compressionCodec,
      pageSizeBytes: parquet.pageSizeBytes,
      dictionaryColumns: plan.dictionaryColumns.concat(plan.nestedDictionary ? plan.columns.filter((c) => !c.singleValue).map((c) => c.name) : []),
      jsonPaths: plan.jsonPaths,
      keyValueMetadata: segmentFileMetadata(reader, schemaJson),
      createdBy: DIRECT_CREATED_BY,
    },
  };
}

function poolSpec(reader: SegmentReader, parquet: ParquetOptions, settings: DirectWriterSettings, threads: number): ColumnPoolSpec {
  return {
    segmentDir: reader.dir, plan: { parquet }, threads,
    writer: { codec: settings.codec, pageSizeBytes: settings.pageSizeBytes, dictionaryColumns: settings.dictionaryColumns, jsonPaths: settings.jsonPaths },
  };
}

async function inProcessFile(reader: SegmentReader, parquet: ParquetOptions, rowsPerRowGroup: number, legacyPadding?: 'strip'): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of segmentToParquet(reader, { parquet: { ...parquet, writer: 'direct' }, rowsPerRowGroup, legacyPadding })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The file from the pool's chunks, row groups of `groups` rows, every column of a group asked for at once. */
async function pooledFile(pool: ColumnEncoderPool, plan: ParquetSchemaPlan, settings: DirectWriterSettings, groups: readonly number[]): Promise<Uint8Array> {
  const writer = new ParquetFileWriter(plan.schema, settings);
  const out = [writer.start()];
  let start = 0;
  for (const rows of groups) {
    writer.beginRowGroup(rows);
    const jobs = plan.columns.map((_, i) => pool.encode(i, start, start + rows));
    for (let i = 0; i < jobs.length; i++) out.push(...writer.addEncodedColumn(i, await jobs[i]!));
    writer.endRowGroup();
    start += rows;
  }
  out.push(writer.finish());
  return Buffer.concat(out);
}

/** An error's identity as callers see it. */
function identity(err: unknown): unknown {
  if (!(err instanceof ExporterError)) return { class: (err as Error).constructor.name, message: (err as Error).message };
  return { class: err.constructor.name, name: err.name, code: err.code, detail: err.detail, context: err.context, retryable: err.retryable, message: err.message };
}

async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

it('finds the compiled worker (run npm run build / npx tsc -p tsconfig.build.json first)', () => {
  expect(columnPoolAvailable()).toBe(true);
});

const CODECS: ParquetCodec[] = ['SNAPPY', 'ZSTD', 'GZIP', 'UNCOMPRESSED'];

describe.runIf(columnPoolAvailable())('column encoder pool', () => {
  /** Segment → file both ways; `n` picks the codec and the thread count. */
  async function compare(location: string, n: number, legacyPadding?: 'strip'): Promise<void> {
    const codec = CODECS[n % CODECS.length]!;
    const reader = await SegmentReader.open(location);
    try {
      // Small pages: several per chunk, so page cutting and offsets are exercised too.
      const parquet: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS, compressionCodec: codec, pageSizeBytes: 2048 };
      const docs = reader.segment.exportDocs;
      const expected = await inProcessFile(reader, parquet, Math.ceil(docs / 3), legacyPadding);
      const groups = parquetMetadata(arrayBufferOf(expected)).row_groups.map((g) => Number(g.num_rows));
      expect(groups.length).toBeGreaterThan(1);
      const { plan, settings } = directLayout(reader, parquet);
      const pool = await ColumnEncoderPool.start({ ...poolSpec(reader, parquet, settings, 1 + (n % 2)), legacyPadding });
      let actual: Uint8Array;
      try {
        expect(pool.columns).toEqual(plan.columns.map((c) => c.name));
        actual = await pooledFile(pool, plan, settings, groups);
      } finally {
        await pool.close();
      }
      expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
      // Identical bytes read back identically; one independent read shows they are a whole, valid file.
      expect(await hyparquetRows(actual)).toHaveLength(docs);
    } finally {
      await reader.close();
    }
  }

  describeFixtures('byte-identical to the in-process direct writer (Pinot 1.5.1)', PINOT_151_DIR, (dir) => {
    PINOT_151_SEGMENTS.forEach((segment, n) => {
      it(`${segment} (${CODECS[n % CODECS.length]}, ${1 + (n % 2)} threads)`, () => compare(join(dir, `${segment}.tar.gz`), n));
    });
  });

  describeFixtures('byte-identical to the in-process direct writer (older segments)', 'fixtures/pinot-segments', (dir) => {
    it('baseballStats v3 (UNCOMPRESSED, 2 threads)', () => compare(join(dir, 'baseballStats-v3', 'baseballStats_OFFLINE_0.2024-10.tar.gz'), 3));
    it('a v1 MV raw segment directory, opened in place (SNAPPY, 1 thread)', () => compare(join(dir, 'v1-2022-testTable-mv-raw', 'testTable_1756015683_1756015683'), 0));
    it('a %-padded 2016 segment with legacyPadding=strip (ZSTD, 2 threads)', () => compare(join(dir, 'v1-2016-padding', 'paddingPercent.tar.gz'), 1, 'strip'));
  });

  describeFixtures('errors and failures', BASEBALL, (dir) => {
    const archive = join(dir, 'baseballStats_OFFLINE_0.2024-10.tar.gz');
    const parquet: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS };

    /** A copy of the segment directory with `damage` applied to columns.psf, opened in place. */
    async function damaged(damage: (psf: Buffer, entry: (column: string, index: string) => { start: number; size: number }) => void): Promise<string> {
      const source = await SegmentReader.open(archive);
      const copy = join(tempDir(), 'segment');
      try {
        cpSync(source.dir, copy, { recursive: true });
      } finally {
        await source.close();
      }
      const entries = parseIndexMap(readFileSync(join(copy, 'index_map')));
      const psf = readFileSync(join(copy, 'columns.psf'));
      damage(psf, (column, index) => {
        const e = entries.find((x) => x.column === column && x.indexType === index)!;
        return { start: e.startOffset, size: e.size };
      });
      writeFileSync(join(copy, 'columns.psf'), psf);
      return copy;
    }

    /** The same work in process and on the pool: column `name` of all docs. */
    async function bothWays(dirPath: string, name: string): Promise<{ local: unknown; pooled: unknown }> {
      const reader = await SegmentReader.open(dirPath);
      try {
        const { plan, settings } = directLayout(reader, parquet);
        const index = plan.columns.findIndex((c) => c.name === name);
        const docs = reader.segment.exportDocs;
        const local = await thrown(async () => {
          const chunks = reader.columnChunks({ columns: plan.sourceColumns });
          const writer = new ParquetFileWriter(plan.schema, settings);
          writer.start();
          writer.beginRowGroup(docs);
          for (let i = 0; i <= index; i++) writer.writeColumn(i, plan.convertColumn(i, chunks.read(plan.columns[i]!.name, 0, docs), docs, 0));
        });
        const pool = await ColumnEncoderPool.start(poolSpec(reader, parquet, settings, 1));
        try {
          const pooled = await thrown(() => pool.encode(index, 0, docs));
          // The worker survives a failed job.
          const next = await pool.encode(0, 0, 10);
          expect(next.metaData.numValues).toBe(10);
          return { local, pooled };
        } finally {
          await pool.close();
        }
      } finally {
        await reader.close();
      }
    }

    it('a corrupt forward index fails on the worker as in process (same class, code, detail, context)', async () => {
      // AtBatting: 699 dictionary entries, 10-bit ids; all-ones ids (1023) point past the dictionary.
      const dirPath = await damaged((psf, entry) => {
        const e = entry('AtBatting', 'forward_index');
        psf.fill(0xff, e.start + 8 + 64, e.start + 8 + 256);
      });
      const { local, pooled } = await bothWays(dirPath, 'AtBatting');
      expect(local).toBeInstanceOf(SegmentFormatError);
      expect(pooled).toBeInstanceOf(SegmentFormatError);
      expect(identity(pooled)).toEqual(identity(local));
      expect((pooled as SegmentFormatError).context.column).toBe('AtBatting');
    });

    it('a damaged index marker fails start() as the in-process reader fails', async () => {
      const dirPath = await damaged((psf, entry) => {
        const e = entry('G_old', 'dictionary');
        psf.fill(0, e.start, e.start + 8);
      });
      const reader = await SegmentReader.open(dirPath);
      try {
        const { plan, settings } = directLayout(reader, parquet);
        // Checked where the reader plans its dictionaries, i.e. when the chunk reader is made.
        const local = await thrown(async () => reader.columnChunks({ columns: plan.sourceColumns }));
        expect(local).toBeInstanceOf(SegmentFormatError);
        expect((local as SegmentFormatError).context).toMatchObject({ column: 'G_old', index: 'dictionary' });
        const pooled = await thrown(() => ColumnEncoderPool.start(poolSpec(reader, parquet, settings, 2)));
        expect(identity(pooled)).toEqual(identity(local));
      } finally {
        await reader.close();
      }
    });

    it('a %-padded 2016 segment without legacyPadding=strip fails as in process', async () => {
      const location = sharedPath('fixtures/pinot-segments/v1-2016-padding/paddingPercent.tar.gz');
      const reader = await SegmentReader.open(location);
      try {
        const { plan, settings } = directLayout(reader, parquet);
        const docs = reader.segment.exportDocs;
        const local = await thrown(async () => {
          const chunks = reader.columnChunks({ columns: plan.sourceColumns });
          plan.columns.forEach((c, i) => plan.convertColumn(i, chunks.read(c.name, 0, docs), docs, 0));
        });
        const pooled = await thrown(async () => {
          const pool = await ColumnEncoderPool.start(poolSpec(reader, parquet, settings, 1));
          try {
            for (let i = 0; i < plan.columns.length; i++) await pool.encode(i, 0, docs);
          } finally {
            await pool.close();
          }
        });
        expect((local as ExporterError).code).toBe('PINOT_LEGACY_PADDING');
        expect(identity(pooled)).toEqual(identity(local));
      } finally {
        await reader.close();
      }
    });

    it('a missing segment directory fails start() with the reader\'s error', async () => {
      const missing = join(tempDir(), 'no-such-segment');
      const local = await thrown(() => SegmentReader.open(missing));
      expect(local).toBeInstanceOf(SourceError);
      const pooled = await thrown(() => ColumnEncoderPool.start({
        segmentDir: missing, plan: { parquet }, threads: 2,
        writer: { codec: 'SNAPPY', pageSizeBytes: 1 << 20, dictionaryColumns: [], jsonPaths: [] },
      }));
      expect(identity(pooled)).toEqual(identity(local));
    });

    it('a bad dictionary budget fails start() with the reader\'s ConfigError', async () => {
      const reader = await SegmentReader.open(archive);
      try {
        const { settings } = directLayout(reader, parquet);
        const local = await thrown(async () => reader.columnChunks({ dictionaryBudgetBytes: -1 }));
        const pooled = await thrown(() => ColumnEncoderPool.start({ ...poolSpec(reader, parquet, settings, 1), dictionaryBudgetBytes: -1 }));
        expect(local).toBeInstanceOf(ConfigError);
        expect(identity(pooled)).toEqual(identity(local));
      } finally {
        await reader.close();
      }
    });

    for (const crash of ['exit', 'throw'] as const) {
      it(`a worker that dies mid-job (${crash}) rejects its encode, and the queue behind it`, async () => {
        const reader = await SegmentReader.open(archive);
        try {
          const { settings } = directLayout(reader, parquet);
          const pool = await ColumnEncoderPool.start({ ...poolSpec(reader, parquet, settings, 1), crashForTest: { job: 1, how: crash } });
          try {
            const first = await pool.encode(0, 0, 100);
            expect(first.metaData.numValues).toBe(100);
            const dying = pool.encode(1, 0, 100);
            const queued = pool.encode(2, 0, 100);
            const err = await thrown(() => dying);
            expect(err).toBeInstanceOf(ParquetError);
            expect((err as ParquetError).detail).toMatch(/column encoder worker 0 exited \(code \d+\).* while encoding column \S+ rows \[0, 100\)/);
            expect((err as ParquetError).detail).toContain(crash === 'exit' ? 'code 70' : 'crash for test');
            expect(((await thrown(() => queued)) as Error).message).toMatch(/no column encoder worker is left/);
            expect(((await thrown(() => pool.encode(0, 0, 1))) as Error).message).toMatch(/no column encoder worker is left/);
          } finally {
            await pool.close();
          }
        } finally {
          await reader.close();
        }
      });
    }

    it('queues beyond one job per worker, answers in any order, and rejects what is pending on close', async () => {
      const reader = await SegmentReader.open(archive);
      try {
        const { plan, settings } = directLayout(reader, parquet);
        const pool = await ColumnEncoderPool.start(poolSpec(reader, parquet, settings, 2));
        const docs = reader.segment.exportDocs;
        const jobs = plan.columns.map((_, i) => pool.encode(i, 0, docs));
        // Two running (one per worker), the rest waiting here.
        expect(pool.queued).toBe(plan.columns.length - 2);
        const chunks = await Promise.all(jobs);
        expect(chunks.map((c) => c.metaData.pathInSchema[0])).toEqual(plan.columns.map((c) => c.name));
        expect(pool.queued).toBe(0);
        const pending = [pool.encode(0, 0, docs), pool.encode(1, 0, docs), pool.encode(2, 0, docs)];
        await pool.close();
        await pool.close();
        for (const p of pending) expect(((await thrown(() => p)) as Error).message).toMatch(/pool was closed/);
        expect(((await thrown(() => pool.encode(0, 0, 1))) as Error).message).toMatch(/pool is closed/);
      } finally {
        await reader.close();
      }
    });
  });
});
