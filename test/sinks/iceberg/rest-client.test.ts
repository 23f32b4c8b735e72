/** IcebergRestClient against small loopback servers: config merge, lossless bodies, retries, error mapping. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import { IcebergError } from '../../../src/sinks/iceberg/errors.js';
import { IcebergRestClient, uuidv7, type RestClientOptions } from '../../../src/sinks/iceberg/rest-client.js';
import { errorModel, loopbackServers, metadataText, sendJson, type Loopback } from './loopback-http.js';

const PARENT = '9158179788527662767';
const NEW_ID = '6458828015811002920';

const serve = loopbackServers();

const FAST: RestClientOptions = { backoff: { baseDelayMs: 1, maxDelayMs: 5 } };

function client(server: Loopback, props: Record<string, string> = {}, options: RestClientOptions = FAST): IcebergRestClient {
  return new IcebergRestClient(parseCatalogSettings({ uri: `${server.url}/api/catalog`, ...props }, { env: {} }), options);
}

async function rejection(p: Promise<unknown>): Promise<IcebergError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(IcebergError);
    return err as IcebergError;
  }
  return expect.fail('expected an IcebergError');
}

const T = { namespace: ['db'], name: 't' };

describe('GET /v1/config', () => {
  it('sends warehouse, merges defaults → client → overrides, uses the prefix verbatim and header.* everywhere', async () => {
    const server = await serve((req, res) => {
      if (req.path === '/api/catalog/v1/config') {
        return sendJson(res, 200, JSON.stringify({
          defaults: { 'header.X-Default': 'd', 'clients': '1', 'a': 'server-default' },
          overrides: { prefix: 'arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Fmy-bucket', 'header.X-Over': 'o' },
        }));
      }
      return sendJson(res, 200, `{"metadata-location":"s3://b/wh/db/t/metadata/v2.metadata.json","metadata":${metadataText()}}`);
    });
    const c = client(server, { warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/my-bucket', a: 'client', 'header.X-Client': 'c' });
    const config = await c.loadConfig();
    expect(config.properties.a).toBe('client');
    expect(config.properties.clients).toBe('1');
    expect(config.prefix).toBe('arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Fmy-bucket');
    await c.loadTable({ namespace: ['analytics', 'raw events'], name: 'ev/1' });
    const [cfg, load] = server.requests;
    expect(cfg!.query.get('warehouse')).toBe('arn:aws:s3tables:us-east-1:111122223333:bucket/my-bucket');
    expect(cfg!.headers['x-client']).toBe('c');
    expect(load!.rawUrl).toBe('/api/catalog/v1/arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Fmy-bucket/namespaces/analytics%1Fraw%20events/tables/ev%2F1?snapshots=all');
    expect(load!.headers['x-iceberg-access-delegation']).toBe('vended-credentials');
    expect(load!.headers).toMatchObject({ 'x-default': 'd', 'x-over': 'o', 'x-client': 'c', accept: 'application/json' });
    expect(server.requests).toHaveLength(2);
  });

  it('no prefix → no empty path segment; a namespace-separator property is honoured', async () => {
    const server = await serve((req, res) => req.path.endsWith('/v1/config')
      ? sendJson(res, 200, '{"defaults":{},"overrides":{"namespace-separator":"."}}')
      : sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()}}`));
    await client(server).loadTable({ namespace: ['a', 'b'], name: 't' });
    expect(server.requests[1]!.path).toBe('/api/catalog/v1/namespaces/a.b/tables/t');
  });

  it('advertised endpoints gate calls: no commit endpoint → a clear error before sending', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, JSON.stringify({
      defaults: {}, overrides: {}, endpoints: ['GET /v1/{prefix}/namespaces/{namespace}/tables/{table}'],
    })));
    const c = client(server);
    expect(await c.supports('GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials')).toBe(false);
    expect(await c.loadCredentials(T)).toBeUndefined();
    const err = await rejection(c.commitTable(T, { requirements: [], updates: [] }));
    expect(err.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(err.message).toContain('does not support commits');
    expect(server.requests).toHaveLength(1);
  });
});

describe('LoadTable and CommitTable bodies are lossless', () => {
  it('19-digit ids come back as bigint and go out as bare numbers in the raw request body', async () => {
    const server = await serve((req, res) => {
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      if (req.method === 'GET') {
        return sendJson(res, 200, `{"metadata-location":"s3://b/m/v2.json","metadata":${metadataText()},"config":{"s3.region":"us-east-1"},
          "storage-credentials":[{"prefix":"s3://b/wh","config":{"s3.access-key-id":"AK"}}]}`, { etag: '"e1"' });
      }
      return sendJson(res, 200, `{"metadata-location":"s3://b/m/v3.json","metadata":${metadataText(NEW_ID)}}`);
    });
    const c = client(server);
    const loaded = await c.loadTable(T);
    expect(loaded.metadata.currentSnapshotId).toBe(9158179788527662767n);
    expect(loaded.metadataLocation).toBe('s3://b/m/v2.json');
    expect(loaded.config).toEqual({ 's3.region': 'us-east-1' });
    expect(loaded.storageCredentials).toEqual([{ prefix: 's3://b/wh', config: { 's3.access-key-id': 'AK' } }]);
    expect(loaded.etag).toBe('"e1"');

    const committed = await c.commitTable(T, {
      requirements: [
        { type: 'assert-table-uuid', uuid: loaded.metadata.tableUuid },
        { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': loaded.metadata.currentSnapshotId },
      ],
      updates: [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': BigInt(NEW_ID) }],
    });
    const post = server.requests.at(-1)!;
    expect(post.method).toBe('POST');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.body).toContain(`"snapshot-id":${PARENT}`);
    expect(post.body).toContain(`"snapshot-id":${NEW_ID}`);
    expect(post.body).not.toContain(`"${PARENT}"`);
    expect(committed.metadata.refs.main?.snapshotId).toBe(BigInt(NEW_ID));
    expect(committed.metadataLocation).toBe('s3://b/m/v3.json');
  });

  it('sends an Idempotency-Key (UUIDv7) when the server advertises a lifetime', async () => {
    const server = await serve((req, res) => req.path.endsWith('/v1/config')
      ? sendJson(res, 200, '{"defaults":{},"overrides":{},"idempotency-key-lifetime":"PT30M"}')
      : sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()}}`));
    await client(server).commitTable(T, { requirements: [], updates: [] });
    expect(server.requests[1]!.headers['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7(0x0123456789ab).slice(0, 13)).toBe('01234567-89ab');
  });
});

describe('retries', () => {
  it('GETs are retried on 503/500/429 and then succeed', async () => {
    let n = 0;
    const server = await serve((req, res) => {
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      n++;
      if (n === 1) return sendJson(res, 503, errorModel(503, 'ServiceUnavailableException', 'busy'));
      if (n === 2) return sendJson(res, 429, errorModel(429, 'TooManyRequests', 'slow down'), { 'retry-after': '0' });
      if (n === 3) return sendJson(res, 500, errorModel(500, 'InternalServerError', 'oops'));
      return sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()}}`);
    });
    await client(server).loadTable(T);
    expect(n).toBe(4);
  });

  it('gives up after rest.client.max-retries with a retryable ICEBERG_CATALOG_ERROR', async () => {
    const server = await serve((req, res) => req.path.endsWith('/v1/config')
      ? sendJson(res, 200, '{"defaults":{},"overrides":{}}')
      : sendJson(res, 502, 'Bad Gateway'));
    const err = await rejection(client(server, { 'rest.client.max-retries': '2' }).loadTable(T));
    expect(err.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(err.retryable).toBe(true);
    expect(server.requests).toHaveLength(4);
  });

  it('a commit is never resent on 5xx, but is on 429 (refused unprocessed)', async () => {
    let posts = 0;
    const server = await serve((req, res) => {
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      posts++;
      return posts === 1 ? sendJson(res, 429, errorModel(429, 'TooMany', 'wait')) : sendJson(res, 503, errorModel(503, 'ServiceUnavailable', 'down'));
    });
    const err = await rejection(client(server).commitTable(T, { requirements: [], updates: [] }));
    expect(err.code).toBe(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN);
    expect(posts).toBe(2);
  });

  it('a GET that times out is retried; a commit that times out is state-unknown', async () => {
    let gets = 0;
    const server = await serve((req, res) => {
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      if (req.method === 'GET' && ++gets > 1) return sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()}}`);
      // Never answer: the client's timeout fires.
    });
    const c = client(server, { 'rest.client.request-timeout-ms': '150' });
    await c.loadTable(T);
    expect(gets).toBe(2);
    const err = await rejection(c.commitTable(T, { requirements: [], updates: [] }));
    expect(err.code).toBe(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN);
    expect(err.message).toContain('timed out');
  });

  it('a connection refused during a commit is state-unknown; during a GET it is a retryable catalog error', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, '{"defaults":{},"overrides":{}}'));
    const c = client(server, { 'rest.client.max-retries': '1' });
    await c.loadConfig();
    await server.close();
    const commit = await rejection(c.commitTable(T, { requirements: [], updates: [] }));
    expect(commit.code).toBe(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN);
    const load = await rejection(c.loadTable(T));
    expect(load.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(load.retryable).toBe(true);
  });
});

describe('error mapping per status', () => {
  const cases: [number, string, string, boolean][] = [
    [409, 'CommitFailedException', ErrorCodes.ICEBERG_COMMIT_CONFLICT, true],
    [500, 'CommitStateUnknownException', ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN, false],
    [502, 'BadGateway', ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN, false],
    [504, 'GatewayTimeout', ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN, false],
    [401, 'NotAuthorizedException', ErrorCodes.ICEBERG_AUTH_FAILED, false],
    [403, 'ForbiddenException', ErrorCodes.ICEBERG_AUTH_FAILED, false],
    [404, 'NoSuchTableException', ErrorCodes.ICEBERG_CATALOG_ERROR, false],
    [400, 'BadRequestException', ErrorCodes.ICEBERG_CATALOG_ERROR, false],
  ];
  for (const [status, type, code, retryable] of cases) {
    it(`CommitTable HTTP ${status} → ${code}`, async () => {
      const server = await serve((req, res) => req.path.endsWith('/v1/config')
        ? sendJson(res, 200, '{"defaults":{},"overrides":{}}')
        : sendJson(res, status, errorModel(status, type, `server says ${status}`)));
      const err = await rejection(client(server, { token: 'tok-secret-1234' }).commitTable({ namespace: ['db'], name: 'events' }, { requirements: [], updates: [] }));
      expect(err.code).toBe(code);
      expect(err.retryable).toBe(retryable);
      expect(err.context.table).toBe('db.events');
      expect(err.context.uri).toBe(`${server.url}/api/catalog/v1/namespaces/db/tables/events`);
      expect(err.message).toContain(`${type}: server says ${status}`);
      if (status === 404) expect(err.message).toContain('table db.events not found');
      expect(err.message).not.toContain('tok-secret-1234');
    });
  }

  it('LoadTable 404 names the table; a body that is not metadata is ICEBERG_METADATA_INVALID', async () => {
    let n = 0;
    const server = await serve((req, res) => {
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      return ++n === 1
        ? sendJson(res, 404, errorModel(404, 'NoSuchTableException', 'Table does not exist: db.t'))
        : sendJson(res, 200, '{"metadata-location":"x","metadata":{"format-version":2}}');
    });
    const c = client(server);
    const missing = await rejection(c.loadTable(T));
    expect(missing.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(missing.message).toContain('table db.t not found');
    const bad = await rejection(c.loadTable(T));
    expect(bad.code).toBe(ErrorCodes.ICEBERG_METADATA_INVALID);
    expect(bad.context.key).toBe('table-uuid');
  });

  it('error context never carries the query string; server text is scrubbed of our secrets', async () => {
    const server = await serve((req, res) => req.path === '/token'
      ? sendJson(res, 200, '{"access_token":"at-issued-777","token_type":"bearer","expires_in":3600}')
      : sendJson(res, 400, errorModel(400, 'BadRequest', 'bad credential root:hunter2-secret with at-issued-777')));
    const c = client(server, { warehouse: 'wh-private', credential: 'root:hunter2-secret', 'oauth2-server-uri': `${server.url}/token` });
    const err = await rejection(c.loadConfig());
    expect(err.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(err.message).toContain('bad credential root:*** with ***');
    expect(err.message).not.toContain('hunter2-secret');
    expect(err.message).not.toContain('at-issued-777');
    expect(err.message).not.toContain('wh-private');
    expect(server.requests[1]!.headers.authorization).toBe('Bearer at-issued-777');
  });
});
