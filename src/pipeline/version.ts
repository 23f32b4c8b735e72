/**
 * Our name and version for the Parquet footer's `created_by` ("<application> version <version> (build …)",
 * the form parquet-mr and arrow-rs write), read once at start-up from the package manifests.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXPORTER_NAME = 'pinot-parquet-export';

function manifestVersion(path: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    return pkg.version;
  } catch {
    return undefined;
  }
}

/** Walks up from this module (src/pipeline or dist/src/pipeline) to our package.json. */
function ownVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === EXPORTER_NAME && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function parquetWasmVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('parquet-wasm');
    return manifestVersion(join(dirname(entry), '..', 'package.json')) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const EXPORTER_VERSION = ownVersion();
export const PARQUET_WASM_VERSION = parquetWasmVersion();

/** `pinot-parquet-export version 0.1.0 (build parquet-wasm 0.8.0)`. */
export const CREATED_BY = `${EXPORTER_NAME} version ${EXPORTER_VERSION} (build parquet-wasm ${PARQUET_WASM_VERSION})`;

/** `pinot-parquet-export version 0.1.0 (build direct)`: files written by the direct writer (src/pipeline/direct). */
export const DIRECT_CREATED_BY = `${EXPORTER_NAME} version ${EXPORTER_VERSION} (build direct)`;

/** Every writer build a file of ours may name: part of what decides its bytes. */
export const WRITER_BUILDS: readonly string[] = [CREATED_BY, DIRECT_CREATED_BY];
