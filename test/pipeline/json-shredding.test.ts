/** json.maxDepth: shapes inferred from all values, up to the depth; deeper or conflicting members stay JSON text. */
import { describe, expect, it } from 'vitest';
import { Vector } from 'apache-arrow';
import {
  JsonShapeError, JsonShapeInference, MAX_SHREDDED_FIELDS, jsonArrowType, jsonTextPaths, shredJson, type JsonShape,
} from '../../src/pipeline/json-shredding.js';

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
