#!/usr/bin/env node
/**
 * `pinot-export` command line. Each command lives in its own module; this file only dispatches and turns
 * errors into one line on stderr with the stable error code, and a non-zero exit status.
 */
import { ExporterError } from '../errors.js';
import { runCat } from './cat.js';
import { runInspect } from './inspect.js';

const USAGE = `usage: pinot-export <command> [options]

commands:
  inspect <segment> [--json] [--crc]           segment and per-column metadata
  cat <segment> [--columns a,b] [--limit N]    rows as JSON Lines, in doc order
      [--batch-rows N] [--legacy-padding refuse|strip]

<segment> is a segment directory, an archive path or file:// URL, s3://bucket/key or http(s):// URL.
S3 options: --s3-endpoint URL --s3-region R --s3-path-style (credentials from the AWS default chain).`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  inspect: runInspect,
  cat: runCat,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`pinot-export: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof ExporterError) {
      process.stderr.write(`pinot-export ${command}: ${err.message}\n`);
      if (process.env.PINOT_EXPORT_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
      return err.code === 'USAGE' ? 2 : 1;
    }
    process.stderr.write(`pinot-export ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
