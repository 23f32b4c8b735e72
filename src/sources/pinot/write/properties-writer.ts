/**
 * `.properties` text exactly as Pinot writes it through Apache Commons Configuration 2
 * (`PropertiesConfiguration` + `PropertiesConfigurationLayout` + `PropertiesWriter`, with Pinot's
 * `LegacyListDelimiterHandler(',')`): the mirror of `../properties.ts`. No I/O.
 *
 * - Keys: `=`, `:`, space, tab, form feed and `\` get a backslash (`PropertiesWriter.escapeKey`); nothing
 *   else is escaped, so non-ASCII key characters stay raw (the file is then UTF-8, Java's default charset).
 * - Values: `\` doubled, `\b \t \n \f \r` as escapes, every other char below U+0020 or above U+007E as
 *   `\uXXXX` (upper-case hex; a supplementary code point becomes `\u1F600`, which is why Pinot refuses
 *   values with surrogates), then each `,` as `\,` (`LegacyListDelimiterHandler.escape`).
 * - Lists are one line, items joined by `,` (`escapeList`).
 * - `key = value` lines in first-`set` order, `\n` after each (`System.lineSeparator()` on Linux).
 */
import { splitListValue } from '../properties.js';

/** Separator Commons writes (`PropertiesConfiguration.DEFAULT_SEPARATOR`, Pinot's global separator too). */
export const PROPERTY_SEPARATOR = ' = ';
export const LINE_SEPARATOR = '\n';

const KEY_CHARS_TO_ESCAPE = new Set(['=', ':', ' ', '\t', '\f', '\\']);

/** `PropertiesWriter.escapeKey`. */
export function escapePropertyKey(key: string): string {
  let out = '';
  for (const c of key) out += KEY_CHARS_TO_ESCAPE.has(c) ? `\\${c}` : c;
  return out;
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

/**
 * The `ESCAPE_PROPERTIES` translator of `PropertiesWriter` (commons-text): `\` → `\\`, Java control
 * escapes, `UnicodeEscaper.outsideOf(32, 0x7f)` for the rest (by code point).
 */
export function escapePropertyText(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\') {
      out += '\\\\';
      continue;
    }
    const control = CONTROL_ESCAPES[ch];
    if (control !== undefined) {
      out += control;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp <= 0x7f) out += ch;
    else if (cp > 0xffff) out += `\\u${cp.toString(16).toUpperCase()}`;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

/** `LegacyListDelimiterHandler.escapeValue`: backslashes (doubled once more inside lists), then `,` → `\,`. */
function escapeValue(value: string, inList: boolean): string {
  const v = inList && value.includes('\\\\') ? value.replaceAll('\\\\', '\\\\\\\\') : value;
  return escapePropertyText(v).replaceAll(',', '\\,');
}

/** One value as `LegacyListDelimiterHandler.escape` writes it. */
export function escapePropertyValue(value: string): string {
  return escapeValue(value, false);
}

function trailingBackslashes(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n;
}

/** Several values on one line (`LegacyListDelimiterHandler.escapeList`). */
export function escapePropertyList(values: readonly string[]): string {
  if (values.length === 0) throw new RangeError('an empty list is not written');
  let last = escapeValue(values[0]!, true);
  let out = last;
  for (const value of values.slice(1)) {
    // A value ending in an escaped backslash pair would swallow the delimiter: escape it once more.
    if (last.endsWith('\\') && (trailingBackslashes(last) / 2) % 2 !== 0) out += '\\\\';
    out += ',';
    last = escapeValue(value, true);
    out += last;
  }
  return out;
}

/** Java `String.trim` at the end only: every trailing char ≤ U+0020. */
function trimEnd(line: string): string {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) <= 0x20) end--;
  return line.slice(0, end);
}

export interface PropertiesTextOptions {
  /**
   * The file as it is after Commons loaded and saved it again (Pinot's v1→v3 converter does this to add
   * `segment.index.version`): the reader trims each line and keeps the separator it saw, so an empty value
   * is written `key =` and trailing blanks are gone. Default false (first save: `key = `).
   */
  resaved?: boolean;
}

/**
 * A `PropertiesConfiguration` being filled with `setProperty` and then saved. `set` splits string values
 * on unescaped commas exactly as Commons does (`LegacyListDelimiterHandler`, items trimmed; `\,` keeps a
 * comma), so a value with a comma becomes a list unless the caller escaped it (Pinot replaces commas in
 * STRING values by NUL pairs for that reason, see `escapePinotString`). A key keeps the position of its
 * first `set`, even when a later `set` replaces its value; a key whose value is absent (`undefined`, `null`,
 * an empty list) is not written, but keeps its position for a later `set`.
 */
export class PropertiesBuilder {
  private readonly values = new Map<string, string[]>();

  set(key: string, value: string | readonly string[] | null | undefined): this {
    const items = value === null || value === undefined ? [] : typeof value === 'string' ? [value] : value;
    this.values.set(key, items.flatMap((item) => splitListValue(item)));
    return this;
  }

  has(key: string): boolean {
    return (this.values.get(key)?.length ?? 0) > 0;
  }

  /** Keys that will be written, in file order. */
  keys(): string[] {
    return [...this.values].filter(([, v]) => v.length > 0).map(([k]) => k);
  }

  /** The file text (`PropertiesConfigurationLayout.save`). */
  text(options: PropertiesTextOptions = {}): string {
    let out = '';
    for (const [key, items] of this.values) {
      if (items.length === 0) continue;
      const value = items.length === 1 ? escapePropertyValue(items[0]!) : escapePropertyList(items);
      out += propertyLine(key, value, options) + LINE_SEPARATOR;
    }
    return out;
  }
}

/** `escapedKey = escapedValue` (no line terminator); `resaved` as in PropertiesTextOptions. */
export function propertyLine(key: string, escapedValue: string, options: PropertiesTextOptions = {}): string {
  const line = escapePropertyKey(key) + PROPERTY_SEPARATOR + escapedValue;
  return options.resaved ? trimEnd(line) : line;
}
