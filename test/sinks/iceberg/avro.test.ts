import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeDatum, readOcf, writeOcf, type AvroRecord } from '../../../src/sinks/iceberg/avro.js';
import { describeFixtures } from '../../support/fixtures.js';
import { avscDecode, avscType, BUNNIES } from './avro-helpers.js';

const ALL_TYPES: AvroRecord = {
  type: 'record',
  name: 'all',
  fields: [
    { name: 'b', type: 'boolean', 'field-id': 1 },
    { name: 'i', type: 'int', 'field-id': 2 },
    { name: 'l', type: 'long', 'field-id': 3 },
    { name: 'f', type: 'float', 'field-id': 4 },
    { name: 'd', type: 'double', 'field-id': 5 },
    { name: 's', type: 'string', 'field-id': 6 },
    { name: 'y', type: 'bytes', 'field-id': 7 },
    { name: 'o', type: ['null', 'long'], default: null, 'field-id': 8 },
    { name: 'a', type: { type: 'array', items: 'int', 'element-id': 10 }, 'field-id': 9 },
    { name: 'm', type: { type: 'map', values: 'string' }, 'field-id': 11 },
    { name: 'x', type: { type: 'fixed', name: 'f4', size: 4 }, 'field-id': 12 },
    { name: 'e', type: { type: 'enum', name: 'color', symbols: ['RED', 'GREEN'] }, 'field-id': 13 },
    { name: 'r', type: { type: 'record', name: 'inner', fields: [{ name: 'k', type: 'int', 'field-id': 15 }] }, 'field-id': 14 },
  ],
};

function row(n: number): Record<string, unknown> {
  return {
    b: n % 2 === 0,
    i: n === 0 ? -(2 ** 31) : n * 1000,
    l: n === 0 ? -(2n ** 63n) : 9158179788527662767n - BigInt(n),
    f: 1.5 * n,
    d: n === 1 ? -0 : Math.PI * n,
    s: `héllo ${n} 🐇`,
    y: Uint8Array.of(n, 255, 0),
    o: n % 3 === 0 ? null : BigInt(n) * 2n ** 40n,
    a: Array.from({ length: n % 4 }, (_, k) => k - 1),
    m: n % 2 === 0 ? {} : { key: `v${n}` },
    x: Uint8Array.of(1, 2, 3, n),
    e: n % 2 === 0 ? 'RED' : 'GREEN',
    r: { k: 1 - n },
  };
}

describe('Avro object container files', () => {
  const rows = Array.from({ length: 7 }, (_, n) => row(n));

  for (const codec of ['deflate', 'null'] as const) {
    it(`round-trips every type with codec ${codec}, and avsc reads the same values`, async () => {
      const bytes = writeOcf({ schema: ALL_TYPES, records: rows, codec, metadata: { 'snapshot-id': '42' }, blockRecords: 3 });
      const ours = readOcf(bytes);
      expect(ours.records).toEqual(rows.map((r) => ({ ...r, d: r.d, f: Math.fround(r.f as number) })));
      expect(Object.is(ours.records[1]!.d, -0)).toBe(true);
      expect(ours.metadata.get('avro.codec')).toBe(codec);
      expect(ours.metadata.get('snapshot-id')).toBe('42');
      const theirs = await avscDecode(bytes);
      expect(theirs.codec).toBe(codec);
      expect(theirs.meta['snapshot-id']).toBe('42');
      expect(theirs.records.map((r) => ({ ...r, y: Uint8Array.from(r.y as Buffer), x: Uint8Array.from(r.x as Buffer), r: { ...(r.r as object) } })))
        .toEqual(ours.records.map((r) => ({ ...r, m: r.m })));
    });
  }

  it('writes the schema JSON verbatim, field-id and element-id attributes included', async () => {
    const bytes = writeOcf({ schema: ALL_TYPES, records: [row(1)] });
    expect(readOcf(bytes).schema).toEqual(ALL_TYPES);
    const { writerSchema } = await avscDecode(bytes);
    expect(writerSchema).toEqual(ALL_TYPES);
    expect(JSON.stringify(writerSchema)).toContain('"element-id":10');
  });

  it('uses raw DEFLATE blocks (no zlib header), which avsc inflates', async () => {
    const bytes = writeOcf({ schema: ALL_TYPES, records: [row(2)], codec: 'deflate', syncMarker: new Uint8Array(16).fill(7) });
    const file = readOcf(bytes);
    expect(file.records).toHaveLength(1);
    // The block follows the 16-byte sync marker; a zlib stream would start with 0x78.
    const sync = Buffer.from(bytes).indexOf(Buffer.alloc(16, 7));
    const afterCounts = bytes.subarray(sync + 16 + 2);
    expect(afterCounts[0]).not.toBe(0x78);
    expect((await avscDecode(bytes)).records).toHaveLength(1);
  });

  it('encodes single datums as avsc does', () => {
    const value = row(3);
    const ours = encodeDatum(ALL_TYPES, value);
    const theirs = avscType(ALL_TYPES).toBuffer({ ...value, y: Buffer.from(value.y as Uint8Array), x: Buffer.from(value.x as Uint8Array) });
    expect(Buffer.from(ours).equals(theirs)).toBe(true);
  });

  it('names the record and field of a value that does not fit the schema', () => {
    const bad = { ...row(1), i: 2 ** 31 };
    expect(() => writeOcf({ schema: ALL_TYPES, records: [row(0), bad], where: 's3://b/m.avro' })).toThrow(
      expect.objectContaining({ code: 'ICEBERG_METADATA_INVALID', message: expect.stringMatching(/all\[1\]\.i: expected a 32-bit integer.*uri="s3:\/\/b\/m\.avro"/) }),
    );
    expect(() => writeOcf({ schema: ALL_TYPES, records: [{ ...row(1), o: 'x' }] })).toThrow(/all\[0\]\.o: no branch of union/);
  });

  it('refuses bad magic, a truncated file and a wrong sync marker, naming the file', () => {
    const good = writeOcf({ schema: ALL_TYPES, records: [row(1), row(2)], codec: 'null' });
    expect(() => readOcf(Uint8Array.from([1, 2, 3, 4, 5]), 'm.avro')).toThrow(expect.objectContaining({ code: 'ICEBERG_METADATA_INVALID', message: expect.stringContaining('bad magic') }));
    expect(() => readOcf(good.subarray(0, good.length - 20), 'm.avro')).toThrow(/ends early|sync marker/);
    const broken = Uint8Array.from(good);
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
    expect(() => readOcf(broken, 'm.avro')).toThrow(/sync marker mismatch.*uri="m\.avro"/);
  });
});

describeFixtures('Avro reader on Java-written files', BUNNIES, (dir) => {
  it('reads a Java manifest list with exact 63-bit ids', async () => {
    const path = join(dir, 'metadata', 'snap-9158179788527662767-1-a01399a1-e864-4562-b921-c8cb56e6e4a9.avro');
    const bytes = readFileSync(path);
    const ours = readOcf(bytes, path);
    const theirs = await avscDecode(bytes);
    expect(ours.metadata.get('snapshot-id')).toBe('9158179788527662767');
    expect(ours.records.map((r) => r.added_snapshot_id)).toEqual(theirs.records.map((r) => r.added_snapshot_id));
    expect(ours.records.map((r) => r.added_snapshot_id)).toContain(9158179788527662767n);
    expect(ours.records).toHaveLength(theirs.records.length);
  });
});
