/**
 * `fileFormat.parquet.json.maxDepth`: JSON columns become Parquet groups whose shape is inferred from the
 * values of the whole segment, up to that depth. Rules:
 *
 * - The column value is level 0. An object (array) at a level below maxDepth becomes a group (a LIST) whose
 *   members (elements) are at the next level; an object or array at maxDepth or deeper stays JSON text.
 * - Scalars keep their JSON type: string → STRING, true/false → BOOLEAN, integers → INT64, other numbers →
 *   DOUBLE (integers mixed with fractions → DOUBLE). Integers beyond INT64 stay JSON text (exact).
 * - Members are the union of the keys seen, in first-seen order; a missing key or `null` is a null.
 * - Where values disagree (a string here, an object there), where only nulls were seen, where an object has
 *   no keys, an empty key or more than MAX_SHREDDED_FIELDS distinct keys, the member stays JSON text.
 * - JSON text members are written with the Parquet JSON logical type, like unshredded JSON columns.
 *
 * Numbers are parsed losslessly (lossless-json), so INT64 members and JSON text keep every digit.
 */
import { isInteger, isLosslessNumber, parse, stringify, type LosslessNumber } from 'lossless-json';
import { Bool, Field, Float64, Int64, List, Struct, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';

export type JsonShape =
  | { kind: 'json' }
  | { kind: 'null' }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'int64' }
  | { kind: 'double' }
  | { kind: 'struct'; fields: Map<string, JsonShape> }
  | { kind: 'list'; element: JsonShape };

export const MAX_SHREDDED_FIELDS = 1000;

const JSON_TEXT: JsonShape = { kind: 'json' };
const NULL: JsonShape = { kind: 'null' };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

function parseJson(text: string): unknown {
  return parse(text);
}

function shapeOf(value: unknown, level: number, maxDepth: number): JsonShape {
  if (value === null || value === undefined) return NULL;
  if (typeof value === 'string') return { kind: 'string' };
  if (typeof value === 'boolean') return { kind: 'boolean' };
  if (isLosslessNumber(value)) {
    const text = (value as LosslessNumber).value;
    if (!isInteger(text)) return { kind: 'double' };
    const n = BigInt(text);
    return n >= INT64_MIN && n <= INT64_MAX ? { kind: 'int64' } : JSON_TEXT;
  }
  if (level >= maxDepth) return JSON_TEXT;
  if (Array.isArray(value)) {
    let element: JsonShape = NULL;
    for (const e of value) element = unify(element, shapeOf(e, level + 1, maxDepth));
    return { kind: 'list', element };
  }
  if (isObject(value)) {
    const fields = new Map<string, JsonShape>();
    for (const [k, v] of Object.entries(value)) {
      if (k === '') return JSON_TEXT;
      fields.set(k, shapeOf(v, level + 1, maxDepth));
    }
    return fields.size > MAX_SHREDDED_FIELDS ? JSON_TEXT : { kind: 'struct', fields };
  }
  return JSON_TEXT;
}

/** The shape that holds values of both shapes. */
export function unify(a: JsonShape, b: JsonShape): JsonShape {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'json' || b.kind === 'json') return JSON_TEXT;
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields);
    for (const [k, s] of b.fields) fields.set(k, unify(fields.get(k) ?? NULL, s));
    return fields.size > MAX_SHREDDED_FIELDS ? JSON_TEXT : { kind: 'struct', fields };
  }
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', element: unify(a.element, b.element) };
  if (a.kind === b.kind) return a;
  if ((a.kind === 'int64' && b.kind === 'double') || (a.kind === 'double' && b.kind === 'int64')) return { kind: 'double' };
  return JSON_TEXT;
}

/** Null-only members and key-less objects become JSON text (no Parquet type can be inferred for them). */
function finalize(shape: JsonShape): JsonShape {
  switch (shape.kind) {
    case 'null': return JSON_TEXT;
    case 'list': return { kind: 'list', element: finalize(shape.element) };
    case 'struct': {
      if (shape.fields.size === 0) return JSON_TEXT;
      const fields = new Map<string, JsonShape>();
      for (const [k, s] of shape.fields) fields.set(k, finalize(s));
      return { kind: 'struct', fields };
    }
    default: return shape;
  }
}

/** Accumulates the shape of one JSON column over all its values (texts; null for null rows). */
export class JsonShapeInference {
  private shape: JsonShape = NULL;
  private unparseable = false;

  constructor(private readonly maxDepth: number) {}

  add(text: string | null): void {
    if (text === null || this.unparseable) return;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch {
      // Not JSON (Pinot validates JSON at ingestion, so this is rare): keep the column as text.
      this.unparseable = true;
      return;
    }
    this.shape = unify(this.shape, shapeOf(value, 0, this.maxDepth));
  }

  result(): JsonShape {
    return this.unparseable ? JSON_TEXT : finalize(this.shape);
  }
}

/** Arrow type of a shape; every field nullable, list elements named `element`. */
export function jsonArrowType(shape: JsonShape): DataType {
  switch (shape.kind) {
    case 'string': case 'json': case 'null': return new Utf8();
    case 'boolean': return new Bool();
    case 'int64': return new Int64();
    case 'double': return new Float64();
    case 'list': return new List(new Field('element', jsonArrowType(shape.element), true));
    case 'struct': return new Struct([...shape.fields].map(([k, s]) => new Field(k, jsonArrowType(s), true)));
  }
}

/**
 * Parquet paths (below the column) of the members that hold JSON text, for the JSON logical type. A LIST's
 * element sits under the repeated group `list`, as Parquet's 3-level list names it.
 */
export function jsonTextPaths(shape: JsonShape, base: readonly string[]): string[][] {
  switch (shape.kind) {
    case 'json': case 'null': return [[...base]];
    case 'list': return jsonTextPaths(shape.element, [...base, 'list', 'element']);
    case 'struct': return [...shape.fields].flatMap(([k, s]) => jsonTextPaths(s, [...base, k]));
    default: return [];
  }
}

class ShapeMismatch extends Error {}

/** A key of a JSON object that the struct shape at `path` (members below the column; `element` for list elements) lacks. */
export interface UnknownJsonKey {
  path: readonly string[];
  key: string;
  /** Row within the texts given to shredJson. */
  row: number;
}

/** Called for every unknown key; returning drops the key, throwing aborts the conversion with that error. */
export type UnknownJsonKeyHandler = (unknown: UnknownJsonKey) => void;

interface ShredContext {
  row: number;
  onUnknownKey: UnknownJsonKeyHandler | undefined;
}

function expectKind(ok: boolean, value: unknown, shape: JsonShape): void {
  if (!ok) throw new ShapeMismatch(`${stringify(value) ?? String(value)} is not ${shape.kind}`);
}

function toArrowValue(value: unknown, shape: JsonShape, ctx: ShredContext, path: readonly string[]): unknown {
  if (value === null || value === undefined) return null;
  switch (shape.kind) {
    case 'json': case 'null': return stringify(value) ?? null;
    case 'string': expectKind(typeof value === 'string', value, shape); return value;
    case 'boolean': expectKind(typeof value === 'boolean', value, shape); return value;
    case 'int64': {
      expectKind(isLosslessNumber(value) && isInteger((value as LosslessNumber).value), value, shape);
      const n = BigInt((value as LosslessNumber).value);
      expectKind(n >= INT64_MIN && n <= INT64_MAX, value, shape);
      return n;
    }
    case 'double': expectKind(isLosslessNumber(value), value, shape); return Number((value as LosslessNumber).value);
    case 'list': {
      expectKind(Array.isArray(value), value, shape);
      const elementPath = [...path, 'element'];
      return (value as unknown[]).map((e) => toArrowValue(e, shape.element, ctx, elementPath));
    }
    case 'struct': {
      expectKind(isObject(value), value, shape);
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, s] of shape.fields) out[k] = Object.hasOwn(obj, k) ? toArrowValue(obj[k], s, ctx, [...path, k]) : null;
      for (const k of Object.keys(obj)) {
        if (shape.fields.has(k)) continue;
        if (ctx.onUnknownKey === undefined) throw new ShapeMismatch(`${stringify(value) ?? String(value)} has key ${JSON.stringify(k)}, which the struct lacks`);
        ctx.onUnknownKey({ path, key: k, row: ctx.row });
      }
      return out;
    }
  }
}

/**
 * JSON texts (null for null rows) → Arrow Data of `jsonArrowType(shape)`. The shape comes from
 * JsonShapeInference over (at least) these values, or from a table schema; a value it cannot hold throws
 * JsonShapeError. Object keys the shape lacks go to `onUnknownKey` when given (and are dropped if it returns),
 * else they are such a value.
 */
export function shredJson(texts: readonly (string | null)[], shape: JsonShape, onUnknownKey?: UnknownJsonKeyHandler): Data {
  const type = jsonArrowType(shape);
  const ctx: ShredContext = { row: 0, onUnknownKey };
  const values = texts.map((t, row) => {
    if (t === null) return null;
    let value: unknown;
    try {
      value = parseJson(t);
    } catch (err) {
      throw new JsonShapeError(row, t, `not JSON (${(err as Error).message})`);
    }
    ctx.row = row;
    try {
      return toArrowValue(value, shape, ctx, []);
    } catch (err) {
      // Only shape mismatches are ours to describe; the handler's own errors (fail) pass through.
      if (err instanceof ShapeMismatch) throw new JsonShapeError(row, t, err.message);
      throw err;
    }
  });
  return vectorFromArray(values as never[], type).data[0]!;
}

/** A value that does not fit the shape (the shape came from other values than these, or from a table schema). */
export class JsonShapeError extends Error {
  constructor(readonly row: number, readonly text: string, readonly reason: string) {
    super(`JSON value at row ${row} does not fit the shape: ${reason}`);
  }
}
