import { unfilledBytes } from '../sources/pinot/bytes.js';

/** Total length of the chunks. */
export function bytesLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** Copies the chunks one after another into `out` from `at`; returns where they end. */
export function copyChunks(out: Uint8Array, chunks: readonly Uint8Array[], at: number): number {
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return at;
}

/** The chunks as one array (the chunk itself when there is only one, no copy). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = unfilledBytes(bytesLength(chunks));
  copyChunks(out, chunks, 0);
  return out;
}
