/**
 * The null value vector (§10): one RoaringBitmap in the portable serialisation, written as Pinot ≥ 1.0 does
 * (`NullValueVectorCreator`: `RoaringBitmapWriter.writer().get()`, RoaringBitmap 1.6.12, then
 * `RoaringBitmap.serialize`). Each 2^16-value container is run-optimised when it is closed:
 * - ≤ 4096 values: an array container, turned into a run container iff 2·card > 2 + 4·runs;
 * - > 4096 values: a bitmap container, turned into a run container iff 8192 > 2 + 4·runs;
 * and the cookie is 12347 (run flags, offsets only from 4 containers on) if any container is a run container,
 * else 12346 (container count and offsets). All fields little-endian. The inverse is `../roaring.ts`.
 */
import { ConfigError, ErrorCodes } from '../../../errors.js';

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
const ARRAY_MAX = 4096;
const BITMAP_BYTES = 8192;

const ARRAY = 0;
const BITMAP = 1;
const RUN = 2;
type Kind = typeof ARRAY | typeof BITMAP | typeof RUN;

/**
 * Serialises the set of null doc ids (strictly ascending). An empty set gives the 8-byte empty bitmap
 * `3A 30 00 00 00 00 00 00`; Pinot writes no vector at all then, which is the caller's decision.
 */
export function writeNullVector(nullDocs: Uint32Array): Uint8Array {
  const n = nullDocs.length;
  for (let i = 1; i < n; i++) {
    if (nullDocs[i]! <= nullDocs[i - 1]!) {
      throw new ConfigError(ErrorCodes.USAGE,
        `null vector: doc ids must be strictly ascending, doc ${nullDocs[i]} at index ${i} follows ${nullDocs[i - 1]}`,
        { context: { index: 'nullvalue_vector' } });
    }
  }
  // Containers: [start, end) in nullDocs, key, kind, runs and serialised size.
  const starts: number[] = [];
  const kinds: Kind[] = [];
  const runCounts: number[] = [];
  const sizes: number[] = [];
  for (let s = 0; s < n;) {
    const key = nullDocs[s]! >>> 16;
    let e = s + 1;
    let runs = 1;
    while (e < n && nullDocs[e]! >>> 16 === key) {
      if (nullDocs[e]! !== nullDocs[e - 1]! + 1) runs++;
      e++;
    }
    const card = e - s;
    const plainSize = card <= ARRAY_MAX ? 2 * card : BITMAP_BYTES;
    const runSize = 2 + 4 * runs;
    starts.push(s);
    runCounts.push(runs);
    if (plainSize > runSize) {
      kinds.push(RUN);
      sizes.push(runSize);
    } else {
      kinds.push(card <= ARRAY_MAX ? ARRAY : BITMAP);
      sizes.push(plainSize);
    }
    s = e;
  }
  starts.push(n);
  const count = kinds.length;
  const hasRun = kinds.includes(RUN);
  const flagBytes = hasRun ? Math.ceil(count / 8) : 0;
  const withOffsets = !hasRun || count >= NO_OFFSET_THRESHOLD;
  const headerSize = (hasRun ? 4 + flagBytes : 8) + 4 * count + (withOffsets ? 4 * count : 0);
  const total = headerSize + sizes.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  if (hasRun) {
    dv.setUint32(0, (SERIAL_COOKIE | ((count - 1) << 16)) >>> 0, true);
    for (let i = 0; i < count; i++) if (kinds[i] === RUN) out[4 + (i >> 3)]! |= 1 << (i & 7);
    p = 4 + flagBytes;
  } else {
    dv.setUint32(0, SERIAL_COOKIE_NO_RUNCONTAINER, true);
    dv.setUint32(4, count, true);
    p = 8;
  }
  for (let i = 0; i < count; i++, p += 4) {
    dv.setUint16(p, nullDocs[starts[i]!]! >>> 16, true);
    dv.setUint16(p + 2, starts[i + 1]! - starts[i]! - 1, true);
  }
  if (withOffsets) {
    let offset = headerSize;
    for (let i = 0; i < count; i++, p += 4) {
      dv.setUint32(p, offset, true);
      offset += sizes[i]!;
    }
  }
  for (let i = 0; i < count; i++) {
    const s = starts[i]!;
    const e = starts[i + 1]!;
    switch (kinds[i]) {
      case RUN: writeRuns(dv, p, nullDocs, s, e, runCounts[i]!); break;
      case ARRAY: for (let k = s; k < e; k++) dv.setUint16(p + 2 * (k - s), nullDocs[k]! & 0xffff, true); break;
      case BITMAP:
        for (let k = s; k < e; k++) {
          const low = nullDocs[k]! & 0xffff;
          out[p + (low >>> 3)]! |= 1 << (low & 7);
        }
        break;
    }
    p += sizes[i]!;
  }
  return out;
}

/** u16 run count, then (start, length − 1) per run of consecutive values. */
function writeRuns(dv: DataView, at: number, docs: Uint32Array, s: number, e: number, runs: number): void {
  dv.setUint16(at, runs, true);
  let p = at + 2;
  let runStart = docs[s]! & 0xffff;
  let prev = runStart;
  for (let k = s + 1; k <= e; k++) {
    const low = k < e ? docs[k]! & 0xffff : -2;
    if (low === prev + 1) {
      prev = low;
      continue;
    }
    dv.setUint16(p, runStart, true);
    dv.setUint16(p + 2, prev - runStart, true);
    p += 4;
    runStart = prev = low;
  }
}
