import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, parseDaemonConfig, readDaemonConfig, redactDaemonConfig } from '../../src/daemon/daemon-config.js';
import type { ExporterError } from '../../src/errors.js';

function problem(json: unknown, env: Record<string, string> = {}): ExporterError {
  try {
    parseDaemonConfig(json, { baseDir: '/etc/pinot-export', env });
  } catch (err) {
    return err as ExporterError;
  }
  throw new Error(`accepted: ${JSON.stringify(json)}`);
}

const DEEP = { discovery: { root: '/data/deepstore' } };

describe('daemon config', () => {
  it('fills every default for the embedded mode and resolves paths against the config file', () => {
    const { config, warnings } = parseDaemonConfig({ ...DEEP, tables: { files: ['tables/events.json'] } }, { baseDir: '/etc/pinot-export' });
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      instanceId: `${hostname()}-${process.pid}`,
      state: { type: 'file', dir: '/etc/pinot-export/state', claimTtlMs: 30_000 },
      tables: { files: ['/etc/pinot-export/tables/events.json'], zookeeper: false },
      discovery: { type: 'deepstore', root: '/data/deepstore' },
      executor: { concurrency: 2, pollIntervalMs: 1000 },
      retry: { maxAttempts: 3, backoffMs: 30_000, maxBackoffMs: 600_000 },
      workDir: join(tmpdir(), `pinot-export-${hostname()}-${process.pid}`),
      shutdownGraceMs: 30_000,
      logLevel: 'info',
    });
  });

  it('ZooKeeper state defaults discovery to ZooKeeper and requires the connect string', () => {
    const { config } = parseDaemonConfig({ zookeeper: { connect: '127.0.0.1:2181,10.0.0.2:2181/pinot' }, state: { type: 'zookeeper' }, tables: { zookeeper: ['events'] } });
    expect(config.zookeeper).toEqual({ connect: '127.0.0.1:2181,10.0.0.2:2181/pinot', cluster: 'PinotCluster', sessionTimeoutMs: 30_000, connectTimeoutMs: 10_000 });
    expect(config.discovery).toEqual({ type: 'zookeeper' });
    expect(config.tables.zookeeper).toEqual(['events']);
    const err = problem({ state: { type: 'zookeeper' } });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.context.key).toBe('zookeeper.connect');
    expect(err.message).toContain('required by state.type, discovery.type');
  });

  it('names the key, the value and what is accepted, for every problem at once', () => {
    const err = problem({
      instanceId: 'has space', state: { type: 'etcd' }, discovery: { type: 'deepstore' }, executor: { concurrency: 0, pollIntervalMs: '1s' },
      retry: { maxAttempts: 1.5, backoffMs: 1000, maxBackoffMs: 10 }, shutdownGraceMs: -1, logLevel: 'loud', tables: { files: 'a.json' },
    });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.context.key).toBe('instanceId');
    for (const part of [
      'instanceId = "has space"', 'state.type = "etcd": accepted: file, zookeeper', 'discovery.root = (missing)', 'executor.concurrency = 0: accepted: an integer 1 … 64',
      'executor.pollIntervalMs = "1s"', 'retry.maxAttempts = 1.5', 'retry.maxBackoffMs = 10: accepted: an integer ≥ retry.backoffMs (1000)',
      'shutdownGraceMs = -1', 'logLevel = "loud": accepted: debug, info, warn, error', 'tables.files = "a.json"',
    ]) expect(err.message).toContain(part);
  });

  it('warns about unknown keys by name', () => {
    const { warnings } = parseDaemonConfig({ ...DEEP, statee: {}, executor: { concurency: 3 }, state: { type: 'file', dir: 's' } });
    expect(warnings).toEqual(['unknown daemon config key statee is ignored', 'unknown daemon config key executor.concurency is ignored']);
  });

  it('the API is off unless a port is given; a non-loopback host needs a token, which is never echoed', () => {
    expect(parseDaemonConfig(DEEP).config.api).toBeUndefined();
    expect(parseDaemonConfig({ ...DEEP, api: { port: 0 } }).config.api).toEqual({ host: '127.0.0.1', port: 0 });
    const open = problem({ ...DEEP, api: { host: '0.0.0.0', port: 9000 } });
    expect(open.context.key).toBe('api.token');
    expect(open.message).toContain('required when api.host (0.0.0.0) is not a loopback address');
    const short = problem({ ...DEEP, api: { host: '0.0.0.0', port: 9000, token: 'hunter2' } });
    expect(short.message).toContain('api.token = (a string of 7 characters)');
    expect(short.message).not.toContain('hunter2');
    const token = 'a'.repeat(24);
    const withToken = parseDaemonConfig({ ...DEEP, api: { host: '0.0.0.0', port: 9000, token } }).config;
    expect(withToken.api).toEqual({ host: '0.0.0.0', port: 9000, token });
    expect(JSON.stringify(redactDaemonConfig(withToken))).not.toContain(token);
    const fromEnv = parseDaemonConfig({ ...DEEP, api: { host: '10.1.2.3', port: 9000, tokenEnv: 'EXPORT_TOKEN' } }, { env: { EXPORT_TOKEN: 'b'.repeat(20) } }).config;
    expect(fromEnv.api?.token).toBe('b'.repeat(20));
    expect(problem({ ...DEEP, api: { host: '10.1.2.3', port: 9000, tokenEnv: 'EXPORT_TOKEN' } }).message).toContain('EXPORT_TOKEN is unset');
    expect(problem({ ...DEEP, api: { port: 70_000 } }).message).toContain('api.port = 70000');
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
  });

  describe('files', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'daemon-config-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads a file, resolving relative paths against its directory; names the file on errors', async () => {
      const file = join(dir, 'daemon.json');
      await writeFile(file, JSON.stringify({ discovery: { root: 'deep' }, tables: { files: ['t.json'] } }));
      const { config } = await readDaemonConfig(file);
      expect(config.discovery).toEqual({ type: 'deepstore', root: join(dir, 'deep') });
      expect(config.tables.files).toEqual([join(dir, 't.json')]);
      await writeFile(file, '{ nope');
      await expect(readDaemonConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { file } });
      await writeFile(file, JSON.stringify({ discovery: {} }));
      await expect(readDaemonConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { file, key: 'discovery.root' } });
      await expect(readDaemonConfig(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { file: join(dir, 'missing.json') } });
    });

    it('examples/daemon.json is valid', async () => {
      const { config, warnings } = await readDaemonConfig('examples/daemon.json');
      expect(warnings).toEqual([]);
      expect(config.state).toMatchObject({ type: 'file', dir: '/tmp/pinot-demo/state' });
      expect(config.discovery).toEqual({ type: 'deepstore', root: '/tmp/pinot-demo/deepstore' });
      expect(config.tables.files).toEqual([join(process.cwd(), 'examples', 'events-table-config.json')]);
    });
  });
});
