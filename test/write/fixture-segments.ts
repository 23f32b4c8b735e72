/**
 * Test support for the writer suites: opens the Pinot-written fixture segments (read in place from
 * ../shared, archives extracted into a temporary work directory that is removed afterwards), and
 * splits raw forward indexes into header, chunk table and decompressed chunks for comparison.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSegment } from '../../src/sources/deepstore/index.js';
import { readAll } from '../../src/sources/pinot/bytes.js';
import { ChunkCodec, decompressChunk } from '../../src/sources/pinot/codecs.js';
import type { ColumnMetadata } from '../../src/sources/pinot/metadata.js';
import { PinotSegment } from '../../src/sources/pinot/segment.js';
import type { IndexType } from '../../src/sources/pinot/types.js';
import { expect } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import type { ValueBlock, VarBytes } from '../../src/sources/pinot/types.js';
import { PINOT_151_SEGMENTS } from '../support/fixtures.js';
export { rng } from '../support/random.js';

/** Segments written by Pinot 1.5.1 (../shared/fixtures/pinot-generated/1.5.1/SOURCES.md). */
export const GENERATED_DIR = 'fixtures/pinot-generated/1.5.1';
export const GENERATED_SEGMENTS = PINOT_151_SEGMENTS.map((n) => `${n}.tar.gz`);

/** Real segments (../shared/fixtures/pinot-segments/SOURCES.md), relative to that folder. */
export const REAL_DIR = 'fixtures/pinot-segments';
export const REAL_SEGMENTS = [
  'baseballStats-v3/baseballStats_OFFLINE_0.2022-02.tar.gz',
  'baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz',
  'recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417200000_1642433520000_0',
  'recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417380000_1642443240000_1',
  'v1-2022-testTable-mv-raw/testTable_1756015683_1756015683',
  'legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz',
];

export interface OpenFixture {
  segment: PinotSegment;
  columns: ColumnMetadata[];
  /** An index buffer of a column (after the v3 marker), or undefined when absent. */
  index(column: string, type: IndexType): Uint8Array | undefined;
}

/** Opens a segment directory or archive, runs `fn`, and removes everything extracted. */
export async function withSegment<T>(location: string, fn: (s: OpenFixture) => T | Promise<T>): Promise<T> {
  const workDir = await mkdtemp(join(tmpdir(), 'pinot-write-test-'));
  try {
    const opened = await openSegment(location, { workDir });
    try {
      const segment = PinotSegment.open(opened.files, opened.name);
      const index = (column: string, type: IndexType): Uint8Array | undefined => {
        const range = segment.layout.indexRange(column, type);
        return range === undefined ? undefined : readAll(range).slice();
      };
      return await fn({ segment, columns: [...segment.metadata.columns.values()], index });
    } finally {
      await opened.cleanup();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw forward index anatomy

export interface RawChunk {
  /** First doc (V4+: from the metadata; chunk files: k · docsPerChunk). */
  firstDoc: number;
  huge: boolean;
  compressed: Uint8Array;
  decompressed: Uint8Array;
}

export interface RawAnatomy {
  /** Header fields that do not depend on compressed sizes (chunk files: all 7; V4+: version, chunk size, codec, data start). */
  header: number[];
  codec: number;
  chunks: RawChunk[];
}

/** Splits a raw forward index (§9.5 chunk file or §9.6 V4/V5/V6) into its chunks, decompressed. */
export function rawAnatomy(bytes: Uint8Array, fixedWidth: number | undefined): RawAnatomy {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getInt32(0);
  if (fixedWidth !== undefined || version <= 3) {
    const header = [0, 4, 8, 12, 16, 20, 24].map((o) => dv.getInt32(o));
    const [, numChunks, docsPerChunk, entrySize, , codec, tableAt] = header as [number, number, number, number, number, number, number];
    const entry = version === 2 ? 4 : 8;
    const offsets: number[] = [];
    for (let k = 0; k < numChunks; k++) {
      offsets.push(entry === 4 ? dv.getInt32(tableAt + 4 * k) : Number(dv.getBigInt64(tableAt + 8 * k)));
    }
    offsets.push(bytes.length);
    const bound = docsPerChunk * (fixedWidth ?? 4 + entrySize);
    const chunks = offsets.slice(0, -1).map((at, k) => {
      const compressed = bytes.subarray(at, offsets[k + 1]);
      return { firstDoc: k * docsPerChunk, huge: false, compressed, decompressed: decompress(codec, compressed, bound, 'BE') };
    });
    return { header, codec, chunks };
  }
  const header = [0, 4, 8, 12].map((o) => dv.getInt32(o));
  const [, chunkSize, codec, dataAt] = header as [number, number, number, number];
  const n = (dataAt - 16) / 8;
  const meta = Array.from({ length: n }, (_, k) => ({ word: dv.getUint32(16 + 8 * k, true), off: dataAt + dv.getUint32(20 + 8 * k, true) }));
  const chunks = meta.map((m, k) => {
    const compressed = bytes.subarray(m.off, meta[k + 1]?.off ?? bytes.length);
    const huge = (m.word & 0x80000000) !== 0;
    return {
      firstDoc: m.word & 0x7fffffff,
      huge,
      compressed,
      decompressed: decompress(codec, compressed, huge ? 0x7fffffff : chunkSize, 'LE'),
    };
  });
  return { header, codec, chunks };
}

function decompress(codec: number, src: Uint8Array, bound: number, order: 'BE' | 'LE'): Uint8Array {
  // PASS_THROUGH chunks are views; copy so comparisons never alias the file.
  const out = decompressChunk(codec, src, codec === ChunkCodec.LZ4 ? bound : undefined, undefined, order);
  return out.slice();
}

/** Fast equality with a short, readable failure message (vitest's diff of megabyte arrays is unusable). */
export function firstDifference(a: Uint8Array, b: Uint8Array): string | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const show = (x: Uint8Array): string => Buffer.from(x.subarray(Math.max(0, i - 8), i + 8)).toString('hex');
      return `first difference at byte ${i} of ${a.length}/${b.length}: ${show(a)} vs ${show(b)}`;
    }
  }
  return a.length === b.length ? undefined : `lengths differ: ${a.length} vs ${b.length} (equal up to ${n})`;
}

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness


export const SEED = process.env.WRITE_SEED === 'random' ? Date.now() % 1_000_000 : Number(process.env.WRITE_SEED ?? 20261126);

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s|:]/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Asserts `fn` throws a USAGE ConfigError whose message matches. */
export function expectUsage(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ErrorCodes.USAGE);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a USAGE error');
}

/** VarBytes of the given values, back to back. */
export function varBytes(values: Uint8Array[]): VarBytes {
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
  const data = new Uint8Array(offsets[values.length]!);
  values.forEach((v, i) => data.set(v, offsets[i]));
  return { offsets, data };
}

const utf8 = new TextEncoder();

/** A BYTES block of UTF-8 strings. */
export const strings = (...s: string[]): ValueBlock => ({ kind: 'BYTES', values: varBytes(s.map((x) => utf8.encode(x))) });
