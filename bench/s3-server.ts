/**
 * fauxqs 1.9.2 (an S3-protocol server that keeps objects in memory) in a child process on 127.0.0.1, for the
 * benchmarks: its CPU and memory stay out of the measured process, and it reports its own peak RSS and what
 * it received (requests per S3 operation, UploadPart bytes), so a bench can check that the upload it times
 * really happened.
 *
 *   const server = await startBenchS3Server({ bucket: 'bench' });
 *   … upload to server.endpoint …
 *   const stats = await server.stop();   // requests, part bytes, peak RSS, CPU seconds of the server
 *
 * Bench code must not import test/support, hence this small launcher of its own. fauxqs accepts request
 * bodies up to 11 MiB, so parts must stay at or below 8 MiB.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export type BenchS3Op =
  | 'PutObject' | 'UploadPart' | 'CreateMultipartUpload' | 'CompleteMultipartUpload' | 'AbortMultipartUpload'
  | 'HeadObject' | 'GetObject' | 'DeleteObject' | 'ListObjects' | 'CreateBucket' | 'Other';

export interface BenchS3Stats {
  /** Answered requests per operation and status class, e.g. `UploadPart 2xx`. */
  requests: Record<string, number>;
  /** Bytes in the bodies of UploadPart / PutObject requests answered 2xx (Content-Length). */
  partBytes: number;
  putBytes: number;
  /** Peak RSS of the server process (`process.resourceUsage().maxRSS`). */
  peakRssMb: number;
  /** CPU time (user + system) the server used. */
  cpuSeconds: number;
}

export interface BenchS3Server {
  endpoint: string;
  bucket: string;
  pid: number;
  /** BENCH_S3_CREDENTIALS. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stats(): Promise<BenchS3Stats>;
  /** Stops the server and returns its final stats. */
  stop(): Promise<BenchS3Stats>;
}

type Message = { type: 'ready'; port: number } | { type: 'stats'; stats: BenchS3Stats } | { type: 'error'; message: string };

/** fauxqs accepts any key: fixed dummy credentials for clients to sign with. */
export const BENCH_S3_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }> = Object.freeze({ accessKeyId: 'bench-key', secretAccessKey: 'bench-secret' });

/** Starts fauxqs in a child process with `bucket` created; rejects if it does not come up within `timeoutMs`. */
export async function startBenchS3Server(options: { bucket?: string; timeoutMs?: number } = {}): Promise<BenchS3Server> {
  const bucket = options.bucket ?? 'bench';
  const child = fork(fileURLToPath(import.meta.url), ['--serve', bucket], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`fauxqs did not start within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with code ${code} before it was ready`));
    });
    child.on('message', (m: Message) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`fauxqs failed to start: ${m.message}`));
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    pid: child.pid!,
    credentials: { ...BENCH_S3_CREDENTIALS },
    stats: () => ask(child, 'stats'),
    async stop() {
      const exited = once(child, 'exit');
      const stats = await ask(child, 'stop');
      await exited;
      return stats;
    },
  };
}

function ask(child: ChildProcess, type: 'stats' | 'stop'): Promise<BenchS3Stats> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Message) => {
      if (m.type !== 'stats') return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m.stats);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`fauxqs exited (code ${code}) before answering "${type}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ type });
  });
}

/** The S3 operation of a path-style request. */
export function classify(method: string, url: string): BenchS3Op {
  const u = new URL(url, 'http://s3');
  const [, , ...rest] = u.pathname.split('/');
  const key = rest.join('/');
  const q = u.searchParams;
  if (key === '') return method === 'PUT' ? 'CreateBucket' : method === 'GET' ? 'ListObjects' : 'Other';
  switch (method) {
    case 'PUT': return q.has('uploadId') && q.has('partNumber') ? 'UploadPart' : 'PutObject';
    case 'POST': return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'Other';
    case 'DELETE': return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD': return 'HeadObject';
    case 'GET': return 'GetObject';
    default: return 'Other';
  }
}

/** The child: fauxqs on 127.0.0.1:0 with the bucket, counting what it answers. */
async function serve(bucket: string): Promise<void> {
  const { buildApp } = await import('fauxqs');
  const stats: BenchS3Stats = { requests: {}, partBytes: 0, putBytes: 0, peakRssMb: 0, cpuSeconds: 0 };
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  app.addHook('onResponse', async (request, reply) => {
    const op = classify(request.method, request.url);
    const status = `${Math.floor(reply.statusCode / 100)}xx`;
    const name = `${op} ${status}`;
    stats.requests[name] = (stats.requests[name] ?? 0) + 1;
    const length = Number(request.headers['content-length'] ?? 0);
    if (status === '2xx' && op === 'UploadPart') stats.partBytes += length;
    if (status === '2xx' && op === 'PutObject') stats.putBytes += length;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  // fauxqs takes any credentials and derives the region from the signature; an unsigned PUT creates the bucket.
  const res = await fetch(`http://127.0.0.1:${port}/${bucket}`, { method: 'PUT' });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`creating bucket ${bucket} answered HTTP ${res.status}`);
  const snapshot = (): BenchS3Stats => {
    const usage = process.resourceUsage();
    return { ...stats, requests: { ...stats.requests }, peakRssMb: Math.round(usage.maxRSS / 1024), cpuSeconds: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1e4) / 100 };
  };
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') process.send!({ type: 'stats', stats: snapshot() });
    if (m.type === 'stop') {
      const final = snapshot();
      void app.close().finally(() => process.send!({ type: 'stats', stats: final }, () => process.exit(0)));
    }
  });
  // The parent went away (crash, Ctrl-C): do not linger.
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') {
  serve(process.argv[3] ?? 'bench').catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
