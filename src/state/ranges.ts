/**
 * Sets of non-negative integers (LLC sequence numbers) as sorted, disjoint, non-adjacent inclusive ranges:
 * `[[0, 41], [43, 45]]` = 0…41 and 43…45. A partition whose segments are all exported is one range, so a
 * table with 100k segments costs a few bytes per partition plus a few per gap. Pure functions; inputs are
 * never mutated.
 */

export type SeqRange = [number, number];
export type SeqRanges = SeqRange[];

/** Whether `seq` is in the set (binary search). */
export function rangesHas(ranges: readonly SeqRange[], seq: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [a, b] = ranges[mid]!;
    if (seq < a) hi = mid - 1;
    else if (seq > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The set with `from…to` (inclusive) added, merged with overlapping and adjacent ranges. */
export function rangesAdd(ranges: readonly SeqRange[], from: number, to: number = from): SeqRanges {
  if (to < from) return ranges.map(([a, b]) => [a, b]);
  const out: SeqRanges = [];
  let lo = from;
  let hi = to;
  let placed = false;
  for (const [a, b] of ranges) {
    if (b + 1 < lo) {
      out.push([a, b]);
    } else if (hi + 1 < a) {
      if (!placed) {
        out.push([lo, hi]);
        placed = true;
      }
      out.push([a, b]);
    } else {
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  if (!placed) out.push([lo, hi]);
  return out;
}

/** The largest number in the set, or undefined when empty. */
export function rangesMax(ranges: readonly SeqRange[]): number | undefined {
  return ranges.length === 0 ? undefined : ranges[ranges.length - 1]![1];
}

/** Number of members (for reports and tests). */
export function rangesCount(ranges: readonly SeqRange[]): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

/**
 * Checks the invariants (each range `[a, b]` with integers 0 ≤ a ≤ b, sorted, disjoint, non-adjacent) and
 * returns a description of the first violation, or undefined.
 */
export function rangesProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'expected an array of [from, to] pairs';
  let prev = -2;
  for (let i = 0; i < value.length; i++) {
    const r: unknown = value[i];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
      return `[${i}]: expected [from, to] with non-negative integers, got ${JSON.stringify(r)}`;
    }
    const [a, b] = r as [number, number];
    if (a > b) return `[${i}]: from ${a} > to ${b}`;
    if (a <= prev + 1) return `[${i}]: ranges must be sorted, disjoint and non-adjacent (${a} after ${prev})`;
    prev = b;
  }
  return undefined;
}
