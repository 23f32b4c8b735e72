import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared` beside the repository; read in place, never copied in. */
export const SHARED_DIR = resolve(repoRoot, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

/**
 * `describe` that runs only when the named folder under ../shared exists. A clone without ../shared still
 * passes; the skip is announced with the missing folder's path so nobody mistakes it for a pass.
 * (`.ci/run` refuses to run without ../shared, so CI always runs these.)
 */
export function describeFixtures(title: string, folder: string, fn: (dir: string) => void): void {
  const dir = sharedPath(folder);
  if (!existsSync(dir)) {
    console.warn(`[fixtures] skipping "${title}": missing folder ${dir}`);
    describe.skip(`${title} (missing ${dir})`, () => fn(dir));
    return;
  }
  describe(title, () => fn(dir));
}

/** The Pinot 1.5.1 segments under `fixtures/pinot-generated/1.5.1` (see its SOURCES.md), without `.tar.gz`. */
export const PINOT_151_DIR = 'fixtures/pinot-generated/1.5.1';
export const PINOT_151_SEGMENTS = [
  'events__0__12__20261126T0000Z',
  'events__0__13__20261126T0100Z',
  'rawfwd_version2',
  'rawfwd_version4',
  'rawfwd_version5',
  'dictvar_mvraw',
  'sorted_bigdecimal',
] as const;
