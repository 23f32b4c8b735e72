/** Public types of the test Iceberg REST catalog (see ../iceberg-catalog.ts). */
import type { IncomingHttpHeaders } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuthOptions } from './auth.js';
import type { JsonObject } from './json.js';

export interface VendedCredentialOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Base of the session token; each LoadTable vends `<base>-<n>` so a refresh is observable. */
  sessionToken?: string;
  /** Lifetime of vended credentials (default 1 h); `inject({ vendedCredentialsTtlMs })` changes it. */
  ttlMs?: number;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /** Where to put them: LoadTable `config`, `storage-credentials`, or both (default). */
  placement?: 'config' | 'storage-credentials' | 'both';
}

export interface CatalogOptions {
  /** `prefix` advertised in config overrides and required in every catalog path; `''` for none. Default `test`. */
  prefix?: string;
  /** The `warehouse` query value /v1/config accepts (others get 400); any when unset. */
  warehouse?: string;
  defaults?: Record<string, string>;
  overrides?: Record<string, string>;
  /** Advertised endpoints; default: the routes this server implements; `null` omits the field. */
  endpoints?: string[] | null;
  /** Advertise Idempotency-Key support (ISO-8601 duration) and replay final POST replies per key. */
  idempotencyKeyLifetime?: string;
  auth?: AuthOptions;
  /** Local directory for `file://` tables (default: a fresh temp dir, removed on close). */
  warehouseDir?: string;
  /** S3 client for tables whose location is `s3://…` (the loopback S3 server). */
  s3?: S3Client;
  vendedCredentials?: VendedCredentialOptions;
  /** Extra LoadTable `config` entries sent always (e.g. `s3.endpoint`). */
  tableConfig?: Record<string, string>;
  /** Format version of tables created without one (default 2). */
  defaultFormatVersion?: 1 | 2 | 3;
  /** Write `v<n>.metadata.json` + `version-hint.text` beside local metadata (default true). */
  versionHint?: boolean;
}

export interface CreateTableOptions {
  schema: JsonObject;
  location?: string;
  properties?: Record<string, string>;
  partitionSpec?: JsonObject;
  formatVersion?: 1 | 2 | 3;
}

export type Fault =
  /** The next n commits answer 409 CommitFailedException without applying. */
  | { conflicts: number }
  /** The next n commits are applied, then answered with this 5xx (the "state unknown" case). */
  | { failAfterCommit: number; status: 500 | 502 | 503 | 504 }
  /** The next n commits answer this status without applying (with `Retry-After` if given). */
  | { failBeforeCommit: number; status: number; retryAfterSeconds?: number }
  /** The next n commits are applied, then the connection is destroyed without an answer. */
  | { dropResponse: number }
  /** Every OAuth2 token issued so far is expired. */
  | { expireTokensNow: true }
  /** Vended credentials from now on expire this many ms after LoadTable. */
  | { vendedCredentialsTtlMs: number };

export interface RequestRecord {
  method: string;
  /** Raw path and query as received. */
  path: string;
  /** operationId from the spec (`loadTable`, `updateTable` …); undefined for an unknown route. */
  operation: string | undefined;
  /** 0 when the connection was dropped on purpose. */
  status: number;
  /** What the fault injection did, if anything. */
  injected?: string;
  headers: IncomingHttpHeaders;
}

export interface Violation {
  kind: 'request' | 'response' | 'route';
  method: string;
  path: string;
  operation: string | undefined;
  status?: number;
  errors: string[];
}

export interface VendedRecord {
  table: string;
  sessionToken: string;
  expiresAtMs: number;
}

export interface TableState {
  namespace: string[];
  name: string;
  metadata: JsonObject;
  metadataLocation: string;
  version: number;
  /** Every metadata location this table had, oldest first. */
  history: string[];
}
