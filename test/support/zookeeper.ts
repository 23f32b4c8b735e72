/**
 * A real ZooKeeper for tests: Debian's `zookeeper` package (3.8, /usr/share/java/zookeeper.jar) started as
 * a plain JVM (shared/docs/libraries.md §6, method A) on a free 127.0.0.1 port with a temporary data dir;
 * ready when it answers `ruok` with `imok` (~0.2 s). Helpers stop, kill, restart (same port and data, so
 * sessions can survive) and freeze it (SIGSTOP/SIGCONT) to provoke session expiry.
 *
 * Without the jar, suites declared with `describeWithZooKeeper` are skipped with a notice naming the
 * package — except when `CI` is set: there they fail, so a CI machine without ZooKeeper cannot pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const ZOOKEEPER_PACKAGE = 'zookeeper';

export function zookeeperAvailable(): boolean {
  return existsSync(ZOOKEEPER_JAR);
}

/** `describe` for suites that need a real ZooKeeper (see the file comment for the skip/fail rule). */
export function describeWithZooKeeper(title: string, fn: () => void): void {
  if (zookeeperAvailable()) {
    describe(title, fn);
    return;
  }
  const notice = `${ZOOKEEPER_JAR} is missing: install Debian's "${ZOOKEEPER_PACKAGE}" package (apt-get install -y ${ZOOKEEPER_PACKAGE})`;
  if (process.env.CI) {
    describe(title, () => {
      it('has a ZooKeeper to run against', () => {
        throw new Error(`${notice}; CI must run the ZooKeeper suites`);
      });
    });
    return;
  }
  console.warn(`[zookeeper] skipping "${title}": ${notice}`);
  describe.skip(`${title} (needs the ${ZOOKEEPER_PACKAGE} package)`, fn);
}

export interface ZooKeeperServerOptions {
  /** ZooKeeper's tick; session expiry is checked once per tick (default 250 ms). */
  tickTimeMs?: number;
  /** Smallest session timeout the server grants (default 1000 ms). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** How long to wait for `imok` (default 20 s). */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class ZooKeeperServer {
  private child: ChildProcess | undefined;
  private stderr = '';
  private paused = false;

  private constructor(readonly baseDir: string, readonly port: number, private readonly options: Required<ZooKeeperServerOptions>) {}

  static async start(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const baseDir = await mkdtemp(join(tmpdir(), 'zk-test-'));
    const full: Required<ZooKeeperServerOptions> = {
      tickTimeMs: options.tickTimeMs ?? 250,
      minSessionTimeoutMs: options.minSessionTimeoutMs ?? 1000,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? 60_000,
      startTimeoutMs: options.startTimeoutMs ?? 20_000,
    };
    const server = new ZooKeeperServer(baseDir, await freePort(), full);
    try {
      await server.launch();
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  get connectionString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Graceful stop (SIGTERM); the data dir stays for a restart. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
  }

  /** SIGKILL, as a crash. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** Stops (or kills) and starts again on the same port and data dir; sessions within their timeout survive. */
  async restart(how: 'stop' | 'kill' = 'stop', downMs = 0): Promise<void> {
    await (how === 'kill' ? this.kill() : this.stop());
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. Resolves once every thread is stopped. */
  async pause(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || this.paused) return;
    process.kill(pid, 'SIGSTOP');
    this.paused = true;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && !(await allThreadsStopped(pid))) await new Promise((r) => setTimeout(r, 5));
  }

  resume(): void {
    if (this.child?.pid === undefined || !this.paused) return;
    process.kill(this.child.pid, 'SIGCONT');
    this.paused = false;
  }

  /** Kills the server and removes its directory. */
  async close(): Promise<void> {
    await this.kill();
    await rm(this.baseDir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const cfg = join(this.baseDir, 'zoo.cfg');
    await writeFile(cfg, [
      `tickTime=${this.options.tickTimeMs}`,
      `dataDir=${this.dataDir}`,
      `clientPort=${this.port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,stat,srvr,mntr,conf',
      `minSessionTimeout=${this.options.minSessionTimeoutMs}`,
      `maxSessionTimeout=${this.options.maxSessionTimeoutMs}`,
      '',
    ].join('\n'));
    this.stderr = '';
    const child = spawn('java', [
      '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dzookeeper.admin.enableServer=false',
      '-cp', ZOOKEEPER_JAR, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child = child;
    this.paused = false;
    live.add(child);
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + this.options.startTimeoutMs;
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`ZooKeeper exited during start-up: ${this.stderr || '(no output)'}`);
      // Ready when `conf` answers (ruok says imok a little before the server serves) and names our data dir:
      // the answer must come from this server, not from another test's on a reused port.
      if ((await fourLetterWord(this.port, 'ruok').catch(() => '')) === 'imok') {
        const conf = await fourLetterWord(this.port, 'conf').catch(() => '');
        const dataDirLine = conf.split('\n').find((l) => l.startsWith('dataDir='));
        if (dataDirLine?.startsWith(`dataDir=${this.dataDir}`)) return;
        if (dataDirLine !== undefined) throw new Error(`port ${this.port} is answered by another ZooKeeper (${dataDirLine}; ours: ${this.dataDir})`);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`ZooKeeper did not answer imok on port ${this.port} within ${this.options.startTimeoutMs} ms: ${this.stderr}`);
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (this.paused && child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
    this.paused = false;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}

/** Whether every thread of `pid` is in state T (stopped), per /proc/<pid>/task/<tid>/stat. */
async function allThreadsStopped(pid: number): Promise<boolean> {
  try {
    const tids = await readdir(`/proc/${pid}/task`);
    for (const tid of tids) {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'T' && state !== 't') return false;
    }
    return true;
  } catch {
    return true; // gone, or no /proc: nothing more to wait for
  }
}

/** Sends a four-letter command (`ruok`, `srvr`, `mntr` …) and returns the answer. */
export function fourLetterWord(port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${word}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (d) => { out += d.toString(); });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A free port below the kernel's ephemeral range (32768+), so the port of a server being restarted is not
 * handed to anyone else meanwhile; chosen at random among 20000–32000 and checked by binding it.
 */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port in 20000-32000');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
