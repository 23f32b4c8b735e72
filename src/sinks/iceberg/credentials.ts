/**
 * S3 access for data files of an Iceberg table: credentials the catalog vends in LoadTable (`config` and
 * `storage-credentials`, the entry with the longest prefix of the file path winning), overridden field by
 * field by the static `catalog.iceberg-rest.s3.*` keys, and a provider that reloads vended credentials before
 * `s3.session-token-expires-at-ms` minus a margin — shaped as an AWS SDK credential provider for the S3
 * client that uploads data files.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ErrorCodes } from '../../errors.js';
import type { S3Overrides } from './catalog-config.js';
import { IcebergError } from './errors.js';
import type { IcebergRestClient, StorageCredential, TableIdent } from './rest-client.js';
import { tableName } from './rest-client.js';

export interface VendedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms; undefined = does not expire (static keys). */
  expiresAtMs?: number;
}

export interface S3Access {
  endpoint?: string;
  region?: string;
  pathStyleAccess?: boolean;
  /** Undefined: neither vended nor static keys, use the AWS default chain. */
  credentials?: VendedCredentials;
}

/** What LoadTable (or the credentials endpoint) returned that concerns storage. */
export interface StorageConfig {
  config: Record<string, string>;
  storageCredentials: StorageCredential[];
}

/** The storage credential whose prefix is the longest prefix of `path` (ICE-API `StorageCredential`). */
export function credentialFor(path: string, credentials: StorageCredential[]): StorageCredential | undefined {
  let best: StorageCredential | undefined;
  for (const c of credentials) {
    if (path.startsWith(c.prefix) && (best === undefined || c.prefix.length > best.prefix.length)) best = c;
  }
  return best;
}

/** S3 settings for writing `path`: vended values, then the static overrides on top. */
export function s3AccessFor(path: string, storage: StorageConfig, overrides: S3Overrides = {}, table?: string): S3Access {
  const props = { ...storage.config, ...credentialFor(path, storage.storageCredentials)?.config };
  const access: S3Access = {};
  const endpoint = overrides.endpoint ?? props['s3.endpoint'];
  if (endpoint !== undefined) access.endpoint = endpoint;
  const region = overrides.region ?? props['s3.region'] ?? props['client.region'];
  if (region !== undefined) access.region = region;
  const pathStyle = overrides.pathStyleAccess ?? parseBool(props['s3.path-style-access']);
  if (pathStyle !== undefined) access.pathStyleAccess = pathStyle;
  const credentials = overrides.credentials ?? vended(props, table);
  if (credentials !== undefined) access.credentials = credentials;
  return access;
}

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return v.trim().toLowerCase() === 'true';
}

function vended(props: Record<string, string>, table: string | undefined): VendedCredentials | undefined {
  const accessKeyId = props['s3.access-key-id'];
  const secretAccessKey = props['s3.secret-access-key'];
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  const context = table === undefined ? {} : { table };
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, 'the catalog vended incomplete S3 credentials (s3.access-key-id and s3.secret-access-key must come together)', { context });
  }
  const out: VendedCredentials = { accessKeyId, secretAccessKey };
  if (props['s3.session-token'] !== undefined) out.sessionToken = props['s3.session-token'];
  const exp = props['s3.session-token-expires-at-ms'];
  if (exp !== undefined) {
    const ms = Number(exp);
    if (!/^\d+$/.test(exp.trim()) || !Number.isSafeInteger(ms)) {
      throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, `the catalog vended s3.session-token-expires-at-ms=${JSON.stringify(exp)}, not epoch milliseconds`, {
        context: { ...context, key: 's3.session-token-expires-at-ms' },
      });
    }
    out.expiresAtMs = ms;
  }
  return out;
}

export interface VendedCredentialsProviderOptions {
  /** A file path (or the data location) the credentials must cover. */
  path: string;
  /** Reloads the storage config (LoadTable, or the credentials endpoint). */
  reload: () => Promise<StorageConfig>;
  /** What the first LoadTable returned. */
  initial?: StorageConfig;
  overrides?: S3Overrides;
  /** Refresh this long before expiry; default 5 minutes, as Java's VendedCredentialsProvider. */
  marginMs?: number;
  now?: () => number;
  table?: string;
}

/** Vended credentials kept fresh; `provider` plugs into `new S3Client({ credentials })`. */
export class VendedCredentialsProvider {
  private current: VendedCredentials | undefined;
  private pending: Promise<VendedCredentials> | undefined;
  private readonly now: () => number;
  private readonly margin: number;

  constructor(private readonly options: VendedCredentialsProviderOptions) {
    this.now = options.now ?? Date.now;
    this.margin = options.marginMs ?? 5 * 60_000;
    if (options.initial !== undefined) this.current = s3AccessFor(options.path, options.initial, options.overrides, options.table).credentials;
  }

  readonly provider: AwsCredentialIdentityProvider = async () => toIdentity(await this.get());

  /** Valid credentials, reloading when they are within the margin of their expiry. */
  async get(): Promise<VendedCredentials> {
    const c = this.current;
    if (c !== undefined && (c.expiresAtMs === undefined || this.now() < c.expiresAtMs - this.margin)) return c;
    try {
      return await this.refresh();
    } catch (err) {
      // The old credentials still work for a while: keep writing rather than fail a healthy upload.
      if (c?.expiresAtMs !== undefined && this.now() < c.expiresAtMs) return c;
      throw new IcebergError(ErrorCodes.ICEBERG_CREDENTIALS_EXPIRED, `vended S3 credentials for ${this.options.path} expired and could not be refreshed: ${(err as Error).message}`, {
        context: this.options.table === undefined ? {} : { table: this.options.table }, cause: err, retryable: true,
      });
    }
  }

  private refresh(): Promise<VendedCredentials> {
    this.pending ??= (async () => {
      try {
        const storage = await this.options.reload();
        const fresh = s3AccessFor(this.options.path, storage, this.options.overrides, this.options.table).credentials;
        if (fresh === undefined) throw new Error('the catalog returned no S3 credentials');
        if (fresh.expiresAtMs !== undefined && fresh.expiresAtMs <= this.now()) throw new Error('the catalog returned credentials that are already expired');
        this.current = fresh;
        return fresh;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

function toIdentity(c: VendedCredentials): AwsCredentialIdentity {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }),
    ...(c.expiresAtMs === undefined ? {} : { expiration: new Date(c.expiresAtMs) }),
  };
}

/** Reload through the credentials endpoint when the catalog advertises it, else through LoadTable. */
export function catalogReloader(client: IcebergRestClient, ident: TableIdent): () => Promise<StorageConfig> {
  return async () => {
    const creds = await client.loadCredentials(ident);
    if (creds !== undefined) return { config: {}, storageCredentials: creds };
    const t = await client.loadTable(ident);
    return { config: t.config, storageCredentials: t.storageCredentials };
  };
}

/**
 * The S3 settings and credential provider for writing under `path` of a loaded table: static keys if
 * configured, else vended ones (refreshed), else `provider` undefined = the AWS default chain.
 */
export function s3CredentialsForTable(options: {
  client: IcebergRestClient;
  ident: TableIdent;
  path: string;
  loaded: StorageConfig;
  overrides?: S3Overrides;
  now?: () => number;
  marginMs?: number;
}): { access: S3Access; provider?: AwsCredentialIdentityProvider } {
  const table = tableName(options.ident);
  const access = s3AccessFor(options.path, options.loaded, options.overrides, table);
  if (access.credentials === undefined) return { access };
  if (options.overrides?.credentials !== undefined) {
    const identity = toIdentity(options.overrides.credentials);
    return { access, provider: async () => identity };
  }
  const p = new VendedCredentialsProvider({
    path: options.path, reload: catalogReloader(options.client, options.ident), initial: options.loaded, table,
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.marginMs === undefined ? {} : { marginMs: options.marginMs }),
  });
  return { access, provider: p.provider };
}
