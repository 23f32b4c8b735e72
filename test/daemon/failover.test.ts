/**
 * Issue #6's failover check: two daemons (child processes of the built CLI) on one ZooKeeper export 200
 * generated segments; the generator's leader is killed with SIGKILL mid-run. The survivor becomes leader,
 * takes over the dead one's tasks once its session expires, and every segment lands exactly once: one
 * object per segment in the lake, one checkpoint per segment, no segment completed twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeZNRecord } from '../../src/control/znrecord.js';
import { generateSegments, type GeneratedSegment } from '../../src/generate/generator.js';
import { parseTableState } from '../../src/state/records.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';
import { hiddenFiles, until } from './helpers.js';

const TABLE = 'events_REALTIME';
const CLUSTER = 'PinotCluster';
const COUNT = 200;
const bin = resolve('dist/src/cli/main.js');

interface Child {
  name: string;
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

describe.skipIf(!existsSync(bin))('failover (child processes of dist/)', () => {
  describeWithZooKeeper('two daemons on one ZooKeeper, the leader killed mid-run', () => {
    let zk: ZooKeeperServer;
    let client: ZkClient;
    let root: string;
    let segments: GeneratedSegment[];
    const children: Child[] = [];

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'failover-test-'));
      [zk, segments] = await Promise.all([
        ZooKeeperServer.start(),
        generateSegments({ preset: 'events', rows: 3, seed: 11, out: join(root, 'deep', 'events'), segments: COUNT, archive: 'gzip', startMs: Date.now() - 30 * 86_400_000 }),
      ]);
      client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 10_000 });
      const put = async (path: string, simpleFields: Record<string, string>) => {
        await client.ensurePath(path.slice(0, path.lastIndexOf('/')));
        await client.create(path, serializeZNRecord({ id: basename(path), simpleFields, mapFields: {}, listFields: {} }));
      };
      await put(`/${CLUSTER}/PROPERTYSTORE/CONFIGS/TABLE/${TABLE}`, {
        tableName: TABLE, tableType: 'REALTIME',
        task: JSON.stringify({ taskTypeConfigsMap: { DataExportTask: { outputDirURI: join(root, 'lake'), bufferTimePeriod: '0m', tableMaxNumTasks: '16' } } }),
      });
      for (const s of segments) {
        await put(`/${CLUSTER}/PROPERTYSTORE/SEGMENTS/${TABLE}/${s.name}`, {
          'segment.realtime.status': 'DONE', 'segment.start.time': String(s.startMs), 'segment.end.time': String(s.endMs - 1),
          'segment.time.unit': 'MILLISECONDS', 'segment.download.url': pathToFileURL(s.archivePath!).href, 'segment.total.docs': '3',
        });
      }
    }, 120_000);
    afterAll(async () => {
      for (const c of children) c.proc.kill('SIGKILL');
      client?.close();
      await zk?.close();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    async function startDaemon(name: string): Promise<Child> {
      const configFile = join(root, `${name}.json`);
      await writeFile(configFile, JSON.stringify({
        instanceId: name, zookeeper: { connect: zk.connectionString, cluster: CLUSTER, sessionTimeoutMs: 3000 },
        state: { type: 'zookeeper' }, tables: { zookeeper: true }, executor: { concurrency: 2, pollIntervalMs: 100 },
        retry: { maxAttempts: 3, backoffMs: 200 }, workDir: join(root, `work-${name}`), shutdownGraceMs: 10_000,
      }));
      const proc = spawn(process.execPath, [bin, 'daemon', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      const lines: Array<Record<string, unknown>> = [];
      let buf = '';
      proc.stderr!.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        // Anything that is not a log line (a Node warning) is kept as text, to be reported by the assertions.
        for (const p of parts) {
          if (p.trim() === '') continue;
          try {
            lines.push(JSON.parse(p) as Record<string, unknown>);
          } catch {
            lines.push({ msg: 'non-json', text: p });
          }
        }
      });
      const child = { name, proc, lines, exited: new Promise<number | null>((res) => proc.on('exit', (code) => res(code))) };
      children.push(child);
      return child;
    }

    async function state() {
      const got = await client.getData(`/${CLUSTER}/PROPERTYSTORE/MINION_TASK_METADATA/${TABLE}/DataExportTask/v1/state`);
      return got === undefined ? undefined : parseTableState(JSON.parse(got.data.toString('utf8')), 'state');
    }

    const completions = (c: Child) => c.lines.filter((l) => l.msg === 'task completed' || l.msg === 'task completed (already published)').map((l) => String(l.segment));

    it('the survivor takes over and every segment is exported exactly once', async () => {
      const a = await startDaemon('daemon-a');
      await until(() => a.lines.some((l) => l.msg === 'became generator leader'), 20_000, 'a leads');
      const b = await startDaemon('daemon-b');
      await until(() => b.lines.some((l) => l.msg === 'daemon started'), 20_000, 'b started');
      // Mid-run: both have exported, a (the leader) is working on more.
      await until(() => completions(a).length >= 20 && completions(b).length >= 5, 60_000, 'both exporting');
      a.proc.kill('SIGKILL');
      await a.exited;
      expect(completions(a).length).toBeLessThan(COUNT);
      // Tasks a held when it died: RUNNING under its name, claims alive until its session expires.
      const orphaned = (await state())!.tasks.filter((t) => t.status === 'RUNNING' && t.owner === 'daemon-a').map((t) => t.id);

      await until(() => b.lines.some((l) => l.msg === 'became generator leader'), 20_000, 'b leads');
      await until(async () => {
        const s = await state();
        return s !== undefined && s.tasks.length === 0 && JSON.stringify(s.partitions) === JSON.stringify({ 0: [[0, COUNT - 1]] });
      }, 90_000, 'all exported');
      b.proc.kill('SIGTERM');
      expect(await b.exited).toBe(0);

      // Every stderr line is a JSON log line: no warnings (e.g. a listener leak per claim), no stray output.
      expect([...a.lines, ...b.lines].filter((l) => l.msg === 'non-json')).toEqual([]);
      const all = [...completions(a), ...completions(b)];
      // No segment was completed twice (a's last line may be lost with it, so a's count is a lower bound).
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBeGreaterThanOrEqual(COUNT - 1);
      const lake = join(root, 'lake');
      const objects = (await readdir(lake)).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort();
      expect(objects).toEqual(segments.map((s) => `${s.name}.parquet`).sort());
      expect(await hiddenFiles(lake)).toEqual([]);
      const final = (await state())!;
      expect(final.partitions).toEqual({ 0: [[0, COUNT - 1]] });
      // b took each orphaned task over as a further attempt and completed it.
      for (const id of orphaned) {
        expect(b.lines.some((l) => l.msg === 'task started' && l.segment === id && Number(l.attempt) >= 2), id).toBe(true);
        expect(completions(b)).toContain(id);
      }
    }, 180_000);
  });
});
