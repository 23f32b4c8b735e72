/**
 * Data-generator presets: a schema, a table config and, per column, a deterministic value stream for one
 * segment. Values come out column by column in chunks, from an independent random stream per
 * (seed, segment, column), so the segment writer can ask for a column again and get the same values.
 *
 * - `events`: a REALTIME table like the Pinot 1.5.1 `events` fixture — epoch-ms TIMESTAMP time column, low- and
 *   high-cardinality strings, JSON, BYTES, BOOLEAN, MV INT and MV STRING, LONG/FLOAT/DOUBLE/BIG_DECIMAL
 *   metrics, nulls in most columns, null handling on, raw (LZ4 and ZSTANDARD) and dictionary columns.
 * - `baseball`: the shape of Pinot's `baseballStats` example segment — 20 INT metrics, INT `yearID`, STRING
 *   dimensions with fixed-width dictionaries and realistic cardinalities (players ≈ 18.5 % of rows, names ≈ 12 %,
 *   149 teams, 7 leagues, 143 years), no time column, no nulls.
 * - `schemaPreset`: any Pinot schema, with generic values per data type.
 */
import { ConfigError, ErrorCodes } from '../errors.js';
import type { DataType } from '../sources/pinot/types.js';
import { Random } from './random.js';

export interface PresetContext {
  /** Rows of this segment. */
  rows: number;
  /** Segment index in the generated series (0, 1, …). */
  segment: number;
  seed: number | string;
  /** Time range of this segment: [startMs, endMs). */
  startMs: number;
  endMs: number;
}

export interface Preset {
  name: string;
  schema: Record<string, unknown>;
  table: Record<string, unknown>;
  /** Time covered by one segment; consecutive segments get consecutive ranges. */
  segmentSpanMs: number;
  /** Values of one column of one segment, in doc order, in chunks. */
  column(name: string, ctx: PresetContext): Iterable<unknown[]>;
}

export const CHUNK_ROWS = 65_536;

/** Chunks of `rows` values made by `value(i, rng)` from the column's own stream. */
function* chunks(ctx: PresetContext, column: string, value: (i: number, rng: Random) => unknown): Iterable<unknown[]> {
  const rng = Random.stream(ctx.seed, 'segment', ctx.segment, 'column', column);
  for (let start = 0; start < ctx.rows; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, ctx.rows - start);
    const out = new Array<unknown>(n);
    for (let k = 0; k < n; k++) out[k] = value(start + k, rng);
    yield out;
  }
}

function repeat<T>(n: number, make: () => T): T[] {
  const out = new Array<T>(n);
  for (let k = 0; k < n; k++) out[k] = make();
  return out;
}

/** `value` or null with probability `p`. */
function maybeNull(rng: Random, p: number, value: () => unknown): unknown {
  return rng.chance(p) ? null : value();
}

const GREEK = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
const COUNTRIES = ['US', 'DE', 'FR', 'BR', 'JP', 'IN', 'GB', 'CA', 'AU', 'MX', 'ES', 'IT'];

/** Epoch ms of doc i: strictly spread over the segment's range, non-decreasing (so `ts` is a sorted column). */
function timestampAt(ctx: PresetContext, i: number, rng: Random): number {
  const span = ctx.endMs - ctx.startMs;
  const step = Math.floor(span / ctx.rows);
  return ctx.startMs + Math.floor((i * span) / ctx.rows) + (step > 1 ? rng.int(0, step) : 0);
}

const EVENTS_SCHEMA = {
  schemaName: 'events',
  dimensionFieldSpecs: [
    { name: 'user_id', dataType: 'INT' },
    { name: 'is_active', dataType: 'BOOLEAN' },
    { name: 'country', dataType: 'STRING' },
    { name: 'session_id', dataType: 'STRING' },
    { name: 'payload', dataType: 'JSON' },
    { name: 'blob', dataType: 'BYTES' },
    { name: 'tags_int', dataType: 'INT', singleValueField: false },
    { name: 'tags_str', dataType: 'STRING', singleValueField: false },
  ],
  metricFieldSpecs: [
    { name: 'clicks', dataType: 'LONG' },
    { name: 'score', dataType: 'FLOAT' },
    { name: 'revenue', dataType: 'DOUBLE' },
    { name: 'amount', dataType: 'BIG_DECIMAL' },
  ],
  dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }],
};

const EVENTS_TABLE = {
  tableName: 'events_REALTIME',
  tableType: 'REALTIME',
  segmentsConfig: { timeColumnName: 'ts', replication: '1', schemaName: 'events' },
  tableIndexConfig: {
    nullHandlingEnabled: true,
    noDictionaryColumns: ['session_id', 'payload'],
    loadMode: 'MMAP',
    segmentFormatVersion: 'v3',
  },
  fieldConfigList: [
    { name: 'payload', encodingType: 'RAW', indexes: { forward: { compressionCodec: 'ZSTANDARD' } } },
  ],
  ingestionConfig: {
    streamIngestionConfig: {
      streamConfigMaps: [{ streamType: 'kafka', 'stream.kafka.topic.name': 'events', 'realtime.segment.flush.threshold.rows': '5000000' }],
    },
  },
};

function eventsColumn(name: string, ctx: PresetContext): Iterable<unknown[]> {
  const offset = ctx.segment * ctx.rows;
  switch (name) {
    case 'user_id': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.03, () => r.int(1, 100_000)));
    case 'is_active': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.02, () => r.chance(0.6)));
    case 'country': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.04, () => COUNTRIES[r.skewed(COUNTRIES.length)]));
    case 'session_id':
      return chunks(ctx, name, (i, r) => maybeNull(r, 0.02, () => `s-${r.hex(4)}-${(offset + i).toString(16).padStart(6, '0')}`));
    case 'payload':
      return chunks(ctx, name, (_i, r) => maybeNull(r, 0.03, () => {
        let v = '';
        for (let k = r.int(0, 4); k > 0; k--) v += (v ? ',' : '') + r.int(0, 10);
        return `{"k":"${r.pick(GREEK)}","n":${r.int(0, 100)},"v":[${v}]}`;
      }));
    case 'blob': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.05, () => r.bytes(r.int(1, 17))));
    case 'tags_int':
      return chunks(ctx, name, (_i, r) => maybeNull(r, 0.03, () => repeat(r.int(1, 5), () => r.int(0, 51))));
    case 'tags_str':
      return chunks(ctx, name, (_i, r) => maybeNull(r, 0.02, () => repeat(r.int(1, 4), () => r.pick(GREEK))));
    case 'clicks': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.03, () => r.int(0, 1_000_000_000_000)));
    case 'score': return chunks(ctx, name, (_i, r) => r.int(-4000, 4000) / 4);
    case 'revenue': return chunks(ctx, name, (_i, r) => maybeNull(r, 0.04, () => Math.round(r.next() * 5e9) / 1e6));
    case 'amount':
      return chunks(ctx, name, (_i, r) => maybeNull(r, 0.03, () => {
        const cents = r.int(0, 10_000_000);
        return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
      }));
    case 'ts': return chunks(ctx, name, (i, r) => timestampAt(ctx, i, r));
    default: throw unknownColumn('events', name);
  }
}

function unknownColumn(preset: string, name: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, `preset ${preset} has no column ${JSON.stringify(name)}`, { context: { column: name } });
}

const BASEBALL_METRICS: readonly [string, number, number][] = [
  // name, typical scale, max
  ['playerStint', 0.3, 5], ['numberOfGames', 50, 165], ['numberOfGamesAsBatter', 45, 165], ['AtBatting', 180, 716],
  ['runs', 25, 192], ['hits', 45, 262], ['doules', 9, 67], ['tripples', 2, 36], ['homeRuns', 5, 73],
  ['runsBattedIn', 22, 191], ['stolenBases', 5, 138], ['caughtStealing', 2, 42], ['baseOnBalls', 18, 232],
  ['strikeouts', 30, 223], ['intentionalWalks', 2, 120], ['hitsByPitch', 2, 51], ['sacrificeHits', 3, 67],
  ['sacrificeFlies', 2, 19], ['groundedIntoDoublePlays', 4, 36], ['G_old', 45, 165],
];

const BASEBALL_SCHEMA = {
  schemaName: 'baseballStats',
  metricFieldSpecs: BASEBALL_METRICS.map(([name]) => ({ dataType: 'INT', name })),
  dimensionFieldSpecs: [
    { dataType: 'STRING', name: 'playerID' },
    { dataType: 'INT', name: 'yearID' },
    { dataType: 'STRING', name: 'teamID' },
    { dataType: 'STRING', name: 'league' },
    { dataType: 'STRING', name: 'playerName' },
  ],
};

const BASEBALL_TABLE = {
  tableName: 'baseballStats_REALTIME',
  tableType: 'REALTIME',
  segmentsConfig: { replication: '1', schemaName: 'baseballStats' },
  tableIndexConfig: { loadMode: 'MMAP', segmentFormatVersion: 'v3' },
};

const LEAGUES = ['AA', 'AL', 'FL', 'NA', 'NL', 'PL', 'UA'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const FIRST = ['John', 'Bill', 'George', 'Frank', 'Joe', 'Jim', 'Charlie', 'Tom', 'Harry', 'Ed', 'Mike', 'Bob', 'Dave',
  'A. Harry', 'J. Walter', 'Henry', 'Jack', 'Fred', 'Will', 'Sam', 'Louis', 'Arthur', 'Walter', 'Albert'];

/** Player k of a segment: a stable id like `aardsda01` and a name (several ids share a name, as in the data). */
function player(seed: number | string, segment: number, k: number): { id: string; name: string; team: number } {
  const r = Random.stream(seed, 'segment', segment, 'player', k);
  let last = '';
  for (let j = 0; j < 5; j++) last += LETTERS[r.int(0, 26)];
  const first = LETTERS[r.int(0, 26)]! + LETTERS[r.int(0, 26)]!;
  // About two players in three have a name of their own (baseballStats: 11,976 names for 18,107 ids).
  const n = Random.stream(seed, 'segment', segment, 'name', Math.floor(k * 0.65));
  let surname = '';
  for (let j = 0; j < n.int(4, 9); j++) surname += LETTERS[n.int(0, 26)];
  surname = surname[0]!.toUpperCase() + surname.slice(1) + (n.chance(0.3) ? ' ' + n.pick(GREEK) : '');
  const name = `${n.pick(FIRST)} ${n.chance(0.4) ? n.pick(FIRST) + ' ' : ''}${surname}`.slice(0, 43);
  return { id: `${last}${first}${String(k % 100).padStart(2, '0')}`, name, team: r.int(0, 149) };
}

/** 149 distinct three-letter team codes (t·97 + 13 is a bijection modulo 26³). */
function teamId(t: number): string {
  const x = (t * 97 + 13) % 17576;
  return (LETTERS[Math.floor(x / 676)]! + LETTERS[Math.floor(x / 26) % 26]! + LETTERS[x % 26]!).toUpperCase();
}

function baseballColumn(name: string, ctx: PresetContext): Iterable<unknown[]> {
  const players = Math.max(1, Math.round(ctx.rows * 0.185));
  // The row's player: drawn from its own stream, so the player-derived columns agree row by row.
  const playerOf = (): ((i: number) => number) => {
    const r = Random.stream(ctx.seed, 'segment', ctx.segment, 'rows');
    let last = -1;
    let current = 0;
    return (i) => {
      while (last < i) {
        current = Math.floor(r.next() * players);
        last++;
      }
      return current;
    };
  };
  switch (name) {
    case 'playerID': case 'playerName': case 'teamID': {
      const at = playerOf();
      const cache = new Map<number, ReturnType<typeof player>>();
      return chunks(ctx, name, (i) => {
        const k = at(i);
        let p = cache.get(k);
        if (!p) {
          p = player(ctx.seed, ctx.segment, k);
          if (cache.size > 50_000) cache.clear();
          cache.set(k, p);
        }
        return name === 'playerID' ? p.id : name === 'playerName' ? p.name : teamId(p.team);
      });
    }
    case 'yearID': return chunks(ctx, name, (_i, r) => 2013 - r.skewed(143));
    case 'league': return chunks(ctx, name, (_i, r) => (r.chance(0.9) ? LEAGUES[1 + 3 * r.int(0, 2)] : r.pick(LEAGUES)));
    default: {
      const metric = BASEBALL_METRICS.find(([m]) => m === name);
      if (!metric) throw unknownColumn('baseball', name);
      const [, scale, max] = metric;
      // Exponential counts with the column's mean, capped at the real maximum: a long tail of rare high values.
      const draw = (r: Random): number => Math.floor(-Math.log(1 - r.next()) * scale);
      if (name === 'playerStint') return chunks(ctx, name, (_i, r) => 1 + Math.min(max - 1, draw(r)));
      return chunks(ctx, name, (_i, r) => (r.chance(0.15) ? 0 : Math.min(max, draw(r))));
    }
  }
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  events: { name: 'events', schema: EVENTS_SCHEMA, table: EVENTS_TABLE, segmentSpanMs: 3_600_000, column: eventsColumn },
  baseball: { name: 'baseball', schema: BASEBALL_SCHEMA, table: BASEBALL_TABLE, segmentSpanMs: 86_400_000, column: baseballColumn },
};

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new ConfigError(ErrorCodes.USAGE, `unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return p;
}

interface SchemaField {
  name: string;
  dataType: DataType;
  singleValueField?: boolean;
  format?: string;
}

/**
 * A preset for any Pinot schema: generic values per data type (5 % nulls outside the time column), a REALTIME
 * table with null handling and the first epoch/TIMESTAMP date-time field as time column, unless `table` is given.
 */
export function schemaPreset(schema: Record<string, unknown>, table?: Record<string, unknown>): Preset {
  const list = (key: string): SchemaField[] => (Array.isArray(schema[key]) ? (schema[key] as SchemaField[]) : []);
  const fields = [...list('dimensionFieldSpecs'), ...list('metricFieldSpecs'), ...list('dateTimeFieldSpecs')];
  const timeField = list('dateTimeFieldSpecs').find((f) => f.dataType === 'TIMESTAMP' || (f.dataType === 'LONG' && /MILLISECONDS:EPOCH/.test(f.format ?? '')));
  const name = typeof schema.schemaName === 'string' && schema.schemaName ? schema.schemaName : 'generated';
  const tableJson = table ?? {
    tableName: `${name}_REALTIME`,
    tableType: 'REALTIME',
    segmentsConfig: { schemaName: name, ...(timeField ? { timeColumnName: timeField.name } : {}) },
    tableIndexConfig: { nullHandlingEnabled: true, segmentFormatVersion: 'v3' },
  };
  const byName = new Map(fields.map((f) => [f.name, f]));
  return {
    name,
    schema,
    table: tableJson,
    segmentSpanMs: 3_600_000,
    column(column, ctx) {
      const f = byName.get(column);
      if (!f) throw unknownColumn(name, column);
      if (f === timeField) return chunks(ctx, column, (i, r) => timestampAt(ctx, i, r));
      const sv = f.singleValueField !== false;
      return chunks(ctx, column, (_i, r) => maybeNull(r, 0.05, () => (sv ? genericValue(f.dataType, r)
        : Array.from({ length: r.int(1, 4) }, () => genericValue(f.dataType, r)))));
    },
  };
}

function genericValue(type: DataType, r: Random): unknown {
  switch (type) {
    case 'INT': return r.int(-1000, 1000);
    case 'LONG': return r.int(0, 2 ** 40);
    case 'FLOAT': return r.int(-4000, 4000) / 8;
    case 'DOUBLE': return r.next() * 1000;
    case 'BOOLEAN': return r.chance(0.5);
    case 'TIMESTAMP': return Date.UTC(2026, 0, 1) + r.int(0, 365 * 86_400_000);
    case 'STRING': return `${r.pick(GREEK)}-${r.int(0, 500)}`;
    case 'JSON': return `{"k":"${r.pick(GREEK)}","n":${r.int(0, 100)}}`;
    case 'BYTES': return r.bytes(r.int(0, 12));
    case 'BIG_DECIMAL': return `${r.int(-100000, 100000)}.${r.int(0, 1000)}`;
    case 'MAP': return { k: r.pick(GREEK) };
  }
}
