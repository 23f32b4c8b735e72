/**
 * Segments written by Pinot 1.5.1 itself decode to exactly the rows that were fed in (SOURCES.md of
 * ../shared/fixtures/pinot-generated/1.5.1): nulls from the null vectors, BIG_DECIMAL after Pinot's
 * trailing-zero stripping, BYTES as hex, 64-bit LONGs exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PINOT_151_SEGMENTS, describeFixtures } from '../support/fixtures.js';
import { readJsonLines, readRows, stripTrailingZerosPlain, type Row } from '../support/rows.js';

const SEGMENTS = PINOT_151_SEGMENTS;

interface SchemaJson {
  dimensionFieldSpecs?: { name: string; dataType: string; singleValueField?: boolean }[];
  metricFieldSpecs?: { name: string; dataType: string }[];
  dateTimeFieldSpecs?: { name: string; dataType: string }[];
  timeFieldSpec?: { incomingGranularitySpec: { name: string; dataType: string } };
}

function columnTypes(schemaPath: string): Map<string, string> {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaJson;
  const types = new Map<string, string>();
  for (const f of [...(schema.dimensionFieldSpecs ?? []), ...(schema.metricFieldSpecs ?? []), ...(schema.dateTimeFieldSpecs ?? [])]) {
    types.set(f.name, f.dataType);
  }
  return types;
}

/** What `cat` must print for an input row: missing → null, BIG_DECIMAL stripped of trailing zeros. */
function expectedRow(input: Row, types: Map<string, string>): Row {
  const out: Row = {};
  for (const [name, type] of types) {
    const v = input[name];
    if (v === undefined || v === null) out[name] = null;
    else if (type === 'BIG_DECIMAL') out[name] = stripTrailingZerosPlain(String(v));
    else out[name] = v;
  }
  return out;
}

describeFixtures('Pinot 1.5.1 segments decode to their input rows', 'fixtures/pinot-generated/1.5.1', (dir) => {
  for (const name of SEGMENTS) {
    it(`${name}.tar.gz`, async () => {
      const types = columnTypes(join(dir, `${name}.schema.json`));
      const expected = readJsonLines(join(dir, `${name}.input.jsonl`)).map((r) => expectedRow(r, types));
      const rows = await readRows(join(dir, `${name}.tar.gz`), { batchRows: 777 });
      expect(rows.length).toBe(expected.length);
      for (let i = 0; i < rows.length; i++) {
        // Row-by-row so a failure names the doc id instead of dumping thousands of rows.
        expect({ doc: i, ...rows[i] }).toStrictEqual({ doc: i, ...expected[i] });
      }
    });
  }

  it('sorted_bigdecimal.tar.lz4 holds the same rows as the gzip tarball', async () => {
    const fromLz4 = await readRows(join(dir, 'sorted_bigdecimal.tar.lz4'));
    const fromGzip = await readRows(join(dir, 'sorted_bigdecimal.tar.gz'));
    expect(fromLz4.length).toBe(2500);
    expect(fromLz4).toStrictEqual(fromGzip);
  });

  it('batch size does not change the rows (dictionary vectors on and off)', async () => {
    const path = join(dir, 'events__0__12__20261126T0000Z.tar.gz');
    const a = await readRows(path, { batchRows: 5000 });
    const b = await readRows(path, { batchRows: 1, keepDictionaries: false });
    expect(b).toStrictEqual(a);
  });
});
