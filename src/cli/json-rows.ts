/**
 * Arrow record batches → JSON Lines rows, as `pinot-export cat` prints them:
 * INT/LONG/FLOAT/DOUBLE as JSON numbers (a LONG outside ±2^53 as a decimal string; NaN and ±Infinity as
 * strings, which JSON cannot hold), BOOLEAN as true/false, TIMESTAMP as epoch ms, STRING/JSON as strings,
 * BYTES as lowercase hex, BIG_DECIMAL as its plain decimal string, multi-value as an array, null as null.
 */
import { DataType as ArrowTypes, type Field, type RecordBatch, type Vector } from 'apache-arrow';
import { PINOT_DATA_TYPE_KEY } from '../sources/pinot/arrow-schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Formatter = (value: unknown) => Json;

export function batchToRows(batch: RecordBatch): Record<string, Json>[] {
  const fields = batch.schema.fields;
  const columns = fields.map((f, i) => ({ name: f.name, vector: batch.getChildAt(i)!, format: formatterFor(f) }));
  const rows: Record<string, Json>[] = new Array(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, Json> = {};
    for (const c of columns) row[c.name] = c.format(c.vector.get(r));
    rows[r] = row;
  }
  return rows;
}

function formatterFor(field: Field): Formatter {
  const pinotType = field.metadata.get(PINOT_DATA_TYPE_KEY);
  const type = field.type;
  if (ArrowTypes.isList(type)) {
    const element = formatterFor(type.children[0]!);
    return (v) => (v == null ? null : Array.from(v as Vector, element));
  }
  const valueType = ArrowTypes.isDictionary(type) ? type.dictionary : type;
  if (pinotType === 'BIG_DECIMAL') return (v) => (v == null ? null : toPlainDecimal(v as string));
  if (ArrowTypes.isInt(valueType) && valueType.bitWidth === 64) return (v) => (v == null ? null : formatLong(v as bigint));
  if (ArrowTypes.isTimestamp(valueType)) return (v) => (v == null ? null : formatLong(v as number | bigint));
  if (ArrowTypes.isFloat(valueType) && valueType.precision === 1) return (v) => (v == null ? null : formatFloat32(v as number));
  if (ArrowTypes.isFloat(valueType)) return (v) => (v == null ? null : formatDouble(v as number));
  if (ArrowTypes.isBinary(valueType)) return (v) => (v == null ? null : Buffer.from(v as Uint8Array).toString('hex'));
  return (v) => (v == null ? null : (v as Json));
}

function formatLong(v: bigint | number): number | string {
  if (typeof v === 'number') return v;
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
}

function formatDouble(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/** The shortest decimal that reads back as the same float32 (as Java's Float.toString intends). */
export function formatFloat32(v: number): number | string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(v.toPrecision(p));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

/**
 * BIG_DECIMAL text as the Arrow column holds it (plain, or `<unscaled>E+<n>` for a negative scale) →
 * the plain decimal string (Java's BigDecimal.toPlainString).
 */
export function toPlainDecimal(text: string): string {
  const e = text.indexOf('E+');
  if (e < 0) return text;
  const zeros = Number(text.slice(e + 2));
  const digits = text.slice(0, e);
  return digits === '0' || digits === '-0' ? '0' : digits + '0'.repeat(zeros);
}
