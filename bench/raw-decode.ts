/**
 * Throughput of raw forward-index decoding (`openRawForward(...).read`) for LONG and STRING columns with
 * LZ4, ZSTANDARD and SNAPPY chunks, as Pinot 1.5 lays them out by default (writer version 4):
 * LONG → fixed-width chunk file, header 4, 1024 docs per chunk, bare LZ4 blocks;
 * STRING → var-byte V4, target chunk = max(4096, min(longest × 1000, 1 MiB)), LZ4 as LZ4_LENGTH_PREFIXED.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/raw-decode.js [--mb N] [--batch N] [--passes N]
 *
 * Builds each index in memory from a fixed seed (~`mb` MB of uncompressed values), then prints the median of
 * `passes` full sequential reads in batches of `batch` docs: MB/s of decoded value bytes (1 MB = 10^6 bytes;
 * STRING counts value bytes, not offsets) and values/s.
 */
import { parseArgs } from 'node:util';
import { compressSync as lz4Compress } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import { bytesRange } from '../src/sources/pinot/bytes.js';
import { openRawForward } from '../src/sources/pinot/forward-raw.js';
import type { SVRawForwardReader } from '../src/sources/pinot/types.js';
import { median, random } from './support.js';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    batch: { type: 'string', default: '65536' },
    passes: { type: 'string', default: '3' },
  },
});
const targetBytes = Number(args.mb) * 1e6;
const batch = Number(args.batch);
const passes = Number(args.passes);

type Codec = 'LZ4' | 'ZSTANDARD' | 'SNAPPY';
const CODEC_ID = { fixed: { LZ4: 3, ZSTANDARD: 2, SNAPPY: 1 }, v4: { LZ4: 4, ZSTANDARD: 2, SNAPPY: 1 } } as const;

function compress(codec: Codec, raw: Uint8Array, prefixed: boolean): Uint8Array {
  switch (codec) {
    case 'SNAPPY': return snappyCompress(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    case 'ZSTANDARD': return zstdCompress(raw);
    case 'LZ4': {
      const c = lz4Compress(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)); // i32 LE length + block
      return prefixed ? c : c.subarray(4);
    }
  }
}


/** Fixed-width chunk file, header version 4 (§9.5): 28-byte header, i64 chunk offsets, BE values. */
function buildLongIndex(codec: Codec, count: number): Uint8Array {
  const docsPerChunk = 1024;
  const r = random(7);
  const values = Buffer.alloc(count * 8);
  let ts = 1_780_000_000_000n;
  for (let i = 0; i < count; i++) {
    // Time-like values: ascending with jitter, and every 16th one random (ids, hashes).
    ts += BigInt(Math.floor(r() * 2000));
    values.writeBigInt64BE(i % 16 === 15 ? BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 53)) << 11n) : ts, i * 8);
  }
  const numChunks = Math.ceil(count / docsPerChunk);
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < numChunks; k++) {
    chunks.push(compress(codec, values.subarray(k * docsPerChunk * 8, Math.min(count, (k + 1) * docsPerChunk) * 8), false));
  }
  const header = Buffer.alloc(28 + 8 * numChunks);
  [4, numChunks, docsPerChunk, 8, count, CODEC_ID.fixed[codec], 28].forEach((v, i) => header.writeInt32BE(v, 4 * i));
  let at = header.length;
  chunks.forEach((c, k) => { header.writeBigInt64BE(BigInt(at), 28 + 8 * k); at += c.length; });
  return Buffer.concat([header, ...chunks]);
}

function makeStrings(totalBytes: number): Uint8Array[] {
  const r = random(11);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'user', 'session', 'click', 'view', 'été', '漢字'];
  const out: Uint8Array[] = [];
  let size = 0;
  while (size < totalBytes) {
    let s = words[Math.floor(r() * words.length)]!;
    const parts = 1 + Math.floor(r() * 3);
    for (let p = 0; p < parts; p++) s += '-' + words[Math.floor(r() * words.length)]! + Math.floor(r() * 100000).toString(36);
    const b = Buffer.from(s);
    out.push(b);
    size += b.length;
  }
  return out;
}

/** Var-byte V4 (§9.6): regular chunks of [n][n LE row offsets][values], LE chunk metadata. */
function buildStringIndex(codec: Codec, rows: Uint8Array[]): Uint8Array {
  const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const chunkSize = Math.max(4096, Math.min(longest * 1000, 1 << 20));
  const chunks: { first: number; bytes: Uint8Array }[] = [];
  const buf = Buffer.alloc(chunkSize);
  let first = 0;
  let n = 0;
  let used = 4;
  const pending: Uint8Array[] = [];
  const flush = (): void => {
    if (n === 0) return;
    buf.writeInt32LE(n, 0);
    let at = 4 * (n + 1);
    pending.forEach((row, i) => { buf.writeInt32LE(at, 4 + 4 * i); buf.set(row, at); at += row.length; });
    chunks.push({ first, bytes: Uint8Array.from(compress(codec, buf.subarray(0, at), true)) });
    pending.length = 0;
    n = 0;
    used = 4;
  };
  rows.forEach((row, doc) => {
    if (used + 4 + row.length > chunkSize) flush(); // values here never reach the huge-chunk threshold
    if (n === 0) first = doc;
    pending.push(row);
    n++;
    used += 4 + row.length;
  });
  flush();
  const dataAt = 16 + 8 * chunks.length;
  const header = Buffer.alloc(dataAt);
  [4, chunkSize, CODEC_ID.v4[codec], dataAt].forEach((v, i) => header.writeInt32BE(v, 4 * i));
  let off = 0;
  chunks.forEach((c, k) => { header.writeInt32LE(c.first, 16 + 8 * k); header.writeUInt32LE(off, 20 + 8 * k); off += c.bytes.length; });
  return Buffer.concat([header, ...chunks.map((c) => c.bytes)]);
}


/** Seconds for one full sequential read; returns also the value bytes seen (a checksum keeps it honest). */
function readAll(reader: SVRawForwardReader, totalDocs: number): { seconds: number; bytes: number } {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let s = 0; s < totalDocs; s += batch) {
    const block = reader.read(s, Math.min(totalDocs, s + batch));
    bytes += block.kind === 'BYTES' ? block.values.data.length : block.values.byteLength;
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes };
}

function run(label: string, index: Uint8Array, storedType: 'LONG' | 'STRING', totalDocs: number): void {
  const reader = openRawForward(bytesRange(index), { storedType, singleValue: true, totalDocs }) as SVRawForwardReader;
  const times: number[] = [];
  let bytes = 0;
  for (let p = 0; p < passes; p++) {
    const r = readAll(reader, totalDocs);
    times.push(r.seconds);
    bytes = r.bytes;
  }
  const t = median(times);
  console.log(
    `${label.padEnd(18)} ${(index.length / 1e6).toFixed(1).padStart(7)} MB index  ${(bytes / 1e6 / t).toFixed(0).padStart(6)} MB/s  ` +
      `${(totalDocs / t / 1e6).toFixed(1).padStart(6)} M values/s  (${(t * 1000).toFixed(0)} ms, ${totalDocs} docs)`,
  );
}

const longCount = Math.round(targetBytes / 8);
const strings = makeStrings(targetBytes);
console.log(`raw forward index decode, batches of ${batch} docs, median of ${passes} passes (node ${process.version})`);
for (const codec of ['LZ4', 'ZSTANDARD', 'SNAPPY'] as const) {
  run(`LONG ${codec}`, buildLongIndex(codec, longCount), 'LONG', longCount);
  run(`STRING ${codec}`, buildStringIndex(codec, strings), 'STRING', strings.length);
}
