/**
 * RoaringBitmap portable serialisation (§10): the null value vector, and each dict id's bitmap of an
 * inverted index (§11). All fields little-endian. Parsed eagerly and validated, so a bad count or offset
 * fails here with a typed error instead of as a wrong NULL later.
 */
import { ErrorCodes, SegmentFormatError, type ErrorCode, type ErrorContext } from '../../errors.js';
import { dataView, readAll, type ByteRange } from './bytes.js';
import { popcount32 as popcount } from './bitpack.js';

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
/** With cookie 12347 the offset table is only written from this many containers on (RoaringFormatSpec). */
const NO_OFFSET_THRESHOLD = 4;
/** A non-run container with more values than this is a bitmap container. */
const ARRAY_MAX = 4096;
const BITMAP_BYTES = 8192;

type Container =
  | { kind: 'array'; values: Uint16Array }
  /** 2048 × u32, bit `v & 31` of word `v >> 5` (same bits as the 1024 × u64 LE words on disk). */
  | { kind: 'bitmap'; words: Uint32Array }
  /** Pairs (start, length − 1), ascending and disjoint. */
  | { kind: 'run'; runs: Uint16Array };

export interface RoaringBitmap {
  /** Number of values in the set. */
  readonly size: number;
  contains(value: number): boolean;
  /** The values `v` with `start <= v < end`, ascending. */
  valuesInRange(start: number, end: number): Uint32Array;
  /** Every value, ascending. */
  toArray(): Uint32Array;
}

/**
 * Reads one portable RoaringBitmap from the start of `range`. Bytes after the last container are ignored,
 * as Pinot's `ImmutableRoaringBitmap` does. Errors carry `index: 'nullvalue_vector'` unless `context` names
 * another index, and the offset inside `range`.
 */
export function readRoaringBitmap(range: ByteRange, context?: ErrorContext): RoaringBitmap {
  const bytes = readAll(range);
  const reader = new Reader(bytes, { index: 'nullvalue_vector', ...context });
  const header = readHeader(reader);
  const containers: Container[] = [];
  for (let i = 0; i < header.keys.length; i++) {
    if (header.offsets !== undefined && header.offsets[i] !== reader.pos) {
      reader.fail(ErrorCodes.PINOT_CORRUPT, `container ${i} offset ${header.offsets[i]} is not where it starts (${reader.pos})`);
    }
    containers.push(readContainer(reader, header.cardinalities[i] ?? 0, header.isRun(i), i));
  }
  return new PortableBitmap(header.keys, header.cardinalities, containers);
}

interface Header {
  keys: Uint16Array;
  cardinalities: Uint32Array;
  offsets: Uint32Array | undefined;
  isRun(i: number): boolean;
}

function readHeader(r: Reader): Header {
  const cookie = r.u32();
  let n: number;
  let runFlags: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    n = (cookie >>> 16) + 1;
    runFlags = r.bytes(Math.ceil(n / 8));
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    n = r.u32();
    if (n > 0x10000) r.fail(ErrorCodes.PINOT_CORRUPT, `container count ${n} exceeds 65536`, 4);
  } else {
    r.fail(ErrorCodes.PINOT_BAD_MAGIC, `roaring cookie 0x${cookie.toString(16).padStart(8, '0')} is neither 12346 nor 12347`, 0);
  }
  r.need(n * 4);
  const keys = new Uint16Array(n);
  const cardinalities = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = r.u16();
    cardinalities[i] = r.u16() + 1;
    if (i > 0 && keys[i]! <= keys[i - 1]!) r.fail(ErrorCodes.PINOT_CORRUPT, `container keys not ascending at container ${i}`, r.pos - 4);
  }
  let offsets: Uint32Array | undefined;
  if (runFlags === undefined || n >= NO_OFFSET_THRESHOLD) {
    r.need(n * 4);
    offsets = new Uint32Array(n);
    for (let i = 0; i < n; i++) offsets[i] = r.u32();
  }
  const flags = runFlags;
  return { keys, cardinalities, offsets, isRun: (i) => flags !== undefined && (flags[i >> 3]! & (1 << (i & 7))) !== 0 };
}

function readContainer(r: Reader, cardinality: number, isRun: boolean, i: number): Container {
  const start = r.pos;
  if (isRun) {
    const count = r.u16();
    r.need(count * 4);
    const runs = new Uint16Array(count * 2);
    let total = 0;
    let nextFree = 0;
    for (let k = 0; k < count; k++) {
      const s = r.u16();
      const len = r.u16();
      if (s < nextFree || s + len > 0xffff) r.fail(ErrorCodes.PINOT_CORRUPT, `run ${k} of container ${i} overlaps or overflows`, r.pos - 4);
      runs[2 * k] = s;
      runs[2 * k + 1] = len;
      total += len + 1;
      nextFree = s + len + 1;
    }
    if (total !== cardinality) r.fail(ErrorCodes.PINOT_CORRUPT, `run container ${i} holds ${total} values, header says ${cardinality}`, start);
    return { kind: 'run', runs };
  }
  if (cardinality <= ARRAY_MAX) {
    r.need(cardinality * 2);
    const values = new Uint16Array(cardinality);
    for (let k = 0; k < cardinality; k++) {
      values[k] = r.u16();
      if (k > 0 && values[k]! <= values[k - 1]!) r.fail(ErrorCodes.PINOT_CORRUPT, `array container ${i} not ascending`, r.pos - 2);
    }
    return { kind: 'array', values };
  }
  r.need(BITMAP_BYTES);
  const words = new Uint32Array(BITMAP_BYTES / 4);
  let total = 0;
  for (let k = 0; k < words.length; k++) {
    const w = r.u32();
    words[k] = w;
    total += popcount(w);
  }
  if (total !== cardinality) r.fail(ErrorCodes.PINOT_CORRUPT, `bitmap container ${i} holds ${total} values, header says ${cardinality}`, start);
  return { kind: 'bitmap', words };
}

/** A bounds-checked little-endian cursor whose errors name the offset. */
class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array, private readonly context: ErrorContext) {
    this.view = dataView(buf);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.fail(ErrorCodes.PINOT_TRUNCATED, `roaring bitmap needs ${this.pos + n} bytes, buffer has ${this.buf.length}`);
    }
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }

  fail(code: ErrorCode, detail: string, offset = this.pos): never {
    throw new SegmentFormatError(code, detail, { context: { ...this.context, offset } });
  }
}

class PortableBitmap implements RoaringBitmap {
  readonly size: number;

  constructor(
    private readonly keys: Uint16Array,
    private readonly cardinalities: Uint32Array,
    private readonly containers: Container[],
  ) {
    this.size = cardinalities.reduce((a, b) => a + b, 0);
  }

  contains(value: number): boolean {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return false;
    const i = this.findKey(value >>> 16);
    const c = this.containers[i];
    if (c === undefined || this.keys[i] !== value >>> 16) return false;
    const low = value & 0xffff;
    switch (c.kind) {
      case 'array': return c.values[lowerBound(c.values, low)] === low;
      case 'bitmap': return (c.words[low >>> 5]! & (1 << (low & 31))) !== 0;
      case 'run': return runContains(c.runs, low);
    }
  }

  valuesInRange(start: number, end: number): Uint32Array {
    const lo = Math.max(0, Math.ceil(start));
    const hi = Math.min(0x100000000, Math.ceil(end));
    if (!(lo < hi)) return new Uint32Array(0);
    let bound = 0;
    const first = this.findKey(lo >>> 16);
    let last = first;
    for (; last < this.keys.length && this.keys[last]! <= (hi - 1) >>> 16; last++) bound += this.cardinalities[last]!;
    const out = new Uint32Array(Math.min(bound, hi - lo));
    let n = 0;
    for (let i = first; i < last; i++) {
      const base = this.keys[i]! * 0x10000;
      // Low bounds of this container clipped to [lo, hi).
      const from = Math.max(lo - base, 0);
      const to = Math.min(hi - base, 0x10000);
      n = emit(this.containers[i]!, base, from, to, out, n);
    }
    return out.subarray(0, n);
  }

  toArray(): Uint32Array {
    return this.valuesInRange(0, 0x100000000);
  }

  /** Index of the first container whose key is >= `key`. */
  private findKey(key: number): number {
    return lowerBound(this.keys, key);
  }
}

/** Writes the container's values with low bits in `[from, to)` into `out` at `n`; returns the new `n`. */
function emit(c: Container, base: number, from: number, to: number, out: Uint32Array, n: number): number {
  switch (c.kind) {
    case 'array':
      for (let k = lowerBound(c.values, from); k < c.values.length && c.values[k]! < to; k++) out[n++] = base + c.values[k]!;
      return n;
    case 'bitmap':
      for (let v = from; v < to; v++) {
        const w = c.words[v >>> 5]!;
        if (w === 0) v |= 31; // skip the rest of an empty word
        else if ((w & (1 << (v & 31))) !== 0) out[n++] = base + v;
      }
      return n;
    case 'run':
      for (let k = 0; k < c.runs.length; k += 2) {
        const s = Math.max(c.runs[k]!, from);
        const e = Math.min(c.runs[k]! + c.runs[k + 1]! + 1, to);
        for (let v = s; v < e; v++) out[n++] = base + v;
      }
      return n;
  }
}

function runContains(runs: Uint16Array, low: number): boolean {
  let lo = 0;
  let hi = runs.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[2 * mid]! <= low) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return false;
  const s = runs[2 * (lo - 1)]!;
  return low <= s + runs[2 * (lo - 1) + 1]!;
}

function lowerBound(sorted: Uint16Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
