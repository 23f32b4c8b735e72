/**
 * A Pinot cluster's ZooKeeper content for daemon tests, written as Pinot writes it: the REALTIME table config
 * under `CONFIGS/TABLE` and one segment ZK metadata ZNRecord per segment under `SEGMENTS/<table>` (see
 * shared/docs/pinot-segment-format.md §13), plus readers of what the daemon keeps there (its state record
 * and its leader-election candidates).
 */
import { basename } from 'node:path';
import { serializeZNRecord } from '../../../src/control/znrecord.js';
import type { GeneratedSegment } from '../../../src/generate/generator.js';
import { decodeRecord, parseLeaderRecord, parseTableState, type LeaderRecord, type TableState } from '../../../src/state/records.js';
import type { ZkClient } from '../../../src/state/zk-client.js';

export interface SeedOptions {
  cluster: string;
  /** Table name with type, e.g. `events_REALTIME`. */
  table: string;
  /** The table's `task.taskTypeConfigsMap.DataExportTask` (all values strings, as in Pinot). */
  task: Record<string, string>;
  segments: readonly GeneratedSegment[];
  /** Download URL written into a segment's metadata (`segment.download.url`). */
  downloadUrl: (segment: GeneratedSegment) => string;
  rows: number;
}

async function put(client: ZkClient, path: string, simpleFields: Record<string, string>): Promise<void> {
  await client.ensurePath(path.slice(0, path.lastIndexOf('/')));
  await client.create(path, serializeZNRecord({ id: basename(path), simpleFields, mapFields: {}, listFields: {} }));
}

/** Writes the table config and one DONE segment metadata record per segment. */
export async function seedCluster(client: ZkClient, o: SeedOptions): Promise<void> {
  await put(client, `/${o.cluster}/PROPERTYSTORE/CONFIGS/TABLE/${o.table}`, {
    tableName: o.table, tableType: 'REALTIME',
    task: JSON.stringify({ taskTypeConfigsMap: { DataExportTask: o.task } }),
  });
  for (const s of o.segments) {
    await put(client, `/${o.cluster}/PROPERTYSTORE/SEGMENTS/${o.table}/${s.name}`, {
      'segment.realtime.status': 'DONE', 'segment.start.time': String(s.startMs), 'segment.end.time': String(s.endMs - 1),
      'segment.time.unit': 'MILLISECONDS', 'segment.download.url': o.downloadUrl(s), 'segment.total.docs': String(o.rows),
    });
  }
}

/** The daemon's state record of a table, or undefined when there is none (or ZooKeeper does not answer). */
export async function readState(client: ZkClient, cluster: string, table: string): Promise<TableState | undefined> {
  const path = `/${cluster}/PROPERTYSTORE/MINION_TASK_METADATA/${table}/DataExportTask/v1/state`;
  const got = await client.getData(path).catch(() => undefined);
  return got === undefined ? undefined : parseTableState(decodeRecord(got.data, path), path);
}

/** Task ids with a live claim node. */
export async function claimedTasks(client: ZkClient, cluster: string, table: string): Promise<string[]> {
  const children = await client.getChildren(`/${cluster}/PROPERTYSTORE/MINION_TASK_METADATA/${table}/DataExportTask/v1/claims`);
  return (children ?? []).map((c) => decodeURIComponent(c)).sort();
}

/** Leader-election candidates (ephemeral sequential nodes), lowest sequence first. */
export async function leaderCandidates(client: ZkClient, cluster: string): Promise<LeaderRecord[]> {
  const dir = `/${cluster}/PROPERTYSTORE/MINION_TASK_METADATA/DataExportTask/v1/leader`;
  const names = ((await client.getChildren(dir)) ?? []).sort((a, b) => Number(a.slice(a.lastIndexOf('-') + 1)) - Number(b.slice(b.lastIndexOf('-') + 1)));
  const out: LeaderRecord[] = [];
  for (const name of names) {
    const got = await client.getData(`${dir}/${name}`);
    if (got !== undefined) out.push(parseLeaderRecord(decodeRecord(got.data, `${dir}/${name}`), `${dir}/${name}`));
  }
  return out;
}

/** Whether the state says every segment of partition 0, sequences 0…count−1, is exported and no task is left. */
export function allExported(state: TableState | undefined, count: number): boolean {
  return state !== undefined && state.tasks.length === 0 && JSON.stringify(state.partitions) === JSON.stringify({ 0: [[0, count - 1]] });
}
