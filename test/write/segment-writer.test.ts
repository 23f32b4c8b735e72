/**
 * writeSegment on small hand-made inputs: bad input is a USAGE error naming the column and the row; Pinot's
 * ingestion rules (defaults for nulls, null vectors, MV `[default]`, STRING sanitising, BIG_DECIMAL stripping,
 * time-column nulls); doc reordering of a realtime commit; v1 layout and archives.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { arrowSource, rowsSource, writeSegment, type WriteSegmentOptions } from '../../src/sources/pinot/write/segment-writer.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { computeSegmentCrc } from '../../src/sources/pinot/creation-meta.js';
import { readRows, type Row } from '../support/rows.js';
import { indexBytes, openComparable, rawParts } from './segment-compare.js';

const temp = mkdtempSync(join(tmpdir(), 'pinot-writer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let counter = 0;

function schema(dims: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaName: 't', dimensionFieldSpecs: dims, ...extra };
}

const TABLE = { tableName: 't_OFFLINE', tableType: 'OFFLINE', tableIndexConfig: { nullHandlingEnabled: true } };

async function write(rows: Row[], s: Record<string, unknown>, table: Record<string, unknown> = TABLE,
  more: Partial<WriteSegmentOptions> = {}): Promise<string> {
  const written = await writeSegment({
    schema: s, table, source: rowsSource(rows), outDir: temp, segmentName: `seg_${counter++}`, ...more,
  });
  return written.archivePath ?? written.dir;
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('bad input names the column and the row', () => {
  const ints = schema([{ name: 'id', dataType: 'INT' }, { name: 'n', dataType: 'INT' }]);

  it('a non-numeric string in an INT column', async () => {
    const err = await rejection(write([{ id: 1, n: 5 }, { id: 2, n: 'abc' }], ints));
    expect(err.code).toBe(ErrorCodes.USAGE);
    expect(err.context).toMatchObject({ column: 'n', row: 1 });
    expect(err.message).toContain('"abc"');
  });

  it('values of the wrong type', async () => {
    const cases: [Record<string, unknown>, unknown, string][] = [
      [{ name: 'c', dataType: 'STRING' }, { nested: true }, 'an object'],
      [{ name: 'c', dataType: 'BYTES' }, 'not hex', 'not hex'],
      [{ name: 'c', dataType: 'BIG_DECIMAL' }, '1.2.3', '1.2.3'],
      [{ name: 'c', dataType: 'LONG' }, '12x', '12x'],
      [{ name: 'c', dataType: 'BOOLEAN' }, 'maybe', 'maybe'],
      [{ name: 'c', dataType: 'TIMESTAMP' }, 'yesterday', 'yesterday'],
      [{ name: 'c', dataType: 'INT', singleValueField: false }, [1, 'two'], 'two'],
    ];
    for (const [field, bad, shown] of cases) {
      const err = await rejection(write([{ c: null }, { c: null }, { c: bad }], schema([field])));
      expect(err.code, String(field.dataType)).toBe(ErrorCodes.USAGE);
      expect(err.context, String(field.dataType)).toMatchObject({ column: 'c', row: 2 });
      expect(err.message).toContain(shown);
    }
  });

  it('several values for a single-value column', async () => {
    const err = await rejection(write([{ id: 1, n: [1, 2] }], ints));
    expect(err.context).toMatchObject({ column: 'n', row: 0 });
  });

  it('a null time value when the time column has no valid default', async () => {
    const s = schema([{ name: 'id', dataType: 'INT' }], {
      dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }],
    });
    const table = { ...TABLE, segmentsConfig: { timeColumnName: 'ts' } };
    const rows = [{ id: 1, ts: 1795651200000 }, { id: 2, ts: 1795651201000 }, { id: 3 }];
    const err = await rejection(write(rows, s, table));
    expect(err.code).toBe(ErrorCodes.USAGE);
    expect(err.context).toMatchObject({ column: 'ts', row: 2 });
    expect(err.message).toMatch(/wall-clock/);
    // A default inside Pinot's 1971–2071 range is what Pinot stores (and the null vector records).
    const ok = schema([{ name: 'id', dataType: 'INT' }], {
      dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS', defaultNullValue: 1795651200000 }],
    });
    const read = await readRows(await write(rows, ok, table));
    expect(read.map((r) => r.ts)).toStrictEqual([1795651200000, 1795651201000, null]);
  });

  it('the failed segment directory is removed', async () => {
    const before = readdirSync(temp).length;
    await rejection(write([{ id: 'x', n: 1 }], ints));
    expect(readdirSync(temp).length).toBe(before);
  });

  it('a schema column the table config does not know, or a bad codec, is CONFIG_INVALID', async () => {
    const table = { ...TABLE, tableIndexConfig: { noDictionaryColumns: ['nope'] } };
    expect((await rejection(write([{ id: 1, n: 1 }], ints, table))).code).toBe(ErrorCodes.CONFIG_INVALID);
    const codec = { ...TABLE, fieldConfigList: [{ name: 'n', encodingType: 'RAW', indexes: { forward: { compressionCodec: 'BROTLI' } } }] };
    expect((await rejection(write([{ id: 1, n: 1 }], ints, codec))).code).toBe(ErrorCodes.CONFIG_INVALID);
  });
});

describe('per-column overrides force any shape', () => {
  it('raw with a chosen codec and writer version, var-length STRING dictionary, no null vector', async () => {
    const s = schema([{ name: 'a', dataType: 'STRING' }, { name: 'b', dataType: 'STRING' }, { name: 'c', dataType: 'INT' }]);
    const rows = [{ a: 'x', b: 'yy', c: null }, { a: 'zz', b: null, c: 2 }];
    const dir = await write(rows, s, TABLE, {
      overrides: {
        columns: {
          a: { encoding: 'RAW', codec: 'ZSTANDARD', rawWriterVersion: 2, targetDocsPerChunk: 1 },
          b: { varLengthDictionary: true },
          c: { nullHandling: false },
        },
      },
    });
    const seg = await openComparable(dir);
    try {
      const a = seg.metadata.columns.get('a')!;
      expect(a.forwardIndexEncoding).toBe('RAW');
      const parts = rawParts(indexBytes(seg, 'a', 'forward_index')!, a);
      expect([parts.header[0], parts.header[1], parts.header[2], parts.codec]).toStrictEqual([2, 2, 1, 2]);
      expect(Buffer.from(indexBytes(seg, 'b', 'dictionary')!.subarray(0, 4)).toString('latin1')).toBe('.vl;');
      expect(seg.layout.indexRange('c', 'nullvalue_vector')).toBeUndefined();
      expect(seg.layout.indexRange('b', 'nullvalue_vector')).toBeDefined();
    } finally {
      await seg.close();
    }
    expect(await readRows(dir)).toStrictEqual([{ a: 'x', b: 'yy', c: -2147483648 }, { a: 'zz', b: null, c: 2 }]);
  });
});

describe('Pinot ingestion rules', () => {
  it('nulls: defaults in the forward index, NULL through the null vector, MV null/empty → [default]', async () => {
    const s = schema([
      { name: 'i', dataType: 'INT' }, { name: 's', dataType: 'STRING' }, { name: 'mv', dataType: 'INT', singleValueField: false },
    ], { metricFieldSpecs: [{ name: 'm', dataType: 'LONG' }] });
    const rows = [{ i: 1, s: 'a', mv: [1, 2], m: 5 }, { i: null, s: null, mv: [], m: null }, { mv: [null, 3] }];
    const withNulls = await readRows(await write(rows, s));
    expect(withNulls).toStrictEqual([
      { i: 1, s: 'a', mv: [1, 2], m: 5 },
      { i: null, s: null, mv: null, m: null },
      { i: null, s: null, mv: [3], m: null },
    ]);
    const plain = await readRows(await write(rows, s, { ...TABLE, tableIndexConfig: {} }));
    expect(plain[1]).toStrictEqual({ i: -2147483648, s: 'null', mv: [-2147483648], m: 0 });
  });

  it('STRING cut at NUL and truncated to maxLength; ERROR strategy rejects; BIG_DECIMAL stripped; −0.0 and NaN', async () => {
    const s = schema([
      { name: 's', dataType: 'STRING', maxLength: 5 }, { name: 'd', dataType: 'BIG_DECIMAL' }, { name: 'f', dataType: 'DOUBLE' },
    ]);
    const rows = await readRows(await write([{ s: 'abc\0def', d: '1.50', f: -0 }, { s: 'abcdefgh', d: '1200', f: Number.NaN }], s));
    expect(rows).toStrictEqual([{ s: 'abc', d: '1.5', f: 0 }, { s: 'abcde', d: '1200', f: null }]);
    const strict = schema([{ name: 's', dataType: 'STRING', maxLength: 3, maxLengthExceedStrategy: 'ERROR' }]);
    const err = await rejection(write([{ s: 'ok' }, { s: 'too long' }], strict));
    expect(err.context).toMatchObject({ column: 's', row: 1 });
  });

  it('a realtime commit reorders docs by the sorted column; a batch build keeps the input order', async () => {
    const s = schema([{ name: 'k', dataType: 'STRING' }, { name: 'v', dataType: 'INT' }, { name: 'tags', dataType: 'STRING', singleValueField: false }]);
    const table = { tableName: 't_REALTIME', tableType: 'REALTIME', tableIndexConfig: { nullHandlingEnabled: true, sortedColumn: ['k'], noDictionaryColumns: ['v'] } };
    const input = [
      { k: 'b', v: 1, tags: ['x'] }, { k: 'a', v: null, tags: ['y', 'z'] }, { k: 'c', v: 3, tags: null }, { k: 'a', v: 4, tags: [] },
    ];
    const committed = await readRows(await write(input, s, table, { flavour: 'realtime-commit', offsets: { start: '10', end: '14' } }));
    expect(committed).toStrictEqual([
      { k: 'a', v: null, tags: ['y', 'z'] }, { k: 'a', v: 4, tags: null }, { k: 'b', v: 1, tags: ['x'] }, { k: 'c', v: 3, tags: null },
    ]);
    const batch = await readRows(await write(input, s, table));
    expect(batch.map((r) => r.k)).toStrictEqual(['b', 'a', 'c', 'a']);
  });

  it('BIG_DECIMAL with allowTrailingZeros keeps equal values of different scale as distinct entries', async () => {
    const s = { schemaName: 't', metricFieldSpecs: [{ name: 'd', dataType: 'BIG_DECIMAL', allowTrailingZeros: true }] };
    const input = ['1.00', '0.5', '1', '1.0', '1.00'];
    const dir = await write(input.map((d) => ({ d })), s);
    expect((await readRows(dir)).map((r) => r.d)).toStrictEqual(input);
    const seg = await openComparable(dir);
    try {
      const d = seg.metadata.columns.get('d')!;
      // Numeric order; 1, 1.0 and 1.00 are three entries (ties ordered by scale here).
      expect([d.cardinality, d.minValue, d.maxValue]).toStrictEqual([4, '0.5', '1.00']);
    } finally {
      await seg.close();
    }
  });

  it('Arrow record batches as a column source', async () => {
    const s = schema([{ name: 'id', dataType: 'LONG' }, { name: 'tags', dataType: 'STRING', singleValueField: false },
      { name: 'b', dataType: 'BYTES' }, { name: 'ok', dataType: 'BOOLEAN' }]);
    const rows = [{ id: 1, tags: ['a', 'b'], b: 'ff00', ok: true }, { id: null, tags: null, b: null, ok: null }, { id: 2 ** 60, tags: ['c'], b: '', ok: false }];
    const first = await write(rows, s);
    const reader = await SegmentReader.open(first);
    const batches = [];
    try {
      for await (const b of reader.batches({ batchRows: 2 })) batches.push(b);
    } finally {
      await reader.close();
    }
    const second = await writeSegment({ schema: s, table: TABLE, source: arrowSource(batches), outDir: temp, segmentName: `seg_${counter++}` });
    expect(await readRows(second.dir)).toStrictEqual(await readRows(first));
  });

  it('v1 layout and every archive compression read back the same rows', async () => {
    const s = schema([{ name: 'id', dataType: 'INT' }, { name: 'name', dataType: 'STRING' }]);
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i % 7}` }));
    const v1 = await write(rows, s, TABLE, { layout: 'v1' });
    expect(existsSync(join(v1, 'id.sv.sorted.fwd'))).toBe(true);
    expect(await readRows(v1)).toStrictEqual(rows);
    const opened = await openComparable(v1);
    try {
      // The CRC of a v1 segment chains per-file checksums in path order.
      expect(Number(opened.creation.crc)).toBe(computeSegmentCrc(opened.opened.files));
    } finally {
      await opened.close();
    }
    for (const compression of ['gzip', 'zstd', 'lz4'] as const) {
      const archive = await write(rows, s, TABLE, { archive: { compression } });
      expect(archive.endsWith({ gzip: '.tar.gz', zstd: '.tar.zst', lz4: '.tar.lz4' }[compression])).toBe(true);
      expect(await readRows(archive)).toStrictEqual(rows);
    }
  });
});
