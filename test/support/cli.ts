import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/program.js';

/** In-memory stdout/stderr for running a CLI command in process; `isTTY` on stderr when asked. */
export function captureIo(options: { tty?: boolean } = {}): { io: CliIo; stdout(): string; stderr(): string } {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  return {
    io: { stdout, stderr },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}
