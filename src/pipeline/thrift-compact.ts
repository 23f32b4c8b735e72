/**
 * A reader of the Thrift compact protocol, as far as Parquet's FileMetaData needs it: varints, zigzag ints,
 * binaries, struct fields (with delta ids), lists/sets and skipping whatever a caller does not read. No I/O;
 * malformed input throws RangeError, which callers turn into their own ExporterError.
 */

/** Compact-protocol type ids. */
export const CT = {
  STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12,
} as const;

export class CompactReader {
  pos = 0;
  private readonly text = new TextDecoder();
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    // A plain view: subarrays of a Buffer would be Buffers sharing its memory.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('the footer ends early');
    return this.bytes[this.pos++]!;
  }

  /** Unsigned varint; exact up to 2^53. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
      if (mul > 2 ** 63) throw new RangeError('varint too long');
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** A view of the bytes (no copy); `slice()` it to keep it apart from the footer. */
  binary(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.bytes.length) throw new RangeError('the footer ends early');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return this.text.decode(this.binary());
  }

  /** Next field header of a struct; undefined at STOP. */
  field(lastId: number): { id: number; type: number } | undefined {
    const b = this.byte();
    if (b === CT.STOP) return undefined;
    const type = b & 0x0f;
    const delta = b >> 4;
    return { id: delta === 0 ? this.zigzag() : lastId + delta, type };
  }

  listHeader(): { size: number; type: number } {
    const b = this.byte();
    const size = b >> 4;
    return { size: size === 15 ? this.varint() : size, type: b & 0x0f };
  }

  /** Reads a list (or set): `each(index, elementType)` must read one element. */
  list(each: (i: number, type: number) => void): void {
    const { size, type } = this.listHeader();
    for (let i = 0; i < size; i++) each(i, type);
  }

  skip(type: number, inList = false): void {
    switch (type) {
      // In a struct the boolean is in the field header; in a list it is a byte of its own.
      case CT.TRUE: case CT.FALSE: if (inList) this.pos++; return;
      case CT.BYTE: this.pos++; return;
      case CT.I16: case CT.I32: case CT.I64: this.varint(); return;
      case CT.DOUBLE: this.pos += 8; return;
      case CT.BINARY: this.binary(); return;
      case CT.LIST: case CT.SET: this.list((_i, t) => this.skip(t, true)); return;
      case CT.MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4, true);
          this.skip(kv & 0x0f, true);
        }
        return;
      }
      case CT.STRUCT: this.struct(() => false); return;
      default: throw new RangeError(`unknown Thrift compact type ${type}`);
    }
  }

  /** Reads a struct; `onField(id, type)` reads the field and returns true, or returns false to skip it. */
  struct(onField: (id: number, type: number) => boolean): void {
    let last = 0;
    for (;;) {
      const f = this.field(last);
      if (!f) return;
      last = f.id;
      if (!onField(f.id, f.type)) this.skip(f.type);
    }
  }
}
