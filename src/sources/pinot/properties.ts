/**
 * Java `.properties` files read the way Pinot reads `metadata.properties` and `index_map` (§3.1):
 * Apache Commons Configuration 2 `PropertiesConfiguration` with `LegacyListDelimiterHandler(',')`.
 * Reproduced from Commons' reader (2.x): line joining, key/separator split, key and value unescaping,
 * then the list split. No I/O.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';

/**
 * Parsed properties, keys in file order. Every key holds a list of values: a value with unescaped commas
 * is split into several, and a repeated key appends to the first occurrence (Commons turns it into a
 * list). `get` returns the FIRST value, as Commons `getString` does (so a repeated key keeps its first
 * value, not its last).
 */
export class Properties {
  private readonly map: Map<string, string[]>;

  constructor(entries: Iterable<readonly [string, readonly string[]]> = []) {
    this.map = new Map();
    for (const [key, values] of entries) this.add(key, values);
  }

  /** Appends values to `key` (a repeated key accumulates, keeping its first position). */
  add(key: string, values: readonly string[]): void {
    const existing = this.map.get(key);
    if (existing) existing.push(...values);
    else this.map.set(key, [...values]);
  }

  get size(): number {
    return this.map.size;
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** First value (Commons `getString`); undefined when the key is absent. */
  get(key: string): string | undefined {
    return this.map.get(key)?.[0];
  }

  /** All values (Commons `getList`); empty when the key is absent. */
  getList(key: string): string[] {
    return [...(this.map.get(key) ?? [])];
  }

  /**
   * The values joined back with `,`: the text of a value that a writer failed to escape (items are
   * trimmed by the list split, so blanks around such commas are lost). Equals `get` for every value
   * Commons wrote, because its writer escapes commas.
   */
  getText(key: string): string | undefined {
    return this.map.get(key)?.join(',');
  }

  entries(): [string, string[]][] {
    return [...this.map].map(([k, v]) => [k, [...v]]);
  }
}

/** Parses `.properties` text, or bytes (UTF-8, falling back to ISO-8859-1 when not valid UTF-8). */
export function parseProperties(input: string | Uint8Array): Properties {
  const text = typeof input === 'string' ? input : decodePropertiesText(input);
  const props = new Properties();
  for (const line of logicalLines(text)) {
    const { key, value } = splitPropertyLine(line);
    const name = unescapePropertyKey(key);
    props.add(name, splitListValue(unescapePropertyValue(value, name)));
  }
  return props;
}

/** UTF-8 when the bytes are valid UTF-8 (modern writers), else ISO-8859-1 (the Java default for properties). */
export function decodePropertiesText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    text = new TextDecoder('latin1').decode(bytes);
  }
  // Java would keep a BOM as part of the first key; Pinot never writes one, so drop it.
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * Logical lines (Commons `PropertiesReader.readProperty`): physical lines end at `\n`, `\r` or `\r\n`;
 * comment (`#`, `!`) and blank lines are skipped even in the middle of a continuation; each line is
 * trimmed; an odd number of trailing backslashes joins the next line (without the last backslash). A
 * continuation still open at end of input is dropped, as Commons does.
 */
export function logicalLines(text: string): string[] {
  const out: string[] = [];
  let buffer: string | undefined;
  for (const raw of physicalLines(text)) {
    if (isCommentLine(raw)) continue;
    const line = javaTrim(raw);
    if (trailingBackslashes(line) % 2 === 1) {
      buffer = (buffer ?? '') + line.slice(0, -1);
      continue;
    }
    out.push((buffer ?? '') + line);
    buffer = undefined;
  }
  return out;
}

function physicalLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  // A final terminator does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function isCommentLine(line: string): boolean {
  const s = javaTrim(line);
  return s === '' || s[0] === '#' || s[0] === '!';
}

function trailingBackslashes(line: string): number {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n;
}

/** Java `String.trim`: strips every char ≤ U+0020 at both ends. */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Java regex `\s`. */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\x0B' || c === '\f' || c === '\r';
}

/**
 * Splits a logical line into its still-escaped key and value, like Commons' pattern
 * `((?:[\S&&[^\\=:]]|\\.)*+)(\s*(\s+|[=:])\s*)?(.*)`: the key runs to the first unescaped blank, `=` or
 * `:`; the separator is blanks around at most one `=`/`:` (or blanks alone); the rest is the value.
 */
export function splitPropertyLine(line: string): { key: string; value: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\') {
      if (i + 1 >= line.length) break;
      i += 2;
    } else if (isSpace(c) || c === '=' || c === ':') {
      break;
    } else {
      i++;
    }
  }
  const key = line.slice(0, i);
  let j = i;
  while (j < line.length && isSpace(line[j]!)) j++;
  if (j < line.length && (line[j] === '=' || line[j] === ':')) {
    j++;
    while (j < line.length && isSpace(line[j]!)) j++;
  }
  return { key: javaTrim(key), value: javaTrim(line.slice(j)) };
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Key unescaping (commons-text `StringEscapeUtils.unescapeJava`): `\uXXXX` (extra `u`s and a `+` allowed),
 * octal `\0`–`\377`, `\b \f \n \r \t`, and a backslash before any other char yields that char
 * (`\=`, `\:`, `\ `, `\\`). A lone trailing backslash is dropped.
 */
export function unescapePropertyKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const next = raw[i + 1];
    if (next === undefined) break;
    if (next >= '0' && next <= '7') {
      let end = i + 2;
      if (isOctal(raw[end])) {
        end++;
        if (isOctal(raw[end]) && next <= '3') end++;
      }
      out += String.fromCharCode(parseInt(raw.slice(i + 1, end), 8));
      i = end;
    } else if (next === 'u') {
      let j = i + 1;
      while (raw[j] === 'u') j++;
      if (raw[j] === '+') j++;
      const hex = raw.slice(j, j + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw badUnicode(raw, hex);
      out += String.fromCharCode(parseInt(hex, 16));
      i = j + 4;
    } else {
      out += CONTROL_ESCAPES[next] ?? next;
      i += 2;
    }
  }
  return out;
}

function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '7';
}

/** Chars whose escape Commons' classic value unescaper removes; other unknown escapes keep the backslash. */
const UNESCAPED_CHARS = ':#=!\\\'"';

/**
 * Value unescaping (Commons `PropertiesConfiguration.unescapeJava(value, false)`): `\uXXXX`,
 * `\b \f \n \r \t`, and `\` before one of `: # = ! \ ' "` yields that char. Before any other char the
 * backslash is KEPT (so `\,` survives for the list split, and `\q` stays `\q`). A trailing lone backslash
 * is kept; an unfinished `\u` at the end is dropped.
 */
export function unescapePropertyValue(raw: string, key = ''): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let hadSlash = false;
  let unicode: string | undefined;
  for (const ch of raw) {
    if (unicode !== undefined) {
      unicode += ch;
      if (unicode.length === 4) {
        // Java Integer.parseInt(s, 16): an optional sign, then hex digits; the char keeps the low 16 bits.
        if (!/^[+-]?[0-9a-fA-F]+$/.test(unicode)) throw badUnicode(key, unicode);
        out += String.fromCharCode(parseInt(unicode, 16) & 0xffff);
        unicode = undefined;
      }
      continue;
    }
    if (hadSlash) {
      hadSlash = false;
      if (ch === 'u') {
        unicode = '';
      } else if (CONTROL_ESCAPES[ch] !== undefined) {
        out += CONTROL_ESCAPES[ch];
      } else {
        if (!UNESCAPED_CHARS.includes(ch)) out += '\\';
        out += ch;
      }
      continue;
    }
    if (ch === '\\') hadSlash = true;
    else out += ch;
  }
  if (hadSlash) out += '\\';
  return out;
}

function badUnicode(key: string, digits: string): SegmentFormatError {
  return new SegmentFormatError(ErrorCodes.PINOT_BAD_METADATA, `malformed \\u escape "\\u${digits}"`, {
    context: key === '' ? {} : { key },
  });
}

/**
 * The legacy list split (Commons `LegacyListDelimiterHandler.splitString(value, true)`): a value without
 * a comma is one item, untouched. Otherwise it splits on unescaped `,`, trims each item, keeps empty
 * items, and turns `\,` into `,` and `\\` into `\` (a backslash before anything else stays).
 */
export function splitListValue(value: string): string[] {
  if (!value.includes(',')) return [value];
  const items: string[] = [];
  let token = '';
  let inEscape = false;
  for (const c of value) {
    if (inEscape) {
      if (c !== ',' && c !== '\\') token += '\\';
      token += c;
      inEscape = false;
    } else if (c === ',') {
      items.push(javaTrim(token));
      token = '';
    } else if (c === '\\') {
      inEscape = true;
    } else {
      token += c;
    }
  }
  if (inEscape) token += '\\';
  items.push(javaTrim(token));
  return items;
}

/**
 * Undoes Pinot's escaping of STRING values (`recoverSpecialCharacterInPropertyValue`): a NUL before a
 * leading space and a NUL after a trailing space are dropped, then every NUL pair becomes a comma.
 * Apply only to minValue/maxValue/defaultNullValue of STRING-stored columns, after property unescaping.
 */
export function unescapePinotString(value: string): string {
  let v = value;
  if (v.startsWith('\0 ')) v = v.slice(1);
  if (v.endsWith(' \0')) v = v.slice(0, -1);
  return v.replaceAll('\0\0', ',');
}

/**
 * Pinot's escaping of STRING values before they go into properties (`replaceSpecialCharacterInPropertyValue`):
 * commas become NUL pairs, a leading space gets a NUL before it, a trailing space a NUL after it.
 * Undefined for values with surrogate chars, which Pinot refuses to write.
 */
export function escapePinotString(value: string): string | undefined {
  if (value === '') return value;
  if (/[\uD800-\uDFFF]/.test(value)) return undefined;
  let v = value.replaceAll(',', '\0\0');
  if (v.startsWith(' ')) v = `\0${v}`;
  if (v.endsWith(' ')) v = `${v}\0`;
  return v;
}
