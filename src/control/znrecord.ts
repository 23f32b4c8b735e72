/**
 * Helix ZNRecord, the payload of every node in Pinot's property store (pinot-segment-format.md §13.2):
 * UTF-8 JSON `{"id", "simpleFields": {str: str}, "mapFields": {str: {str: str}}, "listFields": {str: [str]}}`,
 * gzip-compressed when it starts with 1F 8B (Helix compresses large records, or any record with
 * `enableCompression`). Unknown keys are ignored; leaf values are strings (numbers are decimal strings).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ControlError, ControlErrorCodes } from './errors.js';

export interface ZNRecord {
  id: string;
  simpleFields: Record<string, string>;
  mapFields: Record<string, Record<string, string>>;
  listFields: Record<string, string[]>;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses node data (plain or gzip) as a ZNRecord; `where` (a znode path) names the node in errors. */
export function parseZNRecord(bytes: Uint8Array, where: string): ZNRecord {
  let text: string;
  let value: unknown;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    text = (isGzip(buf) ? gunzipSync(buf) : buf).toString('utf8');
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(where, `not JSON (or not gzip-compressed JSON): ${(err as Error).message}`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(where, 'not a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.id !== 'string') throw invalid(where, 'missing string "id"');
  return {
    id: o.id,
    simpleFields: stringMap(o.simpleFields, where, 'simpleFields'),
    mapFields: Object.fromEntries(Object.entries(objectOrEmpty(o.mapFields, where, 'mapFields')).map(([k, v]) => [k, stringMap(v, where, `mapFields.${k}`)])),
    listFields: Object.fromEntries(Object.entries(objectOrEmpty(o.listFields, where, 'listFields')).map(([k, v]) => {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalid(where, `listFields.${k} is not a list of strings`);
      return [k, v as string[]];
    })),
  };
}

/** Serialises as Helix does (pretty-printed JSON), gzip-compressed when `compress` is set. */
export function serializeZNRecord(record: ZNRecord, compress = false): Buffer {
  const json = Buffer.from(JSON.stringify(record, null, 2), 'utf8');
  return compress ? gzipSync(json) : json;
}

function objectOrEmpty(v: unknown, where: string, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(where, `${field} is not an object`);
  return v as Record<string, unknown>;
}

function stringMap(v: unknown, where: string, field: string): Record<string, string> {
  const o = objectOrEmpty(v, where, field);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(o)) {
    // Jackson writes strings; tolerate hand-written numbers and booleans, reject nested values.
    if (typeof s === 'string') out[k] = s;
    else if (typeof s === 'number' || typeof s === 'boolean') out[k] = String(s);
    else if (s !== null) throw invalid(where, `${field}.${k} is not a string`);
  }
  return out;
}

function invalid(where: string, detail: string, cause?: unknown): ControlError {
  return new ControlError(ControlErrorCodes.CONTROL_ZNRECORD_INVALID, `ZNRecord ${detail}`, { context: { key: where }, cause });
}
