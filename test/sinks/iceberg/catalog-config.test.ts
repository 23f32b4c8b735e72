/** catalog.iceberg-rest.* keys → CatalogSettings; every error names the full key and hides secrets. */
import { describe, expect, it } from 'vitest';
import { catalogProperties, defaultSigningName, parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import { configError } from '../../support/errors.js';

const NO_ENV = { env: {} };

describe('catalog settings', () => {
  it('takes the catalog.iceberg-rest.* keys of a task config', () => {
    expect(catalogProperties({ 'catalog.iceberg-rest.uri': 'http://x', 'externalTable.name': 'a.b', 'catalog.iceberg-rest.header.X-A': '1' }))
      .toEqual({ uri: 'http://x', 'header.X-A': '1' });
  });

  it('no auth keys: none; uri trailing slash dropped; warehouse, prefix, headers, unused keys', () => {
    const s = parseCatalogSettings({
      uri: 'http://127.0.0.1:8181/api/catalog/', warehouse: 'wh', prefix: '/p1/', 'header.Polaris-Realm': 'r1',
      'header.X-Iceberg-Access-Delegation': 'vended-credentials', 'io-impl': 'x', 'client.region': 'eu-west-1',
    }, NO_ENV);
    expect(s.uri).toBe('http://127.0.0.1:8181/api/catalog');
    expect(s.auth).toEqual({ type: 'none' });
    expect(s.warehouse).toBe('wh');
    expect(s.prefix).toBe('p1');
    expect(s.headers).toEqual({ 'Polaris-Realm': 'r1', 'X-Iceberg-Access-Delegation': 'vended-credentials' });
    expect(s.unused).toEqual(['client.region', 'io-impl']);
    expect(s.requestTimeoutMs).toBe(30_000);
    expect(s.maxRetries).toBe(5);
  });

  it('token → static bearer via oauth2; credential id:secret with default scope and token endpoint', () => {
    expect(parseCatalogSettings({ uri: 'https://c.example/api', token: 'tok-123' }, NO_ENV).auth)
      .toEqual({ type: 'oauth2', token: 'tok-123', scope: 'catalog', serverUri: 'https://c.example/api/v1/oauth/tokens' });
    expect(parseCatalogSettings({ uri: 'https://c.example/api', credential: 'root:s3cr3t', scope: 'PRINCIPAL_ROLE:ALL' }, NO_ENV).auth)
      .toEqual({ type: 'oauth2', clientId: 'root', clientSecret: 's3cr3t', scope: 'PRINCIPAL_ROLE:ALL', serverUri: 'https://c.example/api/v1/oauth/tokens' });
    expect(parseCatalogSettings({ uri: 'https://c.example/api', credential: 'onlysecret', 'oauth2-server-uri': 'https://idp.example/token' }, NO_ENV).auth)
      .toMatchObject({ clientSecret: 'onlysecret', serverUri: 'https://idp.example/token' });
    expect(parseCatalogSettings({ uri: 'https://c.example/api', credential: 'a:b:c' }, NO_ENV).auth).toMatchObject({ clientId: 'a', clientSecret: 'b:c' });
  });

  it('SigV4: signing name and region from Glue / S3 Tables hosts, execute-api elsewhere', () => {
    const glue = parseCatalogSettings({ uri: 'https://glue.us-east-1.amazonaws.com/iceberg', 'rest.sigv4-enabled': 'true' }, NO_ENV).auth;
    expect(glue).toEqual({ type: 'sigv4', signingName: 'glue', signingRegion: 'us-east-1', delegate: { type: 'none' } });
    const s3t = parseCatalogSettings({ uri: 'https://s3tables.eu-central-1.amazonaws.com/iceberg', 'rest.auth.type': 'SIGV4',
      'rest.access-key-id': 'AKIDEXAMPLE', 'rest.secret-access-key': 'wJalrXUtnFEMI', 'rest.session-token': 'sess' }, NO_ENV).auth;
    expect(s3t).toEqual({ type: 'sigv4', signingName: 's3tables', signingRegion: 'eu-central-1', delegate: { type: 'none' },
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: 'sess' } });
    const gw = parseCatalogSettings({ uri: 'https://abc.execute-api.us-west-2.amazonaws.com/prod', 'rest.sigv4-enabled': 'true' }, NO_ENV).auth;
    expect(gw).toMatchObject({ signingName: 'execute-api', signingRegion: 'us-west-2' });
    const custom = parseCatalogSettings({ uri: 'http://127.0.0.1:9/x', 'rest.sigv4-enabled': 'true', 'rest.signing-name': 'glue', token: 't0k3n' },
      { env: { AWS_REGION: 'ap-south-1' } }).auth;
    expect(custom).toMatchObject({ signingName: 'glue', signingRegion: 'ap-south-1', delegate: { type: 'oauth2', token: 't0k3n' } });
    expect(defaultSigningName('glue.cn-north-1.amazonaws.com.cn')).toBe('glue');
    expect(defaultSigningName('glue.example.com')).toBe('execute-api');
  });

  it('s3.* static overrides', () => {
    const s = parseCatalogSettings({ uri: 'http://h/', 's3.endpoint': 'http://127.0.0.1:9000', 's3.region': 'us-east-1',
      's3.path-style-access': 'TRUE', 's3.access-key-id': 'AK', 's3.secret-access-key': 'SK' }, NO_ENV);
    expect(s.s3).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', pathStyleAccess: true, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
  });
});

describe('invalid catalog settings name the key', () => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'catalog.iceberg-rest.uri'],
    [{ uri: 'ftp://x' }, 'catalog.iceberg-rest.uri'],
    [{ uri: 'not a url' }, 'catalog.iceberg-rest.uri'],
    [{ uri: 'http://h', 'rest.auth.type': 'google' }, 'catalog.iceberg-rest.rest.auth.type'],
    [{ uri: 'http://h', 'rest.auth.type': 'oauth2' }, 'catalog.iceberg-rest.credential'],
    [{ uri: 'http://h', 'rest.sigv4-enabled': 'yes' }, 'catalog.iceberg-rest.rest.sigv4-enabled'],
    [{ uri: 'http://h', 'rest.sigv4-enabled': 'true' }, 'catalog.iceberg-rest.rest.signing-region'],
    [{ uri: 'http://h', 'rest.sigv4-enabled': 'true', 'rest.signing-region': 'moon' }, 'catalog.iceberg-rest.rest.signing-region'],
    [{ uri: 'https://glue.us-east-1.amazonaws.com/iceberg', 'rest.sigv4-enabled': 'true', 'rest.access-key-id': 'AK' }, 'catalog.iceberg-rest.rest.secret-access-key'],
    [{ uri: 'http://h', 's3.secret-access-key': 'SK' }, 'catalog.iceberg-rest.s3.access-key-id'],
    [{ uri: 'http://h', 's3.endpoint': 'localhost:9000' }, 'catalog.iceberg-rest.s3.endpoint'],
    [{ uri: 'http://h', 's3.path-style-access': 'on' }, 'catalog.iceberg-rest.s3.path-style-access'],
    [{ uri: 'http://h', 'header.Bad Name': 'x' }, 'catalog.iceberg-rest.header.Bad Name'],
    [{ uri: 'http://h', 'rest.client.max-retries': '-1' }, 'catalog.iceberg-rest.rest.client.max-retries'],
    [{ uri: 'http://h', 'rest.auth.type': 'basic', 'rest.auth.basic.username': 'u' }, 'catalog.iceberg-rest.rest.auth.basic.password'],
  ];
  for (const [props, key] of cases) {
    it(`${JSON.stringify(props)} → ${key}`, () => {
      const err = configError(() => parseCatalogSettings(props, NO_ENV));
      expect(err.context.key).toBe(key);
      expect(err.message).toContain(key);
    });
  }

  it('secrets never appear in the message', () => {
    const e1 = configError(() => parseCatalogSettings({ uri: 'http://user:hunter22@h/x' }, NO_ENV));
    expect(e1.message).not.toContain('hunter22');
    const e2 = configError(() => parseCatalogSettings({ uri: 'http://h', 'header.Authorization': 'Bearer topsecret\r\nX: y' }, NO_ENV));
    expect(e2.message).not.toContain('topsecret');
    const e3 = configError(() => parseCatalogSettings({ uri: 'http://h', 's3.secret-access-key': 'wJalrXUtnFEMIK7MDENG' }, NO_ENV));
    expect(e3.message).not.toContain('wJalrXUtnFEMIK7MDENG');
  });
});
