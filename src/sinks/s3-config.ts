/**
 * S3 target settings read from the `output.fs.prop.<key>` keys under the names Pinot's S3PinotFS uses, so
 * a table config that works with Pinot's S3 file system works here unchanged.
 *
 * S3PinotFS keys: apache/pinot `pinot-plugins/pinot-file-system/pinot-s3/src/main/java/org/apache/pinot/
 * plugin/filesystem/S3Config.java` (constants) and `S3PinotFS.java` (`initOrRefreshS3Client`,
 * `generatePutObjectRequest`, `setServerSideEncryption`). Keys of our own are marked "ours" below.
 * No I/O and no SDK runtime import here: this is plain data plus validation.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, ErrorCodes } from '../errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 4;

export interface S3SinkSettings {
  region?: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Static keys; undefined = the AWS default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  anonymous: boolean;
  /** Canned ACL; S3PinotFS sets bucket-owner-full-control unless `disableAcl` (default true). */
  acl?: 'bucket-owner-full-control';
  serverSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  sseKmsKeyId?: string;
  sseKmsEncryptionContext?: string;
  storageClass?: string;
  /** Bytes per part; files up to this size go up in one PUT. */
  partSize: number;
  /** Parts in flight; memory is about partSize × (queueSize + 1). */
  queueSize: number;
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Send Content-MD5 on uploads (stores that require it). */
  legacyMd5: boolean;
  followRegionRedirects: boolean;
  http: { maxSockets?: number; requestTimeoutMs?: number; connectionTimeoutMs?: number };
  retry: RetryPolicy;
  /** How long AbortMultipartUpload is retried after a failed upload. */
  abortTimeoutMs: number;
  /** Publish with If-None-Match / If-Match so an existing object is detected, not blindly replaced. */
  conditionalWrites: boolean;
  /** Abort multipart uploads left for the same key by an earlier, crashed run before uploading. */
  cleanupStaleUploads: boolean;
}

export interface ParsedProps<T> {
  settings: T;
  /** Keys accepted but without effect here, unknown keys: worth a log line, not a failure. */
  warnings: string[];
}

const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE',
  'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS', 'FSX_ONTAP',
];
const SSE_VALUES = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;
const CHECKSUM_MODES = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const;

/** S3PinotFS keys we apply. */
export const S3_PINOT_FS_KEYS = [
  'region', 'accessKey', 'secretKey', 'endpoint', 'disableAcl', 'serverSideEncryption', 'ssekmsKeyId',
  'ssekmsEncryptionContext', 'storageClass', 'multiPartUploadPartSize', 'minObjectSizeForMultiPartUpload',
  'anonymousCredentialsProvider', 'requestChecksumCalculation', 'responseChecksumValidation', 'useLegacyMd5Plugin',
  'crossRegionAccessEnabled', 'iamRoleBasedAccessEnabled', 'httpclient.maxConnections', 'httpclient.socketTimeout',
  'httpclient.connectionTimeout', 'httpclient.connectionTimeToLive', 'httpclient.connectionAcquisitionTimeout',
] as const;
/** S3PinotFS keys that only matter together with ones we refuse or with other PinotFS classes. */
const S3_PINOT_FS_IGNORED = ['roleArn', 'roleSessionName', 'externalId', 'sessionDurationSeconds', 'asyncSessionUpdateEnabled', 'kmsCmkId', 'aesHexSecret'];
/** Ours: not S3PinotFS keys. */
export const S3_EXTRA_KEYS = [
  'sessionToken', 'pathStyleAccess', 'multiPartUploadQueueSize', 'maxAttempts', 'retryBaseDelay', 'retryMaxDelay',
  'abortTimeout', 'conditionalWrites', 'cleanupStaleUploads',
] as const;

/** Reads `props` (keys without the `output.fs.prop.` prefix); `prefix` only names keys in messages. */
export function parseS3Props(props: Record<string, string>, prefix = 'output.fs.prop.'): ParsedProps<S3SinkSettings> {
  const p = new PropReader(props, prefix);
  const warnings: string[] = [];

  const accessKey = p.string('accessKey');
  const secretKey = p.string('secretKey');
  const sessionToken = p.string('sessionToken');
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    const missing = accessKey === undefined ? 'accessKey' : 'secretKey';
    throw p.error(missing, `${prefix}accessKey and ${prefix}secretKey go together: set both, or neither to use the AWS default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, container or instance role)`);
  }
  const anonymous = p.boolean('anonymousCredentialsProvider', false);
  if (p.boolean('iamRoleBasedAccessEnabled', false)) {
    throw p.error('iamRoleBasedAccessEnabled', `${prefix}iamRoleBasedAccessEnabled=true (STS AssumeRole) is not supported yet; use the AWS default credential chain instead: a profile with role_arn/source_profile (AWS_PROFILE) or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE`);
  }

  const endpoint = p.string('endpoint');
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw p.error('endpoint', `${prefix}endpoint must be an http:// or https:// URL such as https://s3.us-east-1.amazonaws.com or http://127.0.0.1:9000, got ${JSON.stringify(endpoint)}`);
    }
  }

  const sse = p.oneOf('serverSideEncryption', SSE_VALUES);
  const sseKmsKeyId = p.string('ssekmsKeyId');
  if (sse === 'aws:kms' && sseKmsKeyId === undefined) {
    throw p.error('ssekmsKeyId', `${prefix}ssekmsKeyId is required when ${prefix}serverSideEncryption is aws:kms (as in S3PinotFS)`);
  }
  const storageClass = p.oneOf('storageClass', STORAGE_CLASSES);

  const partSize = p.size('multiPartUploadPartSize') ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE || partSize > 5 * 1024 ** 3) {
    throw p.error('multiPartUploadPartSize', `${prefix}multiPartUploadPartSize must be between 5MB and 5GB (S3's part size limits), got ${props.multiPartUploadPartSize}`);
  }
  if (p.size('minObjectSizeForMultiPartUpload') !== undefined) {
    warnings.push(`${prefix}minObjectSizeForMultiPartUpload has no effect here: files up to ${prefix}multiPartUploadPartSize (${partSize} bytes) go up in one PUT, larger ones in parts`);
  }
  const queueSize = p.int('multiPartUploadQueueSize', 1, 64) ?? DEFAULT_QUEUE_SIZE;

  const maxAttempts = p.int('maxAttempts', 1, 100) ?? DEFAULT_RETRY_POLICY.maxAttempts;
  const baseDelayMs = p.duration('retryBaseDelay') ?? DEFAULT_RETRY_POLICY.baseDelayMs;
  const maxDelayMs = p.duration('retryMaxDelay') ?? Math.max(baseDelayMs, DEFAULT_RETRY_POLICY.maxDelayMs);

  for (const key of ['httpclient.connectionTimeToLive', 'httpclient.connectionAcquisitionTimeout']) {
    if (p.duration(key) !== undefined) warnings.push(`${prefix}${key} has no equivalent in the Node.js HTTP agent and is ignored`);
  }
  for (const key of S3_PINOT_FS_IGNORED) {
    if (props[key] !== undefined) warnings.push(`${prefix}${key} is ignored (it only applies with iamRoleBasedAccessEnabled or ClientEncryptionS3PinotFS)`);
  }
  const known = new Set<string>([...S3_PINOT_FS_KEYS, ...S3_PINOT_FS_IGNORED, ...S3_EXTRA_KEYS]);
  for (const key of Object.keys(props)) {
    if (!known.has(key)) warnings.push(`unknown key ${prefix}${key} is ignored; S3 keys: ${[...S3_PINOT_FS_KEYS, ...S3_EXTRA_KEYS].join(', ')}`);
  }

  const settings: S3SinkSettings = {
    region: p.string('region'),
    endpoint,
    forcePathStyle: p.boolean('pathStyleAccess', endpoint !== undefined),
    credentials: accessKey !== undefined && secretKey !== undefined
      ? { accessKeyId: accessKey, secretAccessKey: secretKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
      : undefined,
    anonymous: anonymous && accessKey === undefined,
    acl: p.boolean('disableAcl', true) ? undefined : 'bucket-owner-full-control',
    serverSideEncryption: sse,
    sseKmsKeyId,
    sseKmsEncryptionContext: p.string('ssekmsEncryptionContext'),
    storageClass,
    partSize,
    queueSize,
    requestChecksumCalculation: p.oneOf('requestChecksumCalculation', CHECKSUM_MODES, true),
    responseChecksumValidation: p.oneOf('responseChecksumValidation', CHECKSUM_MODES, true),
    legacyMd5: p.boolean('useLegacyMd5Plugin', false),
    followRegionRedirects: p.boolean('crossRegionAccessEnabled', true),
    http: {
      maxSockets: p.int('httpclient.maxConnections', 1, 10_000),
      requestTimeoutMs: p.duration('httpclient.socketTimeout') ?? 120_000,
      connectionTimeoutMs: p.duration('httpclient.connectionTimeout') ?? 10_000,
    },
    retry: { maxAttempts, baseDelayMs, maxDelayMs },
    abortTimeoutMs: p.duration('abortTimeout') ?? 60_000,
    conditionalWrites: p.boolean('conditionalWrites', true),
    cleanupStaleUploads: p.boolean('cleanupStaleUploads', true),
  };
  return { settings, warnings };
}

/** The S3 client constructor options for these settings (retry strategy and middleware are added by the sink). */
export function clientConfig(s: S3SinkSettings): S3ClientConfig {
  const config: S3ClientConfig = {
    forcePathStyle: s.forcePathStyle,
    followRegionRedirects: s.followRegionRedirects,
    maxAttempts: s.retry.maxAttempts,
    requestHandler: {
      requestTimeout: s.http.requestTimeoutMs,
      connectionTimeout: s.http.connectionTimeoutMs,
      ...(s.http.maxSockets === undefined ? {} : { httpAgent: { maxSockets: s.http.maxSockets }, httpsAgent: { maxSockets: s.http.maxSockets } }),
    },
  };
  if (s.region !== undefined) config.region = s.region;
  else if (s.endpoint !== undefined && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) config.region = 'us-east-1';
  if (s.endpoint !== undefined) config.endpoint = s.endpoint;
  if (s.credentials) config.credentials = s.credentials;
  if (s.anonymous) {
    // Unsigned requests (public buckets): a signer that leaves the request as it is.
    config.credentials = { accessKeyId: '', secretAccessKey: '' };
    config.signer = { sign: async (request) => request };
  }
  if (s.requestChecksumCalculation) config.requestChecksumCalculation = s.requestChecksumCalculation;
  if (s.responseChecksumValidation) config.responseChecksumValidation = s.responseChecksumValidation;
  return config;
}

/** Typed access to string-valued props with errors that name the full key and what is accepted. */
class PropReader {
  constructor(private readonly props: Record<string, string>, private readonly prefix: string) {}

  error(key: string, detail: string): ConfigError {
    return new ConfigError(ErrorCodes.CONFIG_INVALID, detail, { context: { key: this.prefix + key } });
  }

  string(key: string): string | undefined {
    const v = this.props[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.string(key);
    if (v === undefined) return fallback;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw this.error(key, `${this.prefix}${key} must be true or false, got ${JSON.stringify(v)}`);
  }

  oneOf<T extends string>(key: string, values: readonly T[], ignoreCase = false): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const hit = values.find((x) => (ignoreCase ? x.toLowerCase() === v.toLowerCase() : x === v));
    if (hit === undefined) throw this.error(key, `${this.prefix}${key} must be one of ${values.join(', ')}; got ${JSON.stringify(v)}`);
    return hit;
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw this.error(key, `${this.prefix}${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  }

  /** Pinot's DataSizeUtils form: `128MB`, `5G`, `512k`, `1.5GB` or plain bytes; binary multiples. */
  size(key: string): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(b?)$/i.exec(v);
    if (!m) throw this.error(key, `${this.prefix}${key} must be a size such as 5242880, 64MB, 128M or 1G, got ${JSON.stringify(v)}`);
    const unit = { '': 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
    return Math.round(Number(m[1]) * 1024 ** unit);
  }

  /** Pinot's period form (`30s`, `1h20m`, `500ms`, `1hr20s`) or ISO-8601 (`PT1H20S`); milliseconds. */
  duration(key: string): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) throw this.error(key, `${this.prefix}${key} must be a duration such as 500ms, 30s, 1h20m or PT1H20S, got ${JSON.stringify(v)}`);
    return ms;
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const iso = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(text);
  if (iso && text.length > 2) return Math.round((Number(iso[1] ?? 0) * 3600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0)) * 1000);
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+)(ms|min|hr|[smhd])/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}
