/**
 * Corrupt segments give a typed error with a stable code whose context names the segment, the column,
 * the index and the byte offset — checked on a real Pinot 1.5.1 segment with targeted corruptions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ErrorCodes, ExporterError, type ErrorCode } from '../../src/errors.js';
import { openSegment } from '../../src/sources/deepstore/index.js';
import { parseIndexMap, type IndexMapEntry } from '../../src/sources/pinot/index-map.js';
import { memoryFiles } from '../../src/sources/pinot/memory-files.js';
import { PinotSegment } from '../../src/sources/pinot/segment.js';
import { describeFixtures } from '../support/fixtures.js';

const SEGMENT = 'rawfwd_version2';

describeFixtures('corrupt segments name what is wrong', 'fixtures/pinot-generated/1.5.1', (dir) => {
  let pristine: Map<string, Uint8Array>;
  let entries: IndexMapEntry[];

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'bad-'));
    const opened = await openSegment(join(dir, `${SEGMENT}.tar.gz`), { workDir: work });
    pristine = new Map(opened.files.list().map((n) => {
      const r = opened.files.open(n);
      return [n, Uint8Array.from(r.read(0, r.length))] as const;
    }));
    await opened.cleanup();
    rmSync(work, { recursive: true, force: true });
    entries = parseIndexMap(pristine.get('index_map')!);
  });

  function entry(column: string, indexType: string): IndexMapEntry {
    return entries.find((e) => e.column === column && e.indexType === indexType)!;
  }

  /** Decodes every row of the segment with `psf` patched; returns the error. */
  function decodeWith(patch: (psf: Uint8Array) => Uint8Array, columns?: string[]): ExporterError {
    const files = new Map(pristine);
    files.set('columns.psf', patch(Uint8Array.from(pristine.get('columns.psf')!)));
    try {
      const segment = PinotSegment.open(memoryFiles(files), SEGMENT);
      for (const batch of segment.batches({ columns })) void batch;
    } catch (err) {
      expect(err).toBeInstanceOf(ExporterError);
      return err as ExporterError;
    }
    return expect.fail('the corrupt segment decoded without an error');
  }

  function expectError(err: ExporterError, code: ErrorCode, column: string, index: string): void {
    expect(err.code).toBe(code);
    expect(err.context).toMatchObject({ segment: SEGMENT, column, index });
    expect(typeof err.context.offset).toBe('number');
    expect(err.message).toContain(`segment="${SEGMENT}"`);
    expect(err.message).toContain(`column="${column}"`);
    expect(err.message).toMatch(/offset=\d+/);
  }

  it('a flipped byte in a v3 marker', () => {
    const e = entry('str_snappy', 'forward_index');
    const err = decodeWith((psf) => {
      psf[e.startOffset + 3]! ^= 0x40;
      return psf;
    });
    expectError(err, ErrorCodes.PINOT_BAD_MAGIC, 'str_snappy', 'forward_index');
    expect(err.context.offset).toBe(e.startOffset);
  });

  it('an unknown chunk codec id in a raw forward index header', () => {
    const e = entry('int_zstandard', 'forward_index');
    const err = decodeWith((psf) => {
      new DataView(psf.buffer).setInt32(e.startOffset + 8 + 20, 99); // v2 header: codec at 20
      return psf;
    }, ['int_zstandard']);
    expectError(err, ErrorCodes.PINOT_UNSUPPORTED_CODEC, 'int_zstandard', 'forward_index');
    expect(err.message).toContain('99');
  });

  it('an unknown raw forward index version', () => {
    const e = entry('str_pass_through', 'forward_index');
    const err = decodeWith((psf) => {
      new DataView(psf.buffer).setInt32(e.startOffset + 8, 42);
      return psf;
    }, ['str_pass_through']);
    expectError(err, ErrorCodes.PINOT_UNSUPPORTED_VERSION, 'str_pass_through', 'forward_index');
  });

  it('a chunk offset pointing past the end of its buffer', () => {
    const e = entry('str_snappy', 'forward_index');
    const err = decodeWith((psf) => {
      const view = new DataView(psf.buffer);
      const tableAt = view.getInt32(e.startOffset + 8 + 24);
      view.setInt32(e.startOffset + 8 + tableAt, 0x7fff0000); // first chunk's offset
      return psf;
    }, ['str_snappy']);
    expect([ErrorCodes.PINOT_TRUNCATED, ErrorCodes.PINOT_CORRUPT]).toContain(err.code);
    expectError(err, err.code, 'str_snappy', 'forward_index');
  });

  it('columns.psf cut short', () => {
    const last = entries.reduce((a, b) => (a.startOffset > b.startOffset ? a : b));
    const err = decodeWith((psf) => psf.subarray(0, last.startOffset + 12));
    expect(err.code).toBe(ErrorCodes.PINOT_TRUNCATED);
    expect(err.context).toMatchObject({ segment: SEGMENT, column: last.column });
  });
});
