/**
 * Pinot BIG_DECIMAL bytes → the text `presentBlock` gives them (values.ts `bigDecimalToString`), written
 * digit by digit into one buffer. A chunk of a big BIG_DECIMAL dictionary presents ~1.5M values per row
 * group, so values whose unscaled part fits 6 bytes (exact in a double) allocate no string at all; longer
 * or malformed ones take the general BigInt path (which also raises the error). Pure; no I/O.
 */
import { unfilledBytes, unfilledInt32 } from './bytes.js';
import type { VarBytes } from './types.js';
import { bigDecimalToString, decodeBigDecimal } from './values.js';

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

export function bigDecimalTexts(values: VarBytes): VarBytes {
  const { offsets, data } = values;
  const n = offsets.length - 1;
  const outOffsets = unfilledInt32(n + 1);
  outOffsets[0] = 0;
  let out: Uint8Array = unfilledBytes(Math.max(64, n * 12));
  const digits = new Uint8Array(24);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    const len = to - from;
    if (len >= 3 && len <= 8) {
      const scale = ((data[from]! << 24) >> 16) | data[from + 1]!;
      // Digits of |unscaled|, least significant first. Up to 4 unscaled bytes the value is an int32 and its
      // digits come two at a time from uint32 division (about 1.7× faster than the double loop below).
      let d = 0;
      let negative: boolean;
      if (len <= 6) {
        let x = (data[from + 2]! << 24) >> 24; // sign-extended top byte
        for (let k = from + 3; k < to; k++) x = (x << 8) | data[k]!;
        negative = x < 0;
        let u = (negative ? -x : x) >>> 0; // −2^31 becomes 2^31, still exact
        while (u >= 100) {
          const q = (u / 100) >>> 0;
          const r = u - q * 100;
          digits[d++] = ZERO + (r % 10);
          digits[d++] = ZERO + ((r / 10) >>> 0);
          u = q;
        }
        if (u >= 10) {
          digits[d++] = ZERO + (u % 10);
          u = (u / 10) >>> 0;
        }
        digits[d++] = ZERO + u;
      } else {
        let v = 0;
        for (let k = from + 2; k < to; k++) v = v * 256 + data[k]!;
        if (data[from + 2]! & 0x80) v -= 2 ** (8 * (len - 2));
        negative = v < 0;
        if (negative) v = -v;
        do {
          const q = Math.floor(v / 10);
          digits[d++] = ZERO + (v - q * 10);
          v = q;
        } while (v > 0);
      }
      const need = pos + d + Math.abs(scale) + 16;
      if (need > out.length) out = grow(out, pos, need);
      if (negative) out[pos++] = MINUS;
      if (scale <= 0) {
        while (d > 0) out[pos++] = digits[--d]!;
        if (scale < 0) {
          // `<unscaled>E+<−scale>`
          out[pos++] = 0x45;
          out[pos++] = 0x2b;
          const e = String(-scale);
          for (let k = 0; k < e.length; k++) out[pos++] = e.charCodeAt(k);
        }
      } else if (d > scale) {
        while (d > scale) out[pos++] = digits[--d]!;
        out[pos++] = DOT;
        while (d > 0) out[pos++] = digits[--d]!;
      } else {
        out[pos++] = ZERO;
        out[pos++] = DOT;
        for (let z = scale - d; z > 0; z--) out[pos++] = ZERO;
        while (d > 0) out[pos++] = digits[--d]!;
      }
    } else {
      const text = bigDecimalToString(decodeBigDecimal(data.subarray(from, to)));
      if (pos + text.length > out.length) out = grow(out, pos, pos + text.length);
      // The text is ASCII (digits, '-', '.', 'E', '+'): one byte per char.
      for (let k = 0; k < text.length; k++) out[pos++] = text.charCodeAt(k);
    }
    outOffsets[i + 1] = pos;
  }
  return { offsets: outOffsets, data: out.subarray(0, pos) };
}

function grow(out: Uint8Array, used: number, need: number): Uint8Array {
  const grown = unfilledBytes(Math.max(out.length * 2, need));
  grown.set(out.subarray(0, used));
  return grown;
}
