/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written for the tests from the format's
 * description (not prom-client's code), so `/metrics` is checked by something that did not produce it.
 * It rejects: unknown `# TYPE` kinds, a TYPE or HELP given twice, samples before (or without) their family's
 * TYPE, families split in two, invalid metric or label names, bad escapes in label values and HELP text,
 * unparsable values, duplicate series, and histograms whose buckets are not cumulative or whose `+Inf`
 * bucket differs from `_count`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

export class ExpositionError extends Error {}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  if (text !== '' && !text.endsWith('\n')) throw new ExpositionError('the exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const fail = (msg: string): never => {
      throw new ExpositionError(`line ${i + 1}: ${msg}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(`invalid metric name ${name}`);
      if (kind === 'HELP') {
        if (helps.has(name)) fail(`second HELP for ${name}`);
        helps.set(name, unescape(rest, false, fail));
        const fam = families.get(name);
        if (fam !== undefined) fam.help = helps.get(name);
        return;
      }
      if (!(TYPES as readonly string[]).includes(rest)) fail(`unknown type ${rest}`);
      if (families.has(name)) fail(`second TYPE for ${name}`);
      if (current !== undefined) closed.add(current);
      families.set(name, { name, type: rest as MetricType, help: helps.get(name), samples: [] });
      current = name;
      return;
    }
    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, families);
    if (family === undefined) fail(`sample ${sample.name} has no # TYPE before it`);
    if (closed.has(family!.name) || family!.name !== current) fail(`samples of ${family!.name} are not contiguous`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) fail(`duplicate series ${key}`);
    series.add(key);
    family!.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined && direct.type !== 'histogram') return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (base === undefined) continue;
    if (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket')) return base;
  }
  return direct;
}

function parseSample(line: string, fail: (msg: string) => never): Sample {
  let pos = 0;
  const nameMatch = /^[^\s{]+/.exec(line);
  if (nameMatch === null) fail('no metric name');
  const name = nameMatch![0];
  if (!METRIC_NAME.test(name)) fail(`invalid metric name ${name}`);
  pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const ln = /^[^=\s]+/.exec(line.slice(pos));
      if (ln === null) fail('expected a label name');
      const labelName = ln![0];
      if (!LABEL_NAME.test(labelName)) fail(`invalid label name ${labelName}`);
      if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} twice`);
      pos += labelName.length;
      if (line.slice(pos, pos + 2) !== '="') fail(`expected =" after ${labelName}`);
      pos += 2;
      let raw = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined) fail('unterminated label value');
        if (ch === '"') break;
        if (ch === '\\') {
          raw += line.slice(pos, pos + 2);
          pos += 2;
          continue;
        }
        raw += ch;
        pos++;
      }
      pos++;
      labels[labelName] = unescape(raw, true, fail);
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') fail('expected , or } after a label value');
    }
  }
  if (line[pos] !== ' ') fail('expected a space before the value');
  const parts = line.slice(pos + 1).split(' ');
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') fail('expected "value [timestamp]"');
  const value = parseValue(parts[0]!, fail);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(`bad timestamp ${parts[1]}`);
  return { name, labels, value };
}

function parseValue(text: string, fail: (msg: string) => never): number {
  // Values are Go ParseFloat input (Prometheus parses them so): NaN and Inf in any case (prom-client writes `Nan`).
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`bad value ${text}`);
  return Number(text);
}

/** Label values: `\\`, `\"`, `\n`; HELP text: `\\`, `\n`. Anything else after a backslash is an error. */
function unescape(raw: string, quotes: boolean, fail: (msg: string) => never): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== '\\') {
      if (quotes && ch === '"') fail('unescaped quote in a label value');
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quotes) out += '"';
    else fail(`bad escape \\${next ?? ''}`);
  }
  return out;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new ExpositionError(`${s.name} without le`);
      g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) g.count = s.value;
    else if (s.name.endsWith('_sum')) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new ExpositionError(`${family.name}${key}: buckets are not cumulative`);
    }
    const inf = sorted.at(-1);
    if (inf === undefined || inf[0] !== Infinity) throw new ExpositionError(`${family.name}${key}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined) throw new ExpositionError(`${family.name}${key}: _count or _sum missing`);
    if (inf[1] !== g.count) throw new ExpositionError(`${family.name}${key}: +Inf bucket ${inf[1]} ≠ _count ${g.count}`);
  }
}

/** The value of one series; undefined when absent. Labels must match exactly. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
    }
  }
  return undefined;
}
