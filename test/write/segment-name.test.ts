/** LLC segment names built and split as Pinot's LLCSegmentName does. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatLlcTime, isLlcSegmentName, llcSegmentName, parseLlcSegmentName, parseLlcTime,
} from '../../src/sources/pinot/write/segment-name.js';
import { describeFixtures } from '../support/fixtures.js';

describe('llcSegmentName', () => {
  it('builds <table>__<partition>__<sequence>__<yyyyMMddTHHmmZ> in UTC, minutes truncated', () => {
    expect(llcSegmentName('events', 0, 12, Date.UTC(2026, 10, 26, 0, 0, 59, 999))).toBe('events__0__12__20261126T0000Z');
    expect(llcSegmentName('events', 0, 13, new Date('2026-11-26T01:00:00Z'))).toBe('events__0__13__20261126T0100Z');
    expect(llcSegmentName('testTable', 3, 0, 123456)).toBe('testTable__3__0__19700101T0002Z');
    expect(llcSegmentName('t_x', 2147483647, 7, Date.UTC(2024, 1, 29, 23, 59))).toBe('t_x__2147483647__7__20240229T2359Z');
  });

  it('refuses what Pinot refuses', () => {
    expect(() => llcSegmentName('a__b', 0, 0, 0)).toThrow(/illegal table name/);
    expect(() => llcSegmentName('t', 2147483648, 0, 0)).toThrow(RangeError);
    expect(() => llcSegmentName('t', 0, 1.5, 0)).toThrow(RangeError);
    expect(() => llcSegmentName('t', 0, 0, NaN)).toThrow(RangeError);
    expect(() => formatLlcTime(new Date(Date.UTC(-1, 0, 1)))).toThrow(RangeError);
  });
});

describe('parseLlcSegmentName', () => {
  it('splits a name into its parts and the time', () => {
    expect(parseLlcSegmentName('events__0__12__20261126T0000Z')).toEqual({
      table: 'events', partition: 0, sequence: 12, creationTime: '20261126T0000Z', creationTimeMs: Date.UTC(2026, 10, 26),
    });
    expect(parseLlcSegmentName('my_table__17__+5__20200101T1230Z')).toMatchObject({ partition: 17, sequence: 5, creationTimeMs: Date.UTC(2020, 0, 1, 12, 30) });
  });

  it('treats runs of "__" as one separator (StringUtils.splitByWholeSeparator)', () => {
    expect(parseLlcSegmentName('t____1__2__20200101T0000Z')).toMatchObject({ table: 't', partition: 1, sequence: 2 });
    expect(parseLlcSegmentName('t___1__2__20200101T0000Z')).toBeUndefined(); // "_1" is not an int
  });

  it('keeps a name whose time part does not parse (Pinot parses it lazily) but gives no time', () => {
    const parsed = parseLlcSegmentName('t__1__2__123456');
    expect(parsed).toEqual({ table: 't', partition: 1, sequence: 2, creationTime: '123456' });
    expect(parseLlcTime('20261326T0000Z')).toBeUndefined();
    expect(parseLlcTime('20260230T0000Z')).toBeUndefined();
    expect(parseLlcTime('20260101T2400Z')).toBeUndefined();
    expect(parseLlcTime('20260101T0060Z')).toBeUndefined();
    expect(parseLlcTime('20260101T0000')).toBeUndefined();
  });

  it('is undefined for names that are not LLC names', () => {
    for (const name of ['events_OFFLINE_0', 'a__b__c', 'a__b__c__d__e', 't__x__2__20200101T0000Z', 't__1__9999999999__20200101T0000Z', '']) {
      expect(parseLlcSegmentName(name), name).toBeUndefined();
    }
  });

  it('round-trips with llcSegmentName', () => {
    for (const [t, p, s, ms] of [['a', 0, 0, 0], ['tbl_x', 9, 123, Date.UTC(2031, 5, 7, 8, 9)]] as const) {
      const name = llcSegmentName(t, p, s, ms);
      expect(parseLlcSegmentName(name)).toEqual({ table: t, partition: p, sequence: s, creationTime: name.split('__')[3], creationTimeMs: ms });
    }
  });
});

describe('isLlcSegmentName', () => {
  it('counts non-overlapping "__" (exactly three)', () => {
    expect(isLlcSegmentName('events__0__12__20261126T0000Z')).toBe(true);
    expect(isLlcSegmentName('a___b__c__d')).toBe(true);
    expect(isLlcSegmentName('a____b__c')).toBe(true);
    expect(isLlcSegmentName('a__b__c')).toBe(false);
    expect(isLlcSegmentName('a__b__c__d__e')).toBe(false);
  });
});

describeFixtures('the 1.5.1 fixtures\' LLC names', 'fixtures/pinot-generated/1.5.1', (dir) => {
  it('parse and rebuild to the same names', () => {
    const names = readdirSync(dir).filter((f) => f.endsWith('.tar.gz')).map((f) => f.slice(0, -'.tar.gz'.length));
    const llc = names.filter(isLlcSegmentName);
    expect(llc).toEqual(['events__0__12__20261126T0000Z', 'events__0__13__20261126T0100Z']);
    for (const name of llc) {
      const p = parseLlcSegmentName(name)!;
      expect(llcSegmentName(p.table, p.partition, p.sequence, p.creationTimeMs!)).toBe(name);
    }
    expect(names.filter((n) => !isLlcSegmentName(n)).every((n) => parseLlcSegmentName(n) === undefined)).toBe(true);
  });
});
