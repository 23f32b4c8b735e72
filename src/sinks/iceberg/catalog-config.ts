/**
 * `catalog.iceberg-rest.*` task-config keys → typed `CatalogSettings` for the REST client, auth and S3
 * credentials. Property names follow the Java Iceberg REST client (`RESTCatalogProperties`, `OAuth2Properties`,
 * `AwsProperties`, `S3FileIOProperties`) so users can copy a Spark catalog config; errors name the full key.
 *
 * | key (after `catalog.iceberg-rest.`) | default | meaning |
 * |---|---|---|
 * | `uri` | required | http(s) base URL of the catalog, e.g. `https://glue.us-east-1.amazonaws.com/iceberg` |
 * | `warehouse` | none | sent as `GET /v1/config?warehouse=` (Glue catalog id, S3 Tables bucket ARN …) |
 * | `prefix` | from `/v1/config` | used verbatim in paths when the server sends none |
 * | `rest.auth.type` | inferred | `none`, `oauth2`, `sigv4`, `basic`; inferred: `sigv4` if `rest.sigv4-enabled=true`, `oauth2` if `token` or `credential`, else `none` |
 * | `token` | none | static bearer token |
 * | `credential` | none | OAuth2 client credentials `client_id:client_secret` (or only a secret) |
 * | `scope` | `catalog` | OAuth2 scope (Polaris: `PRINCIPAL_ROLE:ALL`) |
 * | `oauth2-server-uri` | `<uri>/v1/oauth/tokens` | token endpoint, absolute or relative to `uri` |
 * | `audience`, `resource` | none | optional OAuth2 form fields |
 * | `rest.auth.basic.username`, `rest.auth.basic.password` | none | HTTP Basic (`rest.auth.type=basic`) |
 * | `rest.sigv4-enabled` | `false` | legacy switch for SigV4 |
 * | `rest.signing-name` | `glue` / `s3tables` from the URI host, else `execute-api` | SigV4 service name |
 * | `rest.signing-region` | region in the URI host, else `AWS_REGION` | SigV4 region |
 * | `rest.access-key-id`, `rest.secret-access-key`, `rest.session-token` | AWS default chain | SigV4 credentials (key id and secret together) |
 * | `header.<Name>` | | extra header `<Name>` on every catalog request |
 * | `s3.endpoint`, `s3.region`, `s3.path-style-access` | vended / AWS default | S3 client for data files; override what the catalog vends |
 * | `s3.access-key-id`, `s3.secret-access-key`, `s3.session-token` | vended / AWS default | static S3 keys (override vended credentials) |
 * | `rest.client.request-timeout-ms` (ours) | `30000` | per HTTP request |
 * | `rest.client.max-retries` | `5` | retries of idempotent requests on 5xx/429 |
 *
 * Any other key is kept (it takes part in the `/v1/config` merge, as in Java) and listed in `unused`.
 */
import { ConfigError, ErrorCodes } from '../../errors.js';

export const CATALOG_KEY_PREFIX = 'catalog.iceberg-rest.';

export type AuthType = 'none' | 'oauth2' | 'sigv4' | 'basic';

export interface StaticAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type DelegateAuthSettings =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | {
      type: 'oauth2';
      /** Static bearer; with `credential` it is used first and replaced by a fetched token when it expires. */
      token?: string;
      clientId?: string;
      clientSecret?: string;
      scope: string;
      /** Absolute token endpoint URL. */
      serverUri: string;
      audience?: string;
      resource?: string;
    };

export type AuthSettings =
  | DelegateAuthSettings
  | { type: 'sigv4'; signingName: string; signingRegion: string; credentials?: StaticAwsCredentials; delegate: DelegateAuthSettings };

export interface S3Overrides {
  endpoint?: string;
  region?: string;
  pathStyleAccess?: boolean;
  credentials?: StaticAwsCredentials;
}

export interface CatalogSettings {
  /** Base URL without trailing slash. */
  uri: string;
  warehouse?: string;
  prefix?: string;
  auth: AuthSettings;
  /** `header.*` properties, prefix removed. */
  headers: Record<string, string>;
  s3: S3Overrides;
  requestTimeoutMs: number;
  maxRetries: number;
  /** Every property as given (prefix removed): the client properties of the `/v1/config` merge. */
  properties: Record<string, string>;
  /** Keys this exporter does not use (warn about them by name). */
  unused: string[];
}

const KNOWN = new Set([
  'uri', 'warehouse', 'prefix', 'token', 'credential', 'scope', 'oauth2-server-uri', 'audience', 'resource',
  'rest.auth.type', 'rest.sigv4-enabled', 'rest.signing-region', 'rest.signing-name', 'rest.access-key-id',
  'rest.secret-access-key', 'rest.session-token', 'rest.auth.basic.username', 'rest.auth.basic.password',
  'rest.auth.sigv4.delegate-auth-type', 's3.endpoint', 's3.access-key-id', 's3.secret-access-key', 's3.session-token',
  's3.region', 's3.path-style-access', 'rest.client.request-timeout-ms', 'rest.client.max-retries',
]);
const AUTH_TYPES: readonly AuthType[] = ['none', 'oauth2', 'sigv4', 'basic'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Picks the `catalog.iceberg-rest.*` keys out of a task config, prefix removed. */
export function catalogProperties(taskConfig: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(taskConfig)) if (k.startsWith(CATALOG_KEY_PREFIX)) out[k.slice(CATALOG_KEY_PREFIX.length)] = v;
  return out;
}

export interface ParseCatalogOptions {
  /** For the SigV4 region fallback (`AWS_REGION`, `AWS_DEFAULT_REGION`); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Validates catalog properties (prefix already removed). */
export function parseCatalogSettings(props: Record<string, string>, options: ParseCatalogOptions = {}): CatalogSettings {
  const env = options.env ?? process.env;
  const p = new Props(props);
  const uri = p.url('uri', true)!.replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!k.startsWith('header.')) continue;
    const name = k.slice('header.'.length);
    if (!HEADER_NAME.test(name)) p.bad(k, v, 'header.<Name> with an HTTP header name (letters, digits, -)');
    if (/[\r\n]/.test(v)) p.bad(k, '(hidden)', 'a header value without line breaks');
    headers[name] = v;
  }
  const settings: CatalogSettings = {
    uri,
    auth: parseAuth(p, uri, env),
    headers,
    s3: parseS3(p),
    requestTimeoutMs: p.int('rest.client.request-timeout-ms', 30_000, 1, 3_600_000),
    maxRetries: p.int('rest.client.max-retries', 5, 0, 20),
    properties: { ...props },
    unused: Object.keys(props).filter((k) => !KNOWN.has(k) && !k.startsWith('header.')).sort(),
  };
  const warehouse = p.str('warehouse');
  if (warehouse !== undefined) settings.warehouse = warehouse;
  const prefix = p.str('prefix');
  if (prefix !== undefined) settings.prefix = prefix.replace(/^\/+|\/+$/g, '');
  return settings;
}

function parseAuth(p: Props, uri: string, env: Record<string, string | undefined>): AuthSettings {
  const explicit = p.str('rest.auth.type')?.toLowerCase();
  if (explicit !== undefined && !(AUTH_TYPES as readonly string[]).includes(explicit)) {
    p.bad('rest.auth.type', explicit, `${AUTH_TYPES.join(', ')} (google is not supported)`);
  }
  const sigv4Enabled = p.bool('rest.sigv4-enabled', false);
  const type: AuthType = (explicit as AuthType | undefined) ?? (sigv4Enabled ? 'sigv4' : p.has('token') || p.has('credential') ? 'oauth2' : 'none');
  if (type !== 'sigv4') return delegateAuth(p, type, uri, true);

  const delegateType = p.str('rest.auth.sigv4.delegate-auth-type')?.toLowerCase() ?? (p.has('token') || p.has('credential') ? 'oauth2' : 'none');
  if (!['none', 'oauth2', 'basic'].includes(delegateType)) p.bad('rest.auth.sigv4.delegate-auth-type', delegateType, 'none, oauth2, basic');
  const host = new URL(uri).hostname;
  const auth: AuthSettings = {
    type: 'sigv4',
    signingName: p.str('rest.signing-name') ?? defaultSigningName(host),
    signingRegion: p.str('rest.signing-region') ?? regionFromHost(host) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
      ?? p.missing('rest.signing-region', 'an AWS region such as us-east-1 (needed for SigV4: not in the URI host and AWS_REGION is unset)'),
    delegate: delegateAuth(p, delegateType as AuthType, uri, false),
  };
  if (!/^[a-z0-9-]+$/.test(auth.signingName)) p.bad('rest.signing-name', auth.signingName, 'an AWS service signing name such as glue, s3tables, execute-api');
  if (!REGION.test(auth.signingRegion)) p.bad('rest.signing-region', auth.signingRegion, 'an AWS region such as us-east-1');
  const credentials = p.awsKeys('rest.access-key-id', 'rest.secret-access-key', 'rest.session-token');
  if (credentials !== undefined) auth.credentials = credentials;
  return auth;
}

function delegateAuth(p: Props, type: AuthType, uri: string, required: boolean): DelegateAuthSettings {
  if (type === 'none') return { type: 'none' };
  if (type === 'basic') {
    return {
      type: 'basic',
      username: p.str('rest.auth.basic.username') ?? p.missing('rest.auth.basic.username', 'a user name for rest.auth.type=basic'),
      password: p.str('rest.auth.basic.password') ?? p.missing('rest.auth.basic.password', 'a password for rest.auth.type=basic'),
    };
  }
  const token = p.str('token');
  const credential = p.str('credential');
  if (token === undefined && credential === undefined) {
    if (!required) return { type: 'none' };
    p.missing('credential', 'client_id:client_secret (or set token) for rest.auth.type=oauth2');
  }
  const serverUri = p.str('oauth2-server-uri') ?? 'v1/oauth/tokens';
  let resolved: string;
  try {
    // A relative endpoint is relative to the catalog URI, as in Java (`AuthConfig.oauth2ServerUri`).
    resolved = new URL(serverUri, `${uri}/`).toString();
  } catch {
    return p.bad('oauth2-server-uri', serverUri, 'an http(s) URL, or a path relative to uri');
  }
  if (!/^https?:$/.test(new URL(resolved).protocol)) p.bad('oauth2-server-uri', serverUri, 'an http(s) URL');
  const auth: DelegateAuthSettings = { type: 'oauth2', scope: p.str('scope') ?? 'catalog', serverUri: resolved };
  if (token !== undefined) auth.token = token;
  if (credential !== undefined) {
    const colon = credential.indexOf(':');
    if (colon >= 0) {
      auth.clientId = credential.slice(0, colon);
      auth.clientSecret = credential.slice(colon + 1);
    } else {
      auth.clientSecret = credential;
    }
    if (auth.clientSecret === '') p.bad('credential', '(hidden)', 'client_id:client_secret with a non-empty secret');
  }
  const audience = p.str('audience');
  if (audience !== undefined) auth.audience = audience;
  const resource = p.str('resource');
  if (resource !== undefined) auth.resource = resource;
  return auth;
}

function parseS3(p: Props): S3Overrides {
  const s3: S3Overrides = {};
  const endpoint = p.url('s3.endpoint', false);
  if (endpoint !== undefined) s3.endpoint = endpoint;
  const region = p.str('s3.region');
  if (region !== undefined) s3.region = region;
  if (p.has('s3.path-style-access')) s3.pathStyleAccess = p.bool('s3.path-style-access', false);
  const credentials = p.awsKeys('s3.access-key-id', 's3.secret-access-key', 's3.session-token');
  if (credentials !== undefined) s3.credentials = credentials;
  return s3;
}

/** `glue` / `s3tables` for AWS's own endpoints (Java would default to `execute-api` and fail there). */
export function defaultSigningName(host: string): string {
  if (/^glue(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host)) return 'glue';
  if (/^s3tables(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host)) return 's3tables';
  return 'execute-api';
}

function regionFromHost(host: string): string | undefined {
  const m = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(\.cn)?$/.exec(host);
  return m?.[1];
}

/** Typed access to the property map; every error names `catalog.iceberg-rest.<key>`. */
class Props {
  constructor(private readonly props: Record<string, string>) {}

  has(key: string): boolean {
    return this.str(key) !== undefined;
  }

  str(key: string): string | undefined {
    const v = this.props[key];
    if (v === undefined) return undefined;
    const t = String(v).trim();
    return t === '' ? undefined : t;
  }

  bad(key: string, value: string, accepted: string): never {
    const full = CATALOG_KEY_PREFIX + key;
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${full}=${JSON.stringify(value)} is invalid; accepted: ${accepted}`, { context: { key: full } });
  }

  missing(key: string, accepted: string): never {
    const full = CATALOG_KEY_PREFIX + key;
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${full} is required; accepted: ${accepted}`, { context: { key: full } });
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.str(key);
    if (v === undefined) return dflt;
    const l = v.toLowerCase();
    if (l !== 'true' && l !== 'false') this.bad(key, v, 'true, false');
    return l === 'true';
  }

  int(key: string, dflt: number, min: number, max: number): number {
    const v = this.str(key);
    if (v === undefined) return dflt;
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) this.bad(key, v, `an integer from ${min} to ${max}`);
    return n;
  }

  url(key: string, required: boolean): string | undefined {
    const v = this.str(key);
    if (v === undefined) return required ? this.missing(key, 'an http(s) URL') : undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return this.bad(key, v, 'an http:// or https:// URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') this.bad(key, v, 'an http:// or https:// URL');
    // Credentials in a URL would end up in logs and error messages.
    if (u.username !== '' || u.password !== '') this.bad(key, `${u.protocol}//***@${u.host}`, 'a URL without user:password@');
    return v;
  }

  awsKeys(idKey: string, secretKey: string, tokenKey: string): StaticAwsCredentials | undefined {
    const accessKeyId = this.str(idKey);
    const secretAccessKey = this.str(secretKey);
    const sessionToken = this.str(tokenKey);
    if (accessKeyId === undefined && secretAccessKey === undefined) {
      if (sessionToken !== undefined) this.missing(idKey, `${CATALOG_KEY_PREFIX}${idKey} and ${CATALOG_KEY_PREFIX}${secretKey} with ${CATALOG_KEY_PREFIX}${tokenKey}`);
      return undefined;
    }
    if (accessKeyId === undefined) return this.missing(idKey, `set together with ${CATALOG_KEY_PREFIX}${secretKey}`);
    if (secretAccessKey === undefined) return this.missing(secretKey, `set together with ${CATALOG_KEY_PREFIX}${idKey}`);
    return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
  }
}
