/**
 * v3 `index_map` (§5.1): `<column>.<indexType>.startOffset|size = <long>` lines locating each index
 * buffer inside `columns.psf`. Keys are parsed from the right because column names may contain dots, and
 * are property-unescaped first (Commons writes `\=`, `\:`, `\ ` in column names). No I/O.
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';
import { Properties, parseProperties } from './properties.js';

export interface IndexMapEntry {
  column: string;
  /** Pinot index id (`dictionary`, `forward_index`, `range_index`, …); unknown ids are kept as written. */
  indexType: string;
  /** Offset of the 8-byte marker in `columns.psf`. */
  startOffset: number;
  /** Bytes including the marker; 0 for an index stored outside the file ("remote"). */
  size: number;
}

const INDEX_MAP = 'index_map';

/** Splits `<column>.<indexType>.<property>` from the right. */
export function parseIndexMapKey(key: string): { column: string; indexType: string; property: string } {
  const last = key.lastIndexOf('.');
  const second = last > 0 ? key.lastIndexOf('.', last - 1) : -1;
  if (last < 0 || second < 0) {
    throw new SegmentFormatError(ErrorCodes.PINOT_BAD_METADATA, `index_map key ${JSON.stringify(key)} is not <column>.<index>.<property>`, {
      context: { index: INDEX_MAP, key },
    });
  }
  return { column: key.slice(0, second), indexType: key.slice(second + 1, last), property: key.slice(last + 1) };
}

/** Entries in the order their first key appears. Offsets and sizes are byte counts, exact below 2^53. */
export function parseIndexMap(input: string | Uint8Array | Properties): IndexMapEntry[] {
  const props = input instanceof Properties ? input : parseProperties(input);
  const entries = new Map<string, Partial<IndexMapEntry> & Pick<IndexMapEntry, 'column' | 'indexType'>>();
  for (const key of props.keys()) {
    const { column, indexType, property } = parseIndexMapKey(key);
    const bad = (detail: string): SegmentFormatError =>
      new SegmentFormatError(ErrorCodes.PINOT_BAD_METADATA, detail, { context: { index: INDEX_MAP, column, key } });
    if (property !== 'startOffset' && property !== 'size') {
      throw bad(`unknown index_map property ${JSON.stringify(property)} (expected startOffset or size)`);
    }
    const values = props.getList(key);
    const n = values.length === 1 && /^\d+$/.test(values[0]!) ? Number(values[0]) : NaN;
    if (!Number.isSafeInteger(n)) throw bad(`index_map value of ${key} is not a non-negative integer: ${JSON.stringify(values.join(','))}`);
    const id = `${column}\0${indexType}`;
    const entry = entries.get(id) ?? { column, indexType };
    entry[property] = n;
    entries.set(id, entry);
  }
  return [...entries.values()].map((e) => {
    if (e.startOffset === undefined || e.size === undefined) {
      const missing = e.startOffset === undefined ? 'startOffset' : 'size';
      throw new SegmentFormatError(ErrorCodes.PINOT_BAD_METADATA, `index_map has no ${missing} for ${e.column}.${e.indexType}`, {
        context: { index: INDEX_MAP, column: e.column, key: `${e.column}.${e.indexType}.${missing}` },
      });
    }
    return { column: e.column, indexType: e.indexType, startOffset: e.startOffset, size: e.size };
  });
}
