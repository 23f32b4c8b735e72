/**
 * `pinot-export generate --preset <name> --rows N --seed S --out <dir> [--segments K] [--schema <file>]
 * [--archive gzip|zstd|lz4|none] [--layout v3|v1]`: K consecutive synthetic REALTIME LLC segments, one line
 * per segment on stdout (name, docs, bytes, path).
 */
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.js';
import { generateSegments } from '../generate/generator.js';
import { parse, positiveInt } from './args.js';
import type { CliIo } from './program.js';

const ARCHIVES = ['gzip', 'zstd', 'lz4', 'none'] as const;
const LAYOUTS = ['v3', 'v1'] as const;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(ErrorCodes.USAGE, `--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(ErrorCodes.USAGE, `--${name} is required`);
  return value;
}

export async function runGenerate(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(() => parseArgs({
    args,
    allowPositionals: true,
    options: {
      preset: { type: 'string' },
      schema: { type: 'string' },
      rows: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      segments: { type: 'string' },
      archive: { type: 'string' },
      layout: { type: 'string' },
    },
  }), []);
  if (values.preset === undefined && values.schema === undefined) {
    throw new ConfigError(ErrorCodes.USAGE, '--preset or --schema is required');
  }
  const rows = positiveInt('rows', required('rows', values.rows))!;
  const segments = positiveInt('segments', values.segments) ?? 1;
  if (rows < 1 || segments < 1) throw new ConfigError(ErrorCodes.USAGE, '--rows and --segments must be at least 1');
  const seed = required('seed', values.seed);
  await generateSegments({
    preset: values.preset,
    schemaFile: values.schema,
    rows,
    seed: /^-?\d+$/.test(seed) ? Number(seed) : seed,
    out: required('out', values.out),
    segments,
    archive: oneOf('archive', values.archive, ARCHIVES, 'gzip'),
    layout: oneOf('layout', values.layout, LAYOUTS, 'v3'),
    onSegment: (s) => {
      io.stdout.write(`${s.name}\t${s.totalDocs} docs\t${s.bytes} bytes\t${s.archivePath ?? s.dir}\n`);
    },
  });
}
