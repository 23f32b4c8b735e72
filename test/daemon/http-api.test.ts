import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, startApi, type ApiServer } from '../../src/daemon/http-api.js';
import { Logger } from '../../src/daemon/log.js';
import { ExportMetrics } from '../../src/daemon/metrics.js';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { SECRETS, TestDaemonControl } from './support/control.js';
import { parseExposition, sampleValue } from './support/prometheus.js';

const TOKEN = 'test-api-token-0123456789abcdef';

interface Got {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Every response seen (status line, headers, body), for the no-secrets sweep at the end. */
const transcript: string[] = [];

async function call(url: string, init: RequestInit = {}): Promise<Got> {
  const res = await fetch(url, init);
  const text = await res.text();
  transcript.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const auth = (token = TOKEN): RequestInit => ({ headers: { Authorization: `Bearer ${token}` } });

describe('daemon HTTP API', () => {
  let control: TestDaemonControl;
  let api: ApiServer; // with a token and metrics
  let open: ApiServer; // loopback, no token, no metrics
  const logLines: string[] = [];
  const metrics = new ExportMetrics();
  let names: string[];

  beforeAll(async () => {
    control = await TestDaemonControl.create({ segments: 3, rows: 200 });
    metrics.subscribe(control.events);
    const log = new Logger({ level: 'debug', write: (l) => logLines.push(l) });
    api = await startApi(control, { token: TOKEN, metrics, log });
    open = await startApi(control, {});
    names = control.segments.map((s) => s.name).sort();
  });

  afterAll(async () => {
    await api?.close();
    await open?.close();
    await control?.close();
  });

  it('listens on loopback and refuses a non-loopback host without a token', async () => {
    expect(new URL(api.url).hostname).toBe('127.0.0.1');
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'pinot-export.internal']) {
      const err = await startApi(control, { host }).then(() => undefined, (e: unknown) => e);
      expect(err, host).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
      expect((err as ConfigError).context.key).toBe('api.token');
      expect((err as ConfigError).message).toContain(host);
    }
    await expect(startApi(control, { token: '  ' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { key: 'api.token' } });
    expect(['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', 'example.com'].some(isLoopbackHost)).toBe(false);
  });

  it('POST /tasks/schedule needs the bearer token when one is configured', async () => {
    const url = `${api.url}/tasks/schedule?taskType=DataExportTask&tableName=events_REALTIME`;
    const none = await call(url, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(none.json).toMatchObject({ code: 'API_UNAUTHORIZED', status: 401 });
    const wrong = await call(url, { method: 'POST', ...auth(`${TOKEN}x`) });
    expect(wrong.status).toBe(401);
    const basic = await call(url, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    // Nothing was scheduled by the refused calls.
    expect(await control.readState('events_REALTIME')).toBeUndefined();

    const ok = await call(url, { method: 'POST', ...auth() });
    expect(ok.status).toBe(200);
    // Pinot's shape: task type → comma-joined task names; ours are the segment names, oldest first.
    expect(ok.json).toEqual({ DataExportTask: names.join(',') });
    const state = await control.readState('events_REALTIME');
    expect(state!.tasks.map((t) => t.id)).toEqual(names);
  });

  it('a second schedule finds nothing new: {"DataExportTask": null}; the raw table name works too', async () => {
    const again = await call(`${api.url}/tasks/schedule?taskType=DataExportTask&tableName=events`, { method: 'POST', ...auth() });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ DataExportTask: null });
  });

  it('schedule without tableName runs every table; without taskType it means DataExportTask', async () => {
    const all = await call(`${open.url}/tasks/schedule`, { method: 'POST' });
    expect(all.status).toBe(200);
    const got = (all.json as Record<string, string>).DataExportTask!.split(',').sort();
    // clicks and orders export the same source segments; events had its tasks already.
    expect(got).toEqual([...names, ...names].sort());
    for (const t of ['clicks_REALTIME', 'orders_REALTIME']) expect((await control.readState(t))!.tasks).toHaveLength(names.length);
  });

  it('schedule errors: unknown table 404, other task type 400, GET 405, non-leader 409', async () => {
    const unknown = await call(`${open.url}/tasks/schedule?taskType=DataExportTask&tableName=nope`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'API_NOT_FOUND', status: 404, context: { table: 'nope' } });
    expect((unknown.json as { error: string }).error).toContain('nope');
    const offline = await call(`${open.url}/tasks/schedule?tableName=events_OFFLINE`, { method: 'POST' });
    expect(offline.status).toBe(404);
    const otherType = await call(`${open.url}/tasks/schedule?taskType=MergeRollupTask&tableName=events`, { method: 'POST' });
    expect(otherType.status).toBe(400);
    expect(otherType.json).toMatchObject({ code: 'API_BAD_REQUEST' });
    expect((otherType.json as { error: string }).error).toContain('MergeRollupTask');
    const get = await call(`${open.url}/tasks/schedule?tableName=events`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    control.leader = false;
    try {
      const follower = await call(`${open.url}/tasks/schedule?tableName=events`, { method: 'POST' });
      expect(follower.status).toBe(409);
      expect(follower.json).toMatchObject({ code: 'CONTROL_GENERATOR_CONTENDED', retryable: true });
      expect((follower.json as { error: string }).error).toContain('api-test-leader');
    } finally {
      control.leader = true;
    }
  });

  it('taskstates and state map tasks to Pinot TaskStates', async () => {
    const [first, second, third] = names as [string, string, string];
    const fresh = await call(`${api.url}/tasks/DataExportTask/events_REALTIME/taskstates`);
    expect(fresh.status).toBe(200);
    expect(fresh.json).toEqual(Object.fromEntries(names.map((n) => [n, 'NOT_STARTED'])));

    const run = await control.runTask('events');
    expect(run!.task.id).toBe(first);
    await control.failTask('events', 'SOURCE_NOT_FOUND', 'GET segment failed', { retryable: false });
    const held = await control.holdTask('events');
    expect(held.task.id).toBe(third);
    try {
      const expected = { [first]: 'COMPLETED', [second]: 'FAILED', [third]: 'IN_PROGRESS' };
      for (const path of ['taskstates', 'state']) {
        const got = await call(`${api.url}/tasks/DataExportTask/events/${path}`);
        expect(got.status, path).toBe(200);
        expect(got.json, path).toEqual(expected);
      }
      const everything = await call(`${api.url}/tasks/DataExportTask/taskstates`);
      expect(Object.keys(everything.json as object)).toHaveLength(names.length); // segment names repeat across tables
      expect(Object.values(everything.json as object).every((s) => ['NOT_STARTED', 'IN_PROGRESS', 'FAILED', 'COMPLETED'].includes(s as string))).toBe(true);

      // A retry waiting for its backoff has run once: IN_PROGRESS, not NOT_STARTED.
      await control.failTask('clicks', 'SINK_WRITE_FAILED', 'HTTP 503', { retryable: true, maxAttempts: 3 });
      const clicks = await call(`${api.url}/tasks/DataExportTask/clicks_REALTIME/taskstates`);
      expect(clicks.json).toEqual({ [first]: 'IN_PROGRESS', [second]: 'NOT_STARTED', [third]: 'NOT_STARTED' });

      // metadata while the third task runs: claims, failures, checkpoints.
      const meta = await call(`${api.url}/tasks/DataExportTask/events/metadata`);
      expect(meta.status).toBe(200);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON body probed field by field
      const m = meta.json as Record<string, any>;
      const state = (await control.readState('events_REALTIME'))!;
      expect(m).toMatchObject({
        taskType: 'DataExportTask', table: 'events_REALTIME', sourceTable: 'events_REALTIME', target: 'filesystem', exists: true,
        watermarkMs: state.watermarkMs, checkpoints: { partitions: { 0: [[0, 0]] }, named: {} },
        progress: { exportedSegments: 1, exportedByPartition: { 0: 1 }, pending: 0, running: 1, failed: 1 },
      });
      expect(m.watermark).toBe(state.watermarkMs > 0 ? new Date(state.watermarkMs).toISOString() : null);
      expect(m.recent).toEqual([expect.objectContaining({ segment: first, rows: 200, owner: control.instance, files: [run!.uri] })]);
      expect(m.failures).toEqual([expect.objectContaining({ taskId: second, code: 'SOURCE_NOT_FOUND', message: 'GET segment failed', parked: true, attempts: 1 })]);
      const byId = Object.fromEntries((m.tasks as { taskId: string }[]).map((t) => [t.taskId, t]));
      expect(byId[third]).toMatchObject({ state: 'IN_PROGRESS', status: 'RUNNING', claimed: true, owner: control.instance, partition: 0, sequence: 2 });
      expect(byId[second]).toMatchObject({ state: 'FAILED', claimed: false, error: { code: 'SOURCE_NOT_FOUND', retryable: false } });
      expect(m.claims).toEqual([expect.objectContaining({ taskId: third, owner: control.instance })]);

      // DELETE is refused while a task runs, and needs the token.
      const noToken = await call(`${api.url}/tasks/DataExportTask/events/metadata`, { method: 'DELETE' });
      expect(noToken.status).toBe(401);
      const busy = await call(`${api.url}/tasks/DataExportTask/events/metadata`, { method: 'DELETE', ...auth() });
      expect(busy.status).toBe(400);
      expect(busy.json).toMatchObject({ code: 'API_BAD_REQUEST', context: { table: 'events_REALTIME' } });
      expect((await control.readState('events_REALTIME'))!.tasks).toHaveLength(2);
    } finally {
      await held.release();
    }
    const reset = await call(`${api.url}/tasks/DataExportTask/events_REALTIME/metadata`, { method: 'DELETE', ...auth() });
    expect(reset.status).toBe(200);
    expect(reset.json).toEqual({ status: 'Successfully deleted metadata for task type: DataExportTask from table: events_REALTIME' });
    const after = await call(`${api.url}/tasks/DataExportTask/events/metadata`);
    expect(after.json).toMatchObject({ watermarkMs: 0, tasks: [], failures: [], recent: [], checkpoints: { partitions: {}, named: {} } });
    expect((await call(`${api.url}/tasks/DataExportTask/events/taskstates`)).json).toEqual({});
  });

  it('task endpoints: unknown table 404, other task type 400, wrong method 405, unknown path 404', async () => {
    const unknown = await call(`${open.url}/tasks/DataExportTask/missing_REALTIME/metadata`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'API_NOT_FOUND', context: { table: 'missing_REALTIME' } });
    const type = await call(`${open.url}/tasks/RealtimeToOfflineSegmentsTask/events/taskstates`);
    expect(type.status).toBe(400);
    expect(type.json).toMatchObject({ code: 'API_BAD_REQUEST' });
    const put = await call(`${open.url}/tasks/DataExportTask/events/metadata`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, DELETE');
    const post = await call(`${open.url}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    const path = await call(`${open.url}/tasks/DataExportTask/events/nothing/here`);
    expect(path.status).toBe(404);
    expect(path.json).toMatchObject({ code: 'API_NOT_FOUND' });
    const badEncoding = await call(`${open.url}/tasks/DataExportTask/%E0%A4%A/taskstates`);
    expect(badEncoding.status).toBe(400);
    const types = await call(`${open.url}/tasks/tasktypes`);
    expect(types.json).toEqual(['DataExportTask']);
    for (const got of [unknown, type, put, post, path, badEncoding]) {
      expect(got.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
  });

  it('GET /health: 200 with the report when ok, 503 when a check fails', async () => {
    const ok = await call(`${api.url}/health`);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ ok: true, instance: control.instance, leader: true, checks: { state: { ok: true } } });
    expect(Object.keys((ok.json as { tables: object }).tables).sort()).toEqual(control.tables().map((t) => t.table).sort());
    control.stateDown = true;
    try {
      const down = await call(`${api.url}/health`);
      expect(down.status).toBe(503);
      expect(down.json).toMatchObject({ ok: false, checks: { state: { ok: false } } });
    } finally {
      control.stateDown = false;
    }
  });

  it('GET /metrics: Prometheus text with prom-client\'s content type; 404 when metrics are off', async () => {
    const got = await call(`${api.url}/metrics`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(metrics.contentType);
    const f = parseExposition(got.text);
    expect(sampleValue(f, 'pinot_export_segments_exported_total', { table: 'events_REALTIME' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_task_failures_total', { table: 'events_REALTIME', code: 'SOURCE_NOT_FOUND' })).toBe(1);
    expect(sampleValue(f, 'pinot_export_task_retries_total', { table: 'clicks_REALTIME' })).toBe(1);
    const off = await call(`${open.url}/metrics`);
    expect(off.status).toBe(404);
    expect(off.json).toMatchObject({ code: 'API_NOT_FOUND' });
  });

  it('no secret leaves in any response: configs, health details, recorded error messages', async () => {
    // An executor's error message quoting a presigned URL with userinfo, recorded through the real state path.
    await call(`${api.url}/tasks/schedule?tableName=events`, { method: 'POST', ...auth() });
    const leaky = `GET https://svc:${SECRETS.catalogPassword}@deepstore.invalid/events/seg?X-Amz-Credential=${SECRETS.s3AccessKey}%2F20270101&X-Amz-Signature=${SECRETS.presignedSignature}&X-Amz-Security-Token=${SECRETS.s3SessionToken} answered 404`;
    await control.failTask('orders', 'SOURCE_NOT_FOUND', leaky);
    const meta = await call(`${api.url}/tasks/DataExportTask/orders/metadata`);
    const failure = (meta.json as { failures: { message: string }[] }).failures[0]!;
    // The useful part of the message survives.
    expect(failure.message).toContain('deepstore.invalid/events/seg');
    expect(failure.message).toContain('answered 404');
    expect((meta.json as { destination: string }).destination).toContain('catalog.invalid/api/catalog analytics.orders');

    // Sweep every endpoint once more, then grep the whole transcript (and the API's own log lines).
    for (const t of control.tables()) {
      for (const p of ['metadata', 'taskstates', 'state']) await call(`${api.url}/tasks/DataExportTask/${t.table}/${p}`);
    }
    await call(`${api.url}/health`);
    await call(`${api.url}/metrics`);
    await call(`${api.url}/tasks/DataExportTask/taskstates`);
    expect(transcript.length).toBeGreaterThan(40);
    const everything = [...transcript, ...logLines].join('\n');
    for (const [name, secret] of Object.entries({ ...SECRETS, token: TOKEN })) {
      for (const form of new Set([secret, encodeURIComponent(secret)])) {
        expect(everything.includes(form), `${name} leaked`).toBe(false);
      }
    }
  });

  it('close() stops listening', async () => {
    const extra = await startApi(control, {});
    expect((await call(`${extra.url}/tasks/tasktypes`)).status).toBe(200);
    await extra.close();
    await expect(fetch(`${extra.url}/tasks/tasktypes`)).rejects.toThrow();
    await extra.close(); // twice is fine
  });
});
