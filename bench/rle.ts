/**
 * Throughput of the direct writer's RLE/bit-packing hybrid encoder (definition levels and dictionary ids).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/rle.js [--values N] [--page N] [--passes N]
 *
 * Prints values/s per input shape: median of `passes` encodes of N values, cut into calls of `page` values
 * (as the writer encodes one data page at a time), on data from a fixed seed.
 */
import { parseArgs } from 'node:util';
import { encodeDictionaryIds, encodeLevels } from '../src/pipeline/direct/rle.js';
import { median, random } from './support.js';

const { values: args } = parseArgs({
  options: {
    values: { type: 'string', default: '10000000' },
    page: { type: 'string', default: '262144' },
    passes: { type: 'string', default: '5' },
  },
});
const total = Number(args.values);
const pageValues = Number(args.page);
const passes = Number(args.passes);

interface Case { name: string; input: Uint8Array | Int32Array; run: (input: never, from: number, n: number) => Uint8Array }

function levels(name: string, nullFraction: number, seed: number): Case {
  const next = random(seed);
  const input = new Uint8Array(total);
  for (let i = 0; i < total; i++) input[i] = next() < nullFraction ? 0 : 1;
  return { name, input, run: (x: Uint8Array, from, n) => encodeLevels(x.subarray(from, from + n), n, 1) };
}

function ids(name: string, bits: number, meanRun: number, seed: number): Case {
  const next = random(seed);
  const input = new Int32Array(total);
  for (let i = 0; i < total;) {
    const v = Math.floor(next() * 2 ** bits);
    const n = meanRun <= 1 ? 1 : 1 + Math.floor(next() * 2 * meanRun);
    for (let k = 0; k < n && i < total; k++) input[i++] = v;
  }
  return { name, input, run: (x: Int32Array, from, n) => encodeDictionaryIds(x.subarray(from, from + n), n, bits) };
}

const cases: Case[] = [
  levels('levels, no nulls', 0, 1),
  levels('levels, 1% nulls', 0.01, 2),
  levels('levels, 50% nulls', 0.5, 3),
  ...[1, 3, 6, 10, 14, 17, 20].map((b) => ids(`ids width ${b}, random`, b, 1, 10 + b)),
  ids('ids width 10, runs ~20', 10, 20, 40),
  ids('ids width 17, runs ~4', 17, 4, 41),
];

console.log(`RLE/bit-packed hybrid: ${total.toLocaleString('en-US')} values per pass, ${pageValues} values per call, median of ${passes} passes`);
for (const c of cases) {
  const times: number[] = [];
  let bytes = 0;
  for (let pass = 0; pass <= passes; pass++) {
    bytes = 0;
    const t0 = process.hrtime.bigint();
    for (let from = 0; from < total; from += pageValues) bytes += c.run(c.input as never, from, Math.min(pageValues, total - from)).length;
    if (pass > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9); // pass 0 warms up
  }
  const perSec = total / median(times);
  console.log(`${c.name.padEnd(26)} ${(perSec / 1e6).toFixed(0).padStart(5)} M values/s   ${(bytes / 1e6).toFixed(2).padStart(7)} MB out`);
}
