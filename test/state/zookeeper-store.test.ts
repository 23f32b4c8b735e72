import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseZNRecord } from '../../src/control/znrecord.js';
import { emptyTableState, type TableState } from '../../src/state/records.js';
import { updateTable } from '../../src/state/store.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { ZooKeeperStateStore } from '../../src/state/zookeeper-store.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';

const TABLE = 'events_REALTIME';

function stateWith(tasks: number, table = TABLE): TableState {
  const s = emptyTableState(table);
  s.tasks = Array.from({ length: tasks }, (_, i) => ({
    id: `seg-${i}`, segment: `seg-${i}`, downloadUrl: `s3://b/p/seg-${i}`, status: 'PENDING' as const, attempts: 0, createdAtMs: 1,
  }));
  return s;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithZooKeeper('ZooKeeperStateStore', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  let store: ZooKeeperStateStore;
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
    store = new ZooKeeperStateStore({ client, cluster: 'PinotCluster' });
  });
  afterAll(async () => {
    await store?.close();
    client?.close();
    await zk?.close();
  });

  describe('table records', () => {
    it('creates, reads and compare-and-sets the record at the documented path', async () => {
      expect(await store.read(TABLE)).toBeUndefined();
      const v0 = await store.compareAndSet(TABLE, stateWith(1), undefined);
      expect(v0).toBe(0);
      const raw = await client.getData('/PinotCluster/PROPERTYSTORE/MINION_TASK_METADATA/events_REALTIME/DataExportTask/v1/state');
      expect(JSON.parse(raw!.data.toString()).schemaVersion).toBe(1);
      const marker = await client.getData('/PinotCluster/PROPERTYSTORE/MINION_TASK_METADATA/events_REALTIME/DataExportTask');
      expect(parseZNRecord(marker!.data, 'marker')).toMatchObject({ id: TABLE, simpleFields: { layout: 'pinot-parquet-export/v1' } });

      const read = await store.read(TABLE);
      expect(read).toEqual({ value: stateWith(1), version: 0 });
      expect(await store.compareAndSet(TABLE, stateWith(2), 0)).toBe(1);
      const stale = await store.compareAndSet(TABLE, stateWith(3), 0).catch((e: unknown) => e);
      expect(stale).toMatchObject({ code: 'STATE_CONFLICT' });
      const again = await store.compareAndSet(TABLE, stateWith(3), undefined).catch((e: unknown) => e);
      expect(again).toMatchObject({ code: 'STATE_CONFLICT' });
      expect((await store.read(TABLE))!.value.tasks).toHaveLength(2);
    });

    it('updateTable retries against concurrent writers without losing an update', async () => {
      const table = 'counter_REALTIME';
      await store.compareAndSet(table, emptyTableState(table), undefined);
      const other = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
      const store2 = new ZooKeeperStateStore({ client: other, cluster: 'PinotCluster' });
      try {
        const bump = (s: TableState | undefined): TableState => ({ ...s!, watermarkMs: s!.watermarkMs + 1 });
        await Promise.all(Array.from({ length: 20 }, (_, i) => updateTable(i % 2 === 0 ? store : store2, table, bump, { attempts: 50 })));
        expect((await store.read(table))!.value.watermarkMs).toBe(20);
      } finally {
        await store2.close();
        other.close();
      }
    });

    it('gzip-compresses a large record and reads it back; refuses one above 1 MB', async () => {
      const table = 'big_REALTIME';
      const big = stateWith(2000, table);
      for (const t of big.tasks) t.lastError = { code: 'X', message: 'e'.repeat(200), retryable: true, atMs: 1 };
      await store.compareAndSet(table, big, undefined);
      const raw = await client.getData(store.statePath(table));
      expect(raw!.data[0]).toBe(0x1f);
      expect(raw!.data[1]).toBe(0x8b);
      expect((await store.read(table))!.value).toEqual(big);

      const huge = stateWith(0, table);
      // Random names do not compress: well above 1 MB even gzipped.
      for (let i = 0; i < 120_000; i++) huge.named[`${Math.random().toString(36)}${Math.random().toString(36)}`] = i;
      const err = await store.compareAndSet(table, huge, 0).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STATE_TOO_LARGE' });
    });

    it('rejects a record whose table does not match', async () => {
      await expect(store.compareAndSet('x_REALTIME', emptyTableState('y_REALTIME'), undefined)).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    });
  });

  describe('claims', () => {
    it('one owner at a time; visible to others; released claims can be taken', async () => {
      const other = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
      const store2 = new ZooKeeperStateStore({ client: other, cluster: 'PinotCluster' });
      try {
        const a = await store.claim(TABLE, 'seg-1', 'instance-a');
        expect(a).toBeDefined();
        expect(await store2.claim(TABLE, 'seg-1', 'instance-b')).toBeUndefined();
        expect(await store2.listClaims(TABLE)).toEqual([expect.objectContaining({ taskId: 'seg-1', owner: 'instance-a', table: TABLE })]);
        // The same owner on the same session asking again (a retry after a lost reply) gets it back.
        const again = await store.claim(TABLE, 'seg-1', 'instance-a');
        expect(again?.owner).toBe('instance-a');
        await again!.release();
        expect(a!.signal.aborted).toBe(true);
        const b = await store2.claim(TABLE, 'seg-1', 'instance-b');
        expect(b?.owner).toBe('instance-b');
        await b!.release();
        expect(await store.listClaims(TABLE)).toEqual([]);
      } finally {
        await store2.close();
        other.close();
      }
    });

    it('a deleted claim node aborts the holder\'s signal', async () => {
      const claim = await store.claim(TABLE, 'seg-del', 'instance-a');
      await client.remove(`${store.claimsPath(TABLE)}/seg-del`);
      await until(() => claim!.signal.aborted);
      expect(claim!.signal.aborted).toBe(true);
    });

    it('a claim dies with its session: the holder is told and another instance takes the task', async () => {
      const victimClient = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 2000 });
      const victim = new ZooKeeperStateStore({ client: victimClient, cluster: 'PinotCluster' });
      try {
        const held = await victim.claim(TABLE, 'seg-expire', 'instance-victim');
        expect(held).toBeDefined();
        expect(await store.claim(TABLE, 'seg-expire', 'instance-a')).toBeUndefined();
        await zk.pause();
        await until(() => held!.signal.aborted, 5000); // watchdog: 2/3 of 2 s
        await new Promise((r) => setTimeout(r, 1500)); // let the server-side session timeout pass too
        zk.resume();
        let taken: Awaited<ReturnType<typeof store.claim>>;
        await until(async () => (taken = await store.claim(TABLE, 'seg-expire', 'instance-a')) !== undefined, 10_000);
        expect(taken!.owner).toBe('instance-a');
        await taken!.release();
      } finally {
        zk.resume();
        await victim.close();
        victimClient.close();
      }
    });
  });

  describe('leader election', () => {
    it('elects one leader; the next takes over when it resigns', async () => {
      const other = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
      const store2 = new ZooKeeperStateStore({ client: other, cluster: 'PinotCluster' });
      try {
        const elected: string[] = [];
        const a = await store.campaign('a', () => elected.push('a'));
        const b = await store2.campaign('b', () => elected.push('b'));
        expect(a.isLeader()).toBe(true);
        expect(b.isLeader()).toBe(false);
        expect(elected).toEqual(['a']);
        const aSignal = a.signal!;
        await a.resign();
        expect(aSignal.aborted).toBe(true);
        await until(() => b.isLeader());
        expect(elected).toEqual(['a', 'b']);
        await b.resign();
      } finally {
        await store2.close();
        other.close();
      }
    });

    it('a leader whose session is lost steps down at once and rejoins as a follower', async () => {
      const victimClient = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 2000 });
      const victim = new ZooKeeperStateStore({ client: victimClient, cluster: 'PinotCluster' });
      try {
        const victimElections: AbortSignal[] = [];
        const lead = await victim.campaign('victim', (s) => victimElections.push(s));
        const f2 = await store.campaign('follower', () => undefined);
        expect(lead.isLeader()).toBe(true);
        expect(f2.isLeader()).toBe(false);
        await zk.pause();
        await until(() => victimElections[0]!.aborted, 5000);
        expect(lead.isLeader()).toBe(false);
        await new Promise((r) => setTimeout(r, 1500));
        zk.resume();
        await until(() => f2.isLeader(), 10_000);
        // The victim came back with a new session and waits behind the new leader.
        await until(async () => ((await client.getChildren(store.leaderPath())) ?? []).length === 2, 10_000);
        expect(lead.isLeader()).toBe(false);
        await f2.resign();
        await until(() => lead.isLeader(), 10_000);
        expect(victimElections).toHaveLength(2);
        await lead.resign();
      } finally {
        zk.resume();
        await victim.close();
        victimClient.close();
      }
    });
  });
});
