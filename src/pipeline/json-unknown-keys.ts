/**
 * `fileFormat.parquet.json.unknownKeysBehavior` as a handler for the JSON shredder: JSON object keys that a
 * prescribed struct shape (e.g. an Iceberg struct column) lacks are either warned about and dropped, or fail
 * the file. Warnings come once per column and key path (naming the first row), not once per row.
 */
import { ErrorCodes, ExporterError, type ErrorContext } from '../errors.js';
import type { UnknownJsonKey } from './json-shredding.js';
import { ParquetError } from './parquet-error.js';
import { DEFAULT_JSON_UNKNOWN_KEYS, PARQUET_KEYS, type JsonUnknownKeysBehavior } from './parquet-options.js';

/** An unknown key of a JSON column; `row` counts from the first row of the file. */
export type ColumnUnknownJsonKey = UnknownJsonKey & { column: string };
export type ColumnUnknownJsonKeyHandler = (unknown: ColumnUnknownJsonKey) => void;

export interface UnknownJsonKeyPolicy {
  /** Default DEFAULT_JSON_UNKNOWN_KEYS. */
  behavior?: JsonUnknownKeysBehavior;
  /** Where `warn` reports. Without it, warn still drops the key. */
  warn?: (message: string) => void;
  /** The code `fail` throws: PARQUET_SCHEMA_MISMATCH (default), ICEBERG_SCHEMA_MISMATCH for an Iceberg table. */
  code?: typeof ErrorCodes.PARQUET_SCHEMA_MISMATCH | typeof ErrorCodes.ICEBERG_SCHEMA_MISMATCH;
  /** Added to the error's context (e.g. the Iceberg table). */
  context?: ErrorContext;
  /** What holds the shape, for messages, e.g. `Iceberg table lake.clicks`. Default `the table schema`. */
  owner?: string;
}

/** `payload.a.x` for key `x` under member `a` of column `payload`. */
export function unknownKeyName(u: ColumnUnknownJsonKey): string {
  return [u.column, ...u.path, u.key].join('.');
}

/** A fresh handler (its warn-once memory covers one file). */
export function unknownJsonKeyHandler(policy: UnknownJsonKeyPolicy = {}): ColumnUnknownJsonKeyHandler {
  const behavior = policy.behavior ?? DEFAULT_JSON_UNKNOWN_KEYS;
  const owner = policy.owner ?? 'the table schema';
  const warned = new Set<string>();
  return (u) => {
    const name = unknownKeyName(u);
    const member = u.path.length === 0 ? '' : ` member ${[u.column, ...u.path].join('.')}`;
    if (behavior === 'fail') {
      const code = policy.code ?? ErrorCodes.PARQUET_SCHEMA_MISMATCH;
      throw new (code === ErrorCodes.PARQUET_SCHEMA_MISMATCH ? ParquetError : ExporterError)(
        code,
        `JSON column ${u.column}${member} has key ${JSON.stringify(u.key)} at row ${u.row}, which the struct of ${owner} lacks `
          + `(${PARQUET_KEYS.jsonUnknownKeys}=fail; set it to warn to drop such keys)`,
        { context: { ...policy.context, column: u.column, key: name, row: u.row } },
      );
    }
    if (warned.has(name)) return;
    warned.add(name);
    policy.warn?.(`JSON column ${u.column}${member}: key ${JSON.stringify(u.key)} (first at row ${u.row}) is not in the struct of ${owner}; `
      + `dropped (${PARQUET_KEYS.jsonUnknownKeys}=warn)`);
  };
}
