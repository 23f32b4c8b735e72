/**
 * Where the test catalog keeps table files. `file://` locations are local paths; other locations can be
 * mapped onto a local directory (an imported Java table whose metadata says `s3a://hyperparam-iceberg/…`);
 * `s3://` / `s3a://` locations that are not mapped go to the injected S3 client (the loopback S3 server).
 * Writes are atomic (temporary file + rename) so a reader never sees half a metadata file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export class TableStorage {
  private readonly mappings: { prefix: string; dir: string }[] = [];

  constructor(readonly warehouseDir: string, private readonly s3?: S3Client) {}

  /** Files under `prefix` (a location URI) live in the local directory `dir`. */
  map(prefix: string, dir: string): void {
    this.mappings.push({ prefix: prefix.replace(/\/+$/, ''), dir: resolve(dir) });
    this.mappings.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Local path of a location URI, or undefined when it lives on S3. */
  localPath(uri: string): string | undefined {
    for (const { prefix, dir } of this.mappings) {
      if (uri === prefix || uri.startsWith(`${prefix}/`)) return join(dir, ...uri.slice(prefix.length).split('/').filter(Boolean));
    }
    if (uri.startsWith('file:')) return fileURLToPath(uri);
    if (uri.startsWith('/')) return uri;
    return undefined;
  }

  /** Path relative to the warehouse directory (for serving it over HTTP), or undefined when outside it. */
  warehouseRelative(uri: string): string | undefined {
    const local = this.localPath(uri);
    if (local === undefined) return undefined;
    const rel = relative(this.warehouseDir, local);
    return rel.startsWith('..') || rel.startsWith(sep) ? undefined : rel.split(sep).join('/');
  }

  async write(uri: string, bytes: Uint8Array | string): Promise<void> {
    const local = this.localPath(uri);
    if (local !== undefined) {
      await mkdir(dirname(local), { recursive: true });
      const tmp = `${local}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, local);
      return;
    }
    const { bucket, key } = this.s3Location(uri);
    await this.s3!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  }

  async read(uri: string): Promise<Buffer> {
    const local = this.localPath(uri);
    if (local !== undefined) return readFile(local);
    const { bucket, key } = this.s3Location(uri);
    const out = await this.s3!.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  private s3Location(uri: string): { bucket: string; key: string } {
    const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new Error(`iceberg-catalog: location ${uri} is neither local, mapped nor s3://`);
    if (!this.s3) throw new Error(`iceberg-catalog: location ${uri} is on S3 but the catalog has no S3 client`);
    return { bucket: m[1]!, key: m[2]! };
  }
}
