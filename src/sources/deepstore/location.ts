/**
 * What a segment location string points at: a local path, an S3 object or an HTTP URL (§1.1 and the ZK
 * `segment.download.url`, §13.3).
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SourceError } from '../../errors.js';

export type Location =
  | { kind: 'local'; path: string }
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'http'; url: string };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

export function parseLocation(location: string): Location {
  if (location === '') {
    // Pinot's METADATA_URI_FOR_PEER_DOWNLOAD: the committing server could not upload the segment.
    throw new SourceError(ErrorCodes.SOURCE_NOT_FOUND, 'empty download URL: the segment is not in deep store (peer download only)', {
      context: { uri: location },
    });
  }
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'local', path: location };
  const url = parseUrl(location);
  switch (scheme) {
    case 'file':
      return { kind: 'local', path: filePath(url, location) };
    case 'http':
    case 'https':
      return { kind: 'http', url: location };
    case 's3':
    case 's3a':
      return { kind: 's3', bucket: url.hostname, key: s3Key(url.pathname) };
    default:
      throw new SourceError(ErrorCodes.SOURCE_UNSUPPORTED, `unsupported deep-store scheme ${JSON.stringify(scheme)}`, {
        context: { uri: location },
      });
  }
}

/**
 * The object key as Pinot's S3PinotFS computes it: the URI's decoded path, repeated slashes collapsed,
 * leading slash dropped (controller URIs carry the URL-encoded segment name, S3 holds the plain one).
 */
function s3Key(pathname: string): string {
  return safeDecode(pathname).replace(/\/+/g, '/').replace(/^\//, '');
}

/** The segment name a location implies when the archive has no top directory. */
export function nameFromLocation(location: Location): string {
  const raw = location.kind === 'local' ? basename(location.path)
    : location.kind === 's3' ? basename(location.key)
    : safeDecode(basename(new URL(location.url).pathname));
  return raw.replace(/\.(tar\.gz|tgz|tar\.zst|tar\.zstd|tar\.lz4|tar\.compressed|tar)$/, '');
}

function filePath(url: URL, location: string): string {
  try {
    return fileURLToPath(url);
  } catch (err) {
    // e.g. a remote host in file://host/path
    throw new SourceError(ErrorCodes.SOURCE_UNSUPPORTED, `unusable file URL: ${(err as Error).message}`, { context: { uri: location }, cause: err });
  }
}

function parseUrl(location: string): URL {
  try {
    return new URL(location);
  } catch (err) {
    throw new SourceError(ErrorCodes.SOURCE_UNSUPPORTED, 'malformed URL', { context: { uri: location }, cause: err });
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not valid percent-encoding: the name is literal
  }
}
