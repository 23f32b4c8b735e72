/**
 * SigV4 signing of catalog requests, verified by an independent implementation of the AWS algorithm written
 * here with node:crypto (itself checked against AWS's published `get-vanilla` test vector), so a bug in how
 * we drive @smithy/signature-v4 cannot hide behind the same library on both sides.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import { IcebergRestClient } from '../../../src/sinks/iceberg/rest-client.js';
import { EMPTY_SHA256 } from '../../../src/sinks/iceberg/sigv4.js';
import { loopbackServers, metadataText, sendJson, type Recorded } from './loopback-http.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();
/** RFC 3986 unreserved characters stay; everything else %XX (uppercase), as AWS requires. */
const awsEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Recomputes the signature of a received request; returns it with the one the client sent. */
function verify(req: Recorded, secret: string, doubleEncode: boolean): { expected: string; actual: string; signedHeaders: string[] } {
  const auth = String(req.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (m === null) throw new Error(`not a SigV4 Authorization header: ${auth}`);
  const [, , date, region, service, signed, actual] = m as unknown as string[];
  const signedHeaders = signed!.split(';');
  const canonicalUri = doubleEncode ? req.path.split('/').map(awsEncode).join('/') : req.path;
  const query = [...req.query].map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).sort().join('&');
  const headers = signedHeaders.map((h) => `${h}:${String(req.headers[h]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = String(req.headers['x-amz-content-sha256'] ?? sha256(req.body));
  const canonical = [req.method, canonicalUri, query, headers, signed, payload].join('\n');
  const amzDate = String(req.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return { expected: hmac(key, toSign).toString('hex'), actual: actual!, signedHeaders };
}

describe('the independent verifier', () => {
  it('reproduces AWS SigV4 test suite vector get-vanilla', () => {
    const req: Recorded = {
      method: 'GET', rawUrl: '/', path: '/', query: new URLSearchParams(), body: '',
      headers: {
        host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
    };
    const r = verify(req, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', true);
    expect(r.expected).toBe(r.actual);
  });
});

const serve = loopbackServers();

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const S3T_PREFIX = 'arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Fmy-bucket';

async function signedCatalog(extra: Record<string, string> = {}) {
  const server = await serve((req, res) => {
    if (req.path.endsWith('/v1/config')) return sendJson(res, 200, JSON.stringify({ defaults: {}, overrides: { prefix: S3T_PREFIX } }));
    return sendJson(res, 200, `{"metadata-location":"x","metadata":${metadataText()}}`);
  });
  const settings = parseCatalogSettings({
    uri: `${server.url}/iceberg`, 'rest.sigv4-enabled': 'true', 'rest.signing-name': 's3tables', 'rest.signing-region': 'us-east-1',
    'rest.access-key-id': 'AKIDEXAMPLE', 'rest.secret-access-key': SECRET, 'rest.session-token': 'session-token-xyz',
    warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/my-bucket', 'header.X-Custom': 'c1', ...extra,
  }, { env: {} });
  return { server, client: new IcebergRestClient(settings) };
}

describe('SigV4 on every catalog request', () => {
  it('config, LoadTable and CommitTable verify independently with a double-encoded canonical path', async () => {
    const { server, client } = await signedCatalog();
    const t = { namespace: ['analytics', 'raw'], name: 'events' };
    await client.loadTable(t);
    await client.commitTable(t, { requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 9158179788527662767n }], updates: [] });
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
    for (const req of server.requests) {
      const r = verify(req, SECRET, true);
      expect(r.expected, `${req.method} ${req.rawUrl}`).toBe(r.actual);
      expect(r.signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token', 'x-custom']));
      expect(req.headers['x-amz-security-token']).toBe('session-token-xyz');
      expect(String(req.headers.authorization)).toContain('/us-east-1/s3tables/aws4_request');
    }
    const [config, load, commit] = server.requests;
    expect(config!.headers['x-amz-content-sha256']).toBe(EMPTY_SHA256);
    expect(load!.path).toBe(`/iceberg/v1/${S3T_PREFIX}/namespaces/analytics%1Fraw/tables/events`);
    expect(commit!.headers['x-amz-content-sha256']).toBe(sha256(commit!.body));
    expect(commit!.body).toContain('9158179788527662767');
  });

  it('the path %3A / %1F must be signed double-encoded: single encoding does not verify', async () => {
    const { server, client } = await signedCatalog();
    await client.loadTable({ namespace: ['a', 'b'], name: 't' });
    const load = server.requests[1]!;
    expect(load.path).toContain('%3A');
    const single = verify(load, SECRET, false);
    expect(single.expected).not.toBe(single.actual);
    const double = verify(load, SECRET, true);
    expect(double.expected).toBe(double.actual);
  });

  it('a delegate bearer token moves to Original-Authorization and is covered by the signature', async () => {
    const { server, client } = await signedCatalog({ token: 'delegate-token-1' });
    await client.loadConfig();
    const req = server.requests[0]!;
    expect(req.headers['original-authorization']).toBe('Bearer delegate-token-1');
    const r = verify(req, SECRET, true);
    expect(r.signedHeaders).toContain('original-authorization');
    expect(r.expected).toBe(r.actual);
  });
});
