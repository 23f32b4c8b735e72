/** Vended S3 credentials: selection by path, static overrides, refresh before expiry, use by the S3 client. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import {
  credentialFor, s3AccessFor, s3CredentialsForTable, VendedCredentialsProvider, type StorageConfig,
} from '../../../src/sinks/iceberg/credentials.js';
import { IcebergError } from '../../../src/sinks/iceberg/errors.js';
import { IcebergRestClient } from '../../../src/sinks/iceberg/rest-client.js';
import { loopbackServers, metadataText, sendJson } from './loopback-http.js';

const serve = loopbackServers();

const vendedConfig = (n: number, expiresAt: number): Record<string, string> => ({
  's3.access-key-id': `AK${n}`, 's3.secret-access-key': `SK${n}-secret`, 's3.session-token': `ST${n}`,
  's3.session-token-expires-at-ms': String(expiresAt),
});

describe('choosing vended credentials', () => {
  const storage: StorageConfig = {
    config: { 's3.access-key-id': 'AK-table', 's3.secret-access-key': 'SK-table', 'client.region': 'eu-west-1', 's3.endpoint': 'http://127.0.0.1:9000', 's3.path-style-access': 'true' },
    storageCredentials: [
      { prefix: 's3://b', config: { 's3.access-key-id': 'AK-bucket', 's3.secret-access-key': 'SK-bucket' } },
      { prefix: 's3://b/wh/db/t', config: { 's3.access-key-id': 'AK-long', 's3.secret-access-key': 'SK-long', 's3.session-token-expires-at-ms': '1700000000000' } },
      { prefix: 's3://other', config: { 's3.access-key-id': 'AK-other', 's3.secret-access-key': 'SK-other' } },
    ],
  };

  it('the longest matching prefix wins over config; config fills the rest', () => {
    expect(credentialFor('s3://b/wh/db/t/data/f.parquet', storage.storageCredentials)?.prefix).toBe('s3://b/wh/db/t');
    expect(credentialFor('s3://b/elsewhere', storage.storageCredentials)?.prefix).toBe('s3://b');
    expect(credentialFor('s3://c/x', storage.storageCredentials)).toBeUndefined();
    expect(s3AccessFor('s3://b/wh/db/t/data/f.parquet', storage)).toEqual({
      endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', pathStyleAccess: true,
      credentials: { accessKeyId: 'AK-long', secretAccessKey: 'SK-long', expiresAtMs: 1700000000000 },
    });
    expect(s3AccessFor('s3://c/x', storage).credentials?.accessKeyId).toBe('AK-table');
  });

  it('static catalog.iceberg-rest.s3.* keys override what is vended', () => {
    const overrides = parseCatalogSettings({ uri: 'http://h', 's3.access-key-id': 'AK-static', 's3.secret-access-key': 'SK-static', 's3.region': 'us-west-2', 's3.path-style-access': 'false' }, { env: {} }).s3;
    expect(s3AccessFor('s3://b/wh/db/t/x', storage, overrides)).toEqual({
      endpoint: 'http://127.0.0.1:9000', region: 'us-west-2', pathStyleAccess: false,
      credentials: { accessKeyId: 'AK-static', secretAccessKey: 'SK-static' },
    });
  });

  it('incomplete or malformed vended values are catalog errors naming the key, never echoing the secret', () => {
    const err = (() => {
      try {
        s3AccessFor('s3://b/x', { config: { 's3.secret-access-key': 'SK-hidden' }, storageCredentials: [] }, {}, 'db.t');
      } catch (e) {
        return e as IcebergError;
      }
      return expect.fail('expected an error');
    })();
    expect(err.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(err.context.table).toBe('db.t');
    expect(err.message).not.toContain('SK-hidden');
    expect(() => s3AccessFor('s3://b/x', { config: { ...vendedConfig(1, 0), 's3.session-token-expires-at-ms': 'soon' }, storageCredentials: [] }))
      .toThrow(/s3\.session-token-expires-at-ms/);
  });

  it('nothing vended and nothing static: no credentials (the AWS default chain applies)', () => {
    expect(s3AccessFor('s3://b/x', { config: { 'client.region': 'us-east-1' }, storageCredentials: [] })).toEqual({ region: 'us-east-1' });
  });
});

describe('refreshing vended credentials', () => {
  it('reloads before expires-at-ms minus the margin, not earlier', async () => {
    let now = 1_000_000;
    let reloads = 0;
    const p = new VendedCredentialsProvider({
      path: 's3://b/t/data', now: () => now, marginMs: 60_000,
      initial: { config: vendedConfig(0, 1_000_000 + 600_000), storageCredentials: [] },
      reload: async () => ({ config: vendedConfig(++reloads, now + 600_000), storageCredentials: [] }),
    });
    expect((await p.get()).accessKeyId).toBe('AK0');
    now += 539_999;
    expect((await p.get()).accessKeyId).toBe('AK0');
    now += 1;
    expect((await p.get()).accessKeyId).toBe('AK1');
    expect(reloads).toBe(1);
    const identity = await p.provider();
    expect(identity).toMatchObject({ accessKeyId: 'AK1', secretAccessKey: 'SK1-secret', sessionToken: 'ST1' });
    expect(identity.expiration?.getTime()).toBe(now + 600_000);
  });

  it('a failed refresh keeps still-valid credentials, and is ICEBERG_CREDENTIALS_EXPIRED once they expired', async () => {
    let now = 0;
    const p = new VendedCredentialsProvider({
      path: 's3://b/t', now: () => now, marginMs: 60_000, table: 'db.t',
      initial: { config: vendedConfig(0, 100_000), storageCredentials: [] },
      reload: async () => {
        throw new Error('catalog down');
      },
    });
    now = 50_000;
    expect((await p.get()).accessKeyId).toBe('AK0');
    now = 100_000;
    const err = (await p.get().catch((e: unknown) => e)) as IcebergError;
    expect(err).toBeInstanceOf(IcebergError);
    expect(err.code).toBe(ErrorCodes.ICEBERG_CREDENTIALS_EXPIRED);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('catalog down');
    expect(err.message).not.toContain('SK0-secret');
  });

  it('a catalog that stops vending, or vends expired keys, is ICEBERG_CREDENTIALS_EXPIRED', async () => {
    for (const reload of [
      async () => ({ config: {}, storageCredentials: [] }),
      async () => ({ config: vendedConfig(1, 10), storageCredentials: [] }),
    ]) {
      const p = new VendedCredentialsProvider({ path: 's3://b/t', now: () => 1000, initial: { config: vendedConfig(0, 500), storageCredentials: [] }, reload });
      await expect(p.get()).rejects.toMatchObject({ code: ErrorCodes.ICEBERG_CREDENTIALS_EXPIRED });
    }
  });
});

describe('through the catalog and the S3 client', () => {
  it('reloads via LoadTable, or via …/credentials when advertised', async () => {
    for (const advertised of [false, true]) {
      let n = 0;
      const server = await serve((req, res) => {
        if (req.path.endsWith('/v1/config')) {
          return sendJson(res, 200, JSON.stringify({ defaults: {}, overrides: {}, ...(advertised ? { endpoints: [
            'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}', 'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
            'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials',
          ] } : {}) }));
        }
        const creds = { 'storage-credentials': [{ prefix: 's3://b/wh', config: vendedConfig(++n, 10_000_000) }] };
        if (req.path.endsWith('/credentials')) return sendJson(res, 200, JSON.stringify(creds));
        return sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()},"config":{},"storage-credentials":${JSON.stringify(creds['storage-credentials'])}}`);
      });
      const client = new IcebergRestClient(parseCatalogSettings({ uri: server.url }, { env: {} }));
      const ident = { namespace: ['db'], name: 't' };
      const loaded = await client.loadTable(ident);
      let now = 9_999_000;
      const { access, provider } = s3CredentialsForTable({ client, ident, path: 's3://b/wh/db/t/data', loaded, now: () => now, marginMs: 60_000 });
      expect(access.credentials?.accessKeyId).toBe('AK1');
      const fresh = await provider!();
      expect(fresh.accessKeyId).toBe('AK2');
      const last = server.requests.at(-1)!;
      expect(last.path.endsWith('/credentials')).toBe(advertised);
      now = 0;
      expect((await provider!()).accessKeyId).toBe('AK2');
    }
  });

  it('the S3 client signs uploads with the vended key and session token', async () => {
    const s3 = await serve((_req, res) => {
      res.writeHead(200, { etag: '"abc"' });
      res.end();
    });
    const future = Date.now() + 3_600_000;
    const p = new VendedCredentialsProvider({ path: 's3://bucket/t', initial: { config: vendedConfig(7, future), storageCredentials: [] }, reload: async () => expect.fail('no reload expected') });
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials: p.provider });
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 't/data/f.parquet', Body: 'x' }));
    client.destroy();
    const put = s3.requests[0]!;
    expect(put.method).toBe('PUT');
    expect(String(put.headers.authorization)).toContain('Credential=AK7/');
    expect(put.headers['x-amz-security-token']).toBe('ST7');
  });
});
