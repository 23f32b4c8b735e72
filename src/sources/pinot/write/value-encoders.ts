/**
 * Pinot's stored value forms (§4.1, §4.3), written: BIG_DECIMAL bytes (`BigDecimalUtils.serialize`) and the MAP
 * frame (`MapUtils.serializeMap` with Jackson-written JSON values), plus the small byte helpers the index
 * writers share. Pure functions; the inverses are in `../values.ts`.
 */
import { Buffer } from 'node:buffer';
import { ConfigError, ErrorCodes } from '../../../errors.js';
import type { VarBytes } from '../types.js';
import { javaDoubleToString } from './java-format.js';

function usage(detail: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, detail);
}

// ---------------------------------------------------------------------------------------------------------
// BIG_DECIMAL

/** Java `new BigDecimal(String)` grammar: sign, digits with an optional point, optional exponent. */
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Pinot's BIG_DECIMAL bytes for decimal text, exactly as `BigDecimalUtils.serialize(new BigDecimal(text))`:
 * i16 BE scale, then the unscaled value as minimal BE two's complement (Java `BigInteger.toByteArray`, at least
 * one byte). The scale is kept as written (`1.50` has scale 2); Pinot's ingestion strips trailing zeros first,
 * so callers pass stripped text. Throws USAGE for text Java would reject and for a scale outside i16, which
 * Pinot would silently truncate.
 */
export function encodeBigDecimal(text: string): Uint8Array {
  const m = DECIMAL.exec(text);
  const intDigits = m?.[2] ?? '';
  const fracDigits = m?.[3] ?? '';
  if (!m || intDigits.length + fracDigits.length === 0) {
    throw usage(`BIG_DECIMAL value ${JSON.stringify(text)} is not a decimal number`);
  }
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  const scale = fracDigits.length - exponent;
  if (!Number.isSafeInteger(exponent) || scale < -32768 || scale > 32767) {
    throw usage(`BIG_DECIMAL value ${JSON.stringify(text)} has scale ${scale}, outside Pinot's 16-bit scale field`);
  }
  const digits = intDigits + fracDigits;
  const negative = m[1] === '-';
  const out = digits.length <= 15
    ? smallUnscaled(negative ? -Number(digits) : Number(digits))
    : bigUnscaled(BigInt(negative ? '-' + digits : digits));
  out[0] = (scale >> 8) & 0xff;
  out[1] = scale & 0xff;
  return out;
}

/** 2 scale bytes + two's complement of |x| < 2^53, minimal length (a leading sign byte only when needed). */
function smallUnscaled(x: number): Uint8Array {
  // bitLength excludes the sign: for x < 0 it is that of −x − 1.
  const mag = x < 0 ? -x - 1 : x;
  let bitLength = 0;
  for (let m = mag; m > 0; m = Math.floor(m / 2)) bitLength++;
  const len = Math.floor(bitLength / 8) + 1;
  const out = new Uint8Array(2 + len);
  // Two's complement of a negative x is the bitwise NOT of −x − 1: stays exact for every |x| < 2^53.
  const invert = x < 0 ? 0xff : 0;
  let v = mag;
  for (let i = 2 + len - 1; i >= 2; i--) {
    out[i] = (v % 256) ^ invert;
    v = Math.floor(v / 256);
  }
  return out;
}

function bigUnscaled(x: bigint): Uint8Array {
  const mag = x < 0n ? -x - 1n : x;
  const bitLength = mag === 0n ? 0 : mag.toString(2).length;
  const len = Math.floor(bitLength / 8) + 1;
  const v = x < 0n ? (1n << BigInt(8 * len)) + x : x;
  const hex = v.toString(16).padStart(2 * len, '0');
  const out = new Uint8Array(2 + len);
  out.set(Buffer.from(hex, 'hex'), 2);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// MAP

const utf8 = new TextEncoder();

/**
 * Pinot 1.3–1.5.x MAP frame (§4.1): `i32 BE n`, then per entry `i32 BE keyLen`, UTF-8 key, `i32 BE valueLen`,
 * the value as Jackson writes it. Entries keep the map's iteration order (1.5.1 does not sort; note that a JS
 * object iterates integer-like keys first — pass a `Map` to control the order). Values: strings, finite numbers
 * (integers as integers; others in Java `Double.toString` form, e.g. `1.5E-7`), non-finite numbers as the
 * strings Jackson writes (`"NaN"`, `"Infinity"`), bigint, booleans, null/undefined (`null`), arrays, plain
 * objects and Maps (nested). Anything else throws USAGE.
 */
export function encodeMapValue(map: Record<string, unknown> | ReadonlyMap<string, unknown>): Uint8Array {
  const entries: [string, unknown][] = map instanceof Map ? [...map.entries()] : Object.entries(map);
  const parts: Uint8Array[] = [];
  let size = 4;
  for (const [key, value] of entries) {
    const k = utf8.encode(key);
    const v = utf8.encode(jacksonJson(value, key));
    parts.push(k, v);
    size += 8 + k.length + v.length;
  }
  if (size > 0x7fffffff) throw usage(`MAP value of ${size} bytes exceeds 2 GB`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, entries.length);
  let pos = 4;
  for (const p of parts) {
    dv.setInt32(pos, p.length);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

/** JSON text as Jackson's default `ObjectMapper` writes the Java value a JS value stands for. */
function jacksonJson(value: unknown, key: string): string {
  switch (typeof value) {
    case 'string': return jacksonString(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'bigint': return value.toString();
    case 'number': return jacksonNumber(value);
    case 'undefined': return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return '[' + value.map((v) => jacksonJson(v, key)).join(',') + ']';
      const entries = value instanceof Map ? [...(value as Map<unknown, unknown>).entries()]
        : Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null ? Object.entries(value)
          : undefined;
      if (entries !== undefined) {
        return '{' + entries.map(([k, v]) => jacksonString(String(k)) + ':' + jacksonJson(v, key)).join(',') + '}';
      }
      break;
    }
    default: break;
  }
  throw usage(`MAP entry ${JSON.stringify(key)} holds a ${typeof value === 'object' ? value?.constructor?.name ?? 'object' : typeof value}, which has no JSON form`);
}

/** Jackson escapes like JSON.stringify, except that its `\u00XX` escapes use upper-case hex. */
function jacksonString(s: string): string {
  return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_, h: string) => '\\u' + h.toUpperCase());
}

function jacksonNumber(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (Number.isInteger(x)) return BigInt(x).toString();
  return javaDoubleToString(x);
}


// ---------------------------------------------------------------------------------------------------------
// Byte helpers shared by the index writers

/** Checks a VarBytes run: offsets start at 0, never decrease, and stay inside `data`. */
export function checkVarBytes(v: VarBytes, what: string): void {
  const { offsets, data } = v;
  if (offsets.length < 1 || offsets[0] !== 0) throw usage(`${what}: VarBytes offsets must start with 0`);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!) throw usage(`${what}: VarBytes offset ${i} (${offsets[i]}) is before offset ${i - 1}`);
  }
  if (offsets[offsets.length - 1]! > data.length) throw usage(`${what}: VarBytes offsets run past the ${data.length} data bytes`);
}

/** `dst.set(src.subarray(from, to), at)` without allocating a view for short ranges. */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, to: number): void {
  const n = to - from;
  if (n < 32) {
    for (let k = 0; k < n; k++) dst[at + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, to), at);
  }
}
