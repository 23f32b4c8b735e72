/**
 * `pinot-export daemon --config <daemon.json> [--once]`: runs the exporter as a service (or, with `--once`,
 * until the backlog is drained — for cron and CI). Log lines are JSON on stderr (src/daemon/log.ts, secrets
 * masked); with `--once`, what was exported is printed on stdout and the exit status is 1 when any task is
 * parked FAILED or a table's generator failed. SIGTERM/SIGINT stop gracefully: no new claims, in-flight
 * tasks finish within `shutdownGraceMs` or are requeued, then exit 0.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.js';
import { ExportEvents } from '../control/events.js';
import { Daemon, type RunSummary } from '../daemon/daemon.js';
import { readDaemonConfig } from '../daemon/daemon-config.js';
import { startApi, type ApiServer } from '../daemon/http-api.js';
import { Logger, redactText, subscribeLogs } from '../daemon/log.js';
import { ExportMetrics } from '../daemon/metrics.js';
import { parse } from './args.js';
import type { CliIo } from './program.js';

export async function runDaemon(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(() => parseArgs({
    args,
    allowPositionals: false,
    options: { config: { type: 'string' }, once: { type: 'boolean' } },
  }), []);
  if (values.config === undefined) throw new ConfigError(ErrorCodes.USAGE, '--config <daemon.json> is required (see examples/daemon.json)');
  const { config, warnings } = await readDaemonConfig(values.config);
  const logger = new Logger({ level: config.logLevel, write: (line) => { io.stderr.write(`${line}\n`); }, fields: { instance: config.instanceId } });
  for (const w of warnings) logger.warn(w);
  const events = new ExportEvents();
  subscribeLogs(events, logger);
  const metrics = new ExportMetrics();
  metrics.subscribe(events);

  const daemon = await Daemon.open(config, { events });
  let signalled: NodeJS.Signals | undefined;
  let wake: () => void = () => undefined;
  const signalledPromise = new Promise<void>((resolve) => { wake = resolve; });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) return;
    signalled = signal;
    logger.info('stopping', { signal, graceMs: config.shutdownGraceMs });
    wake();
    void daemon.stop();
  };
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  let api: ApiServer | undefined;
  try {
    if (values.once === true) {
      logger.info('running until the backlog is drained', { tables: daemon.tables().map((t) => t.table) });
      const summary = await daemon.runOnce();
      await daemon.stop();
      io.stdout.write(describeSummary(summary));
      return summary.failed.length > 0 || summary.generationErrors.length > 0 ? 1 : 0;
    }
    if (config.api !== undefined) {
      api = await startApi(daemon, { host: config.api.host, port: config.api.port, token: config.api.token, metrics, log: logger });
      logger.info('HTTP API listening', { url: api.url });
    }
    // The daemon's own timers are unref'd (a library must not hold a process open); the service does.
    const keepAlive = setInterval(() => undefined, 3_600_000);
    signalledPromise.then(() => clearInterval(keepAlive), () => undefined);
    await daemon.start();
    logger.info('daemon started', { tables: daemon.tables().map((t) => t.table), state: config.state.type, discovery: config.discovery.type });
    await signalledPromise;
    await daemon.stop();
    logger.info('stopped', { signal: signalled });
    return 0;
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
    await api?.close().catch(() => undefined);
    await daemon.stop();
  }
}

/** What `--once` prints on stdout: one line per exported or parked segment, then a summary line. */
export function describeSummary(s: RunSummary): string {
  const lines: string[] = [];
  for (const e of s.exported) {
    const where = e.files.join(', ');
    lines.push(e.reused
      ? `kept     ${e.segment} → ${where} (already published with this content, ${e.rows} rows)`
      : `exported ${e.segment} → ${where} (${e.rows} rows, ${e.bytes} bytes)`);
  }
  for (const c of s.commits) lines.push(`commit   ${c.table}: Iceberg snapshot ${c.snapshotId} (${c.files} file(s), ${c.rows} rows)`);
  for (const st of s.staged) lines.push(`staged   ${st.segment} of ${st.table}: data file written, waiting for an Iceberg commit`);
  for (const f of s.failed) lines.push(`FAILED   ${f.segment} of ${f.table} after ${f.attempts} attempt(s): ${redactText(f.message)}`);
  for (const g of s.generationErrors) lines.push(`ERROR    generator of ${g.table}: ${redactText(g.message)}`);
  const reused = s.exported.filter((e) => e.reused).length;
  const rows = s.exported.reduce((a, e) => a + e.rows, 0);
  lines.push(`${s.exported.length} segment(s) exported (${reused} already present), ${rows} rows; ${s.commits.length} Iceberg commit(s); ${s.staged.length} staged; ${s.failed.length} parked FAILED; ` +
    `${s.retries} retried attempt(s); ${s.cycles} generator cycle(s); ${s.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
