/**
 * The child process of the crash tests (as text: it runs from the transpiled build, see iceberg-build.ts).
 * argv: <stateDir> <catalogUri> <crashAt: none|uploaded|staged|catalog-committed>. Runs the executor until
 * drained and then the commit loop until nothing is staged, SIGKILLing itself at the named step.
 */
export const CRASH_CHILD = `
import { FileStateStore } from './src/state/file-store.js';
import { ExportEvents } from './src/control/events.js';
import { Executor } from './src/control/executor.js';
import { IcebergTarget } from './src/control/iceberg-target.js';
import { parseCatalogSettings } from './src/sinks/iceberg/catalog-config.js';
import { DEFAULT_PARQUET_OPTIONS } from './src/pipeline/parquet-options.js';
import { exponentialBackoff } from './src/state/table-state.js';

const [stateDir, uri, crashAt] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');
const store = await FileStateStore.open({ dir: stateDir, claimTtlMs: 600 });
const events = new ExportEvents();
const target = new IcebergTarget({
  store, table: 'clicks_REALTIME', ident: { namespace: ['lake'], name: 'clicks' },
  catalog: parseCatalogSettings({ uri }, { env: {} }), parquet: { ...DEFAULT_PARQUET_OPTIONS }, commitThreshold: 250,
  owner: 'p' + process.pid, events, commitBackoff: { baseMs: 5, maxMs: 50 },
  observe: async (step) => { if (step === crashAt) die(); },
});
if (crashAt === 'staged') events.on('task.completed', die);
const executor = new Executor({
  store, instance: 'p' + process.pid, targets: new Map([['clicks_REALTIME', target]]), events, concurrency: 1, pollIntervalMs: 50,
  retry: { maxAttempts: 3, backoffMs: exponentialBackoff(10, 100) },
});
await executor.drain();
await executor.stop(0);
for (let i = 0; i < 20; i++) {
  const st = (await store.read('clicks_REALTIME'))?.value;
  if (!st || (st.iceberg?.staged.length ?? 0) === 0) break;
  await target.commitNow();
}
await target.close();
await store.close();
process.stdout.write('done\\n');
`;
