import { createConnection, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient, ZkError, CreateMode } from '../../src/state/zk-client.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';

describeWithZooKeeper('ZkClient against a real ZooKeeper', () => {
  let zk: ZooKeeperServer;
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    await zk?.close();
  });

  describe('basic operations', () => {
    let client: ZkClient;
    beforeAll(async () => {
      client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 4000 });
    });
    afterAll(() => client?.close());

    it('reads a missing node as undefined and creates parents with ensurePath', async () => {
      expect(await client.getData('/a/b/c')).toBeUndefined();
      await client.ensurePath('/a/b/c');
      await client.ensurePath('/a/b/c'); // existing nodes are fine
      const got = await client.getData('/a/b/c');
      expect(got?.stat.version).toBe(0);
      expect(await client.getChildren('/a/b')).toEqual(['c']);
    });

    it('a reply the library cannot parse drops the connection (it reconnects) instead of throwing out of the socket handler', async () => {
      await client.create('/garbled', Buffer.from('kept'));
      const manager = (client as unknown as { client: { connectionManager: { onSocketData(b: Buffer): void } } }).client.connectionManager;
      // A 16-byte reply header announcing a watch notification, without the event after it: parsing reads past the end.
      const reply = Buffer.alloc(20);
      reply.writeInt32BE(16, 0);
      reply.writeInt32BE(-1, 4);
      expect(() => manager.onSocketData(reply)).not.toThrow();
      expect((await client.getData('/garbled'))!.data.toString()).toBe('kept');
    });

    it('setData is a compare-and-set on the version', async () => {
      await client.create('/cas', Buffer.from('v0'));
      const stat = await client.setData('/cas', Buffer.from('v1'), 0);
      expect(stat.version).toBe(1);
      const err = await client.setData('/cas', Buffer.from('stale'), 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZkError);
      expect((err as ZkError).zkCode).toBe('BAD_VERSION');
      expect((err as ZkError).code).toBe('STATE_CONFLICT');
      expect((await client.getData('/cas'))!.data.toString()).toBe('v1');
    });

    it('multi checks version 0 for real (the library turns 0 into -1)', async () => {
      await client.create('/fresh', Buffer.from('x'));
      await client.create('/target', Buffer.from('t'));
      await client.setData('/fresh', Buffer.from('y'), 0); // now at version 1
      const err = await client.multi([
        { op: 'check', path: '/fresh', version: 0 },
        { op: 'setData', path: '/target', data: Buffer.from('changed'), version: 0 },
      ]).catch((e: unknown) => e);
      expect((err as ZkError).zkCode).toBe('BAD_VERSION');
      expect((err as ZkError).path).toBe('/fresh');
      expect((await client.getData('/target'))!.data.toString()).toBe('t');
      await client.multi([
        { op: 'check', path: '/fresh', version: 1 },
        { op: 'setData', path: '/target', data: Buffer.from('changed'), version: 0 },
      ]);
      expect((await client.getData('/target'))!.data.toString()).toBe('changed');
    });

    it('create of an existing node is a conflict naming NODE_EXISTS', async () => {
      await client.create('/dup', Buffer.alloc(0));
      const err = await client.create('/dup', Buffer.alloc(0)).catch((e: unknown) => e);
      expect((err as ZkError).zkCode).toBe('NODE_EXISTS');
    });
  });

  it('a request to a frozen server fails within requestTimeoutMs instead of hanging', async () => {
    const client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 6000, requestTimeoutMs: 500 });
    try {
      await zk.pause();
      const started = Date.now();
      const err = await client.getData('/a').catch((e: unknown) => e);
      const took = Date.now() - started;
      expect((err as ZkError).code).toBe('STATE_UNAVAILABLE');
      expect((err as ZkError).retryable).toBe(true);
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(2000);
    } finally {
      zk.resume();
      client.close();
    }
  });

  it('a silent server makes the watchdog give up the session and a new one is established', async () => {
    const client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 3000 });
    const other = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
    try {
      await client.create('/eph-watchdog', Buffer.alloc(0), CreateMode.EPHEMERAL);
      const firstSession = client.sessionId;
      const signal = client.sessionSignal();
      const expired = new Promise<string>((resolve) => client.once('expired', resolve));
      const session = new Promise<number>((resolve) => client.once('session', resolve));
      await zk.pause();
      // 2/3 of 3 s without a reply → presumed lost, well before the server could tell (it is frozen).
      expect(await expired).toBe('watchdog');
      expect(signal.aborted).toBe(true);
      zk.resume();
      expect(await session).toBe(1);
      expect(client.sessionGeneration).toBe(1);
      expect(client.sessionId).not.toBe(firstSession);
      expect(client.sessionSignal().aborted).toBe(false);
      // The old session is gone: its ephemeral node disappears (closed, or expired by the server).
      const deadline = Date.now() + 8000;
      while ((await other.exists('/eph-watchdog')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await other.exists('/eph-watchdog')).toBeUndefined();
      // And the client works on the new session.
      await client.create('/after-watchdog', Buffer.from('ok'));
      expect((await other.getData('/after-watchdog'))!.data.toString()).toBe('ok');
    } finally {
      zk.resume();
      client.close();
      other.close();
    }
  });

  it('survives a quick server restart with the same session', async () => {
    const client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 40_000 });
    try {
      await client.create('/eph-restart', Buffer.alloc(0), CreateMode.EPHEMERAL);
      const session = client.sessionId;
      let expired = false;
      client.on('expired', () => { expired = true; });
      await zk.restart('stop');
      await client.waitForSession(20_000);
      const got = await client.exists('/eph-restart');
      expect(got).toBeDefined();
      expect(client.sessionId).toBe(session);
      expect(expired).toBe(false);
    } finally {
      client.close();
    }
  });

  it('drops a connection whose handshake is never answered and connects again', async () => {
    // A proxy that swallows the first connection (accepted, never answered) and forwards the later ones.
    let connections = 0;
    const sockets: Socket[] = [];
    const proxy = createServer((socket) => {
      sockets.push(socket);
      if (++connections === 1) return;
      const upstream = createConnection({ host: '127.0.0.1', port: zk.port });
      sockets.push(upstream);
      socket.pipe(upstream).pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const started = Date.now();
      const client = await ZkClient.connect({ connectionString: `127.0.0.1:${port}`, sessionTimeoutMs: 30_000, handshakeTimeoutMs: 500, connectTimeoutMs: 10_000 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(connections).toBeGreaterThanOrEqual(2);
      expect(await client.exists('/')).toBeDefined();
      client.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('connect fails with STATE_UNAVAILABLE when nothing listens', async () => {
    const err = await ZkClient.connect({ connectionString: '127.0.0.1:1', sessionTimeoutMs: 2000, connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect((err as ZkError).code).toBe('STATE_UNAVAILABLE');
  });
});
