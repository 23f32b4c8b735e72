/**
 * Authentication of catalog requests: none, HTTP Basic, a static bearer token, OAuth2 client credentials
 * (refreshed before expiry and once after a 401/419) and, in sigv4.ts, AWS SigV4 wrapping one of these.
 *
 * OAuth2 follows the Java client (`OAuth2Util`): `credential` = `client_id:client_secret` (or a secret alone)
 * goes into a form body with `grant_type=client_credentials` and `scope` (default `catalog`); the expiry is
 * the JWT `exp` claim when the token is a JWT, else `expires_in`; refresh is due at
 * expiry − min(lifetime / 10, 5 min). Re-running client_credentials stands in for Java's token exchange.
 */
import { ErrorCodes } from '../../errors.js';
import type { AuthSettings, DelegateAuthSettings } from './catalog-config.js';
import { IcebergError, Redactor, safeUri } from './errors.js';
import { parseJson } from './json.js';

/** One HTTP request as it will be sent; header names lower-case. Providers edit `headers` in place. */
export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** The exact body text that will be sent (UTF-8), if any. */
  body?: string;
}

export interface AuthProvider {
  /** Adds authentication to `request.headers`; called again for every attempt of a request. */
  authorize(request: SignableRequest, signal?: AbortSignal): Promise<void>;
  /** The server refused our credentials (401/419): forget cached tokens. Returns whether a resend may help. */
  invalidate(): boolean;
}

export interface AuthOptions {
  fetch?: typeof fetch;
  /** Clock for token expiry (ms since epoch). */
  now?: () => number;
  requestTimeoutMs?: number;
  /** `header.*` properties; sent on token requests too (Polaris needs its realm header there). */
  headers?: Record<string, string>;
  /** Collects every secret so that error text from servers can be scrubbed. */
  redactor?: Redactor;
}

export class NoAuth implements AuthProvider {
  async authorize(): Promise<void> {}
  invalidate(): boolean {
    return false;
  }
}

export class BasicAuth implements AuthProvider {
  private readonly value: string;
  constructor(username: string, password: string) {
    this.value = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  async authorize(request: SignableRequest): Promise<void> {
    request.headers.authorization = this.value;
  }
  invalidate(): boolean {
    return false;
  }
}

interface Token {
  value: string;
  /** Epoch ms; undefined = unknown, never refreshed proactively. */
  expiresAt?: number;
  refreshAt?: number;
}

const FIVE_MINUTES = 5 * 60_000;

/** Static bearer and/or OAuth2 client credentials. */
export class OAuth2Auth implements AuthProvider {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly redactor: Redactor;

  constructor(private readonly settings: Extract<DelegateAuthSettings, { type: 'oauth2' }>, private readonly options: AuthOptions = {}) {
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.redactor = options.redactor ?? new Redactor();
    this.redactor.add(settings.token, settings.clientSecret);
    if (settings.token !== undefined) this.token = this.withExpiry(settings.token, undefined, this.now());
  }

  private get canFetch(): boolean {
    return this.settings.clientSecret !== undefined;
  }

  async authorize(request: SignableRequest, signal?: AbortSignal): Promise<void> {
    request.headers.authorization = `Bearer ${(await this.current(signal)).value}`;
  }

  invalidate(): boolean {
    if (!this.canFetch) return false;
    this.token = undefined;
    return true;
  }

  private async current(signal?: AbortSignal): Promise<Token> {
    const now = this.now();
    const t = this.token;
    if (t !== undefined && (t.refreshAt === undefined || now < t.refreshAt || !this.canFetch)) return t;
    try {
      return await this.refresh(signal);
    } catch (err) {
      // A failed early refresh is not fatal while the old token is still valid.
      if (t !== undefined && t.expiresAt !== undefined && now < t.expiresAt) return t;
      throw err;
    }
  }

  private refresh(signal?: AbortSignal): Promise<Token> {
    // One token request at a time, whatever the number of concurrent catalog calls.
    this.pending ??= this.fetchToken(signal).then(
      (t) => {
        this.token = t;
        this.pending = undefined;
        return t;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  private async fetchToken(signal?: AbortSignal): Promise<Token> {
    const s = this.settings;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (s.clientId !== undefined) form.set('client_id', s.clientId);
    form.set('client_secret', s.clientSecret!);
    form.set('scope', s.scope);
    if (s.audience !== undefined) form.set('audience', s.audience);
    if (s.resource !== undefined) form.set('resource', s.resource);
    const uri = safeUri(s.serverUri);
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
    const issuedAt = this.now();
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(s.serverUri, {
        method: 'POST',
        headers: { ...lower(this.options.headers ?? {}), accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      text = await res.text();
    } catch (err) {
      throw new IcebergError(ErrorCodes.ICEBERG_AUTH_FAILED, `OAuth2 token request failed: ${this.redactor.redact(errorText(err))}`, {
        context: { uri }, retryable: true,
      });
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed = parseJson(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // Reported below with the status.
    }
    if (!res.ok) {
      const oauthError = [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ');
      throw new IcebergError(ErrorCodes.ICEBERG_AUTH_FAILED, this.redactor.redact(
        `OAuth2 token request refused: HTTP ${res.status}${oauthError ? ` ${oauthError}` : ''}`,
      ), { context: { uri }, retryable: res.status >= 500 || res.status === 429 });
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new IcebergError(ErrorCodes.ICEBERG_AUTH_FAILED, 'OAuth2 token response has no access_token', { context: { uri } });
    }
    this.redactor.add(body.access_token);
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : undefined;
    return this.withExpiry(body.access_token, expiresIn, issuedAt);
  }

  private withExpiry(value: string, expiresInSeconds: number | undefined, issuedAt: number): Token {
    const exp = jwtExpiry(value);
    const expiresAt = exp ?? (expiresInSeconds === undefined ? undefined : issuedAt + expiresInSeconds * 1000);
    if (expiresAt === undefined) return { value };
    const lifetime = Math.max(0, expiresAt - issuedAt);
    return { value, expiresAt, refreshAt: expiresAt - Math.min(lifetime / 10, FIVE_MINUTES) };
  }
}

/** The `exp` claim (as epoch ms) of a JWT, or undefined when the token is not a JWT. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return [e?.message ?? String(err), cause].filter(Boolean).join(': ');
}

export { errorText as describeFetchError };

/** The provider for non-SigV4 settings (sigv4.ts builds the SigV4 one around these). */
export function delegateAuthProvider(settings: DelegateAuthSettings, options: AuthOptions = {}): AuthProvider {
  switch (settings.type) {
    case 'none':
      return new NoAuth();
    case 'basic':
      options.redactor?.add(settings.password);
      return new BasicAuth(settings.username, settings.password);
    case 'oauth2':
      return new OAuth2Auth(settings, options);
  }
}

export type { AuthSettings };
