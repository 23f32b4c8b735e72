/** Shared argument parsing for the CLI commands (node:util parseArgs with typed errors). */
import { readFile } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.js';
import type { SegmentReaderOptions } from '../sources/segment-reader.js';

export const S3_OPTIONS = {
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-path-style': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Runs `parseArgs` (passed in so the caller's option types are inferred at the call site) and turns its
 * errors and a wrong number of positionals into USAGE errors.
 */
export function parse<T extends { positionals: string[] }>(run: () => T, positionals: string[]): T {
  let parsed: T;
  try {
    parsed = run();
  } catch (err) {
    throw new ConfigError(ErrorCodes.USAGE, (err as Error).message);
  }
  if (parsed.positionals.length !== positionals.length) {
    throw new ConfigError(ErrorCodes.USAGE, `expected ${positionals.map((p) => `<${p}>`).join(' ')}, got ${parsed.positionals.length} argument(s)`);
  }
  return parsed;
}

export function readerOptions(values: { 's3-endpoint'?: string; 's3-region'?: string; 's3-path-style'?: boolean }): SegmentReaderOptions {
  const s3: NonNullable<SegmentReaderOptions['s3']> = {};
  if (values['s3-endpoint']) s3.endpoint = values['s3-endpoint'];
  if (values['s3-region']) s3.region = values['s3-region'];
  if (values['s3-path-style']) s3.forcePathStyle = true;
  return Object.keys(s3).length > 0 ? { s3 } : {};
}

export function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConfigError(ErrorCodes.USAGE, `--${name} must be a non-negative integer, got "${value}"`);
  }
  return n;
}

export function legacyPaddingOption(value: string | undefined): 'refuse' | 'strip' | undefined {
  if (value === undefined || value === 'refuse' || value === 'strip') return value;
  throw new ConfigError(ErrorCodes.USAGE, `--legacy-padding must be "refuse" or "strip", got "${value}"`);
}

/** Reads a JSON file named on the command line; unreadable is USAGE, malformed is CONFIG_INVALID. */
export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(ErrorCodes.USAGE, `cannot read ${what} ${path}: ${(err as Error).message}`, { context: { file: path }, cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${what} ${path} is not JSON: ${(err as Error).message}`, { context: { file: path }, cause: err });
  }
}
