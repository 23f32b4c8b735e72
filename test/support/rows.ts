import { readFileSync } from 'node:fs';
import { isInteger, parse } from 'lossless-json';
import { batchToRows } from '../../src/cli/json-rows.js';
import { SegmentReader, type SegmentReaderOptions } from '../../src/sources/segment-reader.js';
import type { BatchOptions } from '../../src/sources/pinot/segment.js';

export type Row = Record<string, unknown>;

/** All rows of a segment as `cat` prints them (JSON-ready values). */
export async function readRows(location: string, options: BatchOptions = {}, readerOptions: SegmentReaderOptions = {}): Promise<Row[]> {
  const reader = await SegmentReader.open(location, readerOptions);
  try {
    const rows: Row[] = [];
    for await (const batch of reader.batches(options)) rows.push(...batchToRows(batch));
    return rows;
  } finally {
    await reader.close();
  }
}

/**
 * JSON Lines parsed without losing 64-bit integers: an integer outside ±2^53 becomes its decimal string,
 * which is how `cat` prints such a LONG.
 */
export function readJsonLines(path: string): Row[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => parse(l, undefined, (text) => {
      if (isInteger(text)) {
        const big = BigInt(text);
        return big >= -(2n ** 53n) && big <= 2n ** 53n ? Number(text) : big.toString();
      }
      return Number(text);
    }) as Row);
}

/**
 * An independent BigDecimal normaliser for expectations: `new BigDecimal(s).stripTrailingZeros().toPlainString()`.
 */
export function stripTrailingZerosPlain(s: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  const sign = m[1] === '-' ? '-' : '';
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  let digits = (intPart + frac).replace(/^0+/, '');
  let scale = frac.length - Number(m[4] ?? '0');
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale -= 1;
  }
  if (scale <= 0) return sign + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return sign + padded.slice(0, padded.length - scale) + '.' + padded.slice(padded.length - scale);
}
