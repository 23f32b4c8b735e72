import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rangesAdd, rangesCount, rangesHas, rangesMax, rangesProblem } from '../../src/state/ranges.js';
import {
  COMPRESS_THRESHOLD_BYTES, decodeRecord, emptyTableState, encodeRecord, parseClaimRecord, parseClaimSet, parseLeaderRecord,
  parseTableState, type TableState,
} from '../../src/state/records.js';
import { StateError } from '../../src/state/errors.js';

function fullState(): TableState {
  return {
    schemaVersion: 1,
    table: 'events_REALTIME',
    watermarkMs: 1_736_938_799_000,
    partitions: { 0: [[0, 41], [43, 45]], 3: [[7, 7]] },
    named: { 'uploaded__events__0__5__1736935200000': 1_736_938_799_000, odd: -1 },
    tasks: [
      { id: 'events__0__42__20260115T1000Z', segment: 'events__0__42__20260115T1000Z', partition: 0, sequence: 42, startTimeMs: 1, endTimeMs: 2,
        downloadUrl: 's3://b/events/events__0__42__20260115T1000Z', crc: '3810015968', totalDocs: 250_000, status: 'RUNNING', attempts: 1,
        createdAtMs: 10, owner: 'minion-1', claimedAtMs: 11 },
      { id: 'other', segment: 'other', downloadUrl: 'file:///d/other', status: 'FAILED', attempts: 3, createdAtMs: 10, notBeforeMs: 99,
        lastError: { code: 'SOURCE_FETCH_FAILED', message: '503', retryable: true, atMs: 50 } },
      { id: 'events__0__41__20260115T0900Z', segment: 'events__0__41__20260115T0900Z', downloadUrl: 'file:///d/41', status: 'STAGED', attempts: 1, createdAtMs: 9, owner: 'minion-2' },
    ],
    recent: [{ segment: 'events__0__41__20260115T0900Z', completedAtMs: 5, owner: 'minion-2', attempts: 1, files: ['s3://out/x.parquet'], rows: 10 }],
    generator: { cycle: 7, atMs: 4, owner: 'minion-1' },
    iceberg: {
      staged: [{ path: 's3://wh/data/x.parquet', segment: 'events__0__41__20260115T0900Z', recordCount: 10, fileSizeBytes: 1234, stagedAtMs: 6, dataFile: { 'content': 0 } }],
      pendingCommit: { commitId: 'c-2', snapshotId: '-4611686018427387904', files: ['s3://wh/data/x.parquet'], preparedAtMs: 7 },
      lastCommit: { commitId: 'c-1', snapshotId: '123456789012345678', committedAtMs: 3, fileCount: 250 },
    },
  };
}

function corrupt(mutate: (o: Record<string, unknown>) => void): StateError {
  const o = JSON.parse(JSON.stringify(fullState())) as Record<string, unknown>;
  mutate(o);
  try {
    parseTableState(o, '/x/state');
  } catch (err) {
    expect(err).toBeInstanceOf(StateError);
    return err as StateError;
  }
  return expect.fail('expected STATE_CORRUPT');
}

describe('sequence ranges', () => {
  it('adds, merges adjacent and overlapping ranges, and answers membership', () => {
    let r = rangesAdd([], 5);
    r = rangesAdd(r, 7);
    expect(r).toEqual([[5, 5], [7, 7]]);
    r = rangesAdd(r, 6);
    expect(r).toEqual([[5, 7]]);
    r = rangesAdd(r, 0, 3);
    expect(r).toEqual([[0, 3], [5, 7]]);
    r = rangesAdd(r, 4);
    expect(r).toEqual([[0, 7]]);
    r = rangesAdd(r, 10, 12);
    r = rangesAdd(r, 2, 11);
    expect(r).toEqual([[0, 12]]);
    expect(rangesHas(r, 12)).toBe(true);
    expect(rangesHas(r, 13)).toBe(false);
    expect(rangesMax(r)).toBe(12);
    expect(rangesCount([[0, 3], [10, 10]])).toBe(5);
    expect(rangesAdd([[1, 2]], 5, 4)).toEqual([[1, 2]]);
  });

  it('validates the invariants', () => {
    expect(rangesProblem([[0, 1], [3, 4]])).toBeUndefined();
    expect(rangesProblem([[0, 1], [2, 4]])).toMatch(/non-adjacent/);
    expect(rangesProblem([[3, 1]])).toMatch(/from 3 > to 1/);
    expect(rangesProblem([[-1, 1]])).toMatch(/non-negative/);
    expect(rangesProblem({})).toMatch(/array/);
  });

  it('keeps 100k exported segments of 64 partitions with a few gaps in a few kilobytes', () => {
    const s = emptyTableState('events_REALTIME');
    for (let p = 0; p < 64; p++) {
      let ranges: [number, number][] = [];
      for (let seq = 0; seq < 1600; seq++) if (seq % 500 !== 499) ranges = rangesAdd(ranges, seq);
      s.partitions[p] = ranges;
    }
    const total = Object.values(s.partitions).reduce((n, r) => n + rangesCount(r), 0);
    expect(total).toBeGreaterThan(100_000);
    expect(encodeRecord(s).length).toBeLessThan(16 * 1024);
  });
});

describe('TableState schema v1', () => {
  it('round-trips every field through encode/decode/parse', () => {
    const s = fullState();
    expect(parseTableState(decodeRecord(encodeRecord(s), 'x'), 'x')).toEqual(s);
    expect(parseTableState(decodeRecord(encodeRecord(emptyTableState('t_REALTIME')), 'x'), 'x')).toEqual(emptyTableState('t_REALTIME'));
  });

  it('gzip-compresses large records and reads gzip back', () => {
    const s = emptyTableState('t_REALTIME');
    for (let i = 0; i < 20_000; i++) s.named[`segment-name-${i}`] = i;
    const bytes = encodeRecord(s);
    expect(Buffer.from(JSON.stringify(s)).length).toBeGreaterThan(COMPRESS_THRESHOLD_BYTES);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(parseTableState(decodeRecord(bytes, 'x'), 'x')).toEqual(s);
    expect(decodeRecord(gzipSync(Buffer.from('{"a":1}')), 'x')).toEqual({ a: 1 });
  });

  it('names the bad field of a corrupt record', () => {
    expect(corrupt((o) => { (o.tasks as Record<string, unknown>[])[1]!.status = 'DONE'; }).message).toContain('tasks[1].status: expected one of PENDING, RUNNING, STAGED, FAILED, got "DONE"');
    expect(corrupt((o) => { (o.partitions as Record<string, unknown>)['0'] = [[5, 1]]; }).message).toContain('partitions.0');
    expect(corrupt((o) => { (o.partitions as Record<string, unknown>).x = []; }).message).toContain('partition ids must be non-negative integers');
    expect(corrupt((o) => { o.watermarkMs = '12'; }).message).toContain('watermarkMs: expected an integer');
    expect(corrupt((o) => { (o.tasks as Record<string, unknown>[])[0]!.sequence = undefined; }).message).toContain('partition and sequence');
    expect(corrupt((o) => { (o.tasks as unknown[]).push((o.tasks as unknown[])[0]); }).message).toContain('duplicate task id');
    expect(corrupt((o) => { (o.iceberg as Record<string, unknown>).staged = {}; }).message).toContain('iceberg.staged: expected an array');
    expect(corrupt((o) => { delete o.table; }).code).toBe('STATE_CORRUPT');
    const pending = (o: Record<string, unknown>) => (o.iceberg as { pendingCommit: Record<string, unknown> }).pendingCommit;
    expect(corrupt((o) => { pending(o).files = ['s3://wh/data/other.parquet']; }).message).toContain('iceberg.pendingCommit.files: "s3://wh/data/other.parquet" is not a staged file');
    expect(corrupt((o) => { pending(o).files = []; }).message).toContain('iceberg.pendingCommit.files: a pending commit names at least one staged file');
    expect(corrupt((o) => { pending(o).snapshotId = 'abc'; }).message).toContain('iceberg.pendingCommit.snapshotId: expected a decimal snapshot id');
    expect(corrupt((o) => { delete pending(o).commitId; }).message).toContain('iceberg.pendingCommit.commitId: expected a string');
    expect(corrupt((o) => { pending(o).preparedAtMs = -1; }).message).toContain('iceberg.pendingCommit.preparedAtMs');
  });

  it('refuses records of a newer schema version instead of misreading them', () => {
    const err = corrupt((o) => { o.schemaVersion = 2; });
    expect(err.code).toBe('STATE_UNSUPPORTED_VERSION');
    expect(err.message).toContain('upgrade the exporter');
  });

  it('reports bytes that are not JSON as STATE_CORRUPT with the location', () => {
    expect(() => decodeRecord(Buffer.from('{nope'), '/a/b')).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT', context: { key: '/a/b' } }));
  });
});

describe('claim and leader records', () => {
  it('round-trip and validate', () => {
    const claim = { schemaVersion: 1 as const, table: 't', taskId: 's', owner: 'o', claimedAtMs: 1, expiresAtMs: 2, token: 'k' };
    expect(parseClaimRecord(decodeRecord(encodeRecord(claim), 'x'), 'x')).toEqual(claim);
    expect(parseClaimSet({ schemaVersion: 1, claims: { s: claim } }, 'x')).toEqual({ schemaVersion: 1, claims: { s: claim } });
    expect(() => parseClaimRecord({ ...claim, owner: 5 }, 'x')).toThrow(/owner: expected a string/);
    const leader = { schemaVersion: 1 as const, candidate: 'a', sinceMs: 1, session: '0a', token: 't' };
    expect(parseLeaderRecord(leader, 'x')).toEqual(leader);
    expect(() => parseLeaderRecord({ ...leader, schemaVersion: 3 }, 'x')).toThrow(expect.objectContaining({ code: 'STATE_UNSUPPORTED_VERSION' }));
  });
});
