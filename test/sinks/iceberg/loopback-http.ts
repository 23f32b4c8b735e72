/** A tiny node:http server on 127.0.0.1 that records every request (raw path, headers, exact body). */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface Recorded {
  method: string;
  /** Path and query exactly as received. */
  rawUrl: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export interface Loopback {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startLoopback(handler: Handler): Promise<Loopback> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const rec: Recorded = {
        method: req.method ?? 'GET', rawUrl, path: q < 0 ? rawUrl : rawUrl.slice(0, q),
        query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)), headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * For a test file: returns a `serve` that starts a loopback server and registers it to be closed after each
 * test. Closing one early in a test is fine; the second close is a no-op.
 */
export function loopbackServers(): (handler: Handler) => Promise<Loopback> {
  const servers: Loopback[] = [];
  afterEach(async () => {
    while (servers.length > 0) await servers.pop()!.close();
  });
  return async (handler) => {
    const s = await startLoopback(handler);
    servers.push(s);
    return s;
  };
}

/** Sends a JSON body given as text (so tests control exactly how ids are written). */
export function sendJson(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export function errorModel(status: number, type: string, message: string): string {
  return JSON.stringify({ error: { message, type, code: status } });
}

/** Minimal v2 metadata whose main branch points at a 19-digit snapshot id. */
export function metadataText(current = '9158179788527662767'): string {
  return `{"format-version":2,"table-uuid":"eee3ca77-1713-442c-8c2f-ad98d8d36a9b","location":"s3://b/wh/db/t",
  "last-sequence-number":1,"last-updated-ms":1743410800565,"last-column-id":1,"current-schema-id":0,
  "schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"a","required":false,"type":"long"}]}],
  "default-spec-id":0,"partition-specs":[{"spec-id":0,"fields":[]}],"last-partition-id":999,"properties":{},
  "current-snapshot-id":${current},"refs":{"main":{"snapshot-id":${current},"type":"branch"}},
  "snapshots":[{"sequence-number":1,"snapshot-id":${current},"timestamp-ms":1743410800565,
  "summary":{"operation":"append"},"manifest-list":"s3://b/wh/db/t/metadata/snap.avro","schema-id":0}]}`;
}
