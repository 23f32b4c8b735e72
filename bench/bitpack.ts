/**
 * Throughput of MSB-first fixed-bit unpacking (the dictionary-id hot path) for widths 1–31.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/bitpack.js [--values N] [--batch N] [--passes N]
 *
 * Prints values/s per width: median of `passes` full decodes of N values, read in batches of `batch` values
 * (as forward-index readers do), on random values from a fixed seed.
 */
import { parseArgs } from 'node:util';
import { unpackBits } from '../src/sources/pinot/bitpack.js';
import { median, random } from './support.js';

const { values: args } = parseArgs({
  options: {
    values: { type: 'string', default: '10000000' },
    batch: { type: 'string', default: '65536' },
    passes: { type: 'string', default: '5' },
  },
});
const total = Number(args.values);
const batch = Number(args.batch);
const passes = Number(args.passes);

/** Packs values MSB-first: each value is OR-ed into the 40-bit window starting at its first byte. */
function pack(values: Int32Array, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8) + 8);
  for (let i = 0, bit = 0; i < values.length; i++, bit += bits) {
    const p = Math.floor(bit / 8);
    const shift = 40 - bits - (bit % 8); // free bits below the value in the window (≥ 2 for widths ≤ 31)
    const v = values[i]!;
    const hi = shift >= 8 ? (v << (shift - 8)) >>> 0 : v >>> (8 - shift); // bytes p … p+3
    out[p]! |= hi >>> 24;
    out[p + 1]! |= (hi >>> 16) & 0xff;
    out[p + 2]! |= (hi >>> 8) & 0xff;
    out[p + 3]! |= hi & 0xff;
    if (shift < 8) out[p + 4]! |= (v << shift) & 0xff;
  }
  return out.subarray(0, Math.ceil((values.length * bits) / 8));
}



const out = new Int32Array(total);
console.log(`unpackBits: ${total.toLocaleString('en-US')} values, batches of ${batch}, median of ${passes} passes`);
for (let bits = 1; bits <= 31; bits++) {
  const next = random(bits);
  const input = new Int32Array(total);
  for (let i = 0; i < total; i++) input[i] = Math.floor(next() * 2 ** bits);
  const packed = pack(input, bits);
  const times: number[] = [];
  for (let pass = 0; pass <= passes; pass++) {
    const t0 = process.hrtime.bigint();
    for (let start = 0; start < total; start += batch) {
      unpackBits(packed, start, Math.min(batch, total - start), bits, out, start);
    }
    if (pass > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9); // pass 0 warms up
  }
  for (let i = 0; i < total; i += 9973) {
    if (out[i] !== input[i]) throw new Error(`width ${bits}: value ${i} decoded as ${out[i]}, expected ${input[i]}`);
  }
  const perSec = total / median(times);
  console.log(`width ${String(bits).padStart(2)}: ${(perSec / 1e6).toFixed(0).padStart(5)} M values/s`);
}
