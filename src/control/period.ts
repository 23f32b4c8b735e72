/**
 * Pinot period strings (`TimeUtils.convertPeriodToMillis`, a Joda PeriodFormatter of days, hours, minutes
 * and seconds in that order): `1d`, `6h`, `30m`, `45s`, `1d12h`, `2h30m15s`. Each part is optional, at least
 * one is required, suffixes are case-insensitive. Months, weeks and milliseconds are not part of the format.
 */
const PERIOD = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i;

export const PERIOD_ACCEPTS = "a Pinot period: days, hours, minutes, seconds in that order, e.g. '1d', '6h', '30m', '1d12h', '2h30m15s'";

/** Milliseconds of a period string, or undefined when it is not one. */
export function parsePeriodMs(text: string): number | undefined {
  const m = PERIOD.exec(text);
  if (m === null || text === '') return undefined;
  const [, d, h, min, s] = m;
  const ms = (Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The canonical short form of a duration (`90061000` → `1d1h1m1s`, `0` → `0s`). */
export function formatPeriod(ms: number): string {
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '0s' : parts.join('');
}
