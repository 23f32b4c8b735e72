/** OAuth2 client credentials, static bearer and Basic auth against a loopback token endpoint and catalog. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { jwtExpiry, OAuth2Auth, type SignableRequest } from '../../../src/sinks/iceberg/auth.js';
import { parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import { IcebergError } from '../../../src/sinks/iceberg/errors.js';
import { IcebergRestClient } from '../../../src/sinks/iceberg/rest-client.js';
import { errorModel, loopbackServers, sendJson } from './loopback-http.js';

const serve = loopbackServers();

function jwt(expSeconds: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: expSeconds })}.sig`;
}

/** A catalog that accepts only the latest issued token and a token endpoint issuing tok-1, tok-2 … */
async function catalogWithTokens(expiresIn: number | undefined) {
  let issued = 0;
  const state = { valid: '', forms: [] as URLSearchParams[] };
  const server = await serve((req, res) => {
    if (req.path === '/api/v1/oauth/tokens') {
      state.forms.push(new URLSearchParams(req.body));
      state.valid = `tok-${++issued}`;
      return sendJson(res, 200, JSON.stringify({ access_token: state.valid, token_type: 'bearer', ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) }));
    }
    if (req.headers.authorization !== `Bearer ${state.valid}`) return sendJson(res, 401, errorModel(401, 'NotAuthorizedException', 'token expired'));
    return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
  });
  return { server, state, issuedCount: () => issued, revoke: () => { state.valid = 'revoked'; } };
}

function request(): SignableRequest {
  return { method: 'GET', url: new URL('http://127.0.0.1/x'), headers: {} };
}

describe('OAuth2 client credentials', () => {
  it('fetches a token with the form body Java sends (client_id, client_secret, scope) and uses it as bearer', async () => {
    const { server, state } = await catalogWithTokens(3600);
    const settings = parseCatalogSettings({ uri: `${server.url}/api`, credential: 'client-a:secret-b', scope: 'PRINCIPAL_ROLE:ALL', 'header.Polaris-Realm': 'r7' }, { env: {} });
    await new IcebergRestClient(settings).loadConfig();
    const token = server.requests[0]!;
    expect(token.method).toBe('POST');
    expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(token.headers['polaris-realm']).toBe('r7');
    expect(Object.fromEntries(state.forms[0]!)).toEqual({ grant_type: 'client_credentials', client_id: 'client-a', client_secret: 'secret-b', scope: 'PRINCIPAL_ROLE:ALL' });
    expect(server.requests[1]!.headers.authorization).toBe('Bearer tok-1');
  });

  it('refreshes before expiry: at expiry − min(lifetime/10, 5 min)', async () => {
    const { server, issuedCount } = await catalogWithTokens(100); // 100 s lifetime → refresh 10 s before expiry
    let now = 1_000_000;
    const auth = new OAuth2Auth({ type: 'oauth2', clientSecret: 's', scope: 'catalog', serverUri: `${server.url}/api/v1/oauth/tokens` }, { now: () => now });
    const r = request();
    await auth.authorize(r);
    expect(r.headers.authorization).toBe('Bearer tok-1');
    now += 89_000;
    await auth.authorize(r);
    expect(issuedCount()).toBe(1);
    now += 1_000; // 90 s: refresh due
    await auth.authorize(r);
    expect(r.headers.authorization).toBe('Bearer tok-2');
    expect(issuedCount()).toBe(2);
  });

  it('a long-lived token refreshes 5 minutes before expiry', async () => {
    const { server, issuedCount } = await catalogWithTokens(3600);
    let now = 0;
    const auth = new OAuth2Auth({ type: 'oauth2', clientSecret: 's', scope: 'catalog', serverUri: `${server.url}/api/v1/oauth/tokens` }, { now: () => now });
    await auth.authorize(request());
    now = 3_600_000 - 300_001;
    await auth.authorize(request());
    expect(issuedCount()).toBe(1);
    now += 1;
    await auth.authorize(request());
    expect(issuedCount()).toBe(2);
  });

  for (const status of [401, 419]) it(`a token rejected mid-session (HTTP ${status}) is replaced and the request resent once`, async () => {
    let issued = 0;
    let valid = '';
    const server = await serve((req, res) => {
      if (req.path === '/tok') {
        valid = `tok-${++issued}`;
        return sendJson(res, 200, JSON.stringify({ access_token: valid, token_type: 'bearer' }));
      }
      if (req.path.endsWith('/v1/config')) return sendJson(res, 200, '{"defaults":{},"overrides":{}}');
      if (req.headers.authorization !== `Bearer ${valid}`) return sendJson(res, status, errorModel(status, 'NotAuthorizedException', 'expired'));
      return sendJson(res, 404, errorModel(404, 'NoSuchTableException', 'no table'));
    });
    const c = new IcebergRestClient(parseCatalogSettings({ uri: server.url, credential: 'id:sec', 'oauth2-server-uri': `${server.url}/tok` }, { env: {} }));
    await c.loadConfig();
    valid = 'rotated';
    const err = await c.loadTable({ namespace: ['db'], name: 't' }).catch((e: unknown) => e as IcebergError);
    expect((err as IcebergError).code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(issued).toBe(2);
    expect(server.requests.filter((r) => r.path.includes('/tables/')).map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
  });

  it('token endpoint errors are ICEBERG_AUTH_FAILED with the OAuth error, secret scrubbed', async () => {
    const server = await serve((_req, res) => sendJson(res, 401, JSON.stringify({ error: 'invalid_client', error_description: 'unknown client x with secret topsecret-99' })));
    const c = new IcebergRestClient(parseCatalogSettings({ uri: server.url, credential: 'x:topsecret-99' }, { env: {} }));
    const err = (await c.loadConfig().catch((e: unknown) => e)) as IcebergError;
    expect(err).toBeInstanceOf(IcebergError);
    expect(err.code).toBe(ErrorCodes.ICEBERG_AUTH_FAILED);
    expect(err.message).toContain('invalid_client');
    expect(err.message).not.toContain('topsecret-99');
    expect(err.context.uri).toBe(`${server.url}/v1/oauth/tokens`);
  });
});

describe('static token and basic auth', () => {
  it('a static token is sent as bearer; a 401 is ICEBERG_AUTH_FAILED without resending', async () => {
    const server = await serve((_req, res) => sendJson(res, 401, errorModel(401, 'NotAuthorizedException', 'nope')));
    const c = new IcebergRestClient(parseCatalogSettings({ uri: server.url, token: 'static-tok-55' }, { env: {} }));
    const err = (await c.loadConfig().catch((e: unknown) => e)) as IcebergError;
    expect(err.code).toBe(ErrorCodes.ICEBERG_AUTH_FAILED);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer static-tok-55');
    expect(err.message).not.toContain('static-tok-55');
  });

  it('a JWT static token expires at its exp claim', () => {
    expect(jwtExpiry(jwt(1_700_000_000))).toBe(1_700_000_000_000);
    expect(jwtExpiry('opaque-token')).toBeUndefined();
  });

  it('basic auth', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, '{"defaults":{},"overrides":{}}'));
    await new IcebergRestClient(parseCatalogSettings({ uri: server.url, 'rest.auth.type': 'basic', 'rest.auth.basic.username': 'u', 'rest.auth.basic.password': 'p:w' }, { env: {} })).loadConfig();
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p:w').toString('base64')}`);
  });
});
