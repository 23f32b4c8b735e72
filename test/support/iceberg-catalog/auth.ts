/**
 * Authentication of the test catalog: static bearer tokens, OAuth2 client credentials (tokens that expire)
 * and AWS SigV4 verification. Each check answers what a real catalog would: 401 (or 419 if configured) for
 * a missing/expired/unknown bearer, 403 for a SigV4 signature that does not verify.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CatalogHttpError } from './metadata.js';

export interface OAuthClient {
  id: string;
  secret: string;
}

export interface AuthOptions {
  /** Static bearer tokens accepted on every route (`catalog.iceberg-rest.token`). */
  bearerTokens?: string[];
  /** OAuth2 client-credentials clients served by `POST /v1/oauth/tokens`; their tokens are accepted too. */
  oauth2?: { clients: OAuthClient[]; tokenLifetimeSeconds?: number; };
  /**
   * Require a SigV4 signature (`Authorization: AWS4-HMAC-SHA256 …`) made with this key for this service/region.
   * Combined with bearer auth, the bearer is read from `Original-Authorization` (where Java's SigV4 session
   * moves it before signing).
   */
  sigv4?: { accessKeyId: string; secretAccessKey: string; region: string; service: string };
  /** Status for an expired token: 401 (preferred by the spec) or 419. */
  expiredStatus?: 401 | 419;
}

export interface IssuedToken {
  token: string;
  clientId: string;
  expiresAtMs: number;
}

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
}

export class Authenticator {
  readonly issued: IssuedToken[] = [];

  constructor(private readonly options: AuthOptions) {}

  get bearerRequired(): boolean {
    return (this.options.bearerTokens?.length ?? 0) > 0 || this.options.oauth2 !== undefined;
  }

  /** `POST /v1/oauth/tokens`: form fields, or client id/secret in an HTTP Basic header. */
  issueToken(form: Record<string, string>, authorization: string | undefined): TokenResult {
    const oauth = this.options.oauth2;
    if (!oauth) return oauthError(400, 'invalid_request', 'this catalog does not issue OAuth2 tokens');
    if (form.grant_type !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `grant_type ${form.grant_type ?? '(none)'} is not supported`);
    }
    let id = form.client_id;
    let secret = form.client_secret;
    if ((!id || !secret) && authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const client = oauth.clients.find((c) => c.id === id);
    if (!client || !secret || !safeEqual(client.secret, secret)) {
      return oauthError(401, 'invalid_client', 'unknown client or wrong secret');
    }
    const lifetime = oauth.tokenLifetimeSeconds ?? 3600;
    const token = `tok-${randomBytes(18).toString('base64url')}`;
    this.issued.push({ token, clientId: client.id, expiresAtMs: Date.now() + lifetime * 1000 });
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'bearer',
        expires_in: lifetime,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        ...(form.scope ? { scope: form.scope } : {}),
      },
    };
  }

  /** Every issued token expires now (the `expireTokensNow` fault). */
  expireAll(): void {
    const past = Date.now() - 1;
    for (const t of this.issued) t.expiresAtMs = past;
  }

  /** Throws a CatalogHttpError when the request is not authenticated; `body` is the exact bytes received. */
  async check(method: string, rawPath: string, headers: IncomingHttpHeaders, body: Buffer): Promise<void> {
    let bearerHeader = header(headers, 'authorization');
    if (this.options.sigv4) {
      await verifySigV4(this.options.sigv4, method, rawPath, headers, body);
      // A SigV4 client moves its own bearer out of the way (Java: Original-Authorization).
      bearerHeader = header(headers, 'original-authorization');
    }
    if (!this.bearerRequired) return;
    const expired = new CatalogHttpError(this.options.expiredStatus ?? 401, 'NotAuthorizedException', 'Token expired');
    const match = /^Bearer (.+)$/i.exec(bearerHeader ?? '');
    if (!match) throw new CatalogHttpError(401, 'NotAuthorizedException', 'Not authorized: no bearer token');
    const token = match[1]!.trim();
    if (this.options.bearerTokens?.some((t) => safeEqual(t, token))) return;
    const issued = this.issued.find((t) => t.token === token);
    if (!issued) throw new CatalogHttpError(401, 'NotAuthorizedException', 'Not authorized: unknown token');
    if (issued.expiresAtMs <= Date.now()) throw expired;
  }
}

function oauthError(status: number, error: string, description: string): TokenResult {
  return { status, body: { error, error_description: description } };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Recomputes the signature with @smithy/signature-v4 over the request exactly as received (raw path, so the
 * signer's own escaping reproduces the double encoding AWS expects for non-S3 services) and the headers the
 * client listed as signed, and checks that `x-amz-content-sha256` is the hash of the body that arrived.
 */
async function verifySigV4(cfg: NonNullable<AuthOptions['sigv4']>, method: string, rawPath: string,
  headers: IncomingHttpHeaders, body: Buffer): Promise<void> {
  const forbid = (why: string) => new CatalogHttpError(403, 'ForbiddenException', `SigV4: ${why}`);
  const m = AUTH_RE.exec(header(headers, 'authorization') ?? '');
  if (!m) throw forbid('missing or malformed AWS4-HMAC-SHA256 Authorization header');
  const [, accessKeyId, , region, service, signedList, signature] = m as unknown as string[];
  if (accessKeyId !== cfg.accessKeyId) throw forbid(`unknown access key ${accessKeyId}`);
  if (region !== cfg.region || service !== cfg.service) {
    throw forbid(`signed for ${service}/${region}, expected ${cfg.service}/${cfg.region}`);
  }
  const amzDate = header(headers, 'x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) throw forbid('missing x-amz-date');
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const claimed = header(headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== bodyHash) throw forbid('x-amz-content-sha256 does not match the body');

  const signed = signedList!.split(';');
  const toSign: Record<string, string> = {};
  for (const name of signed) {
    const v = header(headers, name);
    if (v === undefined) throw forbid(`signed header ${name} is missing`);
    toSign[name] = v;
  }
  const qIndex = rawPath.indexOf('?');
  const path = qIndex < 0 ? rawPath : rawPath.slice(0, qIndex);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qIndex < 0 ? '' : rawPath.slice(qIndex + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const signer = new SignatureV4({
    service: cfg.service,
    region: cfg.region,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: cfg.service !== 's3',
  });
  const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const result = await signer.sign({
    method, protocol: 'http:', hostname: (toSign.host ?? '').split(':')[0]!, path, query, headers: toSign,
    body: body.length > 0 ? body : undefined,
  }, { signingDate: date, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(result.headers.authorization))?.[1];
  if (expected !== signature) throw forbid('signature does not match');
}

/** SHA-256 / HMAC-SHA-256 in the shape @smithy's signer expects (a Checksum constructor). */
export class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    throw new Error('NodeSha256.reset is not supported');
  }
}

function toBuffer(v: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(v);
}
