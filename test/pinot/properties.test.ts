import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';
import {
  Properties, escapePinotString, parseProperties, splitListValue, unescapePinotString,
} from '../../src/sources/pinot/properties.js';
import { describeFixtures } from '../support/fixtures.js';

/** The single value of `key`, failing loudly when it is missing or a list. */
function one(props: Properties, key: string): string {
  const values = props.getList(key);
  expect(values, key).toHaveLength(1);
  return values[0]!;
}

describe('parseProperties: lines and separators', () => {
  it('accepts every separator form and trims key and value', () => {
    const p = parseProperties([
      'a = 1',
      'b=2',
      'c: 3',
      'd 4',
      'e\t5',
      '   f   =   six   ',
      'g',
      'h = = x',
      'i :=x',
      'j\f=\f7',
    ].join('\n'));
    expect(p.keys()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((k) => one(p, k))).toEqual(
      ['1', '2', '3', '4', '5', 'six', '', '= x', '=x', '7'],
    );
  });

  it('skips # and ! comments (also indented) and blank lines', () => {
    const p = parseProperties('# c1\n  ! c2\n\n   \t\nk = v\n#k = other\n');
    expect(p.keys()).toEqual(['k']);
    expect(one(p, 'k')).toBe('v');
  });

  it('handles \\n, \\r\\n and \\r line ends', () => {
    const p = parseProperties('a = 1\r\nb = 2\rc = 3\nd = 4');
    expect(p.entries()).toEqual([['a', ['1']], ['b', ['2']], ['c', ['3']], ['d', ['4']]]);
  });

  it('joins continuation lines (odd number of trailing backslashes) and strips their indent', () => {
    const p = parseProperties('a = one \\\n    two\\\n   three\nb = x\\\\\nc = y\\\\\\\n  z\n');
    expect(one(p, 'a')).toBe('one twothree');
    // Two backslashes are an escaped backslash, not a continuation.
    expect(one(p, 'b')).toBe('x\\');
    expect(one(p, 'c')).toBe('y\\z');
  });

  it('skips comment and blank lines inside a continuation, as Commons does', () => {
    const p = parseProperties('a = 1\\\n# not part of it\n\n  2\n');
    expect(one(p, 'a')).toBe('12');
  });

  it('drops a continuation left open at end of input', () => {
    const p = parseProperties('a = 1\nb = 2\\');
    expect(p.keys()).toEqual(['a']);
  });
});

describe('parseProperties: escapes', () => {
  it('unescapes separators and blanks in keys', () => {
    const p = parseProperties('\\=special.x = 1\nperiod.\\:colon.y = 2\na\\ b\\tc = 3\n\\u0041\\102 = 4\n');
    expect(p.keys()).toEqual(['=special.x', 'period.:colon.y', 'a b\tc', 'AB']);
  });

  it('unescapes \\uXXXX, \\t \\n \\r \\f \\b and \\\\ in values', () => {
    const p = parseProperties('k = \\u6F22\\u5b57 a\\tb\\nc\\rd\\fe\\bf \\\\ g\n');
    expect(one(p, 'k')).toBe('漢字 a\tb\nc\rd\fe\bf \\ g');
  });

  it('turns \\: \\= \\# \\! \\\' \\" into the char but keeps the backslash before other chars', () => {
    // Commons' classic unescaper (not java.util.Properties): `\q` stays `\q` when the value has no comma.
    const p = parseProperties('k = \\:\\=\\#\\!\\\'\\" \\q\\ z\n');
    expect(one(p, 'k')).toBe(':=#!\'" \\q\\ z');
  });

  it('keeps a trailing escaped NUL pair intact (Pinot STRING escaping)', () => {
    const p = parseProperties('k = {"a":1\\u0000\\u0000"b":2}\n');
    expect(one(p, 'k')).toBe('{"a":1\0\0"b":2}');
  });

  it('rejects a malformed \\u escape with a typed error naming the key', () => {
    let err: unknown;
    try {
      parseProperties('bad.key = x\\u12G4\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentFormatError);
    expect((err as SegmentFormatError).code).toBe('PINOT_BAD_METADATA');
    expect((err as SegmentFormatError).context.key).toBe('bad.key');
  });

  it('reads the ColumnMetadataTest value (CR/LF escapes, double backslashes, colons)', () => {
    const p = parseProperties('column.c.minValue = \\r\\n\\r\\n  utils   em::C:\\\\dir\\\\utils\\r\\nPSParentPath            : Mi\n');
    expect(one(p, 'column.c.minValue')).toBe('\r\n\r\n  utils   em::C:\\dir\\utils\r\nPSParentPath            : Mi');
  });
});

describe('parseProperties: lists and repeated keys', () => {
  it('splits on unescaped commas, trims items and keeps empty ones', () => {
    const p = parseProperties('cols = a, b ,c\nedge = ,x,\n');
    expect(p.getList('cols')).toEqual(['a', 'b', 'c']);
    expect(p.get('cols')).toBe('a');
    expect(p.getList('edge')).toEqual(['', 'x', '']);
    expect(p.getText('cols')).toBe('a,b,c');
  });

  it('reads \\, as a literal comma', () => {
    const p = parseProperties('k = a\\,b, c\n');
    expect(p.getList('k')).toEqual(['a,b', 'c']);
  });

  it('applies the list handler\'s second unescape only when a comma is present', () => {
    // File `\\\\` is `\\` after value unescaping; the list split then halves it again, but only in lists.
    const p = parseProperties('single = x\\\\\\\\y\nlisted = x\\\\\\\\y,z\nother = a\\qb,c\n');
    expect(one(p, 'single')).toBe('x\\\\y');
    expect(p.getList('listed')).toEqual(['x\\y', 'z']);
    expect(p.getList('other')).toEqual(['a\\qb', 'c']);
  });

  it('turns a repeated key into a list at its first position; get returns the first value', () => {
    const p = parseProperties('k = 1\nother = x\nk = 2\n');
    expect(p.keys()).toEqual(['k', 'other']);
    expect(p.getList('k')).toEqual(['1', '2']);
    expect(p.get('k')).toBe('1');
  });

  it('splitListValue leaves comma-free values untouched', () => {
    expect(splitListValue('  a\\b  ')).toEqual(['  a\\b  ']);
    expect(splitListValue('a\\')).toEqual(['a\\']);
    expect(splitListValue('a,b\\')).toEqual(['a', 'b\\']);
  });
});

describe('parseProperties: bytes', () => {
  it('decodes UTF-8 bytes', () => {
    const p = parseProperties(new TextEncoder().encode('k = caf\u00e9 \u6F22\n'));
    expect(one(p, 'k')).toBe('café 漢');
  });

  it('falls back to ISO-8859-1 for bytes that are not UTF-8, with \\u escapes still applied', () => {
    const bytes = Uint8Array.from([...Buffer.from('k = caf'), 0xe9, ...Buffer.from(' \\u00e9\n')]);
    expect(one(parseProperties(bytes), 'k')).toBe('café é');
  });

  it('ignores a UTF-8 byte order mark', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('k = v\n')]);
    expect(parseProperties(bytes).keys()).toEqual(['k']);
  });
});

describe('Pinot STRING value escaping', () => {
  it('recovers commas and protected edge spaces', () => {
    expect(unescapePinotString('a\0\0b\0\0c')).toBe('a,b,c');
    expect(unescapePinotString('\0 lead')).toBe(' lead');
    expect(unescapePinotString('trail \0')).toBe('trail ');
    expect(unescapePinotString('\0 \0')).toBe(' ');
    expect(unescapePinotString('')).toBe('');
  });

  it('leaves NULs that do not guard a space alone', () => {
    expect(unescapePinotString('\0x')).toBe('\0x');
    expect(unescapePinotString('x\0')).toBe('x\0');
    expect(unescapePinotString('a\0\0\0b')).toBe('a,\0b');
  });

  it('round-trips through escapePinotString and the properties syntax', () => {
    for (const value of [' a, b ', ',', '  ', 'plain', ', ,', ' x']) {
      const escaped = escapePinotString(value)!;
      expect(escaped).not.toContain(',');
      const line = `k = ${escaped.replaceAll('\0', '\\u0000')}`;
      expect(unescapePinotString(one(parseProperties(line), 'k')), JSON.stringify(value)).toBe(value);
    }
    expect(escapePinotString('emoji \u{1F600}')).toBeUndefined();
  });
});

describeFixtures('properties fixtures', 'fixtures/pinot-segments/metadata-only', (dir) => {
  it('parses metadata-with-unescaped.properties: licence header skipped, escaped min value', () => {
    const p = parseProperties(readFileSync(join(dir, 'metadata-with-unescaped.properties')));
    expect(p.keys()[0]).toBe('segment.padding.character');
    expect(one(p, 'segment.padding.character')).toBe('\0');
    expect(one(p, 'column.installation_output.minValue')).toBe(
      '\r\n\r\n  utils   em::C:\\dir\\utils\r\nPSParentPath            : Mi',
    );
    expect(p.getList('segment.datetime.column.names')).toEqual(['createdAt']);
  });

  it('turns the repeated star-tree keys of airlineStats into lists', () => {
    const p = parseProperties(readFileSync(join(dir, 'airlineStats-startree-2023', 'metadata.properties')));
    expect(p.getList('startree.v2.0.split.order')).toEqual(['AirlineID', 'Origin', 'Dest']);
    expect(p.getList('segment.datetime.column.names')).toEqual(['$ts$DAY', '$ts$MONTH', '$ts$WEEK', 'DaysSinceEpoch', 'ts', 'tsRaw']);
  });
});

describeFixtures('properties fixtures (v3 2017)', 'fixtures/pinot-segments/v3-2017-views/segment_0/v3', (dir) => {
  it('reads the old double-escaped padding as the literal text \\u0000 and an empty time column', () => {
    const p = parseProperties(readFileSync(join(dir, 'metadata.properties')));
    expect(one(p, 'segment.padding.character')).toBe('\\u0000');
    expect(one(p, 'segment.time.column.name')).toBe('');
    expect(p.getList('segment.dimension.column.names')).toEqual(['Description', 'Headline', 'Id', 'Link', 'PosterId']);
  });
});
