/** The Node flags the `pinot-export` executable starts with (src/cli/node-flags.ts) are its `#!` line's. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';

const SOURCE = resolve('src/cli/main.ts');
const BUILT = resolve('dist/src/cli/main.js');
const firstLine = (path: string): string => readFileSync(path, 'utf8').split('\n', 1)[0]!;

describe('pinot-export executable', () => {
  it('starts node with NODE_FLAGS, in the source and in the build', () => {
    const expected = `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`;
    expect(NODE_FLAGS.length).toBeGreaterThan(0);
    expect(firstLine(SOURCE)).toBe(expected);
    expect(firstLine(BUILT)).toBe(expected);
  });

  it('runs through its #! line as the kernel runs it (env gets the rest of the line as one argument)', () => {
    const rest = firstLine(BUILT).slice('#!/usr/bin/env '.length);
    const out = execFileSync('/usr/bin/env', [rest, BUILT, 'help'], { encoding: 'utf8' });
    expect(out).toContain('convert');
    // The flags reach node as flags of its own (node refuses a V8 flag it does not know before running anything).
    const argv = execFileSync('/usr/bin/env', [rest, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], { encoding: 'utf8' });
    expect((JSON.parse(argv) as string[]).slice(0, NODE_FLAGS.length)).toEqual(NODE_FLAGS);
  });
});
