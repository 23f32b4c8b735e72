/**
 * Lossless JSON for the test catalog: integers outside ±2^53 become `bigint` (so Java's 63-bit snapshot ids
 * survive a round trip), everything else stays a plain number. Serialisation writes bigints as bare digits.
 */
import { isInteger, isLosslessNumber, isSafeNumber, parse, stringify } from 'lossless-json';

export type JsonObject = Record<string, unknown>;

export function parseJson(text: string): unknown {
  return parse(text, null, parseNumber);
}

function parseNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);
}

export function toJson(value: unknown, indent?: number): string {
  const text = stringify(value, null, indent);
  if (text === undefined) throw new Error('iceberg-catalog: value has no JSON form');
  return text;
}

/** An integer id as bigint whatever form it was parsed in; null/undefined stay null. */
export function toBig(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (isLosslessNumber(v)) return BigInt(v.toString());
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new Error(`iceberg-catalog: ${String(v)} is not an integer`);
}

/** Back to the smallest exact JSON form: a number when safe, else a bigint. */
export function fromBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

/** Deep copy that keeps bigints (structuredClone does too, but this also drops LosslessNumber wrappers). */
export function clone<T>(v: T): T {
  return parseJson(toJson(v)) as T;
}
