import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportEvents, type ExportEventMap } from '../../src/control/events.js';
import { startApi, type ApiServer } from '../../src/daemon/http-api.js';
import { DURATION_BUCKETS, ExportMetrics } from '../../src/daemon/metrics.js';
import { rng } from '../support/random.js';
import { TestDaemonControl } from './support/control.js';
import { ExpositionError, parseExposition, sampleValue, type Family } from './support/prometheus.js';

async function scrape(metrics: ExportMetrics): Promise<Map<string, Family>> {
  return parseExposition(await metrics.metrics());
}

describe('the exposition parser (the check itself must be able to fail)', () => {
  const ok = '# HELP a_total Things.\n# TYPE a_total counter\na_total{x="1"} 3\n';

  it('accepts a well-formed exposition and unescapes label values', () => {
    const f = parseExposition('# HELP m A \\\\ help\\nline.\n# TYPE m gauge\nm{l="q\\"uote\\\\back\\nnl"} -1.5e3\nm{l="b",} +Inf\n');
    expect(f.get('m')!.help).toBe('A \\ help\nline.');
    expect(sampleValue(f, 'm', { l: 'q"uote\\back\nnl' })).toBe(-1500);
    expect(sampleValue(f, 'm', { l: 'b' })).toBe(Infinity);
    expect(sampleValue(parseExposition(ok), 'a_total', { x: '1' })).toBe(3);
  });

  it.each([
    ['a sample without TYPE', 'a_total 1\n'],
    ['an unknown type', '# TYPE a foo\na 1\n'],
    ['a bad metric name', '# TYPE 1a counter\n1a 1\n'],
    ['a bad label name', '# TYPE a counter\na{1x="y"} 1\n'],
    ['an unescaped quote', '# TYPE a counter\na{x="y"z"} 1\n'],
    ['a bad escape', '# TYPE a counter\na{x="\\t"} 1\n'],
    ['a bad value', '# TYPE a counter\na 1,5\n'],
    ['a duplicate series', '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'],
    ['a split family', '# TYPE a counter\n# TYPE b counter\nb 1\na 1\n'],
    ['a second TYPE', '# TYPE a counter\n# TYPE a counter\na 1\n'],
    ['no trailing newline', '# TYPE a counter\na 1'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 4\nh_sum 1\nh_count 4\n'],
    ['+Inf ≠ count', '# TYPE h histogram\nh_bucket{le="+Inf"} 4\nh_sum 1\nh_count 5\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
  });
});

describe('ExportMetrics from ExportEvents', () => {
  it('counts exactly what the events say (seeded random event stream)', async () => {
    const events = new ExportEvents();
    const metrics = new ExportMetrics();
    metrics.subscribe(events);
    const next = rng(20260);
    const rnd = { int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)) };
    const tables = ['events_REALTIME', 'clicks_REALTIME'];
    const codes = ['SOURCE_NOT_FOUND', 'SINK_WRITE_FAILED', 'PINOT_CORRUPT'];
    const completed: ExportEventMap['task.completed'][] = [];
    const failed: ExportEventMap['task.failed'][] = [];
    const released: ExportEventMap['task.released'][] = [];
    const startedBy = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const table = tables[rnd.int(0, tables.length - 1)]!;
      const base = { table, segment: `seg${i}`, taskId: `seg${i}`, owner: 'me', attempt: rnd.int(1, 3) };
      events.emit('task.started', base);
      startedBy.set(table, (startedBy.get(table) ?? 0) + 1);
      const roll = rnd.int(0, 9);
      if (roll < 6) {
        const e = { ...base, rows: rnd.int(0, 1_000_000), bytes: rnd.int(1, 50_000_000), seconds: rnd.int(1, 4000) / 2, files: [`file:///lake/seg${i}.parquet`], reused: roll === 0 };
        completed.push(e);
        events.emit('task.completed', e);
      } else if (roll < 9) {
        const e = { ...base, code: codes[rnd.int(0, codes.length - 1)]!, message: 'boom', retryable: roll === 7, parked: roll !== 7, seconds: rnd.int(1, 100) / 10 };
        failed.push(e);
        events.emit('task.failed', e);
      } else if (rnd.int(0, 1) === 0) {
        const e = { ...base, reason: 'shutdown' as const };
        released.push(e);
        events.emit('task.released', e);
      } // else: still in flight
    }
    const f = await scrape(metrics);
    const sum = <T>(xs: T[], fn: (x: T) => number): number => xs.reduce((a, x) => a + fn(x), 0);
    for (const table of tables) {
      const done = completed.filter((e) => e.table === table);
      const t = { table };
      expect(sampleValue(f, 'pinot_export_segments_exported_total', t)).toBe(done.length);
      expect(sampleValue(f, 'pinot_export_segments_reused_total', t) ?? 0).toBe(done.filter((e) => e.reused).length);
      expect(sampleValue(f, 'pinot_export_rows_exported_total', t)).toBe(sum(done, (e) => e.rows));
      expect(sampleValue(f, 'pinot_export_bytes_exported_total', t)).toBe(sum(done, (e) => e.bytes));
      expect(sampleValue(f, 'pinot_export_files_published_total', t)).toBe(done.length);
      for (const code of codes) {
        const bad = failed.filter((e) => e.table === table && e.code === code);
        expect(sampleValue(f, 'pinot_export_task_failures_total', { table, code }) ?? 0).toBe(bad.length);
        expect(sampleValue(f, 'pinot_export_tasks_parked_total', { table, code }) ?? 0).toBe(bad.filter((e) => e.parked).length);
      }
      const mine = failed.filter((e) => e.table === table);
      expect(sampleValue(f, 'pinot_export_task_retries_total', t) ?? 0).toBe(mine.filter((e) => !e.parked).length);
      expect(sampleValue(f, 'pinot_export_tasks_released_total', { table, reason: 'shutdown' }) ?? 0).toBe(released.filter((e) => e.table === table).length);
      const ended = done.length + mine.length + released.filter((e) => e.table === table).length;
      expect(sampleValue(f, 'pinot_export_tasks_in_flight', t)).toBe(startedBy.get(table)! - ended);
      // Histogram: count and sum per outcome, and each bucket counts the observations ≤ its bound.
      const c = { table, outcome: 'completed' };
      expect(sampleValue(f, 'pinot_export_task_duration_seconds_count', c) ?? 0).toBe(done.length);
      expect(sampleValue(f, 'pinot_export_task_duration_seconds_sum', c) ?? 0).toBeCloseTo(sum(done, (e) => e.seconds), 6);
      for (const le of DURATION_BUCKETS) {
        expect(sampleValue(f, 'pinot_export_task_duration_seconds_bucket', { ...c, le: String(le) }) ?? 0).toBe(done.filter((e) => e.seconds <= le).length);
      }
      expect(sampleValue(f, 'pinot_export_task_duration_seconds_count', { table, outcome: 'failed' }) ?? 0).toBe(mine.length);
    }
    // The stream exercised every branch.
    expect([completed.length, failed.length, released.length].every((n) => n > 0)).toBe(true);
  });

  it('keeps the in-flight gauge exact under duplicate and unmatched end events', async () => {
    const events = new ExportEvents();
    const metrics = new ExportMetrics();
    metrics.subscribe(events);
    const base = { table: 't_REALTIME', segment: 's', taskId: 's', owner: 'me', attempt: 1 };
    events.emit('task.started', base);
    events.emit('task.started', base); // the same attempt reported twice
    events.emit('task.started', { ...base, taskId: 's2', segment: 's2' });
    expect(sampleValue(await scrape(metrics), 'pinot_export_tasks_in_flight', { table: 't_REALTIME' })).toBe(2);
    const done = { ...base, rows: 1, bytes: 1, seconds: 1, files: [], reused: false };
    events.emit('task.completed', done);
    events.emit('task.completed', done);
    events.emit('task.completed', { ...done, taskId: 'never-started' });
    const f = await scrape(metrics);
    expect(sampleValue(f, 'pinot_export_tasks_in_flight', { table: 't_REALTIME' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_segments_exported_total', { table: 't_REALTIME' })).toBe(3);
  });

  it('reports generation, leadership and Iceberg gauges from the last event', async () => {
    const events = new ExportEvents();
    const metrics = new ExportMetrics();
    const off = metrics.subscribe(events);
    const gens = [
      { table: 'a_REALTIME', atMs: 1_700_000_000_000, emitted: 4, pending: 9, lagSeconds: 7200, watermarkMs: 1_699_990_000_000, trigger: 'schedule' as const },
      { table: 'a_REALTIME', atMs: 1_700_000_060_000, emitted: 2, pending: 5, lagSeconds: 3600.5, watermarkMs: 1_699_999_000_000, trigger: 'demand' as const },
    ];
    for (const g of gens) events.emit('generation.completed', g);
    events.emit('generation.failed', { table: 'a_REALTIME', atMs: 1, code: 'CONTROL_LISTING_FAILED', message: 'x' });
    events.emit('leader.changed', { candidate: 'me', leader: true });
    events.emit('iceberg.decision', { table: 'a_REALTIME', decision: 'WAIT', staged: 3, reason: 'below threshold' });
    events.emit('iceberg.decision', { table: 'a_REALTIME', decision: 'COMMIT', staged: 250, reason: 'threshold' });
    events.emit('iceberg.committed', { table: 'a_REALTIME', snapshotId: '42', files: 250, segments: 250, rows: 1_000_000, attempts: 2 });
    const f = await scrape(metrics);
    const t = { table: 'a_REALTIME' };
    const last = gens.at(-1)!;
    expect(sampleValue(f, 'pinot_export_pending_segments', t)).toBe(last.pending);
    expect(sampleValue(f, 'pinot_export_lag_seconds', t)).toBe(last.lagSeconds);
    expect(sampleValue(f, 'pinot_export_watermark_timestamp_seconds', t)).toBe(last.watermarkMs / 1000);
    expect(sampleValue(f, 'pinot_export_last_successful_generation_timestamp_seconds', t)).toBe(last.atMs / 1000);
    expect(sampleValue(f, 'pinot_export_tasks_emitted_total', t)).toBe(gens.reduce((a, g) => a + g.emitted, 0));
    expect(sampleValue(f, 'pinot_export_generations_total', { table: 'a_REALTIME', trigger: 'schedule' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_generation_failures_total', { table: 'a_REALTIME', code: 'CONTROL_LISTING_FAILED' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_generator_leader')).toBe(1);
    expect(sampleValue(f, 'pinot_export_iceberg_decisions_total', { table: 'a_REALTIME', decision: 'WAIT' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_iceberg_staged_files', t)).toBe(250);
    expect(sampleValue(f, 'pinot_export_iceberg_commits_total', t)).toBe(1);
    expect(sampleValue(f, 'pinot_export_iceberg_committed_rows_total', t)).toBe(1_000_000);
    expect(sampleValue(f, 'pinot_export_iceberg_commit_attempts_total', t)).toBe(2);
    off();
    events.emit('leader.changed', { candidate: 'me', leader: false });
    expect(sampleValue(await scrape(metrics), 'pinot_export_generator_leader')).toBe(1); // unsubscribed
  });

  it('escapes label values so odd table names still parse, and every name carries the prefix', async () => {
    const events = new ExportEvents();
    const metrics = new ExportMetrics({ defaultMetrics: true });
    metrics.subscribe(events);
    const table = 'we"ird\\table\nname';
    events.emit('task.failed', { table, segment: 's', taskId: 's', owner: 'o', attempt: 1, code: 'SOURCE_NOT_FOUND', message: 'm', retryable: false, parked: true, seconds: 2 });
    const f = await scrape(metrics);
    expect(sampleValue(f, 'pinot_export_task_failures_total', { table, code: 'SOURCE_NOT_FOUND' })).toBe(1);
    expect([...f.keys()].every((n) => n.startsWith('pinot_export_'))).toBe(true);
    expect(f.has('pinot_export_process_cpu_seconds_total')).toBe(true);
    for (const fam of f.values()) expect(fam.help, fam.name).toBeTruthy();
  });

  it('two instances keep separate registries', async () => {
    const a = new ExportMetrics();
    const b = new ExportMetrics();
    const ea = new ExportEvents();
    a.subscribe(ea);
    b.subscribe(new ExportEvents());
    ea.emit('generation.failed', { table: 'x_REALTIME', atMs: 1, code: 'STATE_UNAVAILABLE', message: 'm' });
    expect(sampleValue(await scrape(a), 'pinot_export_generation_failures_total', { table: 'x_REALTIME', code: 'STATE_UNAVAILABLE' })).toBe(1);
    expect(sampleValue(await scrape(b), 'pinot_export_generation_failures_total', { table: 'x_REALTIME', code: 'STATE_UNAVAILABLE' })).toBeUndefined();
  });
});

describe('/metrics over HTTP after real exports', () => {
  let control: TestDaemonControl;
  let api: ApiServer;
  const metrics = new ExportMetrics();

  beforeAll(async () => {
    control = await TestDaemonControl.create({ segments: 3, rows: 400 });
    metrics.subscribe(control.events);
    api = await startApi(control, { metrics });
  });

  afterAll(async () => {
    await api?.close();
    await control?.close();
  });

  it('counters equal the rows and bytes of the Parquet files actually published', async () => {
    const post = await fetch(`${api.url}/tasks/schedule?taskType=DataExportTask&tableName=events`, { method: 'POST' });
    expect(post.status).toBe(200);
    const runs = [await control.runTask('events'), await control.runTask('events')];
    await control.failTask('events', 'SOURCE_NOT_FOUND', 'download URL answered 404');
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    const f = parseExposition(await res.text());

    // Independent account of what was published: hyparquet's row counts and the files' sizes on disk.
    let rows = 0;
    let bytes = 0;
    for (const run of runs) {
      const path = fileURLToPath(run!.uri);
      const buf = await readFile(path);
      rows += Number(parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)).num_rows);
      bytes += (await stat(path)).size;
    }
    const t = { table: 'events_REALTIME' };
    expect(rows).toBe(2 * 400);
    expect(sampleValue(f, 'pinot_export_segments_exported_total', t)).toBe(2);
    expect(sampleValue(f, 'pinot_export_rows_exported_total', t)).toBe(rows);
    expect(sampleValue(f, 'pinot_export_bytes_exported_total', t)).toBe(bytes);
    expect(sampleValue(f, 'pinot_export_task_failures_total', { table: 'events_REALTIME', code: 'SOURCE_NOT_FOUND' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_tasks_parked_total', { table: 'events_REALTIME', code: 'SOURCE_NOT_FOUND' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_tasks_in_flight', t)).toBe(0);
    expect(sampleValue(f, 'pinot_export_task_duration_seconds_count', { table: 'events_REALTIME', outcome: 'completed' })).toBe(2);
    // The generation event of the schedule call: every generated segment was pending then.
    expect(sampleValue(f, 'pinot_export_pending_segments', t)).toBe(control.segments.length);
    expect(sampleValue(f, 'pinot_export_tasks_emitted_total', t)).toBe(control.segments.length);
    expect(sampleValue(f, 'pinot_export_lag_seconds', t)).toBeGreaterThan(0);
  });
});
