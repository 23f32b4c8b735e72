/**
 * LLC (realtime) segment names, as Pinot's `LLCSegmentName` builds and splits them (§1.1):
 * `<rawTableName>__<partitionGroupId>__<sequenceNumber>__<yyyyMMdd'T'HHmm'Z'>`, time in UTC at minute
 * resolution. No I/O.
 */

const SEPARATOR = '__';
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

export interface LlcSegmentName {
  table: string;
  partition: number;
  sequence: number;
  /** The time part as written, e.g. `20261126T0000Z`. */
  creationTime: string;
  /** `creationTime` as epoch ms; undefined when it is not a valid `yyyyMMdd'T'HHmm'Z'` text (Pinot parses it lazily). */
  creationTimeMs?: number;
}

function checkInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < INT_MIN || value > INT_MAX) throw new RangeError(`${what} must be a Java int, got ${value}`);
}

/** `yyyyMMdd'T'HHmm'Z'` in UTC (Joda `DateTimeFormat`, years padded to at least 4 digits). */
export function formatLlcTime(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date;
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  const year = d.getUTCFullYear();
  if (year < 0) throw new RangeError(`year ${year} cannot be written as yyyy`);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}Z`;
}

/** `new LLCSegmentName(table, partition, sequence, msSinceEpoch).getSegmentName()`. */
export function llcSegmentName(table: string, partition: number, sequence: number, date: Date | number): string {
  if (table.includes(SEPARATOR)) throw new RangeError(`illegal table name ${JSON.stringify(table)}: it contains "__"`);
  checkInt(partition, 'partition group id');
  checkInt(sequence, 'sequence number');
  return [table, String(partition), String(sequence), formatLlcTime(date)].join(SEPARATOR);
}

/** Commons Lang `StringUtils.splitByWholeSeparator`: runs of the separator count once. */
function splitByWholeSeparator(s: string): string[] {
  const out: string[] = [];
  let begin = 0;
  let end = 0;
  while (end < s.length) {
    end = s.indexOf(SEPARATOR, begin);
    if (end > -1) {
      if (end > begin) out.push(s.slice(begin, end));
      begin = end + SEPARATOR.length;
    } else {
      out.push(s.slice(begin));
      end = s.length;
    }
  }
  return out;
}

/** Java `Integer.parseInt` (decimal, optional sign). */
function parseJavaInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= INT_MIN && n <= INT_MAX ? n : undefined;
}

/** Epoch ms of a strict `yyyyMMdd'T'HHmm'Z'` text, or undefined. */
export function parseLlcTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute);
  const d = new Date(ms);
  // Reject rolled-over fields (month 13, Feb 30, hour 24 …), which Joda refuses.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || d.getUTCHours() !== hour || d.getUTCMinutes() !== minute) {
    return undefined;
  }
  return ms;
}

/**
 * `LLCSegmentName.of(name)`: the four parts, or undefined when the name is not an LLC name (not exactly four
 * `__`-separated parts, or partition/sequence not Java ints).
 */
export function parseLlcSegmentName(name: string): LlcSegmentName | undefined {
  const parts = splitByWholeSeparator(name);
  if (parts.length !== 4) return undefined;
  const [table, partitionText, sequenceText, creationTime] = parts as [string, string, string, string];
  const partition = parseJavaInt(partitionText);
  const sequence = parseJavaInt(sequenceText);
  if (partition === undefined || sequence === undefined) return undefined;
  const creationTimeMs = parseLlcTime(creationTime);
  return creationTimeMs === undefined ? { table, partition, sequence, creationTime } : { table, partition, sequence, creationTime, creationTimeMs };
}

/** `LLCSegmentName.isLLCSegment`: exactly three non-overlapping `__`. */
export function isLlcSegmentName(name: string): boolean {
  let count = 0;
  for (let i = name.indexOf(SEPARATOR); i !== -1; i = name.indexOf(SEPARATOR, i + SEPARATOR.length)) count++;
  return count === 3;
}
