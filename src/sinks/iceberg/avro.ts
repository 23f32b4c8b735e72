/**
 * A small Avro object-container (OCF) writer and reader for Iceberg manifests and manifest lists.
 *
 * Why hand-written rather than avsc 5.7.9: avsc drops the `field-id` / `element-id` attributes from a Type
 * (they survive only through a private-field hack on its BlockEncoder), and its `long` needs a custom BigInt
 * type. Here the header carries the schema JSON exactly as given, longs are always `bigint`, and it does no
 * I/O. avsc stays as the independent reader in the tests.
 *
 * Values: null ↔ null; boolean; int/float/double ↔ number; long ↔ bigint; string; bytes/fixed ↔ Uint8Array;
 * record ↔ plain object by field name; array ↔ array; map ↔ plain object; enum ↔ symbol string; a union
 * value is the value of its branch (the writer picks the first branch that accepts it).
 * Codecs: `null` and `deflate` (raw DEFLATE, RFC 1951, as the Avro spec and Java write it).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ErrorCodes, ExporterError } from '../../errors.js';

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export interface AvroField {
  name: string;
  type: AvroSchema;
  default?: unknown;
  doc?: string;
  'field-id'?: number;
}

export interface AvroRecord {
  type: 'record';
  name: string;
  fields: AvroField[];
}

export interface AvroArray {
  type: 'array';
  items: AvroSchema;
  'element-id'?: number;
  logicalType?: string;
}

export interface AvroMap {
  type: 'map';
  values: AvroSchema;
}

export interface AvroFixed {
  type: 'fixed';
  name: string;
  size: number;
}

export interface AvroEnum {
  type: 'enum';
  name: string;
  symbols: string[];
}

/** A schema as JSON; named-type references (a record name used as a type) are resolved on reading. */
export type AvroSchema = AvroPrimitive | string | AvroSchema[] | AvroRecord | AvroArray | AvroMap | AvroFixed | AvroEnum
  | { type: AvroPrimitive; logicalType?: string };

export type AvroCodec = 'null' | 'deflate';

const MAGIC = Uint8Array.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj\x01"
const SYNC_SIZE = 16;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

export class AvroError extends ExporterError {}

function invalid(detail: string, where: string | undefined, cause?: unknown): AvroError {
  return new AvroError(ErrorCodes.ICEBERG_METADATA_INVALID, detail, { context: where === undefined ? {} : { uri: where }, cause });
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private readonly text = new TextEncoder();

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Zig-zag varint of a 64-bit value. */
  long(v: bigint): void {
    let n = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  int(v: number): void {
    // Zig-zag on 32 bits fits in a JS number without BigInt.
    let n = ((v << 1) ^ (v >> 31)) >>> 0;
    while (n >= 0x80) {
      this.byte((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.byte(n);
  }

  float(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.long(BigInt(b.length));
    this.raw(b);
  }

  string(s: string): void {
    this.bytes(this.text.encode(s));
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

type Named = Map<string, AvroSchema>;

function typeName(schema: AvroSchema): string {
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) return 'union';
  return schema.type;
}

function collectNamed(schema: AvroSchema, named: Named): void {
  if (typeof schema === 'string') return;
  if (Array.isArray(schema)) {
    for (const s of schema) collectNamed(s, named);
    return;
  }
  switch (schema.type) {
    case 'record':
      named.set((schema as AvroRecord).name, schema);
      for (const f of (schema as AvroRecord).fields) collectNamed(f.type, named);
      return;
    case 'array': collectNamed((schema as AvroArray).items, named); return;
    case 'map': collectNamed((schema as AvroMap).values, named); return;
    case 'fixed': case 'enum': named.set((schema as AvroFixed).name, schema); return;
    default: return;
  }
}

function resolve(schema: AvroSchema, named: Named): AvroSchema {
  if (typeof schema === 'string' && !PRIMITIVES.has(schema)) {
    const found = named.get(schema);
    if (!found) throw new Error(`unknown Avro type ${JSON.stringify(schema)}`);
    return found;
  }
  if (typeof schema === 'object' && !Array.isArray(schema) && PRIMITIVES.has(schema.type)) return schema.type;
  return schema;
}

const PRIMITIVES: ReadonlySet<string> = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** Whether `value` can be written as `schema` (used to pick a union branch; shallow for records). */
function accepts(schema: AvroSchema, value: unknown, named: Named): boolean {
  const s = resolve(schema, named);
  switch (typeName(s)) {
    case 'null': return value === null || value === undefined;
    case 'boolean': return typeof value === 'boolean';
    case 'int': return typeof value === 'number' && Number.isInteger(value);
    case 'long': return typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value));
    case 'float': case 'double': return typeof value === 'number';
    case 'bytes': case 'fixed': return value instanceof Uint8Array;
    case 'string': case 'enum': return typeof value === 'string';
    case 'array': return Array.isArray(value);
    case 'record': case 'map': return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
    default: return false;
  }
}

function encode(w: Writer, schema: AvroSchema, value: unknown, named: Named, path: string): void {
  const s = resolve(schema, named);
  const fail = (what: string): never => {
    throw new Error(`${path}: ${what}, got ${describe(value)}`);
  };
  if (Array.isArray(s)) {
    const i = s.findIndex((b) => accepts(b, value, named));
    if (i < 0) fail(`no branch of union ${JSON.stringify(s.map((b) => typeName(resolve(b, named))))} accepts the value`);
    w.long(BigInt(i));
    encode(w, s[i]!, value, named, path);
    return;
  }
  switch (typeName(s)) {
    case 'null':
      if (value !== null && value !== undefined) fail('expected null');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('expected a boolean');
      w.byte(value ? 1 : 0);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) fail('expected a 32-bit integer');
      w.int(value as number);
      return;
    case 'long': {
      const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof v !== 'bigint' || v < LONG_MIN || v > LONG_MAX) fail('expected a 64-bit integer');
      w.long(v as bigint);
      return;
    }
    case 'float':
      if (typeof value !== 'number') fail('expected a number');
      w.float(value as number);
      return;
    case 'double':
      if (typeof value !== 'number') fail('expected a number');
      w.double(value as number);
      return;
    case 'bytes':
      if (!(value instanceof Uint8Array)) fail('expected bytes');
      w.bytes(value as Uint8Array);
      return;
    case 'string':
      if (typeof value !== 'string') fail('expected a string');
      w.string(value as string);
      return;
    case 'fixed': {
      const f = s as AvroFixed;
      if (!(value instanceof Uint8Array) || value.length !== f.size) fail(`expected ${f.size} bytes`);
      w.raw(value as Uint8Array);
      return;
    }
    case 'enum': {
      const i = (s as AvroEnum).symbols.indexOf(value as string);
      if (i < 0) fail(`expected one of ${(s as AvroEnum).symbols.join(', ')}`);
      w.int(i);
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) fail('expected an array');
      const items = value as unknown[];
      if (items.length > 0) {
        w.long(BigInt(items.length));
        items.forEach((v, i) => encode(w, (s as AvroArray).items, v, named, `${path}[${i}]`));
      }
      w.long(0n);
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null) fail('expected an object');
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > 0) {
        w.long(BigInt(entries.length));
        for (const [k, v] of entries) {
          w.string(k);
          encode(w, (s as AvroMap).values, v, named, `${path}.${k}`);
        }
      }
      w.long(0n);
      return;
    }
    case 'record': {
      if (typeof value !== 'object' || value === null) fail('expected an object');
      const rec = value as Record<string, unknown>;
      for (const f of (s as AvroRecord).fields) {
        const v = rec[f.name] === undefined && 'default' in f ? f.default : rec[f.name];
        encode(w, f.type, v, named, `${path}.${f.name}`);
      }
      return;
    }
    default:
      fail(`unsupported Avro type ${JSON.stringify(s)}`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Encodes one datum (no container). */
export function encodeDatum(schema: AvroSchema, value: unknown): Uint8Array {
  const named: Named = new Map();
  collectNamed(schema, named);
  const w = new Writer();
  encode(w, schema, value, named, '$');
  return w.result();
}

export interface OcfWriteOptions {
  /** Written verbatim as `avro.schema` (field-id attributes and docs included). */
  schema: AvroRecord;
  records: readonly unknown[];
  /** Extra file metadata (UTF-8 strings), written after `avro.schema` and `avro.codec`. */
  metadata?: Readonly<Record<string, string>>;
  codec?: AvroCodec;
  /** Records per block. Default: all in one block. */
  blockRecords?: number;
  /** Default: 16 random bytes. */
  syncMarker?: Uint8Array;
  /** Names the file in errors. */
  where?: string;
}

/** An Avro object container file with `records`. Throws AvroError naming the record and field on a bad value. */
export function writeOcf(options: OcfWriteOptions): Uint8Array {
  const codec = options.codec ?? 'deflate';
  const sync = options.syncMarker ?? randomBytes(SYNC_SIZE);
  if (sync.length !== SYNC_SIZE) throw new RangeError('the sync marker must have 16 bytes');
  const named: Named = new Map();
  collectNamed(options.schema, named);
  const text = new TextEncoder();
  const w = new Writer();
  w.raw(MAGIC);
  const meta: [string, string][] = [['avro.schema', JSON.stringify(options.schema)], ['avro.codec', codec], ...Object.entries(options.metadata ?? {})];
  w.long(BigInt(meta.length));
  for (const [k, v] of meta) {
    w.string(k);
    w.bytes(text.encode(v));
  }
  w.long(0n);
  w.raw(sync);
  const per = Math.max(1, options.blockRecords ?? options.records.length);
  for (let start = 0; start < options.records.length; start += per) {
    const block = new Writer();
    const end = Math.min(options.records.length, start + per);
    for (let i = start; i < end; i++) {
      try {
        encode(block, options.schema, options.records[i], named, `${options.schema.name}[${i}]`);
      } catch (err) {
        throw invalid(`cannot write Avro record: ${(err as Error).message}`, options.where, err);
      }
    }
    const raw = block.result();
    const data = codec === 'deflate' ? deflateRawSync(raw, { level: 9 }) : raw;
    w.long(BigInt(end - start));
    w.long(BigInt(data.length));
    w.raw(data);
    w.raw(sync);
  }
  return w.result();
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    // A Buffer's slice() is a view returning Buffers; decode from a plain Uint8Array so values are copies.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) throw new RangeError(`Avro data ends early at byte ${this.pos} (needs ${n} more)`);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  long(): bigint {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      n |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new RangeError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
    return BigInt.asIntN(64, (n >> 1n) ^ -(n & 1n));
  }

  int(): number {
    const v = this.long();
    if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) throw new RangeError(`int out of range: ${v}`);
    return Number(v);
  }

  /** A non-negative count or length that must fit the data. */
  size(): number {
    const v = this.long();
    if (v < 0n || v > BigInt(this.bytes.length)) throw new RangeError(`bad length ${v} at byte ${this.pos}`);
    return Number(v);
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytesValue(): Uint8Array {
    return this.raw(this.size());
  }

  string(): string {
    return this.text.decode(this.bytesValue());
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

function decode(r: Reader, schema: AvroSchema, named: Named): unknown {
  const s = resolve(schema, named);
  if (Array.isArray(s)) {
    const i = Number(r.long());
    const branch = s[i];
    if (branch === undefined) throw new RangeError(`union branch ${i} does not exist`);
    return decode(r, branch, named);
  }
  switch (typeName(s)) {
    case 'null': return null;
    case 'boolean': return r.byte() !== 0;
    case 'int': return r.int();
    case 'long': return r.long();
    case 'float': return r.float();
    case 'double': return r.double();
    case 'bytes': return r.bytesValue();
    case 'string': return r.string();
    case 'fixed': return r.raw((s as AvroFixed).size);
    case 'enum': {
      const sym = (s as AvroEnum).symbols[r.int()];
      if (sym === undefined) throw new RangeError('enum index out of range');
      return sym;
    }
    case 'array': {
      const out: unknown[] = [];
      for (;;) {
        let n = r.long();
        if (n === 0n) return out;
        if (n < 0n) {
          n = -n;
          r.long(); // block byte size
        }
        for (let i = 0n; i < n; i++) out.push(decode(r, (s as AvroArray).items, named));
      }
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (;;) {
        let n = r.long();
        if (n === 0n) return out;
        if (n < 0n) {
          n = -n;
          r.long();
        }
        for (let i = 0n; i < n; i++) {
          const k = r.string();
          out[k] = decode(r, (s as AvroMap).values, named);
        }
      }
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of (s as AvroRecord).fields) out[f.name] = decode(r, f.type, named);
      return out;
    }
    default:
      throw new Error(`unsupported Avro type ${JSON.stringify(s)}`);
  }
}

export interface OcfFile {
  /** The writer schema from the header (with all its attributes). */
  schema: AvroRecord;
  /** File metadata as UTF-8 strings (`avro.schema`, `avro.codec` included). */
  metadata: Map<string, string>;
  records: Record<string, unknown>[];
}

/** Parses an Avro object container file. `where` (a path or URI) names the file in errors. */
export function readOcf(bytes: Uint8Array, where?: string): OcfFile {
  const r = new Reader(bytes);
  try {
    if (bytes.length < 4 || MAGIC.some((m, i) => bytes[i] !== m)) throw new Error('not an Avro object container file (bad magic)');
    r.pos = 4;
    const metadata = new Map<string, string>();
    const text = new TextDecoder();
    for (;;) {
      let n = r.long();
      if (n === 0n) break;
      if (n < 0n) {
        n = -n;
        r.long();
      }
      for (let i = 0n; i < n; i++) {
        const k = r.string();
        metadata.set(k, text.decode(r.bytesValue()));
      }
    }
    const sync = r.raw(SYNC_SIZE);
    const schemaText = metadata.get('avro.schema');
    if (schemaText === undefined) throw new Error('the header has no avro.schema');
    const schema = JSON.parse(schemaText) as AvroRecord;
    if (typeof schema !== 'object' || schema === null || schema.type !== 'record') throw new Error('the header schema is not a record');
    const codec = metadata.get('avro.codec') ?? 'null';
    if (codec !== 'null' && codec !== 'deflate') throw new Error(`unsupported Avro codec ${JSON.stringify(codec)} (null and deflate are read)`);
    const named: Named = new Map();
    collectNamed(schema, named);
    const records: Record<string, unknown>[] = [];
    while (r.pos < bytes.length) {
      const count = r.long();
      const size = r.size();
      const raw = r.raw(size);
      const data = codec === 'deflate' ? inflateRawSync(raw) : raw;
      const br = new Reader(data);
      for (let i = 0n; i < count; i++) records.push(decode(br, schema, named) as Record<string, unknown>);
      if (br.pos !== data.length) throw new Error(`a block has ${data.length - br.pos} bytes after its ${count} records`);
      const marker = r.raw(SYNC_SIZE);
      if (marker.some((b, i) => b !== sync[i])) throw new Error(`sync marker mismatch at byte ${r.pos - SYNC_SIZE}`);
    }
    return { schema, metadata, records };
  } catch (err) {
    if (err instanceof AvroError) throw err;
    throw invalid(`cannot read Avro file: ${(err as Error).message}`, where, err);
  }
}
