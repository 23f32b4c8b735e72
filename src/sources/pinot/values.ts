/**
 * Pinot's value serialisations (spec §4.1, §4.3): BIG_DECIMAL bytes, the MAP frame, and UTF-8 helpers.
 * Pure functions over bytes; no I/O.
 */
import { ErrorCodes, SegmentFormatError, type ErrorContext } from '../../errors.js';
import type { VarBytes } from './types.js';

/** A Java BigDecimal: value = unscaled × 10^(−scale). Scale is Pinot's signed 16-bit field. */
export interface BigDecimalValue {
  unscaled: bigint;
  scale: number;
}

function corrupt(message: string, context?: ErrorContext): SegmentFormatError {
  return new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, message, { context: { ...context } });
}

/**
 * Decodes Pinot's BigDecimal bytes: i16 BE signed scale, then the unscaled value as BE two's complement of at
 * least one byte (Java `BigInteger.toByteArray`).
 */
export function decodeBigDecimal(bytes: Uint8Array, context?: ErrorContext): BigDecimalValue {
  if (bytes.length < 3) throw corrupt(`BIG_DECIMAL value of ${bytes.length} bytes is shorter than 3`, context);
  const scale = ((bytes[0]! << 24) >> 16) | bytes[1]!;
  return { unscaled: twosComplement(bytes, 2), scale };
}

function twosComplement(bytes: Uint8Array, from: number): bigint {
  const n = bytes.length - from;
  if (n <= 6) {
    // Fits a double exactly: avoid BigInt parsing for the common short values.
    let v = 0;
    for (let i = from; i < bytes.length; i++) v = v * 256 + bytes[i]!;
    if (bytes[from]! & 0x80) v -= 2 ** (8 * n);
    return BigInt(v);
  }
  let hex = '';
  for (let i = from; i < bytes.length; i++) hex += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  const v = BigInt('0x' + hex);
  return bytes[from]! & 0x80 ? v - (1n << BigInt(8 * n)) : v;
}

/** Serialised length of a BigDecimal in Pinot's form: 2 + ⌊bitLength(unscaled)/8⌋ + 1 (Java `byteSize`). */
export function bigDecimalByteSize(v: BigDecimalValue): number {
  return 3 + Math.floor(bitLength(v.unscaled) / 8);
}

/** Java `BigInteger.bitLength`: bits of the minimal two's complement form, excluding the sign bit. */
function bitLength(x: bigint): number {
  const m = x < 0n ? -x - 1n : x;
  return m === 0n ? 0 : m.toString(2).length;
}

/** Java `BigDecimal.toPlainString` (JDK ≥ 9: a zero with negative scale prints as "0"). */
export function bigDecimalToPlainString(v: BigDecimalValue): string {
  const negative = v.unscaled < 0n;
  const digits = (negative ? -v.unscaled : v.unscaled).toString();
  const sign = negative ? '-' : '';
  if (v.scale <= 0) {
    if (v.unscaled === 0n) return '0';
    return sign + digits + '0'.repeat(-v.scale);
  }
  if (digits.length > v.scale) {
    const point = digits.length - v.scale;
    return sign + digits.slice(0, point) + '.' + digits.slice(point);
  }
  return sign + '0.' + '0'.repeat(v.scale - digits.length) + digits;
}

/**
 * A lossless text form that keeps the scale: the plain form when scale ≥ 0 (`1.50`, `-0.001`), else
 * `<unscaled>E+<−scale>` (`1E+3`, `-12345679E+1`). Java's `new BigDecimal(text)` reads either back with the
 * same unscaled value and scale, and the plain form is what most consumers expect. (Java's own `toString`
 * switches to exponent notation for small scales too, e.g. `1E-10`; we do not.)
 */
export function bigDecimalToString(v: BigDecimalValue): string {
  if (v.scale >= 0) return bigDecimalToPlainString(v);
  return `${v.unscaled.toString()}E+${-v.scale}`;
}

/** Java `BigDecimal.stripTrailingZeros` (JDK ≥ 8: zero becomes scale 0). Pinot applies it at ingestion. */
export function stripTrailingZeros(v: BigDecimalValue): BigDecimalValue {
  if (v.unscaled === 0n) return { unscaled: 0n, scale: 0 };
  let { unscaled, scale } = v;
  while (unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale -= 1;
  }
  return { unscaled, scale };
}

// Non-fatal: Pinot writes Java's UTF-8 (lone surrogates become '?'), so replacement never hides real data.
const utf8 = new TextDecoder('utf-8');

/** UTF-8 bytes → string. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Value i of a VarBytes run (a view, not a copy). */
export function varBytesAt(values: VarBytes, i: number): Uint8Array {
  return values.data.subarray(values.offsets[i], values.offsets[i + 1]);
}

/** All values of a VarBytes run as strings (tests and small columns; the export path keeps bytes). */
export function varBytesToStrings(values: VarBytes): string[] {
  const out = new Array<string>(values.offsets.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = decodeUtf8(varBytesAt(values, i));
  return out;
}

/**
 * Pinot's MAP frame (`i32 BE n`, then n × (`i32 BE keyLen`, UTF-8 key, `i32 BE valLen`, JSON value text)) as
 * JSON object text. Keys are JSON-escaped; values are inserted verbatim, since Pinot stored them as JSON.
 * Entry order is the frame's (Pinot sorts keys only in master), so callers must not rely on it.
 */
export function decodeMapValue(bytes: Uint8Array, context?: ErrorContext): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const next = (what: string): Uint8Array => {
    if (pos + 4 > bytes.length) throw corrupt(`MAP value ends inside the length of ${what} at byte ${pos}`, context);
    const len = dv.getInt32(pos);
    if (len < 0 || pos + 4 + len > bytes.length) {
      throw corrupt(`MAP value has ${what} of ${len} bytes at byte ${pos}, past its ${bytes.length} bytes`, context);
    }
    pos += 4 + len;
    return bytes.subarray(pos - len, pos);
  };
  if (bytes.length < 4) throw corrupt(`MAP value of ${bytes.length} bytes has no entry count`, context);
  const n = dv.getInt32(0);
  pos = 4;
  // Each entry takes at least 8 bytes, so a count the bytes cannot hold is rejected before looping.
  if (n < 0 || n > (bytes.length - 4) / 8) throw corrupt(`MAP value claims ${n} entries in ${bytes.length} bytes`, context);
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const key = decodeUtf8(next('a key'));
    const value = next('a value');
    if (value.length === 0) throw corrupt(`MAP entry ${JSON.stringify(key)} has an empty JSON value`, context);
    parts[i] = JSON.stringify(key) + ':' + decodeUtf8(value);
  }
  if (pos !== bytes.length) throw corrupt(`MAP value has ${bytes.length - pos} bytes after its ${n} entries`, context);
  return '{' + parts.join(',') + '}';
}
