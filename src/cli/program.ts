/**
 * `pinot-export` command line. Each command lives in its own module; this one dispatches and turns errors
 * into one line on stderr with the stable error code and a non-zero exit status (2 for usage errors).
 */
import type { Writable } from 'node:stream';
import { ExporterError } from '../errors.js';
import { runCat } from './cat.js';
import { runConvert } from './convert.js';
import { runDaemon } from './daemon.js';
import { runExport } from './export.js';
import { runGenerate } from './generate.js';
import { runInspect } from './inspect.js';

const USAGE = `usage: pinot-export <command> [options]

commands:
  inspect <segment> [--json] [--crc]           segment and per-column metadata
  cat <segment> [--columns a,b] [--limit N]    rows as JSON Lines, in doc order
      [--batch-rows N] [--legacy-padding refuse|strip]
  generate --preset events|baseball --rows N --seed S --out <dir>
      [--segments K] [--schema <file>] [--archive gzip|zstd|lz4|none] [--layout v3|v1]
                                               K consecutive synthetic REALTIME segments
  convert <segment> <out.parquet> [--config <table-config.json>] [--codec C] [--row-group-bytes N] [--writer auto|direct|parquet-wasm] [--threads N]
                                               one segment to one Parquet file
  export <segment> --config <table-config.json> [--force] [--progress auto|bar|lines|none]
                                               one segment to outputDirURI (local or S3), exactly once
  daemon --config <daemon.json> [--once]       the DataExportTask service (--once: drain the backlog, then exit;
                                               exit 1 when a task is parked FAILED)

<segment> is a segment directory, an archive path or file:// URL, s3://bucket/key or http(s):// URL.
S3 options: --s3-endpoint URL --s3-region R --s3-path-style (credentials from the AWS default chain).`;

/** Where a command writes; tests pass their own streams. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

/** A command resolves to its exit status, or to nothing for 0. */
const commands: Record<string, (args: string[], io: CliIo) => Promise<void | number>> = {
  inspect: runInspect,
  cat: runCat,
  generate: runGenerate,
  convert: runConvert,
  export: runExport,
  daemon: runDaemon,
};

export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  const run = commands[command];
  if (!run) {
    io.stderr.write(`pinot-export: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  try {
    const status = await run(rest, io);
    return typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof ExporterError) {
      io.stderr.write(`pinot-export ${command}: ${err.message}\n`);
      if (process.env.PINOT_EXPORT_DEBUG && err.stack) io.stderr.write(err.stack + '\n');
      return err.code === 'USAGE' ? 2 : 1;
    }
    io.stderr.write(`pinot-export ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

