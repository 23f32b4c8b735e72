import { describe, expect, it } from 'vitest';
import { nextFireTimes, Scheduler, scheduleProblem, type TriggerKind } from '../../src/control/scheduler.js';

const FROM = new Date('2026-01-14T10:07:30Z'); // a Wednesday

describe('Quartz schedules (UTC)', () => {
  it('reads the seconds field and ?', () => {
    expect(nextFireTimes('0 0/15 * * * ?', 3, FROM).map((d) => d.toISOString())).toEqual([
      '2026-01-14T10:15:00.000Z', '2026-01-14T10:30:00.000Z', '2026-01-14T10:45:00.000Z',
    ]);
    expect(nextFireTimes('30 * * * * ?', 1, FROM)[0]!.toISOString()).toBe('2026-01-14T10:08:30.000Z');
  });

  it('numbers weekdays as Quartz does (1 = Sunday, 2 = Monday) and accepts names, L and a year', () => {
    expect(nextFireTimes('0 0 12 ? * 2', 1, FROM)[0]!.toISOString()).toBe('2026-01-19T12:00:00.000Z');
    expect(nextFireTimes('0 0 12 ? * MON-FRI', 1, FROM)[0]!.toISOString()).toBe('2026-01-14T12:00:00.000Z');
    expect(nextFireTimes('0 0 0 L * ?', 1, FROM)[0]!.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(nextFireTimes('0 0 0 1 1 ? 2027', 1, FROM)[0]!.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('rejects Unix 5-field patterns and nonsense', () => {
    expect(scheduleProblem('*/5 * * * *')).toBeDefined();
    expect(scheduleProblem('0 0 25 * * ?')).toBeDefined();
    expect(scheduleProblem('every hour')).toBeDefined();
    expect(scheduleProblem('0 0 * * * ?')).toBeUndefined();
  });

  it('refuses an invalid schedule with a ConfigError naming the key and what is accepted', () => {
    expect(() => new Scheduler({ schedule: '*/5 * * * *', run: async () => undefined })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', context: { key: 'schedule' }, message: expect.stringContaining('Quartz cron expression with seconds') }));
  });
});

describe('Scheduler', () => {
  it('runs on demand and never overlaps runs; triggers during a run coalesce into one more run', async () => {
    const runs: TriggerKind[] = [];
    let active = 0;
    let maxActive = 0;
    const scheduler = new Scheduler({
      run: async (kind) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(kind);
        await new Promise((r) => setTimeout(r, 50));
        active--;
      },
    });
    const first = scheduler.trigger();
    expect(scheduler.isRunning).toBe(true);
    const second = scheduler.trigger();
    const third = scheduler.trigger();
    await Promise.all([first, second, third]);
    expect(runs).toEqual(['demand', 'demand']);
    expect(maxActive).toBe(1);
    expect(scheduler.isRunning).toBe(false);
    await scheduler.trigger();
    expect(runs).toHaveLength(3);
    await scheduler.stop();
    await scheduler.trigger();
    expect(runs).toHaveLength(3);
  });

  it('keeps running after a failed run and reports the error', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const scheduler = new Scheduler({ run: async () => { n++; if (n === 1) throw new Error('boom'); }, onError: (e) => errors.push(e) });
    await scheduler.trigger();
    await scheduler.trigger();
    expect(n).toBe(2);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('fires on its schedule (every second) until stopped', async () => {
    const runs: TriggerKind[] = [];
    const scheduler = new Scheduler({ schedule: '* * * * * ?', run: async (kind) => { runs.push(kind); } });
    expect(scheduler.nextRun()).toBeNull();
    scheduler.start();
    expect(scheduler.nextRun()!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, 2300));
    await scheduler.stop();
    const count = runs.length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(runs.every((k) => k === 'schedule')).toBe(true);
    await new Promise((r) => setTimeout(r, 1200));
    expect(runs).toHaveLength(count);
  });
});
