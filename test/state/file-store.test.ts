import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KEEP_VERSIONS } from '../../src/state/file-cell.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { emptyTableState, encodeRecord, type TableState } from '../../src/state/records.js';
import { updateTable } from '../../src/state/store.js';

const TABLE = 'events_REALTIME';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function bump(s: TableState | undefined): TableState {
  const base = s ?? emptyTableState(TABLE);
  return { ...base, watermarkMs: base.watermarkMs + 1 };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileStateStore records', () => {
  it('creates, reads and compare-and-sets; a stale version or a second create conflicts', async () => {
    const store = await FileStateStore.open({ dir });
    expect(await store.read(TABLE)).toBeUndefined();
    expect(await store.compareAndSet(TABLE, bump(undefined), undefined)).toBe(0);
    expect(await store.compareAndSet(TABLE, bump(bump(undefined)), 0)).toBe(1);
    await expect(store.compareAndSet(TABLE, bump(undefined), 0)).rejects.toMatchObject({ code: 'STATE_CONFLICT', retryable: true });
    await expect(store.compareAndSet(TABLE, bump(undefined), undefined)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect(await store.read(TABLE)).toEqual({ value: { ...emptyTableState(TABLE), watermarkMs: 2 }, version: 1 });
    await store.close();
    await expect(store.read(TABLE)).rejects.toMatchObject({ code: 'STATE_CLOSED' });
  });

  it('keeps the last versions only and leaves no temp files', async () => {
    const store = await FileStateStore.open({ dir });
    for (let i = 0; i < 20; i++) await updateTable(store, TABLE, bump);
    const files = await readdir(join(dir, 'v1', 'tables', TABLE, 'state'));
    expect(files.sort()).toEqual(Array.from({ length: KEEP_VERSIONS }, (_, i) => `${20 - KEEP_VERSIONS + i}.json`).sort());
    expect((await store.read(TABLE))!.value.watermarkMs).toBe(20);
    // A writer holding a read older than every kept version cannot win.
    await expect(store.compareAndSet(TABLE, bump(undefined), 2)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
  });

  it('loses no update among concurrent in-process writers', async () => {
    const a = await FileStateStore.open({ dir });
    const b = await FileStateStore.open({ dir });
    await Promise.all(Array.from({ length: 30 }, (_, i) => updateTable(i % 2 ? a : b, TABLE, bump, { attempts: 200 })));
    expect((await a.read(TABLE))!.value.watermarkMs).toBe(30);
  });

  it('refuses a corrupt record with STATE_CORRUPT naming the file', async () => {
    const store = await FileStateStore.open({ dir });
    await store.compareAndSet(TABLE, emptyTableState(TABLE), undefined);
    const path = join(dir, 'v1', 'tables', TABLE, 'state', '0.json');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"schemaVersion":1', '"schemaVersion":"one"'));
    await expect(store.read(TABLE)).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    await writeFile(path, `${text.split('\n')[0]}\n${JSON.stringify({ ...emptyTableState(TABLE), schemaVersion: 9 })}`);
    await expect(store.read(TABLE)).rejects.toMatchObject({ code: 'STATE_UNSUPPORTED_VERSION' });
  });
});

describe('FileStateStore claims and leadership in one process', () => {
  it('a claim excludes others until released', async () => {
    const a = await FileStateStore.open({ dir, claimTtlMs: 2000 });
    const b = await FileStateStore.open({ dir, claimTtlMs: 2000 });
    const held = await a.claim(TABLE, 'seg-1', 'a');
    expect(held?.owner).toBe('a');
    expect(await b.claim(TABLE, 'seg-1', 'b')).toBeUndefined();
    expect(await b.listClaims(TABLE)).toEqual([expect.objectContaining({ taskId: 'seg-1', owner: 'a' })]);
    await held!.release();
    expect(held!.signal.aborted).toBe(true);
    expect(await b.listClaims(TABLE)).toEqual([]);
    const taken = await b.claim(TABLE, 'seg-1', 'b');
    expect(taken?.owner).toBe('b');
    await a.close();
    await b.close();
  });

  it('renews a held claim past its TTL, and aborts when someone else took it', async () => {
    const a = await FileStateStore.open({ dir, claimTtlMs: 900 });
    const held = await a.claim(TABLE, 'seg-1', 'a');
    const first = held!.expiresAtMs!;
    await new Promise((r) => setTimeout(r, 1500));
    expect(held!.signal.aborted).toBe(false);
    expect(held!.expiresAtMs!).toBeGreaterThan(first);
    // Somebody overwrites the claim set (as a process whose clock says the lease expired would).
    const claimsDir = join(dir, 'v1', 'tables', TABLE, 'claims');
    const b = await FileStateStore.open({ dir, claimTtlMs: 900, now: () => Date.now() + 10_000 });
    expect(await b.claim(TABLE, 'seg-1', 'b')).toBeDefined();
    await until(() => held!.signal.aborted, 2000);
    expect(String((held!.signal.reason as Error).message)).toContain('taken over');
    expect((await readdir(claimsDir)).length).toBeGreaterThan(0);
    await a.close();
    await b.close();
  });

  it('elects one leader; the other takes over after resignation', async () => {
    const a = await FileStateStore.open({ dir, leaderTtlMs: 900 });
    const b = await FileStateStore.open({ dir, leaderTtlMs: 900 });
    const elected: string[] = [];
    const la = await a.campaign('a', () => elected.push('a'));
    const lb = await b.campaign('b', () => elected.push('b'));
    expect(la.isLeader()).toBe(true);
    expect(lb.isLeader()).toBe(false);
    await new Promise((r) => setTimeout(r, 1500)); // renewals keep a in place past its TTL
    expect(elected).toEqual(['a']);
    await la.resign();
    await until(() => lb.isLeader(), 3000);
    expect(elected).toEqual(['a', 'b']);
    await a.close();
    await b.close();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Several processes on one directory: the state modules are transpiled to plain ESM for child processes.

const MODULES = ['src/errors.ts', 'src/state/errors.ts', 'src/state/ranges.ts', 'src/state/records.ts', 'src/state/store.ts', 'src/state/file-cell.ts', 'src/state/file-store.ts'];

const CHILD = `
import { FileStateStore } from './src/state/file-store.js';
import { updateTable } from './src/state/store.js';
import { emptyTableState } from './src/state/records.js';
const [mode, dir, n, name] = process.argv.slice(2);
const store = await FileStateStore.open({ dir, claimTtlMs: 1500, leaderTtlMs: 1500 });
const bump = (s) => { const b = s ?? emptyTableState('${TABLE}'); return { ...b, watermarkMs: b.watermarkMs + 1 }; };
if (mode === 'count') {
  for (let i = 0; i < Number(n); i++) await updateTable(store, '${TABLE}', bump, { attempts: 1000 });
  await store.close();
} else if (mode === 'forever') {
  process.stdout.write('ready\\n');
  for (;;) await updateTable(store, '${TABLE}', bump, { attempts: 1000 });
} else if (mode === 'claim') {
  // A long lease, held until the parent kills us: every contender tries while the winner holds it.
  const patient = await FileStateStore.open({ dir, claimTtlMs: 30000 });
  const c = await patient.claim('${TABLE}', 'seg-x', name);
  process.stdout.write((c ? 'won' : 'lost') + '\\n');
  await new Promise(() => {});
} else if (mode === 'hold') {
  const c = await store.claim('${TABLE}', 'seg-x', name);
  const l = await store.campaign(name, () => {});
  process.stdout.write((c && l.isLeader() ? 'holding' : 'failed') + '\\n');
  await new Promise(() => {});
}
`;

describe('FileStateStore across processes', () => {
  let build: string;
  beforeAll(async () => {
    build = await mkdtemp(join(tmpdir(), 'file-store-build-'));
    for (const rel of MODULES) {
      const source = await readFile(join(repoRoot, rel), 'utf8');
      const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
      await mkdir(dirname(join(build, rel)), { recursive: true });
      await writeFile(join(build, rel.replace(/\.ts$/, '.js')), out.outputText);
    }
    await writeFile(join(build, 'package.json'), '{"type":"module"}');
    await writeFile(join(build, 'child.js'), CHILD);
  });
  afterAll(async () => {
    await rm(build, { recursive: true, force: true });
  });

  function child(...args: string[]): { done: Promise<{ code: number | null; out: string }>; kill(): void; line(): Promise<string> } {
    const proc = spawn(process.execPath, [join(build, 'child.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters: ((l: string) => void)[] = [];
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n').filter(Boolean);
      if (lines.length > 0) for (const w of waiters.splice(0)) w(lines[0]!);
    });
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const done = new Promise<{ code: number | null; out: string }>((res) => proc.on('exit', (code) => res({ code, out: out + err })));
    return {
      done,
      kill: () => proc.kill('SIGKILL'),
      line: () => new Promise((res) => (out.includes('\n') ? res(out.split('\n')[0]!) : waiters.push(res))),
    };
  }

  it('two processes on one directory never both win a compare-and-set (no lost increment)', async () => {
    const runs = [child('count', dir, '40'), child('count', dir, '40'), child('count', dir, '40')];
    for (const r of runs) expect((await r.done).code).toBe(0);
    const store = await FileStateStore.open({ dir });
    expect((await store.read(TABLE))!.value.watermarkMs).toBe(120);
  });

  it('survives kill -9 in the middle of writing: the record stays readable and writable', async () => {
    for (let round = 0; round < 3; round++) {
      const writer = child('forever', dir);
      expect(await writer.line()).toBe('ready');
      await new Promise((r) => setTimeout(r, 150 + round * 50));
      writer.kill();
      await writer.done;
      const store = await FileStateStore.open({ dir });
      const before = (await store.read(TABLE))!;
      expect(before.value.watermarkMs).toBeGreaterThan(0);
      expect(before.value.watermarkMs).toBe(before.version + 1);
      await updateTable(store, TABLE, bump);
      expect((await store.read(TABLE))!.value.watermarkMs).toBe(before.value.watermarkMs + 1);
    }
  });

  it('exactly one of several processes wins a claim', async () => {
    const runs = ['p1', 'p2', 'p3', 'p4'].map((name) => child('claim', dir, '0', name));
    const results = await Promise.all(runs.map((r) => r.line()));
    for (const r of runs) r.kill();
    await Promise.all(runs.map((r) => r.done));
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'lost')).toHaveLength(3);
  });

  it('claims and leadership of a process killed with -9 end with their lease', async () => {
    const holder = child('hold', dir, '0', 'victim');
    expect(await holder.line()).toBe('holding');
    const store = await FileStateStore.open({ dir, claimTtlMs: 1500, leaderTtlMs: 1500 });
    expect(await store.claim(TABLE, 'seg-x', 'survivor')).toBeUndefined();
    const elected: string[] = [];
    const lead = await store.campaign('survivor', () => elected.push('survivor'));
    expect(lead.isLeader()).toBe(false);
    holder.kill();
    await holder.done;
    await until(async () => lead.isLeader(), 6000);
    let claim: Awaited<ReturnType<typeof store.claim>>;
    await until(async () => (claim = await store.claim(TABLE, 'seg-x', 'survivor')) !== undefined, 6000);
    expect(claim!.owner).toBe('survivor');
    expect(elected).toEqual(['survivor']);
    await store.close();
  });
});

describe('encodeRecord', () => {
  it('is what the file store writes after the header line', async () => {
    const store = await FileStateStore.open({ dir });
    await store.compareAndSet(TABLE, emptyTableState(TABLE), undefined);
    const file = await readFile(join(dir, 'v1', 'tables', TABLE, 'state', '0.json'));
    const body = file.subarray(file.indexOf(0x0a) + 1);
    expect(body.equals(encodeRecord(emptyTableState(TABLE)))).toBe(true);
  });
});
