/** The Thrift compact-protocol reader both footer readers share, on hand-encoded bytes. */
import { describe, expect, it } from 'vitest';
import { CT, CompactReader } from '../../src/pipeline/thrift-compact.js';

// struct {
//   1: i32 -3                      0x15 zigzag 0x05
//   2: binary "hi"                 0x18 len 0x02 'h' 'i'
//   3: list<bool> [true, false]    0x19 header (2<<4|TRUE) then one byte per element
//  20: i64 1 (long-form id)        0x06 zigzag(20)=0x28 zigzag(1)=0x02
//  21: map<binary,i32> {"a": 2}    0x1b size 0x01 kv (BINARY<<4|I32) key 0x01 'a' value 0x04
//  22: struct { 1: true }          0x1c 0x11 0x00
// }
const BYTES = Uint8Array.from([
  0x15, 0x05,
  0x18, 0x02, 0x68, 0x69,
  0x19, 0x21, 0x01, 0x02,
  0x06, 0x28, 0x02,
  0x1b, 0x01, 0x85, 0x01, 0x61, 0x04,
  0x1c, 0x11, 0x00,
  0x00,
]);

describe('CompactReader', () => {
  it('reads fields by delta and long-form ids and skips lists, maps and structs it does not read', () => {
    const r = new CompactReader(BYTES);
    const seen: [number, unknown][] = [];
    r.struct((id, type) => {
      if (id === 1 && type === CT.I32) seen.push([id, r.zigzag()]);
      else if (id === 2 && type === CT.BINARY) seen.push([id, r.string()]);
      else if (id === 20 && type === CT.I64) seen.push([id, r.zigzag()]);
      else {
        seen.push([id, 'skipped']);
        return false;
      }
      return true;
    });
    expect(seen).toStrictEqual([[1, -3], [2, 'hi'], [3, 'skipped'], [20, 1], [21, 'skipped'], [22, 'skipped']]);
    expect(r.pos).toBe(BYTES.length);
  });

  it('lists: each element read in turn; booleans in a list are bytes of their own', () => {
    const r = new CompactReader(BYTES.subarray(7, 10));
    const values: boolean[] = [];
    r.list((i, type) => {
      expect(type).toBe(CT.TRUE);
      values[i] = r.byte() === CT.TRUE;
    });
    expect(values).toStrictEqual([true, false]);
  });

  it('binary() is a plain view of a Buffer (not a Buffer), so slice() copies', () => {
    const buf = Buffer.from(BYTES);
    const r = new CompactReader(buf);
    r.field(0);
    r.zigzag();
    r.field(1);
    const view = r.binary();
    expect(Buffer.isBuffer(view)).toBe(false);
    const copy = view.slice();
    buf[4] = 0x78;
    expect([view[0], copy[0]]).toStrictEqual([0x78, 0x68]);
  });

  it('truncated input, an unknown type id and an endless varint throw RangeError', () => {
    expect(() => new CompactReader(BYTES.subarray(0, BYTES.length - 1)).struct(() => false)).toThrow(/the footer ends early/);
    expect(() => new CompactReader(Uint8Array.from([0x1d, 0x00])).struct(() => false)).toThrow(/unknown Thrift compact type 13/);
    expect(() => new CompactReader(new Uint8Array(12).fill(0xff)).varint()).toThrow(/varint too long/);
  });
});
