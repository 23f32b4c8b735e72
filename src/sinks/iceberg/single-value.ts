/**
 * Iceberg single-value binary serialisation (spec Appendix D; Java `Conversions.toByteBuffer`), used for
 * lower/upper bounds in manifests.
 *
 * | type                                      | bytes                                                      |
 * |-------------------------------------------|------------------------------------------------------------|
 * | boolean                                   | 1 byte, 0x00 / 0x01                                        |
 * | int, date (days)                          | 4 bytes little-endian                                      |
 * | long, time (µs), timestamp(tz) (µs), _ns  | 8 bytes little-endian                                      |
 * | float / double                            | IEEE 754 little-endian (−0.0 keeps its sign; NaN refused)  |
 * | string                                    | UTF-8, no length                                           |
 * | binary, fixed[L]                          | the bytes (fixed: exactly L)                               |
 * | uuid                                      | 16 bytes big-endian                                        |
 * | decimal(P,S)                              | unscaled value, big-endian two's complement, minimal bytes |
 *
 * JS values: boolean; number for int/date/float/double; bigint for long/time/timestamps and the unscaled
 * decimal; string for string and uuid (canonical text); Uint8Array for binary/fixed.
 */
import { ErrorCodes, ExporterError } from '../../errors.js';

export type PrimitiveType =
  | { kind: 'boolean' | 'int' | 'long' | 'float' | 'double' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'timestamp_ns' | 'timestamptz_ns' | 'string' | 'uuid' | 'binary' | 'variant' | 'unknown' }
  | { kind: 'fixed'; length: number }
  | { kind: 'decimal'; precision: number; scale: number };

export type SingleValue = boolean | number | bigint | string | Uint8Array;

const SIMPLE = new Set([
  'boolean', 'int', 'long', 'float', 'double', 'date', 'time', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns', 'string', 'uuid',
  'binary', 'variant', 'unknown',
]);

/** Parses an Iceberg primitive type string (`decimal(9, 2)` with spaces is accepted, as readers must). */
export function parsePrimitiveType(text: string): PrimitiveType | undefined {
  const t = text.trim().toLowerCase();
  if (SIMPLE.has(t)) return { kind: t } as PrimitiveType;
  const fixed = /^fixed\[\s*(\d+)\s*\]$/.exec(t);
  if (fixed) return { kind: 'fixed', length: Number(fixed[1]) };
  const dec = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (dec) {
    const precision = Number(dec[1]);
    const scale = Number(dec[2]);
    if (precision < 1 || precision > 38 || scale > precision) return undefined;
    return { kind: 'decimal', precision, scale };
  }
  return undefined;
}

export function primitiveTypeName(t: PrimitiveType): string {
  if (t.kind === 'fixed') return `fixed[${t.length}]`;
  if (t.kind === 'decimal') return `decimal(${t.precision}, ${t.scale})`;
  return t.kind;
}

function wrong(t: PrimitiveType, value: unknown, why: string): ExporterError {
  const shown = typeof value === 'bigint' ? `${value}` : value instanceof Uint8Array ? `${value.length} bytes` : JSON.stringify(value);
  return new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `cannot serialise ${shown} as Iceberg ${primitiveTypeName(t)}: ${why}`);
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Big-endian two's complement in the fewest bytes (Java `BigInteger.toByteArray`). */
export function twosComplementMinimal(v: bigint): Uint8Array {
  const out: number[] = [];
  let n = v;
  for (;;) {
    const b = Number(BigInt.asUintN(8, n));
    out.unshift(b);
    n >>= 8n;
    // Done when the remaining value is pure sign extension of the byte just written.
    if ((n === 0n && (b & 0x80) === 0) || (n === -1n && (b & 0x80) !== 0)) return Uint8Array.from(out);
  }
}

/** Big-endian two's complement bytes of any length → bigint. */
export function fromTwosComplement(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return BigInt.asIntN(bytes.length * 8, n);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toSingleValue(type: PrimitiveType, value: SingleValue): Uint8Array {
  switch (type.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong(type, value, 'expected a boolean');
      return Uint8Array.of(value ? 1 : 0);
    case 'int': case 'date': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) throw wrong(type, value, 'expected a 32-bit integer');
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, value, true);
      return out;
    }
    case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns': {
      if (typeof value !== 'bigint' || BigInt.asIntN(64, value) !== value) throw wrong(type, value, 'expected a 64-bit bigint');
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, value, true);
      return out;
    }
    case 'float': case 'double': {
      if (typeof value !== 'number') throw wrong(type, value, 'expected a number');
      if (Number.isNaN(value)) throw wrong(type, value, 'NaN is never a bound');
      const out = new Uint8Array(type.kind === 'float' ? 4 : 8);
      const view = new DataView(out.buffer);
      if (type.kind === 'float') view.setFloat32(0, value, true);
      else view.setFloat64(0, value, true);
      return out;
    }
    case 'string':
      if (typeof value !== 'string') throw wrong(type, value, 'expected a string');
      return new TextEncoder().encode(value);
    case 'uuid': {
      if (value instanceof Uint8Array) {
        if (value.length !== 16) throw wrong(type, value, 'expected 16 bytes');
        return Uint8Array.from(value);
      }
      if (typeof value !== 'string' || !UUID_RE.test(value)) throw wrong(type, value, 'expected a UUID');
      return Uint8Array.from(Buffer.from(value.replace(/-/g, ''), 'hex'));
    }
    case 'binary':
      if (!(value instanceof Uint8Array)) throw wrong(type, value, 'expected bytes');
      return Uint8Array.from(value);
    case 'fixed':
      if (!(value instanceof Uint8Array) || value.length !== type.length) throw wrong(type, value, `expected ${type.length} bytes`);
      return Uint8Array.from(value);
    case 'decimal': {
      if (typeof value !== 'bigint') throw wrong(type, value, 'expected the unscaled value as a bigint');
      if ((value < 0n ? -value : value) >= 10n ** BigInt(type.precision)) throw wrong(type, value, `more than ${type.precision} digits`);
      return twosComplementMinimal(value);
    }
    default:
      throw wrong(type, value, 'the type has no single-value serialisation');
  }
}

export function fromSingleValue(type: PrimitiveType, bytes: Uint8Array): SingleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (n: number): void => {
    if (bytes.length !== n) throw new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `a ${primitiveTypeName(type)} bound has ${bytes.length} bytes, expected ${n}`);
  };
  switch (type.kind) {
    case 'boolean': size(1); return bytes[0] !== 0;
    case 'int': case 'date': size(4); return view.getInt32(0, true);
    case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
      // A column promoted from int keeps 4-byte bounds (spec: readers infer the original type from the length).
      if (bytes.length === 4 && type.kind === 'long') return BigInt(view.getInt32(0, true));
      size(8);
      return view.getBigInt64(0, true);
    case 'float': size(4); return view.getFloat32(0, true);
    case 'double':
      if (bytes.length === 4) return view.getFloat32(0, true);
      size(8);
      return view.getFloat64(0, true);
    case 'string': return new TextDecoder().decode(bytes);
    case 'uuid': {
      size(16);
      const h = Buffer.from(bytes).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'binary': return Uint8Array.from(bytes);
    case 'fixed': size(type.length); return Uint8Array.from(bytes);
    case 'decimal': return fromTwosComplement(bytes);
    default:
      throw new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `Iceberg ${primitiveTypeName(type)} has no single-value serialisation`);
  }
}
