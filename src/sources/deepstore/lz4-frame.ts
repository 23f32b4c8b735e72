/**
 * Streaming decoder for the LZ4 frame format (magic `04 22 4D 18`), as Commons Compress writes segment
 * tarballs (§1.2). lz4-napi only decodes whole frames in memory, so frames are parsed here and each block
 * goes to its raw-block decoder; memory stays at about two blocks whatever the archive size.
 * Checks every checksum the frame carries. Concatenated and skippable frames are accepted, as `lz4 -d` does.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { uncompressSync } from 'lz4-napi';
import { ErrorCodes, SourceError } from '../../errors.js';
import { XXHash32, xxhash32 } from './xxhash32.js';

const FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
/** Skippable frames use magics 0x184D2A50 … 0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** A linked block may refer back this far into earlier output. */
const WINDOW = 64 * 1024;

interface Frame {
  blockMax: number;
  blockChecksum: boolean;
  contentChecksum: boolean;
  linked: boolean;
  contentSize: bigint | undefined;
  produced: bigint;
  hash: XXHash32 | undefined;
  window: Uint8Array;
}

type Need =
  | { state: 'magic' }
  | { state: 'skip-size' }
  | { state: 'skip'; left: number }
  | { state: 'descriptor' }
  | { state: 'block-size' }
  | { state: 'block'; size: number; stored: boolean }
  | { state: 'content-checksum' };

export class Lz4FrameDecoder extends Transform {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Offset of the first buffered byte in the compressed stream. */
  private offset = 0;
  private need: Need = { state: 'magic' };
  private frame: Frame | undefined;
  private frames = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      while (this.step());
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.need.state !== 'magic' || this.buffered > 0) {
      done(this.invalid(`lz4 stream ends inside a frame (expecting ${this.need.state})`));
      return;
    }
    if (this.frames === 0) {
      done(this.invalid('lz4 stream holds no frame'));
      return;
    }
    done();
  }

  /** Consumes one unit of input if enough is buffered; returns false when more input is needed. */
  private step(): boolean {
    const need = this.need;
    switch (need.state) {
      case 'magic': return this.withBytes(4, (b) => this.onMagic(b.readUInt32LE(0)));
      case 'skip-size': return this.withBytes(4, (b) => { this.need = { state: 'skip', left: b.readUInt32LE(0) }; });
      case 'skip': return this.skipBytes(need.left);
      case 'descriptor': return this.descriptor();
      case 'block-size': return this.withBytes(4, (b) => this.onBlockSize(b.readUInt32LE(0)));
      case 'block': return this.withBytes(need.size + (this.frame!.blockChecksum ? 4 : 0), (b) => this.onBlock(b, need.size, need.stored));
      case 'content-checksum': return this.withBytes(4, (b) => this.onContentChecksum(b.readUInt32LE(0)));
    }
  }

  private onMagic(magic: number): void {
    if (magic === FRAME_MAGIC) this.need = { state: 'descriptor' };
    else if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) this.need = { state: 'skip-size' };
    else if (magic === LEGACY_MAGIC) throw this.invalid('legacy lz4 frame format is not supported', -4);
    else throw this.invalid(`bad lz4 frame magic 0x${magic.toString(16)}`, -4);
  }

  private skipBytes(left: number): boolean {
    if (left === 0) {
      this.need = { state: 'magic' };
      return true;
    }
    const n = Math.min(left, this.buffered);
    if (n === 0) return false;
    this.consume(n);
    this.need = { state: 'skip', left: left - n };
    return true;
  }

  private descriptor(): boolean {
    if (this.buffered < 2) return false;
    const flg = this.peekByte(0);
    const length = 2 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
    return this.withBytes(length + 1, (b) => this.onDescriptor(b.subarray(0, length), b[length]!));
  }

  private onDescriptor(desc: Buffer, checksum: number): void {
    const flg = desc[0]!;
    const bd = desc[1]!;
    const at = -(desc.length + 1);
    if (flg >>> 6 !== 1) throw this.invalid(`unsupported lz4 frame version ${flg >>> 6}`, at);
    if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw this.invalid('reserved bits set in lz4 frame descriptor', at);
    if (((xxhash32(desc) >>> 8) & 0xff) !== checksum) throw this.invalid('lz4 frame header checksum mismatch', at);
    if ((flg & 0x01) !== 0) throw this.invalid('lz4 frame needs a dictionary, which segment tarballs never use', at);
    const sizeId = (bd >>> 4) & 0x07;
    if (sizeId < 4) throw this.invalid(`bad lz4 block max size id ${sizeId}`, at);
    this.frame = {
      blockMax: 1 << (8 + 2 * sizeId),
      linked: (flg & 0x20) === 0,
      blockChecksum: (flg & 0x10) !== 0,
      contentChecksum: (flg & 0x04) !== 0,
      contentSize: (flg & 0x08) !== 0 ? desc.readBigUInt64LE(2) : undefined,
      produced: 0n,
      hash: (flg & 0x04) !== 0 ? new XXHash32() : undefined,
      window: new Uint8Array(0),
    };
    this.need = { state: 'block-size' };
  }

  private onBlockSize(word: number): void {
    const frame = this.frame!;
    if (word === 0) {
      if (frame.contentSize !== undefined && frame.contentSize !== frame.produced) {
        throw this.invalid(`lz4 frame holds ${frame.produced} bytes, header says ${frame.contentSize}`, -4);
      }
      this.need = frame.contentChecksum ? { state: 'content-checksum' } : this.endFrame();
      return;
    }
    const size = word & 0x7fffffff;
    if (size > frame.blockMax) throw this.invalid(`lz4 block of ${size} bytes exceeds the frame's ${frame.blockMax}`, -4);
    this.need = { state: 'block', size, stored: (word & 0x80000000) !== 0 };
  }

  private onBlock(bytes: Buffer, size: number, stored: boolean): void {
    const frame = this.frame!;
    const block = bytes.subarray(0, size);
    const at = -bytes.length;
    if (frame.blockChecksum && xxhash32(block) !== bytes.readUInt32LE(size)) throw this.invalid('lz4 block checksum mismatch', at);
    const data = stored ? Buffer.from(block) : this.decodeBlock(block, frame, at);
    if (data.length > frame.blockMax) throw this.invalid('lz4 block decodes past the frame block size', at);
    frame.hash?.update(data);
    frame.produced += BigInt(data.length);
    if (frame.linked) frame.window = lastWindow(frame.window, data);
    this.need = { state: 'block-size' };
    if (data.length > 0) this.push(data);
  }

  private decodeBlock(block: Buffer, frame: Frame, at: number): Buffer {
    // lz4-napi's block format is a u32 LE upper bound of the output, then the raw block.
    const input = Buffer.allocUnsafe(4 + block.length);
    input.writeUInt32LE(frame.blockMax, 0);
    block.copy(input, 4);
    try {
      return frame.linked && frame.window.length > 0 ? uncompressSync(input, frame.window) : uncompressSync(input);
    } catch (err) {
      throw this.invalid(`corrupt lz4 block: ${(err as Error).message}`, at, err);
    }
  }

  private onContentChecksum(stored: number): void {
    if (this.frame!.hash!.digest() !== stored) throw this.invalid('lz4 content checksum mismatch', -4);
    this.need = this.endFrame();
  }

  private endFrame(): Need {
    this.frame = undefined;
    this.frames++;
    return { state: 'magic' };
  }

  /** Runs `fn` on the next `n` bytes if they are buffered. */
  private withBytes(n: number, fn: (bytes: Buffer) => void): boolean {
    if (this.buffered < n) return false;
    fn(this.consume(n));
    return true;
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = n < all.length ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  private peekByte(i: number): number {
    return this.chunks[0]!.length > i ? this.chunks[0]![i]! : Buffer.concat(this.chunks)[i]!;
  }

  /** `delta` is relative to the bytes consumed so far (negative: inside what was just taken). */
  private invalid(detail: string, delta = 0, cause?: unknown): SourceError {
    return new SourceError(ErrorCodes.ARCHIVE_INVALID, detail, { context: { offset: this.offset + delta }, cause });
  }
}

function lastWindow(previous: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length >= WINDOW) return data.slice(data.length - WINDOW);
  const keep = Math.min(previous.length, WINDOW - data.length);
  const out = new Uint8Array(keep + data.length);
  out.set(previous.subarray(previous.length - keep));
  out.set(data, keep);
  return out;
}
