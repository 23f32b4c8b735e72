/** Independent Avro decoding with avsc 5.7.9 (BigInt longs), and the Java-written reference schemas. */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { sharedPath } from '../../support/fixtures.js';

const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (n1: bigint, n2: bigint) => (n1 === n2 ? 0 : n1 < n2 ? -1 : 1),
});

export function avscType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigLong } as never });
}

export interface AvscFile {
  records: Record<string, unknown>[];
  meta: Record<string, string>;
  writerSchema: unknown;
  codec: string;
}

/** Decodes an OCF with avsc; `readerSchema` (JSON) resolves the records as a reader with that schema would. */
export async function avscDecode(bytes: Uint8Array, readerSchema?: unknown): Promise<AvscFile> {
  let writerSchema: unknown;
  const decoder = new avro.streams.BlockDecoder({
    parseHook: (schema: unknown) => {
      writerSchema = schema;
      return avscType(schema) as never;
    },
    ...(readerSchema === undefined ? {} : { readerSchema: avscType(readerSchema) as never }),
  });
  const records: Record<string, unknown>[] = [];
  let meta: Record<string, string> = {};
  let codec = '';
  decoder.on('metadata', (_type: unknown, c: string, header: { meta: Record<string, Buffer> }) => {
    codec = c;
    meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
  });
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (r: Record<string, unknown>) => records.push(r));
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  decoder.end(Buffer.from(bytes));
  await done;
  return { records, meta, writerSchema, codec };
}

export const JAVA_MANIFEST_SCHEMA_PATH = sharedPath('specs', 'iceberg-v2-manifest-entry.java-written.avsc.json');
export const JAVA_MANIFEST_LIST_SCHEMA_PATH = sharedPath('specs', 'iceberg-v2-manifest-list.java-written.avsc.json');

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

export const BUNNIES = 'fixtures/iceberg-java-1.8.1-bunnies';
