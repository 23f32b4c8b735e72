/**
 * Footer patching on files parquet-wasm wrote: JSON logical type on STRING leaves (top level and nested),
 * key-value entries removed (short and long Thrift list headers), row counts read back — checked with
 * hyparquet and DuckDB, which parse the footer independently.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Field, Int32, List, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { footerBytes, parseFooter, patchFooter, withFooter } from '../../src/pipeline/parquet-footer.js';
import { closeDuckdb, duckQuery, duckSchema, hyparquetRows, metadataOf, sqlString, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

function sampleFile(kv: Map<string, string>, rowGroupRows = 2): Uint8Array {
  const element = new Field('element', new Utf8(), true);
  const struct = new Struct([new Field('inner', new Utf8(), true), new Field('n', new Int32(), true)]);
  const fields = [new Field('j', new Utf8(), true), new Field('l', new List(element), true), new Field('s', struct, true), new Field('plain', new Utf8(), true)];
  const j = vectorFromArray(['{"a":1}', null, '[2]'], new Utf8());
  const l = vectorFromArray([['{"b":2}'], null, []], new List(element));
  const s = vectorFromArray([{ inner: '"x"', n: 1 }, null, { inner: null, n: 3 }], struct);
  const plain = vectorFromArray(['a', 'b', 'c'], new Utf8());
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: [j.data[0]!, l.data[0]!, s.data[0]!, plain.data[0]!] }));
  const props = new wasm.WriterPropertiesBuilder().setKeyValueMetadata(kv).setMaxRowGroupSize(rowGroupRows).build();
  return wasm.writeParquet(wasm.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream')), props);
}

function patched(file: Uint8Array, patch: Parameters<typeof patchFooter>[1]): Uint8Array {
  const footer = footerBytes(file);
  return withFooter(file.subarray(0, file.length - footer.length - 8), patchFooter(footer, patch));
}

describe('parquet footer', () => {
  it('reads row counts, row groups, key-value metadata and schema paths of a parquet-wasm file', () => {
    const info = parseFooter(footerBytes(sampleFile(new Map([['k', 'v']]))));
    expect(info.numRows).toBe(3);
    expect(info.rowGroups.map((g) => g.numRows)).toStrictEqual([2, 1]);
    expect(info.keyValue.get('k')).toBe('v');
    expect(info.keyValue.has('ARROW:schema')).toBe(true);
    expect(info.schema.map((n) => n.path.join('.'))).toStrictEqual(['j', 'l', 'l.list', 'l.list.element', 's', 's.inner', 's.n', 'plain']);
  });

  it('marks STRING leaves as JSON (top level, list element, struct member) and leaves the others alone', async () => {
    const file = patched(sampleFile(new Map()), { jsonPaths: [['j'], ['l', 'list', 'element'], ['s', 'inner']] });
    const meta = metadataOf(file);
    const byName = (name: string) => meta.schema.find((e) => e.name === name)!;
    for (const name of ['j', 'element', 'inner']) {
      expect([name, byName(name).logical_type?.type, byName(name).converted_type]).toStrictEqual([name, 'JSON', 'JSON']);
    }
    expect(byName('plain').logical_type?.type).toBe('STRING');
    expect(await hyparquetRows(file)).toStrictEqual([
      { j: '{"a":1}', l: ['{"b":2}'], s: { inner: '"x"', n: 1 }, plain: 'a' },
      { j: null, l: null, s: null, plain: 'b' },
      { j: '[2]', l: [], s: { inner: null, n: 3 }, plain: 'c' },
    ]);
    const t = tempParquet(file);
    try {
      const schema = await duckSchema(t.path);
      expect(schema.filter((r) => r.converted_type === 'JSON').map((r) => r.name)).toStrictEqual(['j', 'element', 'inner']);
      const rows = await duckQuery(`SELECT json_extract(j, '$.a') AS a, typeof(j) AS t FROM read_parquet(${sqlString(t.path)})`);
      expect(rows[0]).toStrictEqual({ a: '1', t: 'JSON' });
    } finally {
      t.remove();
    }
  });

  it('refuses to mark a leaf that is not STRING or a path that does not exist', () => {
    const footer = footerBytes(sampleFile(new Map()));
    expect(() => patchFooter(footer, { jsonPaths: [['s', 'n']] })).toThrow(ParquetError);
    expect(() => patchFooter(footer, { jsonPaths: [['s']] })).toThrow(/not a STRING leaf/);
    expect(() => patchFooter(footer, { jsonPaths: [['nope']] })).toThrow(/cannot mark nope as JSON/);
  });

  it.each([1, 14, 15, 20])('removes a key from %i key-value entries (short and long list headers)', async (count) => {
    const kv = new Map(Array.from({ length: count - 1 }, (_, i) => [`key${i}`, `value ${i}`]));
    const file = patched(sampleFile(kv), { dropKeys: ['ARROW:schema'] });
    const info = parseFooter(footerBytes(file));
    expect(info.keyValue).toStrictEqual(kv);
    expect(info.numRows).toBe(3);
    const t = tempParquet(file);
    try {
      const rows = await duckQuery(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${sqlString(t.path)})`);
      expect(new Map(rows.map((r) => [r.key, r.value]))).toStrictEqual(kv);
      expect((await duckQuery(`SELECT count(*) AS n FROM read_parquet(${sqlString(t.path)})`))[0]!.n).toBe(3n);
    } finally {
      t.remove();
    }
    expect((await hyparquetRows(file)).map((r) => r.plain)).toStrictEqual(['a', 'b', 'c']);
  });

  it('a file without the PAR1 trailer or with a footer longer than the bytes is refused', () => {
    const file = sampleFile(new Map());
    expect(() => footerBytes(file.subarray(0, file.length - 1))).toThrow(/PAR1/);
    const tail = file.slice(file.length - 20);
    expect(() => footerBytes(tail)).toThrow(/longer than the 20 bytes/);
    expect(() => parseFooter(new Uint8Array([0x15]))).toThrow(ParquetError);
  });
});
