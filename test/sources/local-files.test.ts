/**
 * Local segment files: `read` gives each caller its own bytes (small sequential reads come from a block read
 * ahead); `readTransient` (the windows of a dictionary walk) reuses one buffer per opened segment, falls back
 * to a buffer of its own above 16 MiB, passes through sub-ranges, and a windowed dictionary read over many
 * windows of a real file still returns every entry right.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, SegmentFormatError, SourceError } from '../../src/errors.js';
import { openLocalSegmentFiles } from '../../src/sources/deepstore/local-files.js';
import { readTransient, subRange } from '../../src/sources/pinot/bytes.js';
import { windowedDictionary } from '../../src/sources/pinot/dictionary-windows.js';
import type { ValueBlock } from '../../src/sources/pinot/types.js';
import { writeDictionary } from '../../src/sources/pinot/write/dictionary-writer.js';
import { scratchDir } from './helpers.js';

const dir = scratchDir('local-files-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
  return name;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('local segment files', () => {
  const content = new Uint8Array(randomBytes(18 << 20));
  const name = fileOf('data.bin', content);
  const otherName = fileOf('other.bin', content.subarray(0, 8192));

  it('transient reads return the file bytes and reuse one buffer; plain reads are each their own', () => {
    const files = openLocalSegmentFiles(dir);
    try {
      const range = files.open(name);
      const a = readTransient(range, 100, 4100);
      expect(equalBytes(a, content.subarray(100, 4100))).toBe(true);
      const aBuffer = a.buffer;
      const b = readTransient(range, 5 << 20, (5 << 20) + 4096);
      expect(equalBytes(b, content.subarray(5 << 20, (5 << 20) + 4096))).toBe(true);
      // The second window landed in the first one's buffer: no allocation per window.
      expect(b.buffer).toBe(aBuffer);
      // Another range of the same segment shares it too (only one window is ever live).
      const other = files.open(otherName);
      expect(readTransient(other, 0, 10).buffer).toBe(aBuffer);
      const p = range.read(100, 4100);
      const q = range.read(100, 4100);
      expect(equalBytes(p, content.subarray(100, 4100))).toBe(true);
      expect(p.buffer).not.toBe(q.buffer);
      expect(p.buffer).not.toBe(aBuffer);
    } finally {
      files.close();
    }
  });

  it('small sequential reads (raw forward chunks) are right across read-ahead blocks, mixed with other reads', () => {
    const files = openLocalSegmentFiles(dir);
    try {
      const range = files.open(name);
      const random = (k: number): number => (Math.imul(k + 1, 2654435761) >>> 0) % 20_000;
      let at = 0;
      for (let k = 0; at < (3 << 20); k++) {
        const end = Math.min(content.length, at + 1 + random(k));
        const got = range.read(at, end);
        expect(got.length).toBe(end - at);
        expect(equalBytes(got, content.subarray(at, end)), `read [${at}, ${end})`).toBe(true);
        if (k % 50 === 7) {
          // A read elsewhere, a transient window and a large read do not disturb the sequence's bytes.
          expect(equalBytes(range.read(9 << 20, (9 << 20) + 300), content.subarray(9 << 20, (9 << 20) + 300))).toBe(true);
          expect(equalBytes(readTransient(range, 5000, 9000), content.subarray(5000, 9000))).toBe(true);
          expect(equalBytes(range.read(at, at + 200_000), content.subarray(at, at + 200_000))).toBe(true);
        }
        at = end;
      }
      // Up to the last byte of the file.
      const tail = content.length - 10;
      range.read(tail - 5000, tail);
      expect(equalBytes(range.read(tail, content.length), content.subarray(tail))).toBe(true);
    } finally {
      files.close();
    }
  });

  it('a sequential small read is served from the block read ahead; other reads go to the file', () => {
    const bytes = new Uint8Array(randomBytes(4 << 20));
    const ahead = fileOf('ahead.bin', bytes);
    const files = openLocalSegmentFiles(dir);
    try {
      const range = files.open(ahead);
      range.read(0, 1000);
      range.read(1000, 2000); // sequential: reads [1000, 1000 + 1 MiB) ahead
      // Segment files never change while open; changing one here shows which reads come from the block.
      const changed = bytes.slice();
      changed.fill(7, 2000, 3 << 20);
      writeFileSync(join(dir, ahead), changed);
      expect(equalBytes(range.read(2000, 3000), bytes.subarray(2000, 3000))).toBe(true);
      // Any small read inside the block is served from it; past the block, and above 64 KiB, from the file.
      expect(equalBytes(range.read(50_000, 51_000), bytes.subarray(50_000, 51_000))).toBe(true);
      expect(equalBytes(range.read(2 << 20, (2 << 20) + 1000), changed.subarray(2 << 20, (2 << 20) + 1000))).toBe(true);
      expect(equalBytes(range.read(3000, 3000 + 70_000), changed.subarray(3000, 3000 + 70_000))).toBe(true);
      files.close();
      expect(() => range.read(3000, 4000)).toThrow(SourceError);
    } finally {
      files.close();
    }
  });

  it('a transient read above 16 MiB gets its own buffer; sub-ranges shift and bound transient reads', () => {
    const files = openLocalSegmentFiles(dir);
    try {
      const range = files.open(name);
      const small = readTransient(range, 0, 64);
      const big = readTransient(range, 1, (17 << 20) + 1);
      expect(equalBytes(big, content.subarray(1, (17 << 20) + 1))).toBe(true);
      expect(big.buffer).not.toBe(small.buffer);
      const sub = subRange(range, 1000, 9000);
      expect(equalBytes(readTransient(sub, 10, 20), content.subarray(1010, 1020))).toBe(true);
      expect(() => readTransient(sub, 7990, 8001)).toThrow(SegmentFormatError);
      try {
        readTransient(range, 0, content.length + 1);
        expect.fail('a read past the end must fail');
      } catch (err) {
        expect((err as SegmentFormatError).code).toBe(ErrorCodes.PINOT_TRUNCATED);
      }
    } finally {
      files.close();
    }
  });

  it('a transient read after close fails naming the file', () => {
    const files = openLocalSegmentFiles(dir);
    const range = files.open(name);
    files.close();
    expect(() => readTransient(range, 0, 10)).toThrow(SourceError);
    expect(() => readTransient(range, 0, 10)).toThrow(/data\.bin/);
  });
});

describe('windowed dictionaries over a file, many windows', () => {
  // 1.5M LONG entries (12 MB, three or more 4 MiB windows) and 600k var-length values (offsets and values in
  // several windows each): ids spread over the whole dictionary, so every window is read.
  const longs = new BigInt64Array(1_500_000);
  for (let i = 0; i < longs.length; i++) longs[i] = BigInt(i) * 7919n - 3_000_000_000n;
  const longFile = fileOf('long.dict', writeDictionary({ storedType: 'LONG', varLength: false, values: { kind: 'LONG', values: longs } }));
  const texts = Array.from({ length: 600_000 }, (_, i) => `v${String(i).padStart(7, '0')}${'x'.repeat(i % 13)}`);
  const encoded = texts.map((t) => new TextEncoder().encode(t));
  const offsets = new Int32Array(encoded.length + 1);
  for (let i = 0; i < encoded.length; i++) offsets[i + 1] = offsets[i]! + encoded[i]!.length;
  const data = new Uint8Array(offsets[encoded.length]!);
  encoded.forEach((e, i) => data.set(e, offsets[i]!));
  const textFile = fileOf('text.dict', writeDictionary({ storedType: 'STRING', varLength: true, values: { kind: 'BYTES', values: { offsets, data } } }));

  /** The windowed dictionary's values of ids spread over the whole file (every ~`step`-th), read through local files. */
  function windowedValues(file: string, storedType: 'LONG' | 'STRING', cardinality: number, step: number): { used: Int32Array; block: ValueBlock } {
    const used: number[] = [];
    for (let id = 3; id < cardinality; id += step + (id % 5)) used.push(id);
    const files = openLocalSegmentFiles(dir);
    try {
      const source = windowedDictionary(files.open(file), storedType, { column: file, storedType, cardinality });
      return { used: Int32Array.from(used), block: source.values(Int32Array.from(used)) };
    } finally {
      files.close();
    }
  }

  it('LONG: every requested entry, in order', () => {
    const { used, block } = windowedValues(longFile, 'LONG', longs.length, 3);
    expect(block.kind).toBe('LONG');
    const got = block.values as BigInt64Array;
    expect(got.length).toBe(used.length);
    const bad = Array.from(used).findIndex((id, k) => got[k] !== longs[id]);
    expect(bad).toBe(-1);
  });

  it('var-length STRING: every requested entry, in order', () => {
    const { used, block } = windowedValues(textFile, 'STRING', texts.length, 2);
    expect(block.kind).toBe('BYTES');
    const { offsets: o, data: d } = block.values as { offsets: Int32Array; data: Uint8Array };
    const decoder = new TextDecoder();
    const bad = Array.from(used).findIndex((id, k) => decoder.decode(d.subarray(o[k]!, o[k + 1]!)) !== texts[id]);
    expect([used.length, bad]).toStrictEqual([o.length - 1, -1]);
  });
});
