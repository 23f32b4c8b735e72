/** json.maxDepth: shapes inferred from all values, up to the depth; deeper or conflicting members stay JSON text. */
import { describe, expect, it } from 'vitest';
import { Vector } from 'apache-arrow';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import {
  JsonShapeError, JsonShapeInference, MAX_SHREDDED_FIELDS, jsonArrowType, jsonTextPaths, shredJson, type JsonShape, type UnknownJsonKey,
} from '../../src/pipeline/json-shredding.js';
import { unknownJsonKeyHandler } from '../../src/pipeline/json-unknown-keys.js';
import { ParquetError } from '../../src/pipeline/parquet-error.js';

function infer(maxDepth: number, ...texts: (string | null)[]): JsonShape {
  const inference = new JsonShapeInference(maxDepth);
  for (const t of texts) inference.add(t);
  return inference.result();
}

/** Shape as a compact string, e.g. {a:int64,b:[string]}. */
function show(s: JsonShape): string {
  switch (s.kind) {
    case 'struct': return `{${[...s.fields].map(([k, v]) => `${k}:${show(v)}`).join(',')}}`;
    case 'list': return `[${show(s.element)}]`;
    default: return s.kind;
  }
}

describe('JsonShapeInference', () => {
  it('depth 1: top-level keys become members, nested objects and arrays stay JSON text', () => {
    expect(show(infer(1, '{"k":"eps","n":13,"v":[5,3,8],"o":{"x":1}}'))).toBe('{k:string,n:int64,v:json,o:json}');
  });

  it('depth 2: arrays and objects one level down are shredded too', () => {
    expect(show(infer(2, '{"k":"eps","n":13,"v":[5,3,8],"o":{"x":1,"y":{"z":true}}}'))).toBe('{k:string,n:int64,v:[int64],o:{x:int64,y:json}}');
  });

  it('unions keys over all values in first-seen order; integers mixed with fractions become double', () => {
    expect(show(infer(1, '{"a":1}', '{"b":true,"a":2.5}', null, '{"a":3}'))).toBe('{a:double,b:boolean}');
  });

  it('conflicting kinds, null-only members, empty objects and integers past INT64 stay JSON text', () => {
    expect(show(infer(2, '{"a":1,"n":null,"e":{}}', '{"a":"x","big":123456789012345678901234567890}'))).toBe('{a:json,n:json,e:json,big:json}');
  });

  it('a column whose values are not all objects, or not JSON, stays JSON text as a whole', () => {
    expect(show(infer(3, '{"a":1}', '[1]'))).toBe('json');
    expect(show(infer(3, '{"a":1}', 'not json'))).toBe('json');
    expect(show(infer(3, null, null))).toBe('json');
  });

  it('an object with an empty key or more than MAX_SHREDDED_FIELDS keys stays JSON text', () => {
    expect(show(infer(2, '{"a":{"":1}}'))).toBe('{a:json}');
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: MAX_SHREDDED_FIELDS + 1 }, (_, i) => [`k${i}`, i])));
    expect(show(infer(1, wide))).toBe('json');
  });
});

describe('shredJson', () => {
  it('builds the inferred Arrow struct: missing keys and nulls are nulls, INT64 exact, JSON text members keep numbers exact', () => {
    const texts = ['{"n":9007199254740993,"v":[1,2],"o":{"deep":[1.10,{"a":1}]}}', '{"s":"x"}', null];
    const shape = infer(2, ...texts);
    expect(show(shape)).toBe('{n:int64,v:[int64],o:{deep:json},s:string}');
    const data = shredJson(texts, shape);
    expect(String(jsonArrowType(shape))).toBe(String(data.type));
    const rows = [...new Vector([data])].map((r) => (r === null ? null : (r as { toJSON(): unknown }).toJSON()));
    expect(rows[0]).toMatchObject({ n: 9007199254740993n, s: null, o: { deep: '[1.10,{"a":1}]' } });
    expect([...(rows[0] as { v: Iterable<bigint> }).v]).toStrictEqual([1n, 2n]);
    expect(rows[1]).toMatchObject({ n: null, v: null, o: null, s: 'x' });
    expect(rows[2]).toBeNull();
  });

  it('a value that does not fit a shape inferred from other values is named', () => {
    const shape = infer(1, '{"a":1}');
    const err = (() => {
      try {
        shredJson(['{"a":1}', '{"a":"x"}'], shape);
      } catch (e) {
        return e as JsonShapeError;
      }
      return expect.fail('expected JsonShapeError');
    })();
    expect(err).toBeInstanceOf(JsonShapeError);
    expect([err.row, err.text]).toStrictEqual([1, '{"a":"x"}']);
    expect(() => shredJson(['{"a":1,"b":2}'], shape)).toThrow(JsonShapeError);
  });

  it('JSON text paths follow Parquet paths (list elements under list/element)', () => {
    const shape = infer(2, '{"a":[{"x":1}],"b":{"c":[1]},"d":1}');
    expect(show(shape)).toBe('{a:[json],b:{c:json},d:int64}');
    expect(jsonTextPaths(shape, ['col'])).toStrictEqual([['col', 'a', 'list', 'element'], ['col', 'b', 'c']]);
    expect(jsonTextPaths(infer(1, '[1]', '{"a":1}'), ['col'])).toStrictEqual([['col']]);
  });
});

describe('keys a given shape lacks', () => {
  const shape: JsonShape = {
    kind: 'struct', fields: new Map<string, JsonShape>([
      ['a', { kind: 'int64' }],
      ['o', { kind: 'struct', fields: new Map([['x', { kind: 'string' }]]) }],
      ['l', { kind: 'list', element: { kind: 'struct', fields: new Map([['y', { kind: 'boolean' }]]) } }],
    ]),
  };
  const texts = ['{"a":1}', '{"a":2,"extra":3,"o":{"x":"s","deep":true}}', null, '{"l":[{"y":true,"z":1}],"extra":4}'];
  const rows = (d: ReturnType<typeof shredJson>) => [...new Vector([d])].map((r) => (r === null ? null : JSON.parse(JSON.stringify((r as { toJSON(): unknown }).toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as unknown));

  it('go to onUnknownKey with their member path and row, and are dropped when it returns', () => {
    const seen: UnknownJsonKey[] = [];
    const data = shredJson(texts, shape, (u) => seen.push(u));
    expect(seen).toStrictEqual([
      { path: ['o'], key: 'deep', row: 1 }, { path: [], key: 'extra', row: 1 }, { path: ['l', 'element'], key: 'z', row: 3 }, { path: [], key: 'extra', row: 3 },
    ]);
    expect(rows(data)).toStrictEqual([
      { a: 1, o: null, l: null }, { a: 2, o: { x: 's' }, l: null }, null, { a: null, o: null, l: [{ y: true }] },
    ]);
  });

  it('without onUnknownKey they are a value that does not fit; an error thrown by the handler passes through unchanged', () => {
    expect(() => shredJson(texts, shape)).toThrow(JsonShapeError);
    const mine = new Error('mine');
    expect(() => shredJson(texts, shape, () => {
      throw mine;
    })).toThrow(mine);
  });

  it('unknownJsonKeyHandler: warn reports each column+key path once (first row) and drops; fail throws the chosen code naming column, key, row', () => {
    const warnings: string[] = [];
    const warn = unknownJsonKeyHandler({ behavior: 'warn', warn: (m) => warnings.push(m) });
    shredJson(texts, shape, (u) => warn({ ...u, column: 'p', row: 100 + u.row }));
    expect(warnings).toStrictEqual([
      'JSON column p member p.o: key "deep" (first at row 101) is not in the struct of the table schema; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)',
      'JSON column p: key "extra" (first at row 101) is not in the struct of the table schema; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)',
      'JSON column p member p.l.element: key "z" (first at row 103) is not in the struct of the table schema; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)',
    ]);

    const failDefault = unknownJsonKeyHandler();
    const e1 = (() => {
      try {
        shredJson(texts, shape, (u) => failDefault({ ...u, column: 'p' }));
      } catch (e) {
        return e as ParquetError;
      }
      return expect.fail('expected a failure');
    })();
    expect(e1).toBeInstanceOf(ParquetError);
    expect([e1.code, e1.context]).toStrictEqual([ErrorCodes.PARQUET_SCHEMA_MISMATCH, { column: 'p', key: 'p.o.deep', row: 1 }]);

    const iceberg = unknownJsonKeyHandler({ behavior: 'fail', code: ErrorCodes.ICEBERG_SCHEMA_MISMATCH, context: { table: 'lake.t' }, owner: 'Iceberg table lake.t' });
    const e2 = (() => {
      try {
        iceberg({ column: 'p', path: ['o'], key: 'deep', row: 7 });
      } catch (e) {
        return e as ExporterError;
      }
      return expect.fail('expected a failure');
    })();
    expect(e2).not.toBeInstanceOf(ParquetError);
    expect([e2.code, e2.context]).toStrictEqual([ErrorCodes.ICEBERG_SCHEMA_MISMATCH, { table: 'lake.t', column: 'p', key: 'p.o.deep', row: 7 }]);
    expect(e2.message).toContain('JSON column p member p.o has key "deep" at row 7, which the struct of Iceberg table lake.t lacks');
  });
});
