/**
 * BIG_DECIMAL text (as the reader produces it: plain `-12.5`, or `<unscaled>E+<n>` for a negative scale)
 * → exact Decimal128 values or plain strings. All arithmetic is on bigint digits; no value ever passes
 * through a JS double.
 */
import { Decimal, Utf8, makeData, type Data } from 'apache-arrow';
import { validityOf } from './arrow-data.js';
import type { DecimalSpec } from './parquet-options.js';

export interface ParsedDecimal {
  unscaled: bigint;
  /** Digits after the point; negative for `…E+n`. */
  scale: number;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses a decimal literal (plain or with exponent); undefined when it is not one. */
export function parseDecimalText(text: string): ParsedDecimal | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return undefined;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  if (intPart.length === 0 && frac.length === 0) return undefined;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exponent)) return undefined;
  const digits = BigInt((intPart + frac) || '0');
  return { unscaled: m[1] === '-' ? -digits : digits, scale: frac.length - exponent };
}

/** Java's BigDecimal.toPlainString() of a parsed value. */
export function plainDecimalString({ unscaled, scale }: ParsedDecimal): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  const sign = negative ? '-' : '';
  if (scale <= 0) return unscaled === 0n ? '0' : sign + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return sign + padded.slice(0, padded.length - scale) + '.' + padded.slice(padded.length - scale);
}

/** The plain decimal string of BIG_DECIMAL text; plain text is returned as is. */
export function toPlainDecimal(text: string): string {
  if (!/[eE]/.test(text)) return text;
  const parsed = parseDecimalText(text);
  return parsed ? plainDecimalString(parsed) : text;
}

/**
 * The unscaled value at `spec.scale`, or a reason why the value does not fit DECIMAL(P,S): more significant
 * fractional digits than S (no rounding: the export must be exact), or more than P digits in all.
 */
export function toDecimal(text: string, spec: DecimalSpec): bigint | string {
  const parsed = parseDecimalText(text);
  if (!parsed) return 'it is not a decimal number';
  let { unscaled } = parsed;
  const shift = spec.scale - parsed.scale;
  if (shift >= 0) {
    unscaled *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (unscaled % divisor !== 0n) return `it has more than ${spec.scale} digit(s) after the point`;
    unscaled /= divisor;
  }
  const limit = 10n ** BigInt(spec.precision);
  if (unscaled >= limit || unscaled <= -limit) return `it needs more than ${spec.precision} digit(s)`;
  return unscaled;
}

const TWO_128 = 1n << 128n;
const MASK_32 = 0xffffffffn;

/** Writes `value` as 128-bit little-endian two's complement into `words` at value index `i`. */
export function writeDecimal128(words: Uint32Array, i: number, value: bigint): void {
  let v = value < 0n ? value + TWO_128 : value;
  const at = i * 4;
  for (let w = 0; w < 4; w++) {
    words[at + w] = Number(v & MASK_32);
    v >>= 32n;
  }
}

/** Reads what writeDecimal128 wrote (used by tests and error messages). */
export function readDecimal128(words: Uint32Array, i: number): bigint {
  let v = 0n;
  for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[i * 4 + w]!);
  return v >= 1n << 127n ? v - TWO_128 : v;
}

export function decimalType(spec: DecimalSpec): Decimal {
  return new Decimal(spec.scale, spec.precision, 128);
}

export type DecimalFailure = (row: number, text: string, reason: string) => never;

/**
 * Utf8 Data of decimal text → Decimal128 Data with the same validity. `fail` is called for the first
 * non-null value that does not fit.
 */
export function utf8ToDecimalData(data: Data<Utf8>, spec: DecimalSpec, fail: DecimalFailure): Data<Decimal> {
  const words = new Uint32Array(data.length * 4);
  const decoder = new TextDecoder();
  const offsets = data.valueOffsets;
  const bytes = data.values;
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) continue;
    const text = decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
    const v = toDecimal(text, spec);
    if (typeof v === 'string') fail(i, text, v);
    writeDecimal128(words, i, v);
  }
  return makeData({ type: decimalType(spec), length: data.length, data: words, ...validityOf(data) });
}
