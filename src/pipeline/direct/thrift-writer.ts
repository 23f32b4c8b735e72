/**
 * A writer of the Thrift compact protocol, as far as Parquet's page headers and FileMetaData need it: field
 * headers (short delta form and long form), zigzag varints (i64 exact for safe integers and for bigints),
 * binaries, bools in the field header, lists and nested structs. No I/O; bytes go into a buffer that grows
 * on demand. The reader counterpart is ../thrift-compact.ts.
 */
import { CT } from '../thrift-compact.js';

export { CT };

const encoder = new TextEncoder();

export class CompactWriter {
  private buf: Uint8Array;
  private pos = 0;
  /** Last field id of each open struct (compact field headers are deltas from it). */
  private lastIds: number[] = [];
  private lastId = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of the bytes written so far (the buffer itself is reused while writing). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer ≤ 2^53 (or any non-negative bigint). */
  varint(n: number | bigint): void {
    if (typeof n === 'bigint') {
      this.ensure(10);
      while (n >= 0x80n) {
        this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
        n >>= 7n;
      }
      this.buf[this.pos++] = Number(n);
      return;
    }
    this.ensure(10);
    // Above 2^31 bit operations would truncate: divide instead.
    while (n >= 0x80000000) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  /** Zigzag varint (i16/i32/i64). Numbers must be integers; beyond ±2^52 they go through bigint to stay exact. */
  zigzag(n: number | bigint): void {
    if (typeof n === 'bigint') {
      this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
      return;
    }
    if (!Number.isInteger(n)) throw new RangeError(`not an integer: ${n}`);
    if (n >= -(2 ** 52) && n <= 2 ** 52) this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
    else this.zigzag(BigInt(n));
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    this.bytes(encoder.encode(s));
  }

  /** Field header: delta form when the id is 1..15 above the previous one, else the type byte and the zigzag i16 id. */
  fieldHeader(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastId = id;
  }

  i32Field(id: number, v: number): void {
    this.fieldHeader(id, CT.I32);
    this.zigzag(v);
  }

  i16Field(id: number, v: number): void {
    this.fieldHeader(id, CT.I16);
    this.zigzag(v);
  }

  i64Field(id: number, v: number | bigint): void {
    this.fieldHeader(id, CT.I64);
    this.zigzag(v);
  }

  binaryField(id: number, v: Uint8Array): void {
    this.fieldHeader(id, CT.BINARY);
    this.bytes(v);
  }

  stringField(id: number, v: string): void {
    this.fieldHeader(id, CT.BINARY);
    this.string(v);
  }

  /** In a struct a bool is its field header's type nibble, with no value byte. */
  boolField(id: number, v: boolean): void {
    this.fieldHeader(id, v ? CT.TRUE : CT.FALSE);
  }

  /** Opens a nested struct as field `id`; close it with `endStruct`. */
  structField(id: number): void {
    this.fieldHeader(id, CT.STRUCT);
    this.beginStruct();
  }

  /** Opens a struct that is not a field (the top level, or a list element). */
  beginStruct(): void {
    this.lastIds.push(this.lastId);
    this.lastId = 0;
  }

  endStruct(): void {
    this.byte(CT.STOP);
    this.lastId = this.lastIds.pop() ?? 0;
  }

  /** List header; the caller then writes `size` elements of `elementType` (structs with begin/endStruct). */
  listHeader(size: number, elementType: number): void {
    if (size < 15) this.byte((size << 4) | elementType);
    else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
  }

  listField(id: number, size: number, elementType: number): void {
    this.fieldHeader(id, CT.LIST);
    this.listHeader(size, elementType);
  }
}
