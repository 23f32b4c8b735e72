/**
 * Column dictionaries (§8): dict id → value, decoded once per column. Numeric dictionaries become typed
 * arrays; STRING/BYTES/BIG_DECIMAL dictionaries (fixed-width or `.vl;`) become `VarBytes`.
 */
import { Buffer } from 'node:buffer';
import { ErrorCodes, SegmentFormatError, type ErrorCode, type ErrorContext } from '../../errors.js';
import { dataView, readAll, type ByteRange } from './bytes.js';
import type { StoredType, ValueBlock, VarBytes } from './types.js';

export interface DictionaryOptions {
  storedType: StoredType;
  /** `cardinality` from metadata: the number of entries. */
  cardinality: number;
  /**
   * Entry width of a fixed-width STRING/BYTES/BIG_DECIMAL dictionary (`lengthOfLongestElement ??
   * lengthOfEachEntry`). When absent it is derived as `length / cardinality`.
   */
  entryWidth?: number;
  /**
   * The segment's string padding character: `\0` (or the old literal text `\u0000`) for NUL padding, the
   * default. Anything else is pre-08/2016 padding, refused unless `legacyPadding` is 'strip' (§8.3, §14.7).
   */
  paddingCharacter?: string;
  /**
   * What to do with a pre-08/2016 non-NUL pad character: 'refuse' (default; the spec's recommendation)
   * or 'strip' trailing pad characters, as Pinot of that era read them — a value that itself ended in the
   * pad character then loses it, which is why this is opt-in.
   */
  legacyPadding?: 'refuse' | 'strip';
  column?: string;
}

const VL_MAGIC = 0x2e766c3b; // ".vl;"
const VL_HEADER = 16;
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Decodes a whole dictionary buffer; entries come out in dictionary (sorted) order. */
export function readDictionary(range: ByteRange, opts: DictionaryOptions): ValueBlock {
  const ctx: ErrorContext = { column: opts.column, index: 'dictionary' };
  const { storedType, cardinality } = opts;
  if (!Number.isSafeInteger(cardinality) || cardinality < 0) {
    throw dictionaryFailure(ErrorCodes.PINOT_BAD_METADATA, `cardinality ${cardinality} is not a count`, ctx, 0);
  }
  switch (storedType) {
    case 'INT': case 'LONG': case 'FLOAT': case 'DOUBLE':
      return readNumeric(readAll(range), storedType, cardinality, ctx);
    case 'STRING': case 'BYTES': case 'BIG_DECIMAL': {
      const bytes = readAll(range);
      if (isVarLengthDictionary(bytes)) return { kind: 'BYTES', values: readVarLength(bytes, cardinality, ctx) };
      return { kind: 'BYTES', values: readFixedWidth(bytes, opts, ctx) };
    }
    case 'MAP':
      throw dictionaryFailure(ErrorCodes.PINOT_UNSUPPORTED_TYPE, 'MAP columns have no dictionary', ctx, 0);
  }
}

/** Pinot's test (`VarLengthValueReader.isVarLengthValueBuffer`): ≥ 20 bytes, `.vl;`, version 1. */
export function isVarLengthDictionary(bytes: Uint8Array): boolean {
  if (bytes.length < 20) return false;
  const dv = dataView(bytes);
  return dv.getInt32(0) === VL_MAGIC && dv.getInt32(4) === 1;
}

function readNumeric(bytes: Uint8Array, type: 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE', cardinality: number,
  ctx: ErrorContext): ValueBlock {
  const width = type === 'INT' || type === 'FLOAT' ? 4 : 8;
  checkLength(bytes.length, cardinality * width, `${cardinality} ${type} entries of ${width} bytes`, ctx);
  // Copy into fresh aligned memory, then let Node's native byte swap turn BE into host order in place.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (LITTLE_ENDIAN_HOST) {
    const view = Buffer.from(copy.buffer, 0, copy.length);
    if (width === 4) view.swap32();
    else view.swap64();
  }
  switch (type) {
    case 'INT': return { kind: 'INT', values: new Int32Array(copy.buffer, 0, cardinality) };
    case 'FLOAT': return { kind: 'FLOAT', values: new Float32Array(copy.buffer, 0, cardinality) };
    case 'LONG': return { kind: 'LONG', values: new BigInt64Array(copy.buffer, 0, cardinality) };
    case 'DOUBLE': return { kind: 'DOUBLE', values: new Float64Array(copy.buffer, 0, cardinality) };
  }
}

/** `.vl;` layout (§8.2): header, cardinality+1 absolute BE offsets, then the values back to back. */
function readVarLength(bytes: Uint8Array, cardinality: number, ctx: ErrorContext): VarBytes {
  const dv = dataView(bytes);
  const count = dv.getInt32(8);
  if (count !== cardinality) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `var-length dictionary holds ${count} values, metadata cardinality is ${cardinality}`, ctx, 8);
  }
  const offsetsStart = dv.getInt32(12);
  const offsetsEnd = offsetsStart + 4 * (count + 1);
  if (offsetsStart < VL_HEADER) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `var-length offsets start at ${offsetsStart}, inside the ${VL_HEADER}-byte header`, ctx, 12);
  }
  if (offsetsEnd > bytes.length) {
    throw dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `var-length offsets end at ${offsetsEnd}, past the ${bytes.length}-byte buffer`, ctx, offsetsStart);
  }
  const first = dv.getInt32(offsetsStart);
  if (first < offsetsEnd) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `first value offset ${first} points into the offsets array (ends at ${offsetsEnd})`, ctx, offsetsStart);
  }
  const offsets = new Int32Array(count + 1);
  let prev = first;
  for (let i = 1; i <= count; i++) {
    const at = offsetsStart + 4 * i;
    const next = dv.getInt32(at);
    if (next < prev) {
      throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `value offset ${i} (${next}) is before offset ${i - 1} (${prev})`, ctx, at);
    }
    offsets[i] = next - first;
    prev = next;
  }
  if (prev > bytes.length) {
    throw dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `last value ends at ${prev}, past the ${bytes.length}-byte buffer`, ctx, offsetsEnd - 4);
  }
  return { offsets, data: bytes.subarray(first, prev) };
}

function readFixedWidth(bytes: Uint8Array, opts: DictionaryOptions, ctx: ErrorContext): VarBytes {
  const { cardinality } = opts;
  let width = opts.entryWidth;
  if (width === undefined) {
    if (cardinality === 0 ? bytes.length !== 0 : bytes.length % cardinality !== 0) {
      throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `${bytes.length} bytes do not divide into ${cardinality} equal entries`, ctx, 0);
    }
    width = cardinality === 0 ? 0 : bytes.length / cardinality;
  } else if (!Number.isSafeInteger(width) || width < 0) {
    throw dictionaryFailure(ErrorCodes.PINOT_BAD_METADATA, `dictionary entry width ${width} is not a byte count`, ctx, 0);
  }
  checkLength(bytes.length, cardinality * width, `${cardinality} entries of ${width} bytes`, ctx);
  const offsets = new Int32Array(cardinality + 1);
  if (opts.storedType !== 'STRING') {
    // BYTES/BIG_DECIMAL use this form only when all values have the same length: no padding to strip.
    for (let i = 1; i <= cardinality; i++) offsets[i] = i * width;
    return { offsets, data: bytes };
  }
  const pad = legacyPadByte(opts, ctx);
  // Value = bytes up to the first NUL (or before trailing legacy pad bytes); compact them back to back.
  const data = new Uint8Array(bytes.length);
  let size = 0;
  for (let i = 0; i < cardinality; i++) {
    const start = i * width;
    let end = start;
    const limit = start + width;
    while (end < limit && bytes[end] !== 0) end++;
    if (pad !== undefined) while (end > start && bytes[end - 1] === pad) end--;
    data.set(bytes.subarray(start, end), size);
    size += end - start;
    offsets[i + 1] = size;
  }
  return { offsets, data: data.subarray(0, size) };
}

/** The legacy pad byte to strip, undefined for NUL padding; throws when legacy padding is refused. */
export function legacyPadByte(opts: DictionaryOptions, ctx: ErrorContext): number | undefined {
  const padding = opts.paddingCharacter;
  if (padding === undefined || padding === '\0' || padding === '\\u0000') return undefined;
  const code = padding.charCodeAt(0);
  if (opts.legacyPadding === 'strip' && padding.length === 1 && code < 0x80) return code;
  throw dictionaryFailure(
    ErrorCodes.PINOT_LEGACY_PADDING,
    `STRING dictionary padded with ${JSON.stringify(padding)}: a pre-08/2016 segment; only NUL padding is read ` +
      `unless legacy padding is stripped on request (--legacy-padding strip), which also strips a genuine trailing ${JSON.stringify(padding)}`,
    ctx, 0,
  );
}

export function checkLength(actual: number, expected: number, what: string, ctx: ErrorContext): void {
  if (actual < expected) {
    throw dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `${what} need ${expected} bytes, the dictionary has ${actual}`, ctx, actual);
  }
  if (actual > expected) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `${what} need ${expected} bytes, the dictionary has ${actual}`, ctx, expected);
  }
}

export function dictionaryFailure(code: ErrorCode, detail: string, ctx: ErrorContext, offset: number): SegmentFormatError {
  return new SegmentFormatError(code, detail, { context: { ...ctx, offset } });
}
