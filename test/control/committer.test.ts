import { describe, expect, it } from 'vitest';
import { committerView, decide, filesToCommit, type CommitterView } from '../../src/control/committer.js';
import { emptyTableState, type StagedFile } from '../../src/state/records.js';

const NOW = 1_000_000_000;
const CONFIG = { commitThreshold: 4, maxCommitWaitMs: 60_000 };

function view(staged: number, inFlight: { pending?: number; running?: number; failed?: number }, eligible: number, oldestAgeMs = 1000): CommitterView {
  return {
    staged: Array.from({ length: staged }, (_, i) => ({ stagedAtMs: NOW - oldestAgeMs + i })),
    tasks: [
      ...Array.from({ length: inFlight.pending ?? 0 }, () => ({ status: 'PENDING' as const })),
      ...Array.from({ length: inFlight.running ?? 0 }, () => ({ status: 'RUNNING' as const })),
      ...Array.from({ length: inFlight.failed ?? 0 }, () => ({ status: 'FAILED' as const })),
    ],
    eligibleSegments: eligible,
  };
}

describe('committer decision table', () => {
  // [staged, in flight, eligible, oldest age, expected, emitLimit or commitCount, reason pattern]
  const table: [string, CommitterView, 'EMIT' | 'WAIT' | 'COMMIT', number | undefined, RegExp][] = [
    ['row 1: threshold reached, tasks still running', view(4, { running: 3 }, 9), 'COMMIT', 4, /reached the commit threshold 4/],
    ['row 1: above threshold commits one threshold-sized batch', view(6, {}, 0), 'COMMIT', 4, /6 staged files/],
    ['row 2: the oldest staged file waited maxWait', view(1, { running: 2 }, 5, 60_000), 'COMMIT', 1, /waited 60000 ms/],
    ['row 2: just under maxWait does not commit', view(1, { running: 2 }, 0, 59_999), 'WAIT', undefined, /2 tasks in flight/],
    ['row 3: drained (nothing running, nothing eligible)', view(2, { failed: 3 }, 0), 'COMMIT', 2, /no task running or segment eligible/],
    ['row 4: room and eligible segments → emit up to the room', view(1, { pending: 1 }, 10), 'EMIT', 2, /room for 2/],
    ['row 4: emit no more than the eligible segments', view(0, {}, 3), 'EMIT', 3, /3 eligible/],
    ['row 4: FAILED tasks do not take room', view(0, { failed: 5 }, 9), 'EMIT', 4, /room for 4/],
    ['row 5: batch full of staged + in flight → wait', view(2, { running: 2 }, 7), 'WAIT', undefined, /2 tasks in flight, 2 of 4/],
    ['row 5: in flight, nothing eligible, nothing staged', view(0, { pending: 1 }, 0), 'WAIT', undefined, /1 tasks in flight/],
    ['row 6: idle', view(0, { failed: 1 }, 0), 'WAIT', undefined, /idle/],
  ];
  for (const [what, state, decision, n, reason] of table) {
    it(what, () => {
      const out = decide(state, CONFIG, NOW);
      expect(out.decision).toBe(decision);
      expect(out.reason).toMatch(reason);
      if (decision === 'EMIT') expect(out.emitLimit).toBe(n);
      if (decision === 'COMMIT') expect(out.commitCount).toBe(n);
    });
  }

  it('covers every combination without contradicting the table', () => {
    for (let staged = 0; staged <= 6; staged++) {
      for (let running = 0; running <= 5; running++) {
        for (const eligible of [0, 1, 10]) {
          for (const age of [0, 60_000]) {
            const out = decide(view(staged, { running }, eligible, age), CONFIG, NOW);
            const expected = staged >= 4 || (staged > 0 && (age >= 60_000 || (running === 0 && eligible === 0))) ? 'COMMIT'
              : eligible > 0 && staged + running < 4 ? 'EMIT' : 'WAIT';
            expect(out.decision, `staged ${staged} running ${running} eligible ${eligible} age ${age}`).toBe(expected);
            if (out.decision === 'EMIT') expect(staged + running + out.emitLimit!).toBeLessThanOrEqual(4);
          }
        }
      }
    }
  });

  it('turns 1,000 segments with threshold 250 into exactly 4 commits', () => {
    let remaining = 1000;
    let staged: { stagedAtMs: number }[] = [];
    let commits = 0;
    for (let cycle = 0; cycle < 100 && (remaining > 0 || staged.length > 0); cycle++) {
      const out = decide({ staged, tasks: [], eligibleSegments: remaining }, { commitThreshold: 250, maxCommitWaitMs: 3_600_000 }, NOW);
      if (out.decision === 'EMIT') {
        // Tasks finish within the cycle: each stages one file.
        staged = [...staged, ...Array.from({ length: out.emitLimit! }, () => ({ stagedAtMs: NOW }))];
        remaining -= out.emitLimit!;
      } else if (out.decision === 'COMMIT') {
        expect(out.commitCount).toBe(250);
        staged = staged.slice(out.commitCount);
        commits++;
      }
    }
    expect(remaining).toBe(0);
    expect(staged).toHaveLength(0);
    expect(commits).toBe(4);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => decide(view(0, {}, 0), { commitThreshold: 0, maxCommitWaitMs: 1 }, NOW)).toThrow(/commitThreshold/);
    expect(() => decide(view(0, {}, 0), { commitThreshold: 1, maxCommitWaitMs: -1 }, NOW)).toThrow(/maxCommitWaitMs/);
  });
});

describe('committerView and filesToCommit', () => {
  const file = (path: string, stagedAtMs: number): StagedFile => ({ path, segment: path, recordCount: 1, fileSizeBytes: 1, stagedAtMs });

  it('reads staged files and tasks from the table state', () => {
    const state = emptyTableState('events_REALTIME');
    expect(decide(committerView(state, 0), CONFIG, NOW).decision).toBe('WAIT');
    state.iceberg = { staged: [file('a', NOW)] };
    state.tasks = [{ id: 's', segment: 's', downloadUrl: 'u', status: 'RUNNING', attempts: 1, createdAtMs: 0 }];
    const v = committerView(state, 2);
    expect(v.staged).toHaveLength(1);
    expect(decide(v, CONFIG, NOW)).toMatchObject({ decision: 'EMIT', emitLimit: 2 });
  });

  it('takes the oldest files first, ties broken by path', () => {
    const staged = [file('c', 5), file('b', 1), file('a', 5), file('d', 9)];
    expect(filesToCommit(staged, 3).map((f) => f.path)).toEqual(['b', 'a', 'c']);
    expect(filesToCommit(staged, 10)).toHaveLength(4);
  });
});
