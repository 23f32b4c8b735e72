/** Adler-32 (RFC 1950), incremental: the checksum Pinot stores as the segment CRC (§2). */

/** State before any byte (a = 1, b = 0). */
export const ADLER32_INITIAL = 1;

const MOD = 65521;
/** Bytes that can be summed before reducing; zlib's NMAX keeps `b` within 32 bits, far inside 2^53. */
const NMAX = 5552;

/** Feeds `bytes` into `state` (a previous result, or ADLER32_INITIAL); returns the new u32 checksum. */
export function adler32Update(state: number, bytes: Uint8Array): number {
  let a = state & 0xffff;
  let b = state >>> 16;
  let i = 0;
  while (i < bytes.length) {
    const end = Math.min(i + NMAX, bytes.length);
    for (; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return (b * 65536 + a) >>> 0;
}

/** Adler-32 of one buffer. */
export function adler32(bytes: Uint8Array): number {
  return adler32Update(ADLER32_INITIAL, bytes);
}
