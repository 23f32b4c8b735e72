/**
 * The in-repo Iceberg REST catalog (test/support/iceberg-catalog.ts), exercised with plain fetch and
 * lossless JSON only, so these tests do not depend on the exporter's REST client.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import avro from 'avsc';
import { icebergMetadata, icebergRead } from 'icebird';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeFixtures } from '../../support/fixtures.js';
import { startS3Server } from '../../support/s3-server.js';
import { type CatalogOptions, type IcebergCatalog, OPENAPI_SPEC_FIXTURE, parseJson, startIcebergCatalog, toJson } from '../../support/iceberg-catalog.js';
import { OpenApiValidator } from '../../support/openapi-validator.js';
import { OPENAPI_SPEC } from '../../support/iceberg-catalog.js';
import { NodeSha256 } from '../../support/iceberg-catalog/auth.js';

type Json = Record<string, unknown>;

const SCHEMA = {
  type: 'struct', 'schema-id': 0, fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'ts', required: false, type: 'timestamptz' },
    { id: 3, name: 'tags', required: false, type: { type: 'list', 'element-id': 4, element: 'string', 'element-required': false } },
  ],
};
const BIG_ID = 9158179788527662767n; // > 2^53: JSON.parse would turn it into 9158179788527663000
const TABLE_PATH = (c: IcebergCatalog, ns: string, t: string) => `/v1/${c.prefix}/namespaces/${ns}/tables/${t}`;

let catalogs: IcebergCatalog[] = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  await Promise.all(catalogs.map((c) => c.close()));
  catalogs = [];
});

async function start(options: CatalogOptions = {}): Promise<IcebergCatalog> {
  const c = await startIcebergCatalog(options);
  catalogs.push(c);
  return c;
}

interface Res {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

async function call(c: IcebergCatalog, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const res = await fetch(`${c.uri}${path}`, {
    method,
    headers: { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...(opts.headers ?? {}) },
    ...(opts.body === undefined ? {} : { body: typeof opts.body === 'string' ? opts.body : toJson(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, body: (text ? parseJson(text) : {}) as Json };
}

function appendCommit(c: IcebergCatalog, ns: string[], table: string, snapshotId: bigint, parent: bigint | null, seq: number) {
  const meta = c.table(ns, table).metadata;
  return {
    requirements: [
      { type: 'assert-table-uuid', uuid: meta['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent },
    ],
    updates: [
      {
        action: 'add-snapshot',
        snapshot: {
          'snapshot-id': snapshotId,
          ...(parent === null ? {} : { 'parent-snapshot-id': parent }),
          'sequence-number': seq,
          'timestamp-ms': 1_767_225_600_000,
          'manifest-list': `${String(meta.location)}/metadata/snap-${snapshotId}-1-test.avro`,
          summary: { operation: 'append', 'added-records': '3' },
          'schema-id': 0,
        },
      },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
    ],
  };
}

async function withTable(options: CatalogOptions = {}) {
  const c = await start(options);
  await c.createTable(['db'], 'events', { schema: SCHEMA });
  return c;
}

describeFixtures('iceberg test catalog: config and auth', OPENAPI_SPEC_FIXTURE, () => {
  it('serves /v1/config with the prefix in overrides and the implemented endpoints', async () => {
    const c = await start({ prefix: 'catalogs/wh1', warehouse: 'wh1', defaults: { clients: '2' } });
    const ok = await call(c, 'GET', '/v1/config?warehouse=wh1');
    expect(ok.status).toBe(200);
    expect(ok.body.overrides).toEqual({ prefix: 'catalogs/wh1' });
    expect(ok.body.defaults).toEqual({ clients: '2' });
    expect(ok.body.endpoints).toContain('POST /v1/{prefix}/namespaces/{namespace}/tables/{table}');
    const wrong = await call(c, 'GET', '/v1/config?warehouse=other');
    expect(wrong.status).toBe(400);
    expect((wrong.body.error as Json).type).toBe('BadRequestException');
    // the prefix is required verbatim in catalog paths
    c.createNamespace(['db']);
    expect((await call(c, 'GET', '/v1/catalogs/wh1/namespaces/db')).status).toBe(200);
    const noPrefix = await call(c, 'GET', '/v1/namespaces/db');
    expect(noPrefix.status).toBe(404);
    expect(c.violations.map((v) => v.kind)).toEqual(['route']);
    expect(c.count('getConfig')).toBe(2);
  });

  it('issues OAuth2 client-credentials tokens that expire, and answers 401 without a valid one', async () => {
    const c = await withTable({ auth: { oauth2: { clients: [{ id: 'exporter', secret: 's3cret' }], tokenLifetimeSeconds: 1 } } });
    const form = (secret: string) => fetch(`${c.uri}/v1/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'exporter', client_secret: secret, scope: 'catalog' }),
    });
    const bad = await form('nope');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });

    const res = await form('s3cret');
    expect(res.status).toBe(200);
    const token = await res.json() as Json;
    expect(token).toMatchObject({ token_type: 'bearer', expires_in: 1 });
    const auth = { authorization: `Bearer ${String(token.access_token)}` };

    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'))).status).toBe(401);
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { authorization: 'Bearer forged' } })).status).toBe(401);
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: auth })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: auth });
    expect(expired.status).toBe(401);
    expect((expired.body.error as Json).type).toBe('NotAuthorizedException');
    expect(c.violations).toEqual([]);
  });

  it('expireTokensNow invalidates issued tokens; static bearer tokens keep working', async () => {
    const c = await withTable({ auth: { bearerTokens: ['static-token'], oauth2: { clients: [{ id: 'a', secret: 'b' }] }, expiredStatus: 419 } });
    const res = await fetch(`${c.uri}/v1/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a&client_secret=b',
    });
    const { access_token } = await res.json() as { access_token: string };
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
    c.inject({ expireTokensNow: true });
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(419);
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { authorization: 'Bearer static-token' } })).status).toBe(200);
    expect(c.violations).toEqual([]);
  });

  it('verifies SigV4 signatures (double-encoded path, body hash) and rejects a wrong one with 403', async () => {
    const sigv4 = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-key', region: 'us-east-1', service: 'glue' };
    const prefix = 'catalogs/arn%3Aaws%3As3tables%3Aus-east-1%3A1%3Abucket%2Fb';
    const c = await start({ prefix, auth: { sigv4 } });
    c.createNamespace(['a', 'b c']);
    const url = new URL(`${c.uri}/v1/${prefix}/namespaces/a%1Fb%20c`);
    const send = async (secret: string) => {
      const signer = new SignatureV4({ ...sigv4, credentials: { accessKeyId: sigv4.accessKeyId, secretAccessKey: secret }, sha256: NodeSha256 });
      const signed = await signer.sign({
        method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
        headers: { host: url.host, accept: 'application/json' },
      });
      return fetch(url, { headers: signed.headers as Record<string, string> });
    };
    const ok = await send('secret-key');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ namespace: ['a', 'b c'], properties: {} });
    expect((await send('wrong-key')).status).toBe(403);
    expect((await fetch(url)).status).toBe(403);
    // a body other than the one that was signed
    const create = new URL(`${c.uri}/v1/${prefix}/namespaces`);
    const signer = new SignatureV4({ ...sigv4, credentials: sigv4, sha256: NodeSha256 });
    const signBody = (body: string) => signer.sign({
      method: 'POST', protocol: 'http:', hostname: create.hostname, port: Number(create.port), path: create.pathname, query: {},
      headers: { host: create.host, 'content-type': 'application/json' }, body,
    });
    const good = await signBody('{"namespace":["n1"]}');
    const tampered = await fetch(create, { method: 'POST', headers: good.headers as Record<string, string>, body: '{"namespace":["n2"]}' });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('x-amz-content-sha256 does not match');
    const sent = await fetch(create, { method: 'POST', headers: good.headers as Record<string, string>, body: '{"namespace":["n1"]}' });
    expect(sent.status).toBe(200);
    expect(c.violations).toEqual([]);
  });
});

describeFixtures('iceberg test catalog: namespaces and tables', OPENAPI_SPEC_FIXTURE, () => {
  it('creates and lists namespaces, creates a table over REST and loads it with vended credentials', async () => {
    const c = await start({
      vendedCredentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'tok', ttlMs: 60_000, endpoint: 'http://127.0.0.1:1', pathStyle: true },
    });
    expect((await call(c, 'POST', `/v1/test/namespaces`, { body: { namespace: ['db'], properties: { owner: 'x' } } })).status).toBe(200);
    expect((await call(c, 'POST', `/v1/test/namespaces`, { body: { namespace: ['db'] } })).status).toBe(409);
    expect((await call(c, 'HEAD', `/v1/test/namespaces/db`)).status).toBe(204);
    expect((await call(c, 'HEAD', `/v1/test/namespaces/nope`)).status).toBe(404);
    expect((await call(c, 'GET', `/v1/test/namespaces`)).body).toEqual({ namespaces: [['db']] });

    const created = await call(c, 'POST', `/v1/test/namespaces/db/tables`, { body: { name: 'events', schema: SCHEMA, properties: { 'write.format.default': 'parquet' } } });
    expect(created.status).toBe(200);
    const location = String(created.body['metadata-location']);
    expect(location).toMatch(/\/db\/events\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/);
    const onDisk = parseJson(await readFile(c.localPath(location), 'utf8')) as Json;
    expect(onDisk).toEqual(created.body.metadata);
    expect(onDisk).toMatchObject({ 'format-version': 2, 'last-column-id': 4, 'last-sequence-number': 0, 'current-snapshot-id': -1 });

    const plain = await call(c, 'GET', `/v1/test/namespaces/db/tables/events?snapshots=all`);
    expect(plain.status).toBe(200);
    expect(plain.body.config).toEqual({});
    expect(plain.body['storage-credentials']).toBeUndefined();
    const before = Date.now();
    const vended = await call(c, 'GET', `/v1/test/namespaces/db/tables/events`, { headers: { 'x-iceberg-access-delegation': 'vended-credentials' } });
    const cfg = vended.body.config as Record<string, string>;
    expect(cfg).toMatchObject({ 's3.access-key-id': 'AK', 's3.secret-access-key': 'SK', 's3.session-token': 'tok-1', 's3.path-style-access': 'true' });
    expect(Number(cfg['s3.session-token-expires-at-ms'])).toBeGreaterThanOrEqual(before + 60_000);
    expect(vended.body['storage-credentials']).toEqual([{ prefix: String(onDisk.location), config: cfg }]);

    c.inject({ vendedCredentialsTtlMs: 500 });
    const refreshed = await call(c, 'GET', `/v1/test/namespaces/db/tables/events/credentials`);
    const creds = (refreshed.body['storage-credentials'] as { config: Record<string, string> }[])[0]!.config;
    expect(creds['s3.session-token']).toBe('tok-2');
    expect(Number(creds['s3.session-token-expires-at-ms']) - Date.now()).toBeLessThanOrEqual(500);
    expect((await call(c, 'GET', `/v1/test/namespaces/db/tables/nope`)).status).toBe(404);
    expect(c.violations).toEqual([]);
    // in the spec but not implemented here: 501 and a recorded violation
    expect((await call(c, 'DELETE', `/v1/test/namespaces/db/tables/events`)).status).toBe(501);
    expect(c.violations).toMatchObject([{ kind: 'route', operation: 'dropTable' }]);
  });

  it('answers 304 for an unchanged table given its ETag, and filters snapshots=refs', async () => {
    const c = await withTable();
    const first = await call(c, 'GET', TABLE_PATH(c, 'db', 'events'));
    const etag = first.headers.get('etag')!;
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    const firstId = await c.advanceMain(['db'], 'events');
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'events'), { headers: { 'if-none-match': etag } })).status).toBe(200);
    // with no parent, the other writer's snapshot names an empty (but valid Avro) manifest list
    const list = String((c.table(['db'], 'events').metadata.snapshots as Json[])[0]!['manifest-list']);
    expect(list).toContain(`/metadata/snap-${firstId}-1-`);
    const rows: unknown[] = [];
    await new Promise<void>((ok, fail) => avro.createFileDecoder(c.localPath(list)).on('data', (r: unknown) => rows.push(r)).on('end', ok).on('error', fail));
    expect(rows).toEqual([]);
    const second = await c.advanceMain(['db'], 'events');
    const all = await call(c, 'GET', `${TABLE_PATH(c, 'db', 'events')}?snapshots=all`);
    const refs = await call(c, 'GET', `${TABLE_PATH(c, 'db', 'events')}?snapshots=refs`);
    expect(((all.body.metadata as Json).snapshots as unknown[]).length).toBe(2);
    expect(((refs.body.metadata as Json).snapshots as Json[]).map((s) => s['snapshot-id'])).toEqual([second]);
    expect(c.violations).toEqual([]);
  });

  it('readerFetch serves file:// table files from serveWarehouse()', async () => {
    const c = await withTable();
    await c.serveWarehouse();
    const location = c.table(['db'], 'events').metadataLocation;
    expect(location.startsWith('file://')).toBe(true);
    const res = await c.readerFetch()(location);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(await readFile(c.localPath(location), 'utf8'));
    const ranged = await fetch(c.httpUrl(location), { headers: { range: 'bytes=0-0' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('{');
  });

  it('keeps metadata of s3:// tables on the loopback S3 server', async () => {
    const s3 = await startS3Server({ bucket: 'lake' });
    try {
      const c = await start({ s3: s3.direct });
      await c.createTable(['db'], 'events', { schema: SCHEMA, location: 's3://lake/wh/db/events' });
      const res = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, null, 1) });
      expect(res.status).toBe(200);
      const keys = (await s3.listKeys('wh/db/events/metadata/')).sort();
      const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
      expect(keys.map((k) => k.replace(uuid, 'U'))).toEqual(['wh/db/events/metadata/00000-U.metadata.json', 'wh/db/events/metadata/00001-U.metadata.json']);
      expect(String(res.body['metadata-location'])).toBe(`s3://lake/${keys[1]}`);
      expect(c.violations).toEqual([]);
    } finally {
      await s3.stop();
    }
  });
});

describeFixtures('iceberg test catalog: commits', OPENAPI_SPEC_FIXTURE, () => {
  it('applies a commit and writes new metadata with the exact 19-digit snapshot id', async () => {
    const c = await withTable();
    const before = c.table(['db'], 'events').metadataLocation;
    const res = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, null, 1) });
    expect(res.status).toBe(200);
    expect(res.text).toContain('"current-snapshot-id":9158179788527662767');
    const meta = res.body.metadata as Json;
    expect(meta['current-snapshot-id']).toBe(BIG_ID);
    expect(meta.refs).toEqual({ main: { 'snapshot-id': BIG_ID, type: 'branch' } });
    expect(meta['last-sequence-number']).toBe(1);
    expect(meta['snapshot-log']).toEqual([{ 'timestamp-ms': 1_767_225_600_000, 'snapshot-id': BIG_ID }]);
    expect(meta['metadata-log']).toEqual([{ 'timestamp-ms': expect.any(Number), 'metadata-file': before }]);

    const location = String(res.body['metadata-location']);
    expect(location).toMatch(/\/metadata\/00001-[0-9a-f-]{36}\.metadata\.json$/);
    const text = await readFile(c.localPath(location), 'utf8');
    expect(text).toMatch(/"current-snapshot-id": 9158179788527662767,/);
    expect(parseJson(text)).toEqual(meta);
    const dir = c.localPath(location.replace(/\/[^/]+$/, ''));
    expect(await readFile(join(dir, 'version-hint.text'), 'utf8')).toBe('1');
    expect(await readFile(join(dir, 'v1.metadata.json'), 'utf8')).toBe(text);
    expect(c.mainSnapshotId(['db'], 'events')).toBe(BIG_ID);
    expect(c.violations).toEqual([]);
  });

  it('answers 409 when another writer moved main, and leaves the table as that writer left it', async () => {
    const c = await withTable();
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, null, 1) })).status).toBe(200);
    const other = await c.advanceMain(['db'], 'events');
    const stale = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', 1234567890123456789n, BIG_ID, 3) });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ type: 'CommitFailedException', code: 409 });
    expect(String((stale.body.error as Json).message)).toContain(`expected id ${BIG_ID} != ${other}`);
    expect(c.mainSnapshotId(['db'], 'events')).toBe(other);
    expect(c.table(['db'], 'events').history).toHaveLength(3);

    // null means "main must not exist"
    const asNew = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', 1234567890123456789n, null, 3) });
    expect(asNew.status).toBe(409);
    // wrong table uuid
    const body = appendCommit(c, ['db'], 'events', 1234567890123456789n, other, 3);
    body.requirements[0] = { type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' };
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(409);
    const schemaReq = appendCommit(c, ['db'], 'events', 1234567890123456789n, other, 3);
    (schemaReq.requirements as unknown[]).push({ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 3 });
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: schemaReq })).status).toBe(409);
    // the same on the current head succeeds
    const good = appendCommit(c, ['db'], 'events', 1234567890123456789n, other, 3);
    (good.requirements as unknown[]).push({ type: 'assert-current-schema-id', 'current-schema-id': 0 }, { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 4 });
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: good })).status).toBe(200);
    expect(c.violations).toEqual([]);
  });

  it('rejects a stale sequence number with 409, a duplicate snapshot and an unsupported update with 400', async () => {
    const c = await withTable();
    await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, null, 1) });
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', 42n, BIG_ID, 1) })).status).toBe(409);
    const dup = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, BIG_ID, 2) });
    expect(dup.status).toBe(400);
    const addSchema = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), {
      body: { requirements: [], updates: [{ action: 'add-schema', schema: { ...SCHEMA, 'schema-id': 1 } }] },
    });
    expect(addSchema.status).toBe(400);
    expect(String((addSchema.body.error as Json).message)).toContain('add-schema');
    const props = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), {
      body: { requirements: [], updates: [{ action: 'set-properties', updates: { a: '1', b: '2' } }, { action: 'remove-properties', removals: ['a'] }] },
    });
    expect((props.body.metadata as Json).properties).toEqual({ b: '2' });
    expect(c.violations).toEqual([]);
  });

  it('lets exactly one of two concurrent commits on the same parent win', async () => {
    const c = await withTable();
    const [a, b] = await Promise.all([
      call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', 1000000000000000001n, null, 1) }),
      call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', 1000000000000000002n, null, 1) }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect(c.table(['db'], 'events').metadata.snapshots).toHaveLength(1);
    expect(c.violations).toEqual([]);
  });

  it('injected conflicts answer 409 without applying; the next commit goes through', async () => {
    const c = await withTable();
    c.inject({ conflicts: 2 });
    const body = appendCommit(c, ['db'], 'events', BIG_ID, null, 1);
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(409);
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(409);
    expect(c.mainSnapshotId(['db'], 'events')).toBeNull();
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(200);
    expect(c.requests.filter((r) => r.operation === 'updateTable').map((r) => r.status)).toEqual([409, 409, 200]);
    expect(c.violations).toEqual([]);
  });

  it('5xx after commit applies the snapshot (state unknown); 5xx before commit does not', async () => {
    const c = await withTable();
    c.inject({ failAfterCommit: 1, status: 502 });
    const body = appendCommit(c, ['db'], 'events', BIG_ID, null, 1);
    const res = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ type: 'CommitStateUnknownException', code: 502 });
    const loaded = await call(c, 'GET', TABLE_PATH(c, 'db', 'events'));
    expect((loaded.body.metadata as Json)['current-snapshot-id']).toBe(BIG_ID);
    // a blind retry of the same request now conflicts: main is no longer empty
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(409);

    c.inject({ failBeforeCommit: 1, status: 503, retryAfterSeconds: 2 });
    const next = appendCommit(c, ['db'], 'events', 1111111111111111111n, BIG_ID, 2);
    const unavailable = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: next });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('2');
    expect(c.mainSnapshotId(['db'], 'events')).toBe(BIG_ID);
    expect(c.requests.at(-1)!.injected).toBe('failBeforeCommit');
    expect(c.violations).toEqual([]);
  });

  it('a dropped response still applies the commit', async () => {
    const c = await withTable();
    c.inject({ dropResponse: 1 });
    await expect(call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: appendCommit(c, ['db'], 'events', BIG_ID, null, 1) })).rejects.toThrow();
    expect(c.mainSnapshotId(['db'], 'events')).toBe(BIG_ID);
    expect(c.requests.at(-1)).toMatchObject({ operation: 'updateTable', status: 0, injected: 'dropResponse' });
  });

  it('commits to v1 and v3 tables (v3: row lineage, no current-snapshot-id before the first snapshot)', async () => {
    const c = await start();
    const schema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'a', required: false, type: 'long' }] };
    await c.createTable(['db'], 'v1', { schema, formatVersion: 1 });
    await c.createTable(['db'], 'v3', { schema, formatVersion: 3 });
    expect((await call(c, 'GET', TABLE_PATH(c, 'db', 'v3'))).body.metadata).not.toHaveProperty('current-snapshot-id');
    const v3 = appendCommit(c, ['db'], 'v3', BIG_ID, null, 1);
    Object.assign(v3.updates[0]!.snapshot as Json, { 'first-row-id': 0, 'added-rows': 5 });
    const res = await call(c, 'POST', TABLE_PATH(c, 'db', 'v3'), { body: v3 });
    expect(res.status).toBe(200);
    expect((res.body.metadata as Json)['next-row-id']).toBe(5);
    const behind = appendCommit(c, ['db'], 'v3', 42n, BIG_ID, 2);
    Object.assign(behind.updates[0]!.snapshot as Json, { 'first-row-id': 4, 'added-rows': 1 });
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'v3'), { body: behind })).status).toBe(409);

    const v1 = appendCommit(c, ['db'], 'v1', BIG_ID, null, 1);
    delete (v1.updates[0]!.snapshot as Json)['sequence-number'];
    const r1 = await call(c, 'POST', TABLE_PATH(c, 'db', 'v1'), { body: v1 });
    expect(r1.status).toBe(200);
    expect(r1.body.metadata).not.toHaveProperty('last-sequence-number');
    expect(c.violations).toEqual([]);
  });

  it('replays the final reply for a repeated Idempotency-Key when advertised', async () => {
    const c = await withTable({ idempotencyKeyLifetime: 'PT30M' });
    expect((await call(c, 'GET', '/v1/config')).body['idempotency-key-lifetime']).toBe('PT30M');
    c.inject({ dropResponse: 1 });
    const body = appendCommit(c, ['db'], 'events', BIG_ID, null, 1);
    const headers = { 'idempotency-key': '0190c1f4-7a2b-7c3d-8e4f-000000000001' };
    await expect(call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body, headers })).rejects.toThrow();
    const again = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body, headers });
    expect(again.status).toBe(200);
    expect((again.body.metadata as Json)['current-snapshot-id']).toBe(BIG_ID);
    expect(c.requests.at(-1)!.injected).toBe('idempotentReplay');
    // without the key the same request is executed and conflicts
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body })).status).toBe(409);
    expect(c.table(['db'], 'events').history).toHaveLength(2);
    expect(c.violations).toEqual([]);
  });

  it('reports a request body that violates the spec (missing requirements) and applies nothing', async () => {
    const c = await withTable();
    const { updates } = appendCommit(c, ['db'], 'events', BIG_ID, null, 1);
    const res = await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: { updates } });
    expect(res.status).toBe(500);
    expect(String((res.body.error as Json).message)).toContain("required property 'requirements'");
    expect(c.violations).toHaveLength(1);
    expect(c.violations[0]).toMatchObject({ kind: 'request', method: 'POST', operation: 'updateTable' });
    expect(c.mainSnapshotId(['db'], 'events')).toBeNull();

    // a snapshot id sent as a string is as wrong as a missing field
    const quoted = appendCommit(c, ['db'], 'events', BIG_ID, null, 1);
    (quoted.updates[0]!.snapshot as Json)['snapshot-id'] = String(BIG_ID);
    expect((await call(c, 'POST', TABLE_PATH(c, 'db', 'events'), { body: quoted })).status).toBe(500);
    expect(c.violations[1]!.errors.join()).toContain('/updates/0/snapshot/snapshot-id must be integer');
  });
});

describeFixtures('OpenAPI validator', OPENAPI_SPEC_FIXTURE, () => {
  let v: OpenApiValidator;
  beforeAll(() => {
    v = OpenApiValidator.fromFile(OPENAPI_SPEC);
  });
  const T = '/v1/{prefix}/namespaces/{namespace}/tables/{table}';

  it('accepts 64-bit ids as bigint and rejects integers outside int64', () => {
    const snapshot = { 'snapshot-id': BIG_ID, 'timestamp-ms': 1, 'manifest-list': 'x', summary: { operation: 'append' } };
    expect(v.validateSchema('Snapshot', snapshot)).toEqual([]);
    expect(v.validateSchema('Snapshot', { ...snapshot, 'snapshot-id': 2n ** 63n })).toEqual([expect.stringContaining('outside int64')]);
  });

  it('applies discriminator mappings: a requirement must match its own type', () => {
    const body = (r: Json) => ({ requirements: [r], updates: [] });
    expect(v.validateRequest('POST', T, 'application/json', body({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }))).toEqual([]);
    expect(v.validateRequest('POST', T, 'application/json', body({ type: 'assert-ref-snapshot-id', ref: 'main' })))
      .toEqual([expect.stringContaining("required property 'snapshot-id'")]);
  });

  it('checks responses: status must be declared and the body must match', () => {
    expect(v.validateResponse('GET', '/v1/config', 200, { defaults: {}, overrides: {} })).toEqual([]);
    expect(v.validateResponse('GET', '/v1/config', 200, { defaults: {} })).toEqual([expect.stringContaining("required property 'overrides'")]);
    expect(v.validateResponse('POST', T, 409, { error: { message: 'm', type: 't', code: 409 } })).toEqual([]);
    expect(v.validateResponse('POST', T, 409, { message: 'm' })).not.toEqual([]);
    expect(v.validateResponse('HEAD', T, 304, undefined)).toEqual([expect.stringContaining('status 304 is not declared')]);
  });
});

describeFixtures('iceberg test catalog with the Java-written bunnies table', 'fixtures/iceberg-java-1.8.1-bunnies', (fixture) => {
  it('imports the table unchanged, and icebird reads it and our new metadata through serveWarehouse()', async () => {
    const c = await start();
    const imported = await c.importTable(['zoo'], 'bunnies', join(fixture, 'metadata', 'v2.metadata.json'));
    expect(await readFile(join(imported.dir, 'metadata', 'v2.metadata.json'))).toEqual(await readFile(join(fixture, 'metadata', 'v2.metadata.json')));
    expect((await readdir(join(imported.dir, 'data'))).sort()).toEqual((await readdir(join(fixture, 'data'))).sort());
    const loaded = await call(c, 'GET', TABLE_PATH(c, 'zoo', 'bunnies'));
    expect(loaded.body['metadata-location']).toBe('s3a://hyperparam-iceberg/java/bunnies/metadata/v2.metadata.json');
    expect((loaded.body.metadata as Json)['current-snapshot-id']).toBe(4951213507629824583n);

    await c.serveWarehouse();
    vi.stubGlobal('fetch', c.readerFetch());
    const tableUrl = c.httpUrl('s3a://hyperparam-iceberg/java/bunnies');
    const rows = await icebergRead({ tableUrl });
    expect(rows).toHaveLength(21);

    // a commit through the REST API: icebird follows version-hint.text to the new metadata
    const parent = 4951213507629824583n;
    const body = appendCommit(c, ['zoo'], 'bunnies', BIG_ID, parent, 2);
    const parentSnap = (c.table(['zoo'], 'bunnies').metadata.snapshots as Json[])[0]!;
    (body.updates[0]!.snapshot as Json)['manifest-list'] = parentSnap['manifest-list'];
    const committed = await call(c, 'POST', TABLE_PATH(c, 'zoo', 'bunnies'), { body });
    expect(committed.status).toBe(200);
    expect(String(committed.body['metadata-location'])).toMatch(/^s3a:\/\/hyperparam-iceberg\/java\/bunnies\/metadata\/00003-/);
    const meta = await icebergMetadata({ tableUrl }) as unknown as Json;
    expect(meta['current-snapshot-id']).toBe(Number(BIG_ID));
    expect((meta.snapshots as unknown[]).length).toBe(2);
    expect(await icebergRead({ tableUrl })).toHaveLength(21);
    expect(c.violations).toEqual([]);
  });
});
