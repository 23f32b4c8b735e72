import { describe, expect, it } from 'vitest';
import { ExportEvents } from '../../src/control/events.js';
import { parseDataExportTaskConfig } from '../../src/daemon/config.js';
import { Logger, MASK, parseLogLevel, redact, redactText, subscribeLogs, type LogLevel } from '../../src/daemon/log.js';
import { ErrorCodes, ExporterError, SourceError } from '../../src/errors.js';

interface Line {
  time: string;
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

function capture(level: LogLevel = 'debug', fields?: Record<string, unknown>): { logger: Logger; lines: () => Line[]; raw: string[] } {
  const raw: string[] = [];
  const logger = new Logger({ level, write: (l) => raw.push(l), fields, now: () => Date.UTC(2027, 0, 2, 3, 4, 5, 6) });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Line) };
}

describe('Logger', () => {
  it('writes one JSON object per line with time, level, msg and the fields', () => {
    const { logger, raw, lines } = capture('debug', { instance: 'i-1' });
    logger.info('segment exported', { table: 'events_REALTIME', rows: 12, big: 2n ** 70n, when: new Date(0) });
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('\n');
    expect(lines()[0]).toEqual({
      time: '2027-01-02T03:04:05.006Z', level: 'info', msg: 'segment exported', instance: 'i-1',
      table: 'events_REALTIME', rows: 12, big: (2n ** 70n).toString(), when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('filters by level', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const { logger, lines } = capture(level);
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      const order = ['debug', 'info', 'warn', 'error'];
      expect(lines().map((l) => l.level)).toEqual(order.slice(order.indexOf(level)));
      expect(logger.enabled('debug')).toBe(level === 'debug');
    }
  });

  it('child loggers add fields; fields cannot overwrite time, level or msg', () => {
    const { logger, lines } = capture('info');
    logger.child({ table: 't_REALTIME' }).warn('careful', { level: 'debug', msg: 'x', time: 0, n: 1 });
    expect(lines()[0]).toMatchObject({ level: 'warn', msg: 'careful', table: 't_REALTIME', 'field.level': 'debug', 'field.msg': 'x', 'field.time': 0, n: 1 });
    expect(lines()[0]!.time).toBe('2027-01-02T03:04:05.006Z');
  });

  it('survives circular fields and a throwing sink', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const { logger, lines } = capture();
    logger.info('cycle', { a });
    expect(lines()[0]!.a).toEqual({ name: 'a', self: '[Circular]' });
    const broken = new Logger({ write: () => { throw new Error('EPIPE'); } });
    expect(() => broken.error('still fine')).not.toThrow();
  });

  it('parseLogLevel accepts the four levels and names the key otherwise', () => {
    expect(parseLogLevel(' WARN ')).toBe('warn');
    expect(() => parseLogLevel('verbose', 'daemon.logLevel')).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID, context: { key: 'daemon.logLevel' } }));
  });
});

describe('redaction', () => {
  const secret = 'S3CR3T-VALUE-xyz';

  it('masks values of secret-looking keys at any depth, keeps the rest', () => {
    const out = redact({
      table: 'events_REALTIME',
      'output.fs.prop.secretKey': secret,
      'output.fs.prop.accessKey': secret,
      'catalog.iceberg-rest.token': secret,
      nested: [{ password: secret, sessionToken: secret, credentials: { accessKeyId: secret, secretAccessKey: secret }, headers: { Authorization: `Bearer ${secret}` } }],
      key: 'output.fs.prop.secretKey', // an ErrorContext key *name* is not a secret
      sessionExpired: false,
      tokenCount: null,
    });
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(out).toMatchObject({
      table: 'events_REALTIME', 'output.fs.prop.secretKey': MASK, 'catalog.iceberg-rest.token': MASK, key: 'output.fs.prop.secretKey', sessionExpired: false, tokenCount: null,
      nested: [{ password: MASK, sessionToken: MASK, credentials: MASK, headers: { Authorization: MASK } }],
    });
  });

  it('masks credentials inside text: URL userinfo, signed query parameters, auth headers, AWS key ids', () => {
    const cases: [string, string[], string[]][] = [
      [`s3 GET https://user:${secret}@host.example/a/b?partNumber=2 failed`, [secret, 'user:'], ['host.example/a/b?partNumber=2 failed']],
      [`https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=${secret}%2F2027&X-Amz-Signature=${secret}&X-Amz-Security-Token=${secret}&X-Amz-Expires=60`,
        [secret], ['X-Amz-Algorithm=AWS4', 'X-Amz-Expires=60', `X-Amz-Signature=${MASK}`]],
      [`https://acct.blob.core.windows.net/c/b?sv=2022&sig=${secret}`, [secret], ['sv=2022']],
      [`Authorization: Bearer ${secret} was refused`, [secret], ['was refused']],
      ['key AKIAIOSFODNN7EXAMPLE in use', ['AKIAIOSFODNN7EXAMPLE'], ['in use']],
    ];
    for (const [text, gone, kept] of cases) {
      const out = redactText(text);
      for (const g of gone) expect(out, text).not.toContain(g);
      for (const k of kept) expect(out, text).toContain(k);
    }
    expect(redactText('events__0__12__20261126T0000Z in s3://bucket/prefix/ (table=events)')).toBe('events__0__12__20261126T0000Z in s3://bucket/prefix/ (table=events)');
  });

  it('masks secret assignments quoted inside text; the API mode keeps data-keyed maps intact', () => {
    const text = redactText(`output.fs.prop.secretKey = "${secret}"; {"catalog.token":"${secret}"} password=${secret} (key="output.fs.prop.secretKey")`);
    expect(text).not.toContain(secret);
    expect(text).toContain('(key="output.fs.prop.secretKey")');
    const states = { user_sessions__0__1__20261126T0000Z: 'COMPLETED', token_events__0__2__20261126T0100Z: `https://u:${secret}@h/` };
    const api = redact(states, { keys: false }) as Record<string, string>;
    expect(api.user_sessions__0__1__20261126T0000Z).toBe('COMPLETED');
    expect(api.token_events__0__2__20261126T0100Z).not.toContain(secret);
    expect((redact(states) as Record<string, string>).user_sessions__0__1__20261126T0000Z).toBe(MASK);
  });

  it('errors keep code, context and a redacted message', () => {
    const err = new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `GET https://u:${secret}@h/seg?token=${secret} answered 404`, { context: { segment: 's1', uri: `https://u:${secret}@h/seg` } });
    const out = redact({ error: err }) as { error: Record<string, unknown> };
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(out.error).toMatchObject({ name: 'SourceError', code: 'SOURCE_NOT_FOUND', retryable: false, context: { segment: 's1' } });
    expect(out.error.message).toContain('answered 404');
    const bug = redact(new TypeError(`x is ${secret}@`)) as Record<string, unknown>;
    expect(bug.name).toBe('TypeError');
    expect(typeof bug.stack).toBe('string');
  });

  it('a whole DataExportTask config logged as is shows no credential', () => {
    const map = {
      outputDirURI: 's3://lake/events/', 'output.fs.prop.region': 'us-east-1', 'output.fs.prop.accessKey': 'AKIAABCDEFGHIJKLMNOP',
      'output.fs.prop.secretKey': secret, 'output.fs.prop.sessionToken': `${secret}-session`,
    };
    const { config } = parseDataExportTaskConfig('events', map);
    const { logger, raw } = capture();
    logger.info('config loaded', { config, raw: map });
    expect(raw[0]).not.toContain(secret);
    expect(raw[0]).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(raw[0]).toContain('s3://lake/events/');
  });
});

describe('subscribeLogs', () => {
  it('turns each ExportEvent into one line at a fitting level, redacted, until unsubscribed', () => {
    const events = new ExportEvents();
    const { logger, lines } = capture('debug');
    const off = subscribeLogs(events, logger);
    const base = { table: 'events_REALTIME', segment: 'events__0__1__20261126T0100Z', taskId: 'events__0__1__20261126T0100Z', owner: 'i-1', attempt: 2 };
    events.emit('task.started', base);
    events.emit('task.completed', { ...base, rows: 10, bytes: 2048, seconds: 1.5, files: ['file:///lake/x.parquet'], reused: false });
    events.emit('task.failed', { ...base, code: 'SOURCE_FETCH_FAILED', message: 'GET https://h/x?X-Amz-Signature=abcdef0123 timed out', retryable: true, parked: false, retryInMs: 4000, seconds: 3 });
    events.emit('task.failed', { ...base, code: 'PINOT_CORRUPT', message: 'bad bytes', retryable: false, parked: true, seconds: 1 });
    events.emit('task.released', { ...base, reason: 'shutdown' });
    events.emit('generation.completed', { table: 'events_REALTIME', atMs: 1, emitted: 3, pending: 3, lagSeconds: 60, watermarkMs: Date.UTC(2026, 10, 26), trigger: 'schedule' });
    events.emit('generation.completed', { table: 'events_REALTIME', atMs: 2, emitted: 0, pending: 0, lagSeconds: 0, watermarkMs: 0, trigger: 'schedule' });
    events.emit('generation.failed', { table: 'events_REALTIME', atMs: 3, code: 'STATE_UNAVAILABLE', message: 'zk down' });
    events.emit('leader.changed', { candidate: 'i-1', leader: true });
    events.emit('iceberg.decision', { table: 'events_REALTIME', decision: 'WAIT', staged: 1, reason: 'below threshold' });
    events.emit('iceberg.committed', { table: 'events_REALTIME', snapshotId: '77', files: 1, segments: 1, rows: 10, attempts: 1 });
    events.emit('log', { level: 'warn', message: 'unknown key foo', fields: { table: 'events_REALTIME', secretKey: 'zzz-secret' } });
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      ['info', 'task started'],
      ['info', 'task completed'],
      ['warn', 'task attempt failed, will retry'],
      ['error', 'task failed and parked'],
      ['info', 'task released'],
      ['info', 'generation completed'],
      ['debug', 'generation completed'],
      ['error', 'generation failed'],
      ['info', 'became generator leader'],
      ['debug', 'iceberg commit decision'],
      ['info', 'iceberg snapshot committed'],
      ['warn', 'unknown key foo'],
    ]);
    expect(lines()[1]).toMatchObject({ table: 'events_REALTIME', segment: base.segment, rows: 10, bytes: 2048, attempt: 2 });
    expect(lines()[3]).toMatchObject({ code: 'PINOT_CORRUPT', parked: true });
    expect(lines()[5]).toMatchObject({ watermark: '2026-11-26T00:00:00.000Z' });
    expect(JSON.stringify(lines())).not.toContain('abcdef0123');
    expect(JSON.stringify(lines())).not.toContain('zzz-secret');
    off();
    events.emit('task.started', base);
    expect(lines()).toHaveLength(12);
  });

  it('an ExporterError passed as a field keeps its code', () => {
    const { logger, lines } = capture();
    logger.error('export failed', { error: new ExporterError(ErrorCodes.SINK_WRITE_FAILED, 'disk full', { context: { file: '/lake/x.parquet' } }) });
    expect(lines()[0]!.error).toMatchObject({ code: 'SINK_WRITE_FAILED', context: { file: '/lake/x.parquet' } });
  });
});
