/**
 * Lossless JSON for every Iceberg catalog request and response.
 *
 * Java writes snapshot ids as random 63-bit longs, which `JSON.parse` rounds (9158179788527662767 becomes
 * 9158179788527663000) and an `assert-ref-snapshot-id` built from a rounded id fails every commit. Integers
 * outside ±(2^53 − 1) therefore become `bigint`; everything else stays a plain `number`. `bigint` values are
 * written back as bare JSON numbers, never strings, as the REST spec's `int64` fields require.
 */
import { isSafeNumber, parse, stringify } from 'lossless-json';

const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  if (INTEGER.test(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

/** Parses JSON text; throws `SyntaxError` (callers name the document) on malformed input. */
export function parseJson(text: string): unknown {
  return parse(text, null, parseNumber);
}

/**
 * Serialises a value to JSON: `bigint` as a bare integer, `undefined` members omitted as `JSON.stringify`
 * does. Non-finite numbers are refused because JSON cannot hold them and silently writing `null` into a
 * catalog commit would corrupt it.
 */
export function stringifyJson(value: unknown): string {
  const text = stringify(value, (_key, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`cannot write ${v} as JSON`);
    return v;
  });
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/** A JSON integer field as `bigint`, whether the parser produced a `number` or a `bigint`. */
export function toBigInt(value: number | bigint): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}
