/**
 * Streaming XXH32, the checksum of the LZ4 frame format (header, block and content checksums).
 * lz4-napi does not expose one, and a content checksum is the only thing that catches a corrupted
 * stored block in an LZ4-framed tarball.
 */
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

function u32le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

export class XXHash32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private readonly seed: number;
  private readonly mem = new Uint8Array(16);
  private memSize = 0;
  private total = 0;

  constructor(seed = 0) {
    this.seed = seed | 0;
    this.v1 = (this.seed + P1 + P2) | 0;
    this.v2 = (this.seed + P2) | 0;
    this.v3 = this.seed;
    this.v4 = (this.seed - P1) | 0;
  }

  update(data: Uint8Array): this {
    this.total += data.length;
    let i = 0;
    if (this.memSize > 0) {
      const fill = Math.min(16 - this.memSize, data.length);
      this.mem.set(data.subarray(0, fill), this.memSize);
      this.memSize += fill;
      i = fill;
      if (this.memSize < 16) return this;
      this.stripe(this.mem, 0);
      this.memSize = 0;
    }
    for (; i + 16 <= data.length; i += 16) this.stripe(data, i);
    if (i < data.length) {
      this.mem.set(data.subarray(i));
      this.memSize = data.length - i;
    }
    return this;
  }

  digest(): number {
    let h = this.total >= 16
      ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0
      : (this.seed + P5) | 0;
    h = (h + this.total) | 0;
    let i = 0;
    for (; i + 4 <= this.memSize; i += 4) h = Math.imul(rotl((h + Math.imul(u32le(this.mem, i), P3)) | 0, 17), P4);
    for (; i < this.memSize; i++) h = Math.imul(rotl((h + Math.imul(this.mem[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }

  private stripe(b: Uint8Array, i: number): void {
    this.v1 = round(this.v1, u32le(b, i));
    this.v2 = round(this.v2, u32le(b, i + 4));
    this.v3 = round(this.v3, u32le(b, i + 8));
    this.v4 = round(this.v4, u32le(b, i + 12));
  }
}

export function xxhash32(data: Uint8Array, seed = 0): number {
  return new XXHash32(seed).update(data).digest();
}
