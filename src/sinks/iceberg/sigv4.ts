/**
 * AWS SigV4 for Iceberg REST catalogs (Glue, S3 Tables, API Gateway), as the Java client's
 * `RESTSigV4AuthSession` does it: the delegate auth (e.g. an OAuth bearer) runs first and an `Authorization`
 * header it set moves to `Original-Authorization`; then every request — `/v1/config` included — is signed
 * with `x-amz-content-sha256` = SHA-256 of the exact body bytes (the empty-string hash for a GET).
 *
 * Canonical path: AWS services other than S3 expect each path segment URI-encoded twice, so an S3 Tables
 * prefix `arn%3Aaws%3As3tables…` is signed as `arn%253Aaws%253As3tables…` (@smithy/signature-v4 does this
 * with `uriEscapePath: true`; only the `s3` service gets single encoding).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';
import { ErrorCodes } from '../../errors.js';
import { delegateAuthProvider, type AuthOptions, type AuthProvider, type SignableRequest } from './auth.js';
import type { AuthSettings, StaticAwsCredentials } from './catalog-config.js';
import { IcebergError, safeUri } from './errors.js';

/** SHA-256 (or HMAC-SHA-256 with a secret) from node:crypto in the shape the smithy signer expects. */
export class Sha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigV4Options {
  signingName: string;
  signingRegion: string;
  /** Static keys or a provider; default: the AWS SDK's default credential chain. */
  credentials?: StaticAwsCredentials | AwsCredentialIdentityProvider;
  delegate?: AuthProvider;
  /** Clock for the signature date (tests). */
  now?: () => number;
}

export class SigV4Auth implements AuthProvider {
  private readonly signer: SignatureV4;
  private readonly delegate: AuthProvider;

  constructor(private readonly options: SigV4Options) {
    this.delegate = options.delegate ?? { authorize: async () => {}, invalidate: () => false };
    this.signer = new SignatureV4({
      service: options.signingName,
      region: options.signingRegion,
      credentials: credentialProvider(options.credentials),
      sha256: Sha256,
      uriEscapePath: options.signingName !== 's3',
      applyChecksum: true,
    });
  }

  async authorize(request: SignableRequest, signal?: AbortSignal): Promise<void> {
    await this.delegate.authorize(request, signal);
    const h = request.headers;
    if (h.authorization !== undefined) {
      h['original-authorization'] = h.authorization;
      delete h.authorization;
    }
    h['x-amz-content-sha256'] = request.body === undefined || request.body === ''
      ? EMPTY_SHA256
      : createHash('sha256').update(request.body, 'utf8').digest('hex');
    const url = request.url;
    let signed;
    try {
      signed = await this.signer.sign({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        // The path exactly as it goes on the wire; the signer adds the second encoding.
        path: url.pathname,
        query: queryOf(url),
        headers: { ...h, host: url.host },
        body: request.body,
      }, { signingDate: new Date((this.options.now ?? Date.now)()) });
    } catch (err) {
      throw new IcebergError(ErrorCodes.ICEBERG_AUTH_FAILED, `SigV4 signing failed (no usable AWS credentials?): ${(err as Error).message}`, {
        context: { uri: safeUri(url) }, cause: err,
      });
    }
    for (const [k, v] of Object.entries(signed.headers)) {
      // fetch derives Host from the URL (the same value that was signed) and refuses to have it set.
      if (k.toLowerCase() !== 'host') h[k.toLowerCase()] = v;
    }
  }

  invalidate(): boolean {
    return this.delegate.invalidate();
  }
}

function queryOf(url: URL): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = q[k];
    q[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return q;
}

function credentialProvider(c: SigV4Options['credentials']): AwsCredentialIdentityProvider {
  if (typeof c === 'function') return c;
  if (c !== undefined) {
    const identity: AwsCredentialIdentity = c.sessionToken === undefined
      ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
      : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    return async () => identity;
  }
  // Loaded on first use: most deployments of the exporter never sign catalog requests.
  let chain: AwsCredentialIdentityProvider | undefined;
  return async () => {
    if (chain === undefined) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      chain = defaultProvider();
    }
    return chain();
  };
}

/** The AuthProvider for any catalog auth setting. */
export function authProvider(settings: AuthSettings, options: AuthOptions & { now?: () => number } = {}): AuthProvider {
  if (settings.type !== 'sigv4') return delegateAuthProvider(settings, options);
  options.redactor?.add(settings.credentials?.secretAccessKey, settings.credentials?.sessionToken);
  const sigOptions: SigV4Options = {
    signingName: settings.signingName,
    signingRegion: settings.signingRegion,
    delegate: delegateAuthProvider(settings.delegate, options),
  };
  if (settings.credentials !== undefined) sigOptions.credentials = settings.credentials;
  if (options.now !== undefined) sigOptions.now = options.now;
  return new SigV4Auth(sigOptions);
}
