/** The `pinot-export` CLI: inspect and cat, in process (runCli) and as the built executable. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { describeFixtures } from '../support/fixtures.js';
import { captureIo } from '../support/cli.js';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, stdout: cap.stdout(), stderr: cap.stderr() };
}

describe('usage errors', () => {
  it('an unknown command or option exits 2 with a message', async () => {
    const a = await run('frobnicate');
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown command "frobnicate"');
    const b = await run('cat', '/nowhere', '--bogus');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('[USAGE]');
    const c = await run('cat');
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('<segment>');
  });

  it('a missing segment names the location and exits 1', async () => {
    const r = await run('inspect', '/nonexistent/segment.tar.gz');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SOURCE_NOT_FOUND');
    expect(r.stderr).toContain('/nonexistent/segment.tar.gz');
  });
});

describeFixtures('CLI on real segments', 'fixtures', (fixtures) => {
  const recipes = join(fixtures, 'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417200000_1642433520000_0');
  const events = join(fixtures, 'pinot-generated/1.5.1/events__0__12__20261126T0000Z.tar.gz');

  it('inspect --json --crc reports metadata, index sizes and a verified CRC', async () => {
    const r = await run('inspect', recipes, '--json', '--crc');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.name).toBe('matches_OFFLINE_1642417200000_1642433520000_0');
    expect(report.totalDocs).toBe(5);
    expect(report.layout).toBe('v3');
    expect(report.computedCrc).toBe(report.crc);
    const round = report.columns.find((c: { name: string }) => c.name === 'round');
    expect(round).toMatchObject({ dataType: 'STRING', encoding: 'DICTIONARY', sorted: true, cardinality: 1 });
    expect(round.bytes.forwardIndex).toBe(8);
    const matchTime = report.columns.find((c: { name: string }) => c.name === 'matchTime');
    expect(matchTime).toMatchObject({ dataType: 'TIMESTAMP', minValue: '1642417200000' });
  });

  it('inspect prints a table naming every column', async () => {
    const r = await run('inspect', events);
    expect(r.code).toBe(0);
    for (const c of ['user_id', 'session_id', 'payload', 'blob', 'tags_int', 'amount', 'ts']) expect(r.stdout).toContain(c);
    expect(r.stdout).toMatch(/session_id\s+STRING\s+dimension SV\s+RAW/);
  });

  it('cat --columns --limit prints exactly those keys, in doc order', async () => {
    const r = await run('cat', recipes, '--columns', 'winner,matchTime', '--limit', '2');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toStrictEqual([
      { winner: 'Miomir Kecmanovic', matchTime: 1642417200000 },
      { winner: 'Tommy Paul', matchTime: 1642417800000 },
    ]);
  });

  it('cat prints BYTES as hex, BIG_DECIMAL plain, MV as arrays, nulls as null', async () => {
    const r = await run('cat', events, '--limit', '3');
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ blob: '64b15efd5f347ed51392b93cb6', amount: '22727.77', tags_str: ['eps', 'iota'], is_active: true });
    expect(rows[2].blob).toBeNull();
  });

  it('an unknown column is a typed error naming it', async () => {
    const r = await run('cat', recipes, '--columns', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PINOT_UNKNOWN_COLUMN');
    expect(r.stderr).toContain('"nope"');
  });

  const bin = resolve('dist/src/cli/main.js');
  it.skipIf(!existsSync(bin))('the built executable streams rows and stops quietly when its reader closes', () => {
    const r = spawnSync('bash', ['-c', `node ${JSON.stringify(bin)} cat ${JSON.stringify(events)} | head -n 2`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!).session_id).toBe('s-c08f532c-0001');
  });
});
