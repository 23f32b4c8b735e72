/**
 * Read-only HTTP server for a directory on 127.0.0.1, with `Range` and `HEAD` (hyparquet reads Parquet
 * footers by range), so readers that only speak HTTP — icebird 0.3.1 — can read a warehouse.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface StaticServer {
  url: string;
  /** Requests served (path and status), for tests that check what a reader fetched. */
  log: { method: string; path: string; status: number; range?: string }[];
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const log: StaticServer['log'] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(root, path));
      const done = (status: number) => log.push({ method: req.method ?? '', path, status, ...(req.headers.range ? { range: req.headers.range } : {}) });
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return done(405);
      }
      if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
        res.writeHead(403).end();
        return done(403);
      }
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) {
        res.writeHead(404).end();
        return done(404);
      }
      let start = 0;
      let end = st.size - 1;
      let status = 200;
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        if (range[1] === '') {
          start = Math.max(0, st.size - Number(range[2]));
        } else {
          start = Number(range[1]);
          if (range[2] !== '') end = Math.min(end, Number(range[2]));
        }
        if (start > end || start >= st.size) {
          res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
          return done(416);
        }
        status = 206;
      }
      const headers: http.OutgoingHttpHeaders = {
        'content-length': end - start + 1,
        'accept-ranges': 'bytes',
        'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      };
      if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
      res.writeHead(status, headers);
      done(status);
      if (req.method === 'HEAD' || st.size === 0) {
        res.end();
        return;
      }
      createReadStream(file, { start, end }).pipe(res);
    })().catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
