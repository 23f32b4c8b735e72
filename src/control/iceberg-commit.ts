/**
 * The Iceberg commit loop of one table, run by the leader after each generator cycle (and by `--once` until
 * drained): decide (committer.ts); on COMMIT append one batch of staged data files as one snapshot, exactly
 * once. Steps of a batch:
 *
 * 1. LoadTable; walk `main`'s ancestry for our markers (snapshot.ts `committedSegments`). A pending batch
 *    (commit id already written onto its files) that is there landed before a crash: complete it, do not
 *    commit it again. Staged segments named in a committed snapshot are completed the same way.
 * 2. A new batch gets a fresh commit id, recorded as the queue's `pendingCommit` in the state store BEFORE the
 *    catalog call, so a crash at any later point is recognised on restart (step 1).
 * 3. Manifest (once per batch), then per attempt the manifest list on the current `main` and CommitTable with
 *    assert-table-uuid + assert-ref-snapshot-id. 409 → reload, look for our commit id (another committer may
 *    have landed it), rebuild only the list and snapshot, retry with backoff. State unknown (5xx, timeout,
 *    dropped response) → reload and look for our commit id before anything else; if absent, the same
 *    rebuild-and-retry is safe because both requests assert the same parent, so at most one can apply.
 *    Staged files are never deleted.
 * 4. Only after the catalog confirmed (or ancestry shows) the snapshot: complete the tasks and record
 *    `lastCommit` (compare-and-set), then emit `iceberg.committed`.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCodes, ExporterError } from '../errors.js';
import { dataFileFromJson, type DataFile } from '../sinks/iceberg/data-file.js';
import { type CommitTableRequest, type IcebergRestClient, type LoadTableResult, type TableIdent } from '../sinks/iceberg/rest-client.js';
import {
  buildAppendCommit, commitViewFromMetadata, committedSegmentNames, committedSegments, mainAncestry, prepareAppend,
  type PreparedAppend, type TableView,
} from '../sinks/iceberg/snapshot.js';
import { backoffCeiling, sleep } from '../sinks/retry.js';
import {
  assignBatch, completeCommitted, notePendingSnapshot, pendingBatch, stagedFiles, unassignedFiles,
} from '../state/iceberg-state.js';
import type { StagedFile, TableState } from '../state/records.js';
import { updateTable, type StateStore } from '../state/store.js';
import { committerView, decide, filesToCommit, type CommitterConfig, type CommitterOutcome } from './committer.js';
import type { ExportEvents } from './events.js';
import type { TableIO } from './iceberg-io.js';

export type CommitStep = 'catalog-committed';

export interface CommitLoopOptions {
  store: StateStore;
  /** State table (name with type). */
  table: string;
  /** Pinot table recorded in the snapshot markers (name with type). */
  sourceTable: string;
  client: IcebergRestClient;
  ident: TableIdent;
  io: TableIO;
  committer: CommitterConfig;
  /** This instance (recorded as the completions' owner). */
  owner: string;
  events?: ExportEvents;
  /** Segments eligible for a new task (from the last generator cycle); 0 when unknown. */
  eligibleSegments?: () => number;
  /** Commit attempts per batch on conflicts / unknown state (default 6). */
  maxAttempts?: number;
  /** Backoff between attempts: base × 2^(n−1), capped (default 100 ms … 10 s). */
  backoff?: { baseMs: number; maxMs: number };
  now?: () => number;
  /** Observation points (crash tests); awaited. */
  observe?: (step: CommitStep, detail: { commitId: string; snapshotId: bigint }) => void | Promise<void>;
}

export interface CommitCycleResult {
  decision: CommitterOutcome;
  /** Snapshots this call appended. */
  committed: { commitId: string; snapshotId: bigint; files: number; attempts: number }[];
  /** Batches found already in the table (completed without a new snapshot). */
  recovered: string[];
}

const tableLabel = (ident: TableIdent) => [...ident.namespace, ident.name].join('.');

export class IcebergCommitLoop {
  private readonly now: () => number;

  constructor(private readonly o: CommitLoopOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * One cycle: decide, then commit while the decision is COMMIT (a drained backlog of 1,000 files at threshold
   * 250 becomes 4 snapshots in one call). Pending batches are always resolved first, whatever the decision.
   */
  async run(signal?: AbortSignal): Promise<CommitCycleResult> {
    const result: CommitCycleResult = { decision: { decision: 'WAIT', reason: 'no state yet' }, committed: [], recovered: [] };
    for (let round = 0; round < 10_000; round++) {
      signal?.throwIfAborted();
      const state = (await this.o.store.read(this.o.table))?.value;
      if (state === undefined) return result;
      const pending = pendingBatch(state);
      const decision = decide(committerView(state, this.o.eligibleSegments?.() ?? 0), this.o.committer, this.now());
      if (round === 0) {
        result.decision = decision;
        this.o.events?.emit('iceberg.decision', { table: this.o.table, decision: decision.decision, staged: stagedFiles(state).length, reason: decision.reason });
      }
      if (pending === undefined && decision.decision !== 'COMMIT') return result;
      const done = await this.commitOne(state, pending, decision.commitCount ?? 0, signal);
      if (done === undefined) return result;
      if (done.kind === 'recovered') result.recovered.push(done.commitId);
      else result.committed.push(done.info);
    }
    return result;
  }

  private async commitOne(
    state: TableState, pending: ReturnType<typeof pendingBatch>, commitCount: number, signal: AbortSignal | undefined,
  ): Promise<{ kind: 'recovered'; commitId: string } | { kind: 'committed'; info: CommitCycleResult['committed'][number] } | undefined> {
    const { client, ident } = this.o;
    let loaded = await client.loadTable(ident, { signal });
    let view = commitViewFromMetadata(loaded.metadata);

    // 1. What is already in the table: pending batches that landed, and staged segments named by our markers.
    const committed = committedSegments(mainAncestry(view), this.o.sourceTable);
    if (pending !== undefined) {
      const { commit: { commitId }, files } = pending;
      const found = committed.find((c) => c.commitId === commitId);
      if (found !== undefined) {
        await this.complete(files, { commitId, snapshotId: found.snapshotId.toString(), committedAtMs: this.now(), fileCount: files.length });
        return { kind: 'recovered', commitId };
      }
    }
    const names = committedSegmentNames(committed);
    const already = stagedFiles(state).filter((f) => names.has(f.segment));
    if (already.length > 0) {
      await this.complete(already);
      return { kind: 'recovered', commitId: '(segments already committed)' };
    }

    // 2. The batch: a pending one (crash or failed attempt before), else a new one recorded before the call.
    let commitId: string;
    let files: StagedFile[];
    if (pending !== undefined) {
      commitId = pending.commit.commitId;
      files = pending.files;
    } else {
      if (commitCount <= 0) return undefined;
      files = filesToCommit(unassignedFiles(state), commitCount);
      if (files.length === 0) return undefined;
      commitId = randomUUID();
      const paths = files.map((f) => f.path);
      const up = await updateTable(this.o.store, this.o.table, (s) => (s === undefined ? undefined : assignBatch(s, paths, commitId, this.now())), { signal });
      if (up === undefined || !up.changed) return undefined; // another committer took these files meanwhile
      files = stagedFiles(up.state).filter((f) => paths.includes(f.path));
    }
    const dataFiles: DataFile[] = files.map((f) => {
      const json = f.dataFile;
      if (json === undefined) throw new ExporterError(ErrorCodes.STATE_CORRUPT, `staged file ${f.path} of segment ${f.segment} has no Iceberg data file record`, { context: { table: this.o.table, segment: f.segment, uri: f.path } });
      return dataFileFromJson(json, f.path);
    });
    const segments = files.map((f) => f.segment).sort();

    // 3. Manifest once; list + snapshot per attempt.
    const prepared = prepareAppend({
      table: view, dataFiles,
      markers: { commitId, sourceTable: this.o.sourceTable, segments, highWaterMark: String(state.watermarkMs) },
    });
    await this.o.io.write(prepared.manifestPath, prepared.manifestBytes);
    const maxAttempts = this.o.maxAttempts ?? 6;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      signal?.throwIfAborted();
      if (attempt > 1) {
        await sleep(this.backoffMs(attempt - 1), signal);
        loaded = await this.reload(signal);
        view = commitViewFromMetadata(loaded.metadata);
        const landed = this.findOurs(view, commitId);
        if (landed !== undefined) return this.confirmed(files, commitId, landed, attempt - 1);
      }
      try {
        const commit = await this.attempt(prepared, view, commitId, attempt, signal);
        await this.o.observe?.('catalog-committed', { commitId, snapshotId: commit });
        return this.confirmed(files, commitId, commit, attempt);
      } catch (err) {
        if (!(err instanceof ExporterError)) throw err;
        const unknown = err.code === ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN;
        // A 400 after an unknown state may be "snapshot already exists": check the table like an unknown state.
        const checkable = unknown || err.code === ErrorCodes.ICEBERG_COMMIT_CONFLICT || (err.code === ErrorCodes.ICEBERG_CATALOG_ERROR && attempt > 1);
        if (!checkable) throw err;
        lastError = err;
        this.o.events?.emit('log', {
          level: 'warn', message: `Iceberg commit ${commitId} of ${tableLabel(ident)} attempt ${attempt}: ${err.message}; reloading the table`,
          fields: { table: this.o.table, code: err.code },
        });
      }
    }
    // Unresolved: the batch stays pending (its commit id recorded) and the next cycle looks for it first.
    throw lastError instanceof ExporterError ? lastError.addContext({ table: this.o.table }) : new ExporterError(ErrorCodes.ICEBERG_COMMIT_CONFLICT, `commit ${commitId} gave up`, { retryable: true });
  }

  /** One CommitTable on `view`'s `main`; returns the snapshot id the catalog accepted. */
  private async attempt(prepared: PreparedAppend, view: TableView, commitId: string, attempt: number, signal: AbortSignal | undefined): Promise<bigint> {
    const parent = view.mainSnapshotId === null ? undefined : view.snapshots.find((s) => s.snapshotId === view.mainSnapshotId);
    const parentManifestList = parent === undefined ? undefined : await this.o.io.read(parent.manifestList);
    const built = buildAppendCommit({
      prepared, table: view, nowMs: this.now(), attempt,
      ...(parentManifestList === undefined ? {} : { parentManifestList }),
    });
    await this.o.io.write(built.manifestListPath, built.manifestListBytes);
    // For the API only (recovery looks for the commit id, whatever snapshot id an attempt used).
    const snapshotId = built.snapshotId.toString();
    await updateTable(this.o.store, this.o.table, (s) => (s === undefined ? undefined : notePendingSnapshot(s, commitId, snapshotId)), { signal });
    // snapshot.ts types requirements/updates loosely; each one carries its `type` / `action`.
    await this.o.client.commitTable(this.o.ident, built.request as CommitTableRequest, { signal });
    return built.snapshotId;
  }

  /** LoadTable after an unknown state: retried on failure, since what we do next depends on it. */
  private async reload(signal: AbortSignal | undefined): Promise<LoadTableResult> {
    for (let i = 1; ; i++) {
      try {
        return await this.o.client.loadTable(this.o.ident, { signal });
      } catch (err) {
        if (i >= 5 || !(err instanceof ExporterError && err.retryable)) throw err;
        await sleep(this.backoffMs(i), signal);
      }
    }
  }

  private findOurs(view: TableView, commitId: string): bigint | undefined {
    return committedSegments(mainAncestry(view), this.o.sourceTable).find((c) => c.commitId === commitId)?.snapshotId;
  }

  private async confirmed(files: StagedFile[], commitId: string, snapshotId: bigint, attempts: number): Promise<{ kind: 'committed'; info: CommitCycleResult['committed'][number] }> {
    await this.complete(files, { commitId, snapshotId: snapshotId.toString(), committedAtMs: this.now(), fileCount: files.length });
    this.o.events?.emit('iceberg.committed', {
      table: this.o.table, snapshotId: snapshotId.toString(), files: files.length, segments: new Set(files.map((f) => f.segment)).size,
      rows: files.reduce((s, f) => s + f.recordCount, 0), attempts,
    });
    return { kind: 'committed', info: { commitId, snapshotId, files: files.length, attempts } };
  }

  /** Checkpoint: the files' tasks complete (retried on conflicts by updateTable). */
  private async complete(files: StagedFile[], commit?: { commitId: string; snapshotId: string; committedAtMs: number; fileCount: number }): Promise<void> {
    const segments = new Set(files.map((f) => f.segment));
    await updateTable(this.o.store, this.o.table, (s) => (s === undefined ? undefined : completeCommitted(s, segments, this.o.owner, this.now(), commit)), { attempts: 20 });
  }

  private backoffMs(n: number): number {
    const { baseMs, maxMs } = this.o.backoff ?? { baseMs: 100, maxMs: 10_000 };
    return backoffCeiling(baseMs, maxMs, n);
  }
}
