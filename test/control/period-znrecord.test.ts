import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatPeriod, parsePeriodMs } from '../../src/control/period.js';
import { parseLlcName } from '../../src/control/segment-name.js';
import { isGzip, parseZNRecord, serializeZNRecord } from '../../src/control/znrecord.js';

describe('Pinot period strings', () => {
  it.each([
    ['1d', 86_400_000], ['6h', 21_600_000], ['30m', 1_800_000], ['45s', 45_000], ['1d12h', 129_600_000],
    ['2h30m15s', 9_015_000], ['0d', 0], ['2D', 172_800_000], ['90m', 5_400_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parsePeriodMs(text)).toBe(ms);
  });

  it.each(['', '1', 'd', '1w', '1h1d', '-1d', '1.5h', ' 1d', '1d ', '1ms', 'P1D'])('rejects %j', (text) => {
    expect(parsePeriodMs(text)).toBeUndefined();
  });

  it('formats durations canonically', () => {
    expect(formatPeriod(90_061_000)).toBe('1d1h1m1s');
    expect(formatPeriod(0)).toBe('0s');
    expect(parsePeriodMs(formatPeriod(172_800_000))).toBe(172_800_000);
  });
});

describe('LLC segment names', () => {
  it('parses <table>__<partition>__<sequence>__<time>', () => {
    expect(parseLlcName('events__3__41__20260115T1000Z')).toEqual({ table: 'events', partition: 3, sequence: 41, creationTime: '20260115T1000Z' });
  });

  it.each(['uploaded__events__0__5__1736935200000', 'events__x__1__20260115T1000Z', 'events__1__01__20260115T1000Z', 'events_0_1', 'events__1__2__2026'])('is not an LLC name: %s', (name) => {
    expect(parseLlcName(name)).toBeUndefined();
  });
});

describe('ZNRecord', () => {
  const pinotJson = `{
  "id" : "events__3__41__20260115T1000Z",
  "simpleFields" : {
    "segment.realtime.status" : "DONE",
    "segment.total.docs" : "250000"
  },
  "mapFields" : {
    "custom.map" : { "k1" : "v1" }
  },
  "listFields" : {
    "committingSegments" : [ "a", "b" ]
  }
}`;

  it('parses Helix\'s pretty-printed JSON, plain and gzip-compressed', () => {
    const expected = {
      id: 'events__3__41__20260115T1000Z',
      simpleFields: { 'segment.realtime.status': 'DONE', 'segment.total.docs': '250000' },
      mapFields: { 'custom.map': { k1: 'v1' } },
      listFields: { committingSegments: ['a', 'b'] },
    };
    expect(parseZNRecord(Buffer.from(pinotJson), '/p')).toEqual(expected);
    const gz = gzipSync(Buffer.from(pinotJson));
    expect(isGzip(gz)).toBe(true);
    expect(parseZNRecord(gz, '/p')).toEqual(expected);
    expect(parseZNRecord(serializeZNRecord(expected, true), '/p')).toEqual(expected);
  });

  it('tolerates missing sections and unknown keys', () => {
    expect(parseZNRecord(Buffer.from('{"id":"x","extra":1}'), '/p')).toEqual({ id: 'x', simpleFields: {}, mapFields: {}, listFields: {} });
  });

  it('names the node and the problem', () => {
    expect(() => parseZNRecord(Buffer.from('not json'), '/c/PROPERTYSTORE/SEGMENTS/t/s')).toThrow(
      expect.objectContaining({ code: 'CONTROL_ZNRECORD_INVALID', context: { key: '/c/PROPERTYSTORE/SEGMENTS/t/s' } }));
    expect(() => parseZNRecord(Buffer.from('{"simpleFields":{}}'), '/p')).toThrow(/missing string "id"/);
    expect(() => parseZNRecord(Buffer.from('{"id":"x","listFields":{"a":[1]}}'), '/p')).toThrow(/listFields.a/);
    expect(() => parseZNRecord(Buffer.from([0x1f, 0x8b, 0, 1]), '/p')).toThrow(/gzip/);
  });
});
