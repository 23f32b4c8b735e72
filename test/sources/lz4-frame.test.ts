import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { compressFrameSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { Lz4FrameDecoder } from '../../src/sources/deepstore/lz4-frame.js';
import { XXHash32, xxhash32 } from '../../src/sources/deepstore/xxhash32.js';
import { describeFixtures } from '../support/fixtures.js';
import { hasCli, rejectsWith } from './helpers.js';

async function decode(frame: Uint8Array, chunk = 65536): Promise<Buffer> {
  const out: Buffer[] = [];
  const input = Readable.from((function* () {
    for (let i = 0; i < frame.length; i += chunk) yield Buffer.from(frame.subarray(i, i + chunk));
  })());
  await pipeline(input, new Lz4FrameDecoder(), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) out.push(c);
  });
  return Buffer.concat(out);
}

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** Frame header: magic, FLG, BD, header checksum. */
function header(flg: number, bd: number, extra: Uint8Array = new Uint8Array(0)): Buffer {
  const desc = Buffer.concat([Buffer.of(flg, bd), extra]);
  return Buffer.concat([u32le(0x184d2204), desc, Buffer.of((xxhash32(desc) >>> 8) & 0xff)]);
}

describe('xxhash32', () => {
  it('matches the reference vectors', () => {
    expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('gives the same digest fed in uneven pieces', () => {
    const data = Buffer.alloc(100_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    for (const piece of [1, 3, 15, 16, 17, 4096]) {
      const h = new XXHash32();
      for (let i = 0; i < data.length; i += piece) h.update(data.subarray(i, i + piece));
      expect(h.digest(), `pieces of ${piece}`).toBe(xxhash32(data));
    }
  });
});

describe('Lz4FrameDecoder', () => {
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `row ${i % 977} value ${(i * 7) % 13}\n`).join(''));

  it('decodes lz4-napi frames with and without checksums, in any chunking', async () => {
    for (const opts of [undefined, { contentChecksum: true, blockChecksums: true }]) {
      const frame = compressFrameSync(text, opts);
      for (const chunk of [13, 65536]) expect((await decode(frame, chunk)).equals(text)).toBe(true);
      const small = text.subarray(0, 3000);
      expect((await decode(compressFrameSync(small, opts), 1)).equals(small)).toBe(true);
    }
  });

  it('decodes several 4 MiB blocks', async () => {
    const big = Buffer.concat(Array.from({ length: 40 }, () => text)); // ~40 MB → many blocks
    const frame = compressFrameSync(big, { contentChecksum: true });
    expect((await decode(frame)).equals(big)).toBe(true);
  });

  it('resolves back-references into the previous block of a linked-block frame', async () => {
    const first = Buffer.from('ABCDEFGHIJKLMNOPQRST');
    // One sequence: no literals, match offset 20 length 16 (token 0x0C), then 5 final literals (token 0x50).
    const second = Buffer.of(0x0c, 20, 0, 0x50, ...Buffer.from('VWXYZ'));
    const body = Buffer.concat([u32le(0x80000000 | first.length), first, u32le(second.length), second, u32le(0)]);
    const linked = Buffer.concat([header(0x40, 0x40), body]);
    expect((await decode(linked, 7)).toString()).toBe('ABCDEFGHIJKLMNOPQRSTABCDEFGHIJKLMNOPVWXYZ');
    // The same blocks in an independent-block frame must fail: proof the window is what made it work.
    await rejectsWith(decode(Buffer.concat([header(0x60, 0x40), body])), ErrorCodes.ARCHIVE_INVALID);
  });

  it.skipIf(!hasCli('lz4'))('decodes what the lz4 CLI writes with linked blocks, block checksums and content size', async () => {
    const r = spawnSync('lz4', ['-c', '-BD', '-B4', '-BX', '--content-size'], { input: text, maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect((await decode(r.stdout)).equals(text)).toBe(true);
  });

  it('accepts concatenated frames and skips skippable frames', async () => {
    const skippable = Buffer.concat([u32le(0x184d2a53), u32le(3), Buffer.from('xyz')]);
    const two = Buffer.concat([compressFrameSync(Buffer.from('hello ')), skippable, compressFrameSync(Buffer.from('world'))]);
    expect((await decode(two, 5)).toString()).toBe('hello world');
  });

  it('checks the content size when the frame carries one', async () => {
    const data = Buffer.from('0123456789');
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(10n);
    const ok = Buffer.concat([header(0x68, 0x40, size), u32le(0x80000000 | 10), data, u32le(0)]);
    expect((await decode(ok)).equals(data)).toBe(true);
    size.writeBigUInt64LE(11n);
    const bad = Buffer.concat([header(0x68, 0x40, size), u32le(0x80000000 | 10), data, u32le(0)]);
    await rejectsWith(decode(bad), ErrorCodes.ARCHIVE_INVALID);
  });

  describe('rejects with ARCHIVE_INVALID and the byte offset', () => {
    const good = compressFrameSync(text, { contentChecksum: true, blockChecksums: true });

    const cases: [string, () => Buffer, number | undefined][] = [
      ['empty input', () => Buffer.alloc(0), 0],
      ['a bad magic', () => Buffer.from('not an lz4 frame'), 0],
      ['the legacy format', () => Buffer.concat([u32le(0x184c2102), Buffer.alloc(8)]), 0],
      ['a header checksum mismatch', () => Buffer.from(good).fill(0, 6, 7), 4],
      ['reserved bits', () => Buffer.concat([header(0x62, 0x70), u32le(0)]), 4],
      ['a block larger than the frame allows', () => Buffer.concat([header(0x60, 0x40), u32le(0x10001), Buffer.alloc(0x10001)]), 7],
      ['a block checksum mismatch', () => { const b = Buffer.from(good); b[20]! ^= 1; return b; }, 11],
      ['a content checksum mismatch', () => { const b = Buffer.from(good); b[b.length - 1]! ^= 1; return b; }, good.length - 4],
      ['a stream cut inside a block', () => good.subarray(0, 100), undefined],
      ['a stream cut before the end mark', () => good.subarray(0, good.length - 8), undefined],
    ];
    for (const [what, bytes, offset] of cases) {
      it(what, async () => {
        const err = await rejectsWith(decode(bytes()), ErrorCodes.ARCHIVE_INVALID);
        if (offset !== undefined) expect(err.context.offset).toBe(offset);
      });
    }
  });
});

describeFixtures('Lz4FrameDecoder on the Commons Compress tarball', 'fixtures/pinot-generated/1.5.1', (gen) => {
  it('sorted_bigdecimal.tar.lz4 decodes to the very tar stream inside sorted_bigdecimal.tar.gz', async () => {
    const lz4 = readFileSync(join(gen, 'sorted_bigdecimal.tar.lz4'));
    expect(lz4.subarray(0, 7)).toEqual(Buffer.of(0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9)); // FLG/BD/HC as §1.2 quotes
    const tar = await decode(lz4, 1000);
    expect(tar.length).toBe(67072);
    expect(tar.equals(gunzipSync(readFileSync(join(gen, 'sorted_bigdecimal.tar.gz'))))).toBe(true);
  });
});
