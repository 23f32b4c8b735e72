/**
 * Property test: random schemas × encodings (dictionary, fixed/var-length dictionary, MV_ENTRY_DICT, raw with
 * every writer version 2–6 and every chunk codec, small and default chunk sizes), null patterns (none, some,
 * all; null handling on and off), MV shapes (empty, null elements, one value, many), both layouts and both
 * flavours (a realtime commit reorders by a sorted column) → writeSegment → SegmentReader → the rows an
 * independent oracle expects from Pinot's ingestion rules.
 *
 * Bounded: ROUNDTRIP_CASES cases per run (default 14). The seed is printed; replay with ROUNDTRIP_SEED=<seed>.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatFloat32 } from '../../src/cli/json-rows.js';
import { Random } from '../../src/generate/random.js';
import { rowsSource, writeSegment } from '../../src/sources/pinot/write/segment-writer.js';
import { readRows, stripTrailingZerosPlain, type Row } from '../support/rows.js';

const SEED = process.env.ROUNDTRIP_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.ROUNDTRIP_CASES ?? 14);
console.info(`[roundtrip] seed=${SEED} cases=${CASES} (replay: ROUNDTRIP_SEED=${SEED})`);

const temp = mkdtempSync(join(tmpdir(), 'pinot-roundtrip-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

type Type = 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP' | 'STRING' | 'JSON' | 'BYTES' | 'BIG_DECIMAL';
const TYPES: Type[] = ['INT', 'LONG', 'FLOAT', 'DOUBLE', 'BOOLEAN', 'TIMESTAMP', 'STRING', 'JSON', 'BYTES', 'BIG_DECIMAL'];
const CODECS = ['PASS_THROUGH', 'SNAPPY', 'ZSTANDARD', 'LZ4', 'GZIP'];

interface Column {
  name: string;
  type: Type;
  sv: boolean;
  metric: boolean;
  raw: boolean;
  nullRate: number;
}

/** Text with the characters that stress ordering and escaping: comma, edge spaces, é, CJK, U+E000, an emoji. */
const ALPHABET = ['a', 'b', 'z', 'A', ',', ' ', '=', 'é', '漢', '\uE000', '\uFFFD', '😀', '0', '\\'];

function value(type: Type, r: Random): unknown {
  switch (type) {
    case 'INT': return r.pick([0, 1, -1, 2147483647, -2147483648, r.int(-1000, 1000), r.int(-2e9, 2e9)]);
    case 'LONG': return r.chance(0.3) ? BigInt.asIntN(64, BigInt(r.int(0, 2 ** 31)) * BigInt(r.int(0, 2 ** 31)) * 7n) : r.int(-1e15, 1e15);
    case 'FLOAT': return r.pick([-0, 0.5, r.int(-4000, 4000) / 4, Math.fround(r.gaussian() * 1e30), 3.4028234663852886e38]);
    case 'DOUBLE': return r.pick([-0, 5e-324, 1e300, -Infinity, Number.NaN, r.gaussian() * 1e6, r.next()]);
    case 'BOOLEAN': return r.chance(0.5);
    case 'TIMESTAMP': return Date.UTC(2026, 0, 1) + r.int(-1e9, 1e9);
    case 'STRING': {
      let s = '';
      for (let n = r.int(0, 12); n > 0; n--) s += r.pick(ALPHABET);
      return s;
    }
    case 'JSON': return JSON.stringify({ k: r.pick(ALPHABET), n: r.int(0, 100) });
    case 'BYTES': {
      const b = r.bytes(r.int(0, 14));
      return r.chance(0.5) ? b : Buffer.from(b).toString('hex');
    }
    case 'BIG_DECIMAL': return r.pick(['0', '-0.00', '1.50', '1E+3', '-1e-10', '123456789012345678901234567890.1200', `${r.int(-1e6, 1e6)}.${r.int(0, 1000)}0`]);
  }
}

/** What `cat` prints for a stored input value (the oracle side of Pinot's rules; null = becomes null). */
function expected(type: Type, v: unknown): unknown {
  switch (type) {
    case 'INT': case 'TIMESTAMP': return v;
    case 'LONG': {
      const b = BigInt(v as number | bigint);
      return b >= -(2n ** 53n) && b <= 2n ** 53n ? Number(b) : b.toString();
    }
    case 'FLOAT': return formatFloat32(Math.fround(v as number) + 0);
    case 'DOUBLE': {
      const d = (v as number) + 0;
      return Number.isNaN(d) ? null : Number.isFinite(d) ? d : String(d);
    }
    case 'BOOLEAN': case 'STRING': case 'JSON': return v;
    case 'BYTES': return typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('hex');
    case 'BIG_DECIMAL': return stripTrailingZerosPlain(v as string);
  }
}

function defaultOf(c: Column): unknown {
  switch (c.type) {
    case 'INT': return c.metric ? 0 : -2147483648;
    case 'LONG': return c.metric ? 0 : '-9223372036854775808';
    case 'FLOAT': case 'DOUBLE': return c.metric ? 0 : '-Infinity';
    case 'BOOLEAN': return false;
    case 'TIMESTAMP': return 0;
    case 'STRING': case 'JSON': return 'null';
    case 'BYTES': return '';
    case 'BIG_DECIMAL': return '0';
  }
}

function makeColumns(r: Random): Column[] {
  const n = r.int(2, 7);
  return Array.from({ length: n }, (_, i) => {
    const type = r.pick(TYPES);
    const sv = type === 'BIG_DECIMAL' || type === 'JSON' ? true : r.chance(0.6);
    const metric = sv && ['INT', 'LONG', 'FLOAT', 'DOUBLE', 'BIG_DECIMAL'].includes(type) && r.chance(0.4);
    return { name: `c${i}_${type.toLowerCase()}`, type, sv, metric, raw: r.chance(0.45), nullRate: r.pick([0, 0, 0.1, 0.5, 1]) };
  });
}

function fieldConfig(c: Column, r: Random): Record<string, unknown> | undefined {
  if (c.raw) {
    const intLike = c.sv && ['INT', 'LONG', 'BOOLEAN', 'TIMESTAMP'].includes(c.type);
    const forward: Record<string, unknown> = {
      compressionCodec: r.pick(intLike ? [...CODECS, 'DELTA', 'DELTADELTA'] : CODECS),
      rawIndexWriterVersion: r.pick([2, 3, 4, 5, 6]),
    };
    if (r.chance(0.5)) forward.targetDocsPerChunk = r.pick([1, 3, 64]);
    if (r.chance(0.3)) forward.targetMaxChunkSize = r.pick(['4K', '100']);
    return { name: c.name, encodingType: 'RAW', indexes: { forward } };
  }
  if (!c.sv && r.chance(0.5)) return { name: c.name, encodingType: 'DICTIONARY', indexes: { forward: { compressionCodec: 'MV_ENTRY_DICT' } } };
  return undefined;
}

for (let k = 0; k < CASES; k++) {
  it(`case ${k} (seed ${SEED})`, async () => {
    const r = Random.stream(SEED, 'case', k);
    const columns = makeColumns(r);
    const nullHandling = r.chance(0.6);
    const docs = r.pick([1, 2, 7, r.int(1, 400), r.int(900, 2600)]);
    const rows: Row[] = [];
    for (let d = 0; d < docs; d++) {
      const row: Row = {};
      for (const c of columns) {
        if (r.chance(c.nullRate)) continue;
        row[c.name] = c.sv ? value(c.type, r) : Array.from({ length: r.pick([0, 1, 1, 2, 5, 20]) }, () => (r.chance(0.1) ? null : value(c.type, r)));
      }
      rows.push(row);
    }
    const sortable = columns.filter((c) => c.sv && !c.raw);
    const realtime = sortable.length > 0 && r.chance(0.4);
    const sorted = realtime ? r.pick(sortable) : undefined;
    const varLength = columns.filter((c) => !c.raw && ['STRING', 'JSON', 'BYTES', 'BIG_DECIMAL'].includes(c.type) && r.chance(0.5)).map((c) => c.name);
    const schema = {
      schemaName: 'rt',
      dimensionFieldSpecs: columns.filter((c) => !c.metric).map((c) => ({ name: c.name, dataType: c.type, ...(c.sv ? {} : { singleValueField: false }) })),
      metricFieldSpecs: columns.filter((c) => c.metric).map((c) => ({ name: c.name, dataType: c.type })),
    };
    const table = {
      tableName: realtime ? 'rt_REALTIME' : 'rt_OFFLINE',
      tableIndexConfig: {
        nullHandlingEnabled: nullHandling,
        noDictionaryColumns: columns.filter((c) => c.raw).map((c) => c.name),
        varLengthDictionaryColumns: varLength,
        ...(sorted ? { sortedColumn: [sorted.name] } : {}),
      },
      fieldConfigList: columns.map((c) => fieldConfig(c, r)).filter((f) => f !== undefined),
    };
    const layout = r.pick(['v1', 'v3'] as const);
    const written = await writeSegment({
      schema, table, source: rowsSource(rows), outDir: temp, segmentName: `case_${k}`, layout,
      flavour: realtime ? 'realtime-commit' : 'batch', offsets: realtime ? { start: '0', end: String(docs) } : undefined,
    });

    // Oracle: per doc, the value `cat` must print.
    const want = rows.map((row) => {
      const out: Row = {};
      for (const c of columns) {
        const input = row[c.name];
        if (c.sv) {
          const e = input === undefined ? null : expected(c.type, input);
          out[c.name] = e === null ? (nullHandling ? null : defaultOf(c)) : e;
        } else {
          const values = ((input ?? []) as unknown[]).filter((x) => x !== null).map((x) => expected(c.type, x)).filter((x) => x !== null);
          out[c.name] = values.length > 0 ? values : nullHandling ? null : [defaultOf(c)];
        }
      }
      return out;
    });
    const order = want.map((_, i) => i);
    if (sorted) order.sort((a, b) => compareStored(sorted, storedKey(sorted, rows[a]![sorted.name], nullHandling), storedKey(sorted, rows[b]![sorted.name], nullHandling)) || a - b);
    const got = await readRows(written.dir, { batchRows: r.pick([1, 100, 65536]) });
    const context = `seed ${SEED} case ${k}: ${JSON.stringify({ columns, nullHandling, docs, layout, sorted: sorted?.name, table: table.fieldConfigList })}`;
    expect(got.length, context).toBe(docs);
    for (let i = 0; i < docs; i++) expect({ doc: i, ...got[i] }, context).toStrictEqual({ doc: i, ...want[order[i]!] });
  });
}

/** The stored value a sorted column orders by (the default when the input was null). */
function storedKey(c: Column, input: unknown, nullHandling: boolean): unknown {
  const e = input === undefined ? null : expected(c.type, input);
  void nullHandling;
  return e === null ? defaultOf(c) : e;
}

/** Pinot's dictionary order of stored values, on the oracle's printed forms. */
function compareStored(c: Column, a: unknown, b: unknown): number {
  switch (c.type) {
    case 'STRING': case 'JSON': return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case 'BYTES': return Buffer.compare(Buffer.from(a as string, 'hex'), Buffer.from(b as string, 'hex'));
    case 'BOOLEAN': return Number(a) - Number(b);
    case 'BIG_DECIMAL': return decimalCompare(a as string, b as string);
    case 'LONG': {
      const x = BigInt(a as number | string);
      const y = BigInt(b as number | string);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default: {
      const x = Number(a);
      const y = Number(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

function decimalCompare(a: string, b: string): number {
  const scaleOf = (s: string): number => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);
  const scale = Math.max(scaleOf(a), scaleOf(b));
  const big = (s: string): bigint => BigInt(s.replace('.', '') + '0'.repeat(scale - scaleOf(s)));
  const x = big(a);
  const y = big(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
