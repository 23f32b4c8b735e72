import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';
import { ADLER32_INITIAL, adler32, adler32Update } from '../../src/sources/pinot/adler32.js';
import type { ByteRange } from '../../src/sources/pinot/bytes.js';
import { CRC_CHUNK_BYTES, computeSegmentCrc, crcFiles, parseCreationMeta } from '../../src/sources/pinot/creation-meta.js';
import { memoryFiles } from '../../src/sources/pinot/memory-files.js';
import type { SegmentFiles } from '../../src/sources/pinot/types.js';
import { describeFixtures } from '../support/fixtures.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));
}

/** Textbook Adler-32, reducing after every byte: the independent oracle. */
function naiveAdler(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

describe('adler32', () => {
  it('matches known vectors', () => {
    expect(adler32(new Uint8Array(0))).toBe(1);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(Buffer.from('abc'))).toBe(0x024d0127);
  });

  it('agrees with the naive definition on long inputs that overflow the unreduced sums', () => {
    const ff = new Uint8Array(100_000).fill(0xff);
    expect(adler32(ff)).toBe(naiveAdler(ff));
    const mixed = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7919) & 0xff);
    expect(adler32(mixed)).toBe(naiveAdler(mixed));
  });

  it('is incremental: any split gives the one-shot value', () => {
    const data = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 31 + 7) & 0xff);
    const whole = adler32(data);
    for (const cut of [0, 1, 5551, 5552, 5553, 19_999, 20_000]) {
      expect(adler32Update(adler32Update(ADLER32_INITIAL, data.subarray(0, cut)), data.subarray(cut)), `cut ${cut}`).toBe(whole);
    }
  });
});

describe('parseCreationMeta', () => {
  it('reads the §2 worked example (recipes-matches-v3)', () => {
    const meta = parseCreationMeta(hex('00 00 00 00 E3 18 3A E0 | 00 00 01 87 32 C2 49 D6'));
    expect(meta).toEqual({ crc: 3810015968n, creationTimeMs: 1680183806422n });
    expect(new Date(Number(meta.creationTimeMs)).toISOString()).toBe('2023-03-30T13:43:26.422Z');
  });

  it('reads the optional third long (data CRC) of a 24-byte file', () => {
    const meta = parseCreationMeta(hex('00000000 9b3595e2 000001a2 1646181b 00000000 63710528'));
    expect(meta).toEqual({ crc: 2603980258n, creationTimeMs: 1795670022171n, dataCrc: 1668351272n });
  });

  it('keeps all 64 bits exact', () => {
    expect(parseCreationMeta(hex('7fffffffffffffff 8000000000000001')))
      .toEqual({ crc: 9223372036854775807n, creationTimeMs: -9223372036854775807n });
  });

  it('rejects other lengths with typed errors', () => {
    for (const [length, code] of [[0, 'PINOT_TRUNCATED'], [15, 'PINOT_TRUNCATED'], [17, 'PINOT_CORRUPT'], [32, 'PINOT_CORRUPT']] as const) {
      let err: unknown;
      try {
        parseCreationMeta(new Uint8Array(length));
      } catch (e) {
        err = e;
      }
      expect(err, `length ${length}`).toBeInstanceOf(SegmentFormatError);
      expect((err as SegmentFormatError).code).toBe(code);
      expect((err as SegmentFormatError).context.index).toBe('creation.meta');
    }
  });
});

describe('computeSegmentCrc', () => {
  const bytes = (s: string): Uint8Array => Buffer.from(s);

  it('feeds files sorted by path, whatever order they are listed in', () => {
    const files = memoryFiles(new Map([
      ['metadata.properties', bytes('m')],
      ['columns.psf', bytes('psf-bytes')],
      ['index_map', bytes('i')],
    ]));
    expect(crcFiles(files)).toEqual(['columns.psf', 'index_map', 'metadata.properties']);
    expect(computeSegmentCrc(files)).toBe(adler32(bytes('psf-bytesim')));
    expect(computeSegmentCrc(files)).not.toBe(adler32(bytes('mpsf-bytesi')));
  });

  it('sorts by UTF-16 code units like Java (upper case before lower case, "." before "/")', () => {
    const files = memoryFiles({ b: bytes('1'), B: bytes('2'), 'a.x': bytes('3'), 'a/x': bytes('4') });
    expect(crcFiles(files)).toEqual(['B', 'a.x', 'a/x', 'b']);
  });

  it('skips creation.meta and *.crc files at any depth', () => {
    const files = memoryFiles({
      'a.dict': bytes('A'), 'creation.meta': bytes('X'), '.a.dict.crc': bytes('Y'), 'sub/creation.meta': bytes('Z'),
      'sub/b.fwd': bytes('B'), 'x.crc': bytes('W'),
    });
    expect(crcFiles(files)).toEqual(['a.dict', 'sub/b.fwd']);
    expect(computeSegmentCrc(files)).toBe(adler32(bytes('AB')));
  });

  it('reads large files in chunks of at most 8 MiB', () => {
    const size = 20 * 1024 * 1024 + 3;
    let largest = 0;
    let total = 0;
    const fill = (start: number, end: number): Uint8Array => {
      const out = new Uint8Array(end - start);
      for (let i = 0; i < out.length; i++) out[i] = (start + i) % 251;
      return out;
    };
    const big: ByteRange = {
      length: size,
      read(start, end) {
        largest = Math.max(largest, end - start);
        total += end - start;
        return fill(start, end);
      },
    };
    const files: SegmentFiles = { list: () => ['columns.psf'], has: (n) => n === 'columns.psf', open: () => big };
    const crc = computeSegmentCrc(files);
    expect(largest).toBeLessThanOrEqual(CRC_CHUNK_BYTES);
    expect(total).toBe(size);
    expect(crc).toBe(adler32(fill(0, size)));
  });

  it('accepts a smaller chunk size with the same result, and refuses a larger one', () => {
    const files = memoryFiles({ f: Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff) });
    expect(computeSegmentCrc(files, 7)).toBe(computeSegmentCrc(files));
    expect(() => computeSegmentCrc(files, CRC_CHUNK_BYTES + 1)).toThrow(RangeError);
  });
});

/** All files under `dir`, by path relative to it, in memory. */
function dirFiles(dir: string): SegmentFiles {
  const map = new Map<string, Uint8Array>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    map.set(full.slice(dir.length + 1), readFileSync(full));
  }
  return memoryFiles(map);
}

describeFixtures('creation.meta fixtures: v1-2022', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw/testTable_1756015683_1756015683', (dir) => {
  it('recomputes the recorded CRC of a real v1 segment', () => {
    const files = dirFiles(dir);
    const meta = parseCreationMeta(readFileSync(join(dir, 'creation.meta')));
    expect(meta.creationTimeMs).toBe(1649622782700n);
    expect(BigInt(computeSegmentCrc(files))).toBe(meta.crc);
  });
});

describeFixtures('creation.meta fixtures: v3-2017-views', 'fixtures/pinot-segments/v3-2017-views/segment_0/v3', (dir) => {
  it('reads a 16-byte file; the v3 files do not reproduce the recorded CRC (converted from v1 after creation)', () => {
    const meta = parseCreationMeta(readFileSync(join(dir, 'creation.meta')));
    expect(meta).toEqual({ crc: 905513409n, creationTimeMs: 1510686713924n });
    expect(BigInt(computeSegmentCrc(dirFiles(dir)))).not.toBe(meta.crc);
  });
});
