/**
 * Pinot column metadata → Arrow fields and schema. The Pinot facts a later stage needs (logical type,
 * encoding, cardinality, time column) travel as field/schema metadata under `pinot.*` keys.
 */
import { Dictionary, Field, Int32, List, Schema } from 'apache-arrow';
import { arrowValueType, listElementField } from './arrow-values.js';
import type { ColumnMetadata, SegmentMetadata } from './metadata.js';

export const PINOT_DATA_TYPE_KEY = 'pinot.dataType';
export const PINOT_FIELD_TYPE_KEY = 'pinot.fieldType';
export const PINOT_ENCODING_KEY = 'pinot.encoding';
export const PINOT_CARDINALITY_KEY = 'pinot.cardinality';
export const PINOT_SORTED_KEY = 'pinot.sorted';

/**
 * `true`: SV text/binary dictionary columns become Arrow Dictionaries; `'all'`: every dictionary-encoded column
 * but BOOLEAN (MV as List<Dictionary>), which the column-chunk reader uses; `false`: none.
 */
export type KeepDictionaries = boolean | 'all';

/**
 * Whether a column's values come out as Arrow Dictionary data reusing Pinot's dictionary (for an MV column:
 * its List elements). BOOLEAN never does: its two-entry dictionary is cheaper as bits.
 */
export function usesArrowDictionary(column: ColumnMetadata, keepDictionaries: KeepDictionaries): boolean {
  if (column.forwardIndexEncoding !== 'DICTIONARY') return false;
  if (keepDictionaries === 'all') return column.dataType !== 'BOOLEAN';
  if (!keepDictionaries || !column.singleValue) return false;
  switch (column.dataType) {
    case 'STRING': case 'JSON': case 'BYTES': case 'BIG_DECIMAL': return true;
    default: return false;
  }
}

/**
 * @param dictionaryId Arrow dictionary id for Dictionary-typed fields; ids must be unique within a schema
 *   and stable between `schema()` and the batches, so callers pass the column's position in the segment.
 */
export function arrowField(column: ColumnMetadata, keepDictionaries: KeepDictionaries, dictionaryId: number): Field {
  const metadata = new Map<string, string>([
    [PINOT_DATA_TYPE_KEY, column.dataType],
    [PINOT_FIELD_TYPE_KEY, column.fieldType],
    [PINOT_ENCODING_KEY, column.forwardIndexEncoding],
  ]);
  if (column.cardinality >= 0) metadata.set(PINOT_CARDINALITY_KEY, String(column.cardinality));
  if (column.isSorted) metadata.set(PINOT_SORTED_KEY, 'true');
  const dictionary = usesArrowDictionary(column, keepDictionaries);
  let type;
  if (!column.singleValue) {
    type = new List(dictionary
      ? new Field('element', new Dictionary(arrowValueType(column.dataType), new Int32(), dictionaryId), true)
      : listElementField(column.dataType));
  } else if (dictionary) {
    type = new Dictionary(arrowValueType(column.dataType), new Int32(), dictionaryId);
  } else {
    type = arrowValueType(column.dataType);
  }
  // Every field is nullable: Pinot null vectors can appear in any later segment of the same table.
  return new Field(column.name, type, true, metadata);
}

export function schemaMetadata(segment: SegmentMetadata): Map<string, string> {
  const metadata = new Map<string, string>([
    ['pinot.segment.name', segment.name],
    ['pinot.totalDocs', String(segment.totalDocs)],
  ]);
  if (segment.tableName) metadata.set('pinot.table.name', segment.tableName);
  if (segment.timeColumn) metadata.set('pinot.timeColumn', segment.timeColumn);
  if (segment.crc !== undefined) metadata.set('pinot.crc', String(segment.crc));
  return metadata;
}

/** Field of each named column; dictionary ids are the column's position among all segment columns. */
export function arrowSchema(segment: SegmentMetadata, columns: readonly ColumnMetadata[], keepDictionaries: KeepDictionaries): Schema {
  const positions = [...segment.columns.keys()];
  const fields = columns.map((c) => arrowField(c, keepDictionaries, positions.indexOf(c.name)));
  return new Schema(fields, schemaMetadata(segment));
}
