/**
 * Column dictionaries (§8) as Pinot 1.5.1's `SegmentDictionaryCreator` writes them:
 * - INT/LONG/FLOAT/DOUBLE: the sorted values back to back, BE (§8.1);
 * - STRING/BYTES/BIG_DECIMAL fixed-width: each value NUL-padded to the entry width (§8.3);
 * - STRING/BYTES/BIG_DECIMAL var-length `.vl;` (§8.2, `VarLengthValueWriter`).
 * Which of the last two a column gets is the caller's decision (`varLength`), as it is the table config's in Pinot;
 * numeric dictionaries ignore it, as Pinot does.
 *
 * The input must already be in dictionary order; ordering is checked (strictly ascending, no duplicates) for
 * numbers in Java's total order, BYTES (unsigned lexicographic) and STRING (Java `String.compareTo`, i.e.
 * UTF-16 code units). BIG_DECIMAL order is not checked (it needs a numeric decode; ties of equal value with
 * different scale have no defined order in Pinot either).
 */
import { Buffer } from 'node:buffer';
import { ConfigError, ErrorCodes } from '../../../errors.js';
import type { StoredType, ValueBlock, VarBytes } from '../types.js';
import type { DictionaryInput } from './contracts.js';
import { checkVarBytes, copyBytes } from './value-encoders.js';

type FixedBlock = Exclude<ValueBlock, { kind: 'BYTES' }>;

const VL_MAGIC = Uint8Array.of(0x2e, 0x76, 0x6c, 0x3b); // ".vl;"
const VL_HEADER = 16;

function usage(detail: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, `dictionary: ${detail}`, { context: { index: 'dictionary' } });
}

export function writeDictionary(input: DictionaryInput): Uint8Array {
  const { storedType, values } = input;
  switch (storedType) {
    case 'INT': case 'LONG': case 'FLOAT': case 'DOUBLE':
      expectKind(values, storedType, storedType);
      checkNumericOrder(values as FixedBlock);
      return numericBigEndian(values as FixedBlock);
    case 'STRING': case 'BYTES': case 'BIG_DECIMAL': {
      expectKind(values, 'BYTES', storedType);
      const v = (values as Extract<ValueBlock, { kind: 'BYTES' }>).values;
      checkVarBytes(v, 'dictionary');
      if (storedType !== 'BIG_DECIMAL') checkBytesOrder(v, storedType === 'STRING');
      return input.varLength ? varLengthDictionary(v) : fixedWidthDictionary(v, storedType, input.entryWidth);
    }
    case 'MAP':
      throw usage('MAP columns have no dictionary');
  }
}

function expectKind(values: ValueBlock, kind: ValueBlock['kind'], storedType: StoredType): void {
  if (values.kind !== kind) throw usage(`a ${storedType} dictionary needs ${kind} values, got ${values.kind}`);
}

/** BE bytes of a numeric block: one copy of the typed array's bytes, then Node's native byte swap. */
export function numericBigEndian(values: FixedBlock): Uint8Array {
  const src = values.values;
  const out = new Uint8Array(src.byteLength);
  out.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  if (LITTLE_ENDIAN_HOST) {
    const b = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    if (src.BYTES_PER_ELEMENT === 4) b.swap32(); else b.swap64();
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function checkNumericOrder(values: FixedBlock): void {
  switch (values.kind) {
    case 'INT': case 'LONG': {
      const a = values.values;
      for (let i = 1; i < a.length; i++) {
        if (!(a[i - 1]! < a[i]!)) throw unsorted(i, String(a[i - 1]), String(a[i]));
      }
      return;
    }
    case 'FLOAT': case 'DOUBLE': {
      const a = values.values;
      for (let i = 1; i < a.length; i++) {
        if (!javaLess(a[i - 1]!, a[i]!)) throw unsorted(i, String(a[i - 1]), String(a[i]));
      }
    }
  }
}

/** `Double.compare(x, y) < 0`: −0.0 before 0.0, NaN after everything (and equal to itself). */
function javaLess(x: number, y: number): boolean {
  if (x < y) return true;
  if (x > y || Number.isNaN(x)) return false;
  if (Number.isNaN(y)) return true;
  return x === 0 && Object.is(x, -0) && Object.is(y, 0);
}

function unsorted(i: number, prev: string, next: string): ConfigError {
  return usage(`values must be strictly ascending (sorted, distinct): entry ${i} (${next}) does not follow entry ${i - 1} (${prev})`);
}

/** Strictly ascending BYTES (unsigned) or STRING (UTF-16 code-unit order, as Java's `String.compareTo`). */
function checkBytesOrder(v: VarBytes, utf16: boolean): void {
  const { offsets, data } = v;
  for (let i = 2; i < offsets.length; i++) {
    const c = compareBytes(data, offsets[i - 2]!, offsets[i - 1]!, offsets[i - 1]!, offsets[i]!, utf16);
    if (c >= 0) {
      const show = (k: number): string => JSON.stringify(Buffer.from(data.subarray(offsets[k], offsets[k + 1])).toString(utf16 ? 'utf8' : 'hex'));
      throw unsorted(i - 1, show(i - 2), show(i - 1));
    }
  }
}

/**
 * Compares two byte ranges of `data`. For UTF-8 text, byte order is code-point order, which differs from
 * UTF-16 order only between a supplementary character (lead byte F0–F4, a surrogate pair in UTF-16) and one of
 * U+E000–U+FFFF (lead byte EE/EF): UTF-16 puts the surrogate first.
 */
function compareBytes(data: Uint8Array, a0: number, a1: number, b0: number, b1: number, utf16: boolean): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const x = data[a0 + k]!;
    const y = data[b0 + k]!;
    if (x === y) continue;
    if (utf16) {
      // The characters holding the first difference start at the same position in both (equal prefix).
      let s = k;
      while (s > 0 && (data[a0 + s]! & 0xc0) === 0x80) s--;
      const la = data[a0 + s]!;
      const lb = data[b0 + s]!;
      if (la >= 0xf0 && (lb === 0xee || lb === 0xef)) return -1;
      if (lb >= 0xf0 && (la === 0xee || la === 0xef)) return 1;
    }
    return x - y;
  }
  return (a1 - a0) - (b1 - b0);
}

/** §8.2: header, n+1 absolute BE offsets, values back to back. */
function varLengthDictionary(v: VarBytes): Uint8Array {
  const n = v.offsets.length - 1;
  const first = VL_HEADER + 4 * (n + 1);
  const dataLen = v.offsets[n]!;
  const total = first + dataLen;
  if (total >= 0x7fffffff) throw usage(`var-length dictionary of ${total} bytes exceeds Pinot's 2 GB limit`);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(VL_MAGIC, 0);
  dv.setInt32(4, 1);
  dv.setInt32(8, n);
  dv.setInt32(12, VL_HEADER);
  for (let i = 0; i <= n; i++) dv.setInt32(VL_HEADER + 4 * i, first + v.offsets[i]!);
  out.set(v.data.subarray(0, dataLen), first);
  return out;
}

/** §8.3: every value zero-padded to the entry width (the longest value unless `entryWidth` says more). */
function fixedWidthDictionary(v: VarBytes, storedType: 'STRING' | 'BYTES' | 'BIG_DECIMAL', entryWidth: number | undefined): Uint8Array {
  const { offsets, data } = v;
  const n = offsets.length - 1;
  let longest = 0;
  let shortest = n === 0 ? 0 : Infinity;
  for (let i = 0; i < n; i++) {
    const len = offsets[i + 1]! - offsets[i]!;
    if (len > longest) longest = len;
    if (len < shortest) shortest = len;
  }
  const width = entryWidth ?? longest;
  if (!Number.isSafeInteger(width) || width < 0) throw usage(`entry width ${width} is not a byte count`);
  if (longest > width) {
    const i = Array.from({ length: n }, (_, k) => k).find((k) => offsets[k + 1]! - offsets[k]! > width)!;
    throw usage(`value ${i} is ${offsets[i + 1]! - offsets[i]!} bytes, longer than the fixed entry width ${width}`);
  }
  if (storedType !== 'STRING' && (shortest !== longest || (n > 0 && width !== longest))) {
    // Pinot reads these entries unpadded, so unequal lengths would come back with trailing zeros.
    throw usage(`a fixed-width ${storedType} dictionary needs values of one length (found ${shortest}…${longest} bytes, width ${width}); use the var-length form`);
  }
  if (storedType === 'STRING') {
    const nul = data.subarray(0, offsets[n]).indexOf(0);
    if (nul >= 0) throw usage(`STRING value holds a NUL byte (data byte ${nul}); the fixed-width form reads values up to the first NUL`);
  }
  if (n * width >= 2 ** 31) throw usage(`fixed-width dictionary of ${n * width} bytes exceeds 2 GB`);
  const out = new Uint8Array(n * width);
  if (width === longest && shortest === longest) {
    out.set(data.subarray(0, offsets[n]));
    return out;
  }
  for (let i = 0; i < n; i++) copyBytes(out, i * width, data, offsets[i]!, offsets[i + 1]!);
  return out;
}
