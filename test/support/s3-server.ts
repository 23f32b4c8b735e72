/**
 * A real S3-protocol server on loopback for sink tests: fauxqs 1.9.2 (in-process, listening on 127.0.0.1 only)
 * behind a small HTTP proxy that the test controls.
 *
 * The proxy forwards every request unchanged and adds what fauxqs lacks and what failure tests need:
 * - fault injection per operation (and part number): answer 503 SlowDown / 500 InternalError / any error
 *   without forwarding, answer a CompleteMultipartUpload with 200 and an `<Error>` body (as S3 may), reset
 *   the connection, or kill the server: drop every connection and stop listening until `revive()`;
 * - a ledger of multipart uploads seen through it (created, completed, aborted), which also answers
 *   ListMultipartUploads (fauxqs routes that request to ListObjects); `danglingUploads()` asks fauxqs
 *   itself which of them are still open;
 * - optional conditional writes (If-None-Match / If-Match on PutObject and CompleteMultipartUpload), as
 *   AWS S3 does them, by a HEAD to fauxqs before forwarding (fauxqs ignores the headers);
 * - optional access-key checking (fauxqs accepts any key): other keys get 403 InvalidAccessKeyId.
 * fauxqs accepts request bodies up to 11 MiB, so tests use parts of at most 8 MiB.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';

export type S3Op =
  | 'PutObject' | 'UploadPart' | 'CreateMultipartUpload' | 'CompleteMultipartUpload' | 'AbortMultipartUpload'
  | 'HeadObject' | 'GetObject' | 'ListObjects' | 'ListMultipartUploads' | 'DeleteObject' | 'CreateBucket' | 'Other';

export type FaultAction =
  /** Answer with this error without forwarding. */
  | { status: number; code: string; message?: string }
  /** 200 with an `<Error>` body (CompleteMultipartUpload), not forwarded. */
  | 'error-200'
  /** Destroy this connection without an answer. */
  | 'reset'
  /** Drop every connection and stop listening (until `revive()`). */
  | 'kill';

export interface Fault {
  op: S3Op;
  /** Only this part (UploadPart). */
  partNumber?: number;
  /** How many matching requests to hit (default 1; `Infinity` for all). */
  times?: number;
  action: FaultAction;
}

export interface RequestRecord {
  op: S3Op;
  method: string;
  key: string;
  partNumber?: number;
  uploadId?: string;
  /** Status sent to the client (undefined when the connection was dropped). */
  status?: number;
  /** What the proxy did instead of forwarding. */
  injected?: string;
  /** Access key of the signature; undefined for an unsigned request. */
  accessKeyId?: string;
  /** Request headers worth asserting on: conditions, ACL, encryption, storage class, Content-MD5, metadata. */
  headers: Record<string, string>;
}

const RECORDED_HEADERS = /^(if-none-match|if-match|content-md5|content-type|x-amz-acl|x-amz-server-side-encryption.*|x-amz-storage-class|x-amz-meta-.*)$/;

export interface S3TestServer {
  /** The proxy: what the code under test talks to. */
  endpoint: string;
  /** fauxqs itself, for checks that must bypass the faults. */
  upstream: string;
  bucket: string;
  /** Client settings for `endpoint` (or for the upstream with `direct`). */
  clientConfig(direct?: boolean): S3ClientConfig;
  /** A client straight to fauxqs, for verification. */
  readonly direct: S3Client;
  log: RequestRecord[];
  /** Failures inside the proxy itself (answered with 502). */
  proxyErrors: unknown[];
  count(op: S3Op, filter?: (r: RequestRecord) => boolean): number;
  inject(fault: Fault): void;
  /** Runs before a request of this op is handled (once), e.g. to write the key "concurrently". */
  before(op: S3Op, hook: () => Promise<void>): void;
  clearFaults(): void;
  kill(): Promise<void>;
  revive(): Promise<void>;
  /** Upload ids the ledger thinks are open. */
  openUploads(key?: string): string[];
  /**
   * Upload ids created through the proxy that fauxqs still held open. The check aborts them there and
   * empties the ledger, so the next test starts clean.
   */
  danglingUploads(): Promise<string[]>;
  getObject(key: string): Promise<Buffer | undefined>;
  headObject(key: string): Promise<{ metadata: Record<string, string>; etag?: string; bytes: number } | undefined>;
  putObject(key: string, body: Uint8Array, metadata?: Record<string, string>): Promise<void>;
  listKeys(prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export interface S3TestServerOptions {
  bucket?: string;
  /** Emulate AWS conditional writes (default true). */
  conditionalWrites?: boolean;
  /** Only this access key is accepted (default: any). */
  accessKeyId?: string;
}

const CREDENTIALS = { accessKeyId: 'test-key', secretAccessKey: 'test-secret' };

export async function startS3Server(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'exports';
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const upstreamPort = (app.server.address() as AddressInfo).port;
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const config = (endpoint: string): S3ClientConfig => ({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...CREDENTIALS }, maxAttempts: 1,
  });
  const direct = new S3Client(config(upstream));
  await direct.send(new CreateBucketCommand({ Bucket: bucket }));

  const proxy = new FaultProxy(upstreamPort, options);
  await proxy.listen(0);
  const endpoint = `http://127.0.0.1:${proxy.port}`;

  return {
    endpoint,
    upstream,
    bucket,
    clientConfig: (toUpstream = false) => config(toUpstream ? upstream : endpoint),
    direct,
    log: proxy.log,
    proxyErrors: proxy.errors,
    count: (op, filter) => proxy.log.filter((r) => r.op === op && (filter ? filter(r) : true)).length,
    inject: (fault) => proxy.faults.push({ ...fault, left: fault.times ?? 1 }),
    before: (op, hook) => proxy.hooks.set(op, hook),
    clearFaults: () => {
      proxy.faults.length = 0;
      proxy.hooks.clear();
    },
    kill: () => proxy.kill(),
    revive: () => proxy.listen(proxy.port),
    openUploads: (key) => [...proxy.uploads.entries()].filter(([, u]) => u.state === 'open' && (key === undefined || u.key === key)).map(([id]) => id),
    async danglingUploads() {
      const open: string[] = [];
      for (const [id, u] of proxy.uploads) {
        const res = await fetch(`${upstream}/${bucket}/${encodeKey(u.key)}?uploadId=${encodeURIComponent(id)}`, { method: 'DELETE' });
        await res.arrayBuffer();
        if (res.status < 300) open.push(id);
      }
      proxy.uploads.clear();
      return open;
    },
    async getObject(key) {
      try {
        const out = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async headObject(key) {
      try {
        const out = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { metadata: out.Metadata ?? {}, etag: out.ETag, bytes: out.ContentLength ?? 0 };
      } catch (err) {
        if ((err as { name?: string }).name === 'NotFound') return undefined;
        throw err;
      }
    },
    async putObject(key, body, metadata) {
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
    },
    async listKeys(prefix) {
      const out = await direct.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    },
    async stop() {
      await proxy.kill();
      direct.destroy();
      await app.close();
    },
  };
}

interface ActiveFault extends Fault {
  left: number;
}

interface UploadEntry {
  key: string;
  state: 'open' | 'completed' | 'aborted';
  initiated: Date;
}

class FaultProxy {
  readonly log: RequestRecord[] = [];
  readonly faults: ActiveFault[] = [];
  readonly hooks = new Map<S3Op, () => Promise<void>>();
  readonly uploads = new Map<string, UploadEntry>();
  /** Failures of the proxy itself (answered 502), for tests that want to rule them out. */
  readonly errors: unknown[] = [];
  port = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly upstreamPort: number, private readonly options: S3TestServerOptions) {}

  async listen(port: number): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A request cut off by a kill or a client that went away is not a proxy failure.
        if (!req.socket.destroyed) this.errors.push(err);
        if (!res.headersSent) res.writeHead(502).end(String(err));
        else res.destroy();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const op = classify(req.method ?? 'GET', key, url.searchParams);
    const partNumber = url.searchParams.has('partNumber') ? Number(url.searchParams.get('partNumber')) : undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (RECORDED_HEADERS.test(name) && typeof value === 'string') headers[name] = value;
    }
    const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const record: RequestRecord = { op, method: req.method ?? 'GET', key, partNumber, uploadId: url.searchParams.get('uploadId') ?? undefined, accessKeyId, headers };
    this.log.push(record);

    const hook = this.hooks.get(op);
    if (hook) {
      this.hooks.delete(op);
      await hook();
    }
    if (this.options.accessKeyId !== undefined) {
      if (accessKeyId !== this.options.accessKeyId) return this.error(req, res, record, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    const fault = this.faults.find((f) => f.left > 0 && f.op === op && (f.partNumber === undefined || f.partNumber === partNumber));
    if (fault) {
      fault.left--;
      const action = fault.action;
      record.injected = typeof action === 'string' ? action : `${action.status} ${action.code}`;
      if (action === 'kill') {
        await this.kill();
        return;
      }
      if (action === 'reset') {
        req.socket.destroy();
        return;
      }
      if (action === 'error-200') {
        await drain(req);
        return this.send(res, record, 200, errorXml('InternalError', 'We encountered an internal error. Please try again.'));
      }
      return this.error(req, res, record, action.status, action.code, action.message ?? action.code);
    }
    if (op === 'ListMultipartUploads') {
      await drain(req);
      return this.send(res, record, 200, this.listUploadsXml(bucket, url.searchParams.get('prefix') ?? ''));
    }
    if (this.options.conditionalWrites !== false && (op === 'PutObject' || op === 'CompleteMultipartUpload')) {
      const rejected = await this.checkCondition(req, bucket, key);
      if (rejected) return this.error(req, res, record, rejected.status, rejected.code, rejected.code);
    }
    await this.forward(req, res, record);
  }

  private async checkCondition(req: http.IncomingMessage, bucket: string, key: string): Promise<{ status: number; code: string } | undefined> {
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
    const head = await this.upstreamRequest('HEAD', `/${bucket}/${encodeKey(key)}`);
    const exists = head.status === 200;
    if (ifNoneMatch === '*' && exists) return { status: 412, code: 'PreconditionFailed' };
    if (ifMatch !== undefined) {
      if (!exists) return { status: 404, code: 'NoSuchKey' };
      if (head.headers.etag !== ifMatch) return { status: 412, code: 'PreconditionFailed' };
    }
    return undefined;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse, record: RequestRecord): Promise<void> {
    const headers = { ...req.headers };
    delete headers.expect;
    const upstreamReq = http.request({ host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers });
    upstreamReq.on('error', () => undefined);
    // A client cut off mid-body must not leave fauxqs waiting for the rest.
    req.on('close', () => {
      if (!req.complete) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
    const [upstreamRes] = (await once(upstreamReq, 'response')) as [http.IncomingMessage];
    upstreamRes.on('error', () => undefined);
    const status = upstreamRes.statusCode ?? 502;
    const ledger = record.op === 'CreateMultipartUpload' || record.op === 'CompleteMultipartUpload' || record.op === 'AbortMultipartUpload';
    if (!ledger) {
      record.status = status;
      res.writeHead(status, upstreamRes.headers);
      upstreamRes.pipe(res);
      return;
    }
    // Read the answer even if our client is gone: the ledger must know what the store did.
    const body = await drain(upstreamRes);
    const text = body.toString('utf8');
    if (record.op === 'CreateMultipartUpload' && status === 200) {
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1];
      if (id) this.uploads.set(id, { key: record.key, state: 'open', initiated: new Date() });
    } else if (record.op === 'CompleteMultipartUpload' && status === 200 && !text.includes('<Error>')) {
      const u = this.uploads.get(record.uploadId ?? '');
      if (u) u.state = 'completed';
    } else if (record.op === 'AbortMultipartUpload' && status < 300) {
      const u = this.uploads.get(record.uploadId ?? '');
      if (u) u.state = 'aborted';
    }
    if (res.destroyed) return;
    record.status = status;
    res.writeHead(status, upstreamRes.headers);
    res.end(body);
  }

  private listUploadsXml(bucket: string, prefix: string): string {
    const uploads = [...this.uploads.entries()].filter(([, u]) => u.state === 'open' && u.key.startsWith(prefix));
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Bucket>${xml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xml(prefix)}</Prefix>`,
      '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>',
      ...uploads.map(([id, u]) => `<Upload><Key>${xml(u.key)}</Key><UploadId>${xml(id)}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`),
      '</ListMultipartUploadsResult>',
    ].join('');
  }

  private async error(req: http.IncomingMessage, res: http.ServerResponse, record: RequestRecord, status: number, code: string, message: string): Promise<void> {
    await drain(req);
    this.send(res, record, status, req.method === 'HEAD' ? '' : errorXml(code, message));
  }

  private send(res: http.ServerResponse, record: RequestRecord, status: number, body: string): void {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': randomUUID() });
    res.end(body);
  }

  private upstreamRequest(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port: this.upstreamPort, method, path }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      r.on('error', reject);
      r.end();
    });
  }
}

function classify(method: string, key: string, q: URLSearchParams): S3Op {
  if (key === '') {
    if (method === 'GET') return q.has('uploads') ? 'ListMultipartUploads' : 'ListObjects';
    return method === 'PUT' ? 'CreateBucket' : 'Other';
  }
  switch (method) {
    case 'PUT': return q.has('uploadId') && q.has('partNumber') ? 'UploadPart' : 'PutObject';
    case 'POST': return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'Other';
    case 'DELETE': return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD': return 'HeadObject';
    case 'GET': return 'GetObject';
    default: return 'Other';
  }
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  } catch {
    // A client that went away mid-body: what arrived is enough.
  }
  return Buffer.concat(chunks);
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message><RequestId>${randomUUID()}</RequestId></Error>`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
