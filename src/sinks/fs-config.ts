/**
 * Where exported files go, read the way users write it in the table config's
 * `task.taskTypeConfigsMap.DataExportTask`:
 *
 *   "outputDirURI": "s3://bucket/exports/events/",                      required
 *   "output.fs.className": "org.apache.pinot.plugin.filesystem.S3PinotFS",   optional (`output.fs.class` too)
 *   "output.fs.prop.region": "us-east-1", …                              the PinotFS properties
 *
 * The class names are Pinot's PinotFS implementations; without one, the scheme of `outputDirURI` decides
 * (as Pinot's PinotFSFactory does). Every problem is a ConfigError naming the key and what is accepted,
 * raised before any segment is read. Files are named `<outputDirURI>/<segmentName>.parquet`.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ErrorCodes } from '../errors.js';
import { parseS3Props, type S3SinkSettings } from './s3-config.js';
import type { Sink } from './sink.js';

export const TASK_TYPE = 'DataExportTask';
export const OUTPUT_DIR_URI = 'outputDirURI';
/** Pinot's BatchConfigProperties.OUTPUT_FS_CLASS. */
export const OUTPUT_FS_CLASS_NAME = 'output.fs.className';
/** The spelling of our issue tracker; accepted as well. */
export const OUTPUT_FS_CLASS = 'output.fs.class';
export const OUTPUT_FS_PROP_PREFIX = 'output.fs.prop.';

export const S3_PINOT_FS = 'org.apache.pinot.plugin.filesystem.S3PinotFS';
export const LOCAL_PINOT_FS = 'org.apache.pinot.spi.filesystem.LocalPinotFS';

const UNSUPPORTED_CLASSES: Record<string, string> = {
  'org.apache.pinot.plugin.filesystem.GcsPinotFS':
    'Google Cloud Storage (GcsPinotFS) is not supported yet; use its S3-compatible API instead: ' +
    `${OUTPUT_FS_CLASS_NAME}=${S3_PINOT_FS}, an s3://bucket/prefix ${OUTPUT_DIR_URI}, ${OUTPUT_FS_PROP_PREFIX}endpoint=https://storage.googleapis.com and HMAC keys as ${OUTPUT_FS_PROP_PREFIX}accessKey/secretKey`,
  'org.apache.pinot.plugin.filesystem.HadoopPinotFS':
    `HDFS (HadoopPinotFS) is not supported yet; use ${LOCAL_PINOT_FS} on a mounted directory (NFS gateway, FUSE) or ${S3_PINOT_FS}`,
  'org.apache.pinot.plugin.filesystem.ADLSGen2PinotFS':
    `Azure Data Lake Storage Gen2 (ADLSGen2PinotFS) is not supported yet; use ${LOCAL_PINOT_FS} on a mounted container (blobfuse2) or ${S3_PINOT_FS} against an S3-compatible gateway`,
  'org.apache.pinot.plugin.filesystem.AzurePinotFS':
    `Azure (AzurePinotFS) is not supported; use ${LOCAL_PINOT_FS} on a mounted container or ${S3_PINOT_FS} against an S3-compatible gateway`,
  'org.apache.pinot.plugin.filesystem.ClientEncryptionS3PinotFS':
    `client-side encryption (ClientEncryptionS3PinotFS) is not supported; use ${S3_PINOT_FS} with ${OUTPUT_FS_PROP_PREFIX}serverSideEncryption=aws:kms and ${OUTPUT_FS_PROP_PREFIX}ssekmsKeyId`,
};

const UNSUPPORTED_SCHEMES: Record<string, string> = {
  gs: 'org.apache.pinot.plugin.filesystem.GcsPinotFS',
  hdfs: 'org.apache.pinot.plugin.filesystem.HadoopPinotFS',
  abfs: 'org.apache.pinot.plugin.filesystem.ADLSGen2PinotFS',
  abfss: 'org.apache.pinot.plugin.filesystem.ADLSGen2PinotFS',
  adl: 'org.apache.pinot.plugin.filesystem.ADLSGen2PinotFS',
  adl2: 'org.apache.pinot.plugin.filesystem.ADLSGen2PinotFS',
};

const ACCEPTED = `accepted: ${S3_PINOT_FS} (s3://, s3a://) and ${LOCAL_PINOT_FS} (file:// or an absolute path)`;

export type OutputTarget =
  | { kind: 'local'; uri: string; dir: string; warnings: string[] }
  | { kind: 's3'; uri: string; bucket: string; prefix: string; settings: S3SinkSettings; warnings: string[] };

/** The output target of a DataExportTask config map. */
export function parseOutputConfig(task: Record<string, unknown>): OutputTarget {
  const ours = Object.entries(task).filter(([k]) => k === OUTPUT_DIR_URI || k.startsWith('output.fs.'));
  const config = stringMap(Object.fromEntries(ours), `task.taskTypeConfigsMap.${TASK_TYPE}`);
  const uri = config[OUTPUT_DIR_URI]?.trim();
  if (!uri) {
    throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} is required: the directory the <segmentName>.parquet files go to, e.g. s3://bucket/exports/events/ or file:///data/exports/events`);
  }
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith(OUTPUT_FS_PROP_PREFIX)) props[k.slice(OUTPUT_FS_PROP_PREFIX.length)] = v;
  }
  const kind = fsKind(fsClass(config), uri);
  if (kind === 'local') {
    const warnings = Object.keys(props).map((k) => `${OUTPUT_FS_PROP_PREFIX}${k} is ignored: ${LOCAL_PINOT_FS} has no properties`);
    return { kind, uri, dir: localDir(uri), warnings };
  }
  const { bucket, prefix } = s3Location(uri);
  const { settings, warnings } = parseS3Props(props, OUTPUT_FS_PROP_PREFIX);
  return { kind, uri, bucket, prefix, settings, warnings };
}

/** A sink for a parsed target; the S3 SDK is loaded only for S3 targets. */
export async function createSink(target: OutputTarget, options: { onEvent?: (event: { type: string; message: string }) => void } = {}): Promise<Sink> {
  if (target.kind === 'local') {
    const { LocalSink } = await import('./local.js');
    return new LocalSink({ dir: target.dir, uri: target.uri });
  }
  const { S3Sink } = await import('./s3.js');
  return new S3Sink({ bucket: target.bucket, prefix: target.prefix, settings: target.settings, uri: target.uri, onEvent: options.onEvent });
}

function fsClass(config: Record<string, string>): string | undefined {
  const a = config[OUTPUT_FS_CLASS_NAME]?.trim() || undefined;
  const b = config[OUTPUT_FS_CLASS]?.trim() || undefined;
  if (a !== undefined && b !== undefined && a !== b) {
    throw configError(OUTPUT_FS_CLASS_NAME, `${OUTPUT_FS_CLASS_NAME} (${a}) and ${OUTPUT_FS_CLASS} (${b}) disagree; set one of them`);
  }
  return a ?? b;
}

function fsKind(className: string | undefined, uri: string): 'local' | 's3' {
  const scheme = schemeOf(uri);
  const key = OUTPUT_FS_CLASS_NAME;
  if (className !== undefined) {
    if (UNSUPPORTED_CLASSES[className]) throw configError(key, UNSUPPORTED_CLASSES[className]!);
    if (className !== S3_PINOT_FS && className !== LOCAL_PINOT_FS) {
      throw configError(key, `unknown ${key} ${JSON.stringify(className)}; ${ACCEPTED}`);
    }
    const kind = className === S3_PINOT_FS ? 's3' : 'local';
    const schemeKind = scheme === undefined || scheme === 'file' ? 'local' : scheme === 's3' || scheme === 's3a' ? 's3' : undefined;
    if (schemeKind !== kind) {
      throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} does not fit ${key}=${className}: ${kind === 's3' ? 'expected s3://bucket/prefix' : 'expected file:///absolute/path or /absolute/path'}`);
    }
    return kind;
  }
  if (scheme === undefined || scheme === 'file') return 'local';
  if (scheme === 's3' || scheme === 's3a') return 's3';
  const fs = UNSUPPORTED_SCHEMES[scheme];
  if (fs) throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)}: ${UNSUPPORTED_CLASSES[fs]!}`);
  throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} has scheme "${scheme}:" which no supported file system handles; ${ACCEPTED}`);
}

/** `s3`, `file`…, or undefined for a plain path. */
function schemeOf(uri: string): string | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  return m ? m[1]!.toLowerCase() : undefined;
}

function localDir(uri: string): string {
  if (schemeOf(uri) === undefined) {
    if (!isAbsolute(uri)) throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} must be an absolute path or a file:/// URI`);
    return resolve(uri);
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} is not a valid file: URI; expected file:///absolute/path`);
  }
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} names host "${url.hostname}"; a file: URI must be local: file:///absolute/path`);
  }
  if (url.search || url.hash) throw configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} must not have a query or fragment`);
  return resolve(fileURLToPath(url));
}

function s3Location(uri: string): { bucket: string; prefix: string } {
  const bad = (why: string) => configError(OUTPUT_DIR_URI, `${OUTPUT_DIR_URI} ${JSON.stringify(uri)} ${why}; expected s3://bucket/optional/prefix/`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('is not a valid URI');
  }
  if (!uri.slice(url.protocol.length).startsWith('//')) throw bad('has no //bucket part');
  const bucket = url.hostname;
  if (bucket === '') throw bad('has no bucket');
  if (url.port || url.username || url.password) throw bad('must not have a port or user info');
  if (url.search || url.hash) throw bad('must not have a query or fragment');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/.test(bucket)) throw bad(`has an invalid bucket name "${bucket}" (3-63 letters, digits, ".", "-", "_")`);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw bad('has a malformed %-escape in its path');
  }
  // As S3PinotFS.sanitizePath: no leading slash, no empty segments; a directory prefix ends with "/".
  const prefix = path.replace(/\/+/g, '/').replace(/^\//, '');
  return { bucket, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

function stringMap(node: Record<string, unknown>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v !== null && v !== undefined) {
      throw configError(k, `${where}.${k} must be a string (Pinot task configs are string maps), got ${Array.isArray(v) ? 'an array' : typeof v}`);
    }
  }
  return out;
}

function configError(key: string, detail: string): ConfigError {
  return new ConfigError(ErrorCodes.CONFIG_INVALID, detail, { context: { key } });
}
