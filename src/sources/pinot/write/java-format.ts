/**
 * Numbers and values as Java prints them, so metadata.properties reads exactly like Pinot's (§3.5):
 * `Double.toString`, `Float.toString` (the JDK 19+ specification: shortest decimal that reads back, closest
 * to the value; JDK ≤ 18 printed a longer form for some values, e.g. `2.0E23` as `1.9999999999999998E23`),
 * `BigDecimal.toString` / `toPlainString`, Pinot's lowercase hex for BYTES, and the text Pinot writes for a
 * column's min/max/default null value. Exact (BigInt) arithmetic; no I/O.
 */
import type { DataType, FieldType, StoredType } from '../types.js';

/** A Java `BigDecimal`: value = unscaled × 10^(−scale). `scale` is a Java int. */
export interface JavaBigDecimal {
  unscaled: bigint;
  scale: number;
}

// ---------------------------------------------------------------------------------------------------
// Double.toString / Float.toString
// ---------------------------------------------------------------------------------------------------

/** Exact rational n / d (d > 0). */
interface Ratio {
  n: bigint;
  d: bigint;
}

function pow2(e: number): Ratio {
  return e >= 0 ? { n: 1n << BigInt(e), d: 1n } : { n: 1n, d: 1n << BigInt(-e) };
}

function pow10(e: number): Ratio {
  return e >= 0 ? { n: 10n ** BigInt(e), d: 1n } : { n: 1n, d: 10n ** BigInt(-e) };
}

function cmp(a: Ratio, b: Ratio): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

function mul(a: Ratio, b: Ratio): Ratio {
  return { n: a.n * b.n, d: a.d * b.d };
}

function sub(a: Ratio, b: Ratio): Ratio {
  return { n: a.n * b.d - b.n * a.d, d: a.d * b.d };
}

function abs(a: Ratio): Ratio {
  return a.n < 0n ? { n: -a.n, d: a.d } : a;
}

/** IEEE binary format parameters. */
interface BinaryFormat {
  /** Explicit fraction bits (52 / 23). */
  fractionBits: number;
  /** Exponent of the lowest bit of a subnormal (−1074 / −149). */
  minExponent: number;
}

const DOUBLE: BinaryFormat = { fractionBits: 52, minExponent: -1074 };
const FLOAT: BinaryFormat = { fractionBits: 23, minExponent: -149 };

/** A positive finite value as mantissa × 2^exponent, with the half-gaps to its neighbours. */
interface Decomposed {
  /** v = m × 2^e. */
  m: bigint;
  e: number;
  /** The gap below is half the gap above (m is a power of two at the bottom of a binade). */
  narrowBelow: boolean;
}

function decompose(biasedExponent: number, fraction: bigint, format: BinaryFormat): Decomposed {
  if (biasedExponent === 0) return { m: fraction, e: format.minExponent, narrowBelow: false };
  return {
    m: fraction | (1n << BigInt(format.fractionBits)),
    e: format.minExponent + biasedExponent - 1,
    narrowBelow: fraction === 0n && biasedExponent > 1,
  };
}

/**
 * Java's decimal for a positive finite binary value (JDK 19+ `Double.toString` specification): among the
 * decimals that round back to it, those of minimal length m (or of length 1 or 2 when m = 1); of these the
 * one closest to the value, ties to the even digit. Returns the digits (no trailing zeros) and the
 * exponent of the first digit.
 */
function shortestDecimal(v: Decomposed): { digits: string; exp10: number } {
  // Everything in units of 2^(e−2): value 4m, half-gaps 2 above and 2 (or 1) below.
  const unit = pow2(v.e - 2);
  const value = mul({ n: 4n * v.m, d: 1n }, unit);
  const lo = mul({ n: 4n * v.m - (v.narrowBelow ? 1n : 2n), d: 1n }, unit);
  const hi = mul({ n: 4n * v.m + 2n, d: 1n }, unit);
  // Java parses with round-half-even: the bounds belong to the value iff its mantissa is even.
  const inclusive = v.m % 2n === 0n;
  let k = Math.floor(Math.log10(Number(v.m)) + v.e * Math.LOG10E * Math.LN2);
  while (cmp(pow10(k), value) > 0) k--;
  while (cmp(pow10(k + 1), value) <= 0) k++;

  const candidatesOfLength = (m: number): { s: bigint; q: number }[] => {
    const out: { s: bigint; q: number }[] = [];
    const minS = 10n ** BigInt(m - 1);
    const maxS = 10n ** BigInt(m);
    for (const q of [k - m + 1, k - m + 2]) {
      const scale = pow10(-q);
      const l = mul(lo, scale);
      const h = mul(hi, scale);
      let sLow = (l.n + l.d - 1n) / l.d;
      if (!inclusive && sLow * l.d === l.n) sLow++;
      let sHigh = h.n / h.d;
      if (!inclusive && sHigh * h.d === h.n) sHigh--;
      if (sLow < minS) sLow = minS;
      if (sHigh >= maxS) sHigh = maxS - 1n;
      for (let s = sLow; s <= sHigh; s++) out.push({ s, q });
    }
    return out;
  };

  for (let m = 1; ; m++) {
    const found = candidatesOfLength(m);
    if (found.length === 0) continue;
    const pool = m === 1 ? [...found, ...candidatesOfLength(2)] : found;
    let best = pool[0]!;
    let bestDist = abs(sub(mul({ n: best.s, d: 1n }, pow10(best.q)), value));
    for (const c of pool.slice(1)) {
      const dist = abs(sub(mul({ n: c.s, d: 1n }, pow10(c.q)), value));
      const order = cmp(dist, bestDist);
      if (order < 0 || (order === 0 && lastDigitEven(c.s) && !lastDigitEven(best.s))) {
        best = c;
        bestDist = dist;
      }
    }
    let digits = best.s.toString();
    const exp10 = best.q + digits.length - 1;
    digits = digits.replace(/0+$/, '');
    return { digits, exp10 };
  }
}

/** Parity of the least significant digit of the decimal (trailing zeros dropped). */
function lastDigitEven(s: bigint): boolean {
  let t = s;
  while (t !== 0n && t % 10n === 0n) t /= 10n;
  return t % 2n === 0n;
}

/** Java's layout: plain for 10^-3 ≤ |x| < 10^7 (at least one fractional digit), else `d.dddE±n`. */
function layout(negative: boolean, digits: string, exp10: number): string {
  const sign = negative ? '-' : '';
  if (exp10 >= -3 && exp10 < 7) {
    if (exp10 < 0) return `${sign}0.${'0'.repeat(-exp10 - 1)}${digits}`;
    const intLen = exp10 + 1;
    if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}E${exp10}`;
}

/** Java `Double.toString(x)`: `1.0`, `-0.0`, `NaN`, `-Infinity`, `1.0E10`, `1.0E-5`, `4.9E-324`. */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const { digits, exp10 } = shortestDecimal(decompose(biased, bits & ((1n << 52n) - 1n), DOUBLE));
  return layout(x < 0, digits, exp10);
}

/**
 * Java `Float.toString(f)` where `f` is `x` rounded to float32 (`Math.fround`): the shortest digits that
 * identify the float among floats, e.g. `0.1`, `3.4028235E38`, `1.4E-45`.
 */
export function javaFloatToString(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const bits = view.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  const { digits, exp10 } = shortestDecimal(decompose(biased, BigInt(bits & 0x7fffff), FLOAT));
  return layout(f < 0, digits, exp10);
}

// ---------------------------------------------------------------------------------------------------
// BigDecimal
// ---------------------------------------------------------------------------------------------------

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < INT_MIN || scale > INT_MAX) {
    throw new RangeError(`BigDecimal scale must be a Java int, got ${scale}`);
  }
}

/** Java `BigDecimal.toString()`: plain when scale ≥ 0 and the adjusted exponent ≥ −6, else `1.2345679E+8`. */
export function javaBigDecimalToString(v: JavaBigDecimal): string {
  checkScale(v.scale);
  const negative = v.unscaled < 0n;
  const coeff = (negative ? -v.unscaled : v.unscaled).toString();
  if (v.scale === 0) return (negative ? '-' : '') + coeff;
  const sign = negative ? '-' : '';
  const adjusted = -v.scale + (coeff.length - 1);
  if (v.scale >= 0 && adjusted >= -6) {
    const pad = v.scale - coeff.length;
    if (pad >= 0) return `${sign}0.${'0'.repeat(pad)}${coeff}`;
    return `${sign}${coeff.slice(0, -pad)}.${coeff.slice(-pad)}`;
  }
  const mantissa = coeff.length > 1 ? `${coeff[0]}.${coeff.slice(1)}` : coeff;
  return `${sign}${mantissa}E${adjusted > 0 ? '+' : ''}${adjusted}`;
}

/** Java `BigDecimal.toPlainString()`: never an exponent; zero with a negative scale is `0`. */
export function javaBigDecimalToPlainString(v: JavaBigDecimal): string {
  checkScale(v.scale);
  const negative = v.unscaled < 0n;
  const sign = negative ? '-' : '';
  const digits = (negative ? -v.unscaled : v.unscaled).toString();
  if (v.scale === 0) return sign + digits;
  if (v.scale < 0) return v.unscaled === 0n ? '0' : sign + digits + '0'.repeat(-v.scale);
  const point = digits.length - v.scale;
  if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}0.${'0'.repeat(-point)}${digits}`;
}

/**
 * `new BigDecimal(String)`: optional sign, digits with at most one `.`, optional exponent `e`/`E`.
 * The scale is the number of fraction digits minus the exponent (`1.50` → 150 scale 2, `1E+3` → 1 scale −3).
 */
export function parseJavaBigDecimal(text: string): JavaBigDecimal {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] ?? '') + (m[3] ?? '') === '') throw new SyntaxError(`not a Java BigDecimal: ${JSON.stringify(text)}`);
  const digits = (m[2] ?? '') + (m[3] ?? '');
  const unscaled = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
  const scale = (m[3] ?? '').length - Number(m[4] ?? '0');
  checkScale(scale);
  return { unscaled, scale };
}

/** Java `BigDecimal.stripTrailingZeros()` (zero becomes `0` with scale 0, as since JDK 8). */
export function stripTrailingZeros(v: JavaBigDecimal): JavaBigDecimal {
  if (v.unscaled === 0n) return { unscaled: 0n, scale: 0 };
  let { unscaled, scale } = v;
  while (unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  checkScale(scale);
  return { unscaled, scale };
}

// ---------------------------------------------------------------------------------------------------
// Values in metadata
// ---------------------------------------------------------------------------------------------------

const HEX = '0123456789abcdef';

/** Pinot `BytesUtils.toHexString` / `ByteArray.toString`: lowercase hex, empty for no bytes. */
export function javaBytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >>> 4]! + HEX[b & 15]!;
  return out;
}

/** A value of a column's stored type, as the writer holds it. */
export type StoredValue = number | bigint | string | Uint8Array | JavaBigDecimal;

function isBigDecimal(value: StoredValue): value is JavaBigDecimal {
  return typeof value === 'object' && !(value instanceof Uint8Array);
}

/**
 * The text Pinot writes for a stored-type value in metadata.properties (`value.toString()` of the Java
 * object): INT and LONG as decimal integers (BOOLEAN is INT 0/1, TIMESTAMP is LONG epoch millis), FLOAT and
 * DOUBLE through `Float.toString`/`Double.toString`, BIG_DECIMAL through `BigDecimal.toString`, BYTES as
 * lowercase hex, STRING unchanged (the metadata writer applies Pinot's STRING escaping, §3.1).
 * MAP values have no min/max; their default null value is `{}` (see `pinotDefaultNullValue`).
 */
export function formatStoredValue(storedType: StoredType, value: StoredValue): string {
  const bad = (): TypeError => new TypeError(`${storedType} value expected, got ${describeValue(value)}`);
  switch (storedType) {
    case 'INT': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) throw bad();
      return String(value);
    }
    case 'LONG': {
      const big = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof big !== 'bigint' || big < -(2n ** 63n) || big >= 2n ** 63n) throw bad();
      return big.toString();
    }
    case 'FLOAT':
      if (typeof value !== 'number') throw bad();
      return javaFloatToString(value);
    case 'DOUBLE':
      if (typeof value !== 'number') throw bad();
      return javaDoubleToString(value);
    case 'BIG_DECIMAL':
      if (typeof value === 'string') return javaBigDecimalToString(parseJavaBigDecimal(value));
      if (!isBigDecimal(value)) throw bad();
      return javaBigDecimalToString(value);
    case 'STRING':
      if (typeof value !== 'string') throw bad();
      return value;
    case 'BYTES':
      if (!(value instanceof Uint8Array)) throw bad();
      return javaBytesToHex(value);
    case 'MAP':
      throw new TypeError('MAP values have no metadata text (no min/max; the default null value is "{}")');
  }
}

function describeValue(value: StoredValue): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'object') return `BigDecimal(${value.unscaled}, ${value.scale})`;
  return `${typeof value} ${String(value)}`;
}

/**
 * `defaultNullValue` text of Pinot's built-in defaults (FieldSpec, §4.2) when the schema sets none:
 * dimensions/time/date-time INT `-2147483648`, LONG `-9223372036854775808`, FLOAT/DOUBLE `-Infinity`;
 * metrics `0` / `0.0`; BOOLEAN and TIMESTAMP `0`; STRING/JSON `null`; BYTES empty; BIG_DECIMAL `0`; MAP `{}`.
 */
export function pinotDefaultNullValue(dataType: DataType, fieldType: FieldType): string {
  const metric = fieldType === 'METRIC';
  switch (dataType) {
    case 'INT': return metric ? '0' : '-2147483648';
    case 'LONG': return metric ? '0' : '-9223372036854775808';
    case 'FLOAT':
    case 'DOUBLE': return metric ? '0.0' : '-Infinity';
    case 'BOOLEAN':
    case 'TIMESTAMP':
    case 'BIG_DECIMAL': return '0';
    case 'STRING':
    case 'JSON': return 'null';
    case 'BYTES': return '';
    case 'MAP': return '{}';
  }
}
