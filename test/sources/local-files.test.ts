/**
 * Local segment files: `read` gives each caller its own bytes; `readTransient` (the windows of a dictionary
 * walk) reuses one buffer per opened segment, falls back to a buffer of its own above 16 MiB, passes through
 * sub-ranges, and a windowed dictionary read over many windows of a real file still returns every entry right.
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
