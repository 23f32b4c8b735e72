/** Local sink: temp name → fsync → rename; nothing partial is ever visible under the final name. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, ExporterError } from '../../src/errors.js';
import { LocalSink } from '../../src/sinks/local.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ppe-local-sink-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('LocalSink', () => {
  it('writes the bytes under <dir>/<name> and reports uri and size; no temporary file is left', async () => {
    const sink = new LocalSink({ dir: join(dir, 'out', 'events') });
    const data = bytes(3_000_001, 1);
    const file = await sink.publish('seg_1.parquet', chunks(data, 65_536), { segment: 'seg_1' });
    const path = join(dir, 'out', 'events', 'seg_1.parquet');
    expect(file).toMatchObject({ uri: pathToFileURL(path).href, name: 'seg_1.parquet', bytes: data.length, reused: false });
    expect(readFileSync(path).equals(Buffer.from(data))).toBe(true);
    expect(readdirSync(join(dir, 'out', 'events'))).toEqual(['seg_1.parquet']);
  });

  it('nothing is visible under the final name until the last byte is written and synced', async () => {
    const sink = new LocalSink({ dir });
    const final = join(dir, 'x.parquet');
    const seen: boolean[] = [];
    async function* watched(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 20; i++) {
        yield bytes(10_000, i);
        seen.push(existsSync(final));
      }
    }
    await sink.publish('x.parquet', watched(), { segment: 's' });
    expect(seen.every((v) => !v)).toBe(true);
    expect(statSync(final).size).toBe(200_000);
  });

  it('a failing source leaves neither the final name nor a temporary file, and its error comes through', async () => {
    const sink = new LocalSink({ dir });
    const boom = new ExporterError(ErrorCodes.PINOT_CORRUPT, 'bad chunk');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes(100_000, 1);
      yield bytes(100_000, 2);
      throw boom;
    }
    await expect(sink.publish('y.parquet', failing(), { segment: 's' })).rejects.toBe(boom);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a re-run rewrites the same name with the new bytes', async () => {
    const sink = new LocalSink({ dir });
    await sink.publish('z.parquet', chunks(bytes(50_000, 1), 4096), { segment: 's', crc: 1n });
    const second = bytes(70_000, 9);
    await sink.publish('z.parquet', chunks(second, 4096), { segment: 's', crc: 2n });
    expect(readdirSync(dir)).toEqual(['z.parquet']);
    expect(readFileSync(join(dir, 'z.parquet')).equals(Buffer.from(second))).toBe(true);
  });

  it('open() is a Writable for pipeline(); `published` resolves after the rename', async () => {
    const sink = new LocalSink({ dir });
    const writer = sink.open('w.parquet', { segment: 's' });
    await pipeline(Readable.from(chunks(bytes(123_456, 3), 1000)), writer);
    const file = await writer.published;
    expect(file.bytes).toBe(123_456);
    expect(statSync(fileURLToPath(file.uri)).size).toBe(123_456);
  });

  it('names that would leave the directory are refused', () => {
    const sink = new LocalSink({ dir });
    for (const name of ['../x.parquet', 'a/b.parquet', '..', '']) {
      expect(() => sink.open(name, { segment: 's' })).toThrow(ConfigError);
    }
  });

  it('check() creates the directory, and names outputDirURI when it cannot be one', async () => {
    await new LocalSink({ dir: join(dir, 'a', 'b') }).check();
    expect(statSync(join(dir, 'a', 'b')).isDirectory()).toBe(true);
    writeFileSync(join(dir, 'file'), 'x');
    const err = await new LocalSink({ dir: join(dir, 'file', 'sub'), uri: 'file:///x/file/sub' }).check().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).context.key).toBe('outputDirURI');
    expect((err as ConfigError).message).toContain('file:///x/file/sub');
  });
});

describe('LocalSink when the process is killed mid-write', () => {
  /** The sink's modules transpiled to plain ESM in a scratch dir, so a child `node` can run them. */
  function transpileSink(): string {
    const out = mkdtempSync(join(tmpdir(), 'ppe-local-sink-js-'));
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    for (const rel of ['src/errors.ts', 'src/sinks/errors.ts', 'src/sinks/sink.ts', 'src/sinks/local.ts']) {
      const js = ts.transpileModule(readFileSync(join(repo, rel), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
      mkdirSync(dirname(join(out, rel)), { recursive: true });
      writeFileSync(join(out, rel.replace(/\.ts$/, '.js')), js);
    }
    writeFileSync(join(out, 'child.mjs'), `
      import { LocalSink } from './src/sinks/local.js';
      const [dir, name] = process.argv.slice(2);
      const sink = new LocalSink({ dir });
      async function* slow() {
        for (let i = 0; ; i++) {
          yield new Uint8Array(64 * 1024).fill(i & 0xff);
          if (i === 16) process.stdout.write('writing\\n');
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      await sink.publish(name, slow(), { segment: 'seg' });
    `);
    return out;
  }

  it('SIGKILL leaves no file under the final name; the next publish succeeds and removes the leftover', async () => {
    const js = transpileSink();
    try {
      const child = spawn(process.execPath, [join(js, 'child.mjs'), dir, 'seg.parquet'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => b.toString().includes('writing') && resolve());
        child.on('exit', () => reject(new Error('child exited before writing')));
      });
      // The child is mid-write: a temporary file with data, nothing under the final name.
      const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      while (temps().length === 0 || statSync(join(dir, temps()[0]!)).size === 0) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
      expect(existsSync(join(dir, 'seg.parquet'))).toBe(false);
      expect(temps()).toHaveLength(1);
      expect(temps()[0]).toMatch(new RegExp(`^\\.seg\\.parquet\\.${child.pid}\\.[0-9a-f]{8}\\.tmp$`));

      const data = bytes(500_000, 5);
      await new LocalSink({ dir }).publish('seg.parquet', chunks(data, 8192), { segment: 'seg' });
      expect(readdirSync(dir)).toEqual(['seg.parquet']);
      expect(readFileSync(join(dir, 'seg.parquet')).equals(Buffer.from(data))).toBe(true);
    } finally {
      rmSync(js, { recursive: true, force: true });
    }
  });
});
