#!/usr/bin/env -S node --initial-old-space-size=64
/** The `pinot-export` executable (package.json `bin`); its `#!` flags are NODE_FLAGS (node-flags.ts). */
import { runCli } from './program.js';

// EPIPE (e.g. `pinot-export cat … | head`) means the reader is done: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2));
