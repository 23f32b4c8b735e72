/**
 * `metadata.properties` as Pinot 1.5.1 writes it (`BaseSegmentCreator.writeMetadata` /
 * `addColumnMetadataInfo`, then `SegmentV1V2ToV3FormatConverter.createMetadataFile`, §3.5). No I/O.
 *
 * Key order is Commons' insertion order: segment keys, then every column in ascending name order
 * (Pinot's `TreeMap`), then the stream offsets (realtime commits), then `segment.index.version` (added by
 * the v3 converter, which also re-saves the file: `key =` for empty values). Column lists are sorted by name (`SegmentGeneratorConfig`).
 */
import { escapePinotString } from '../properties.js';
import { STORED_TYPE, type StoredType } from '../types.js';
import type { ColumnStats, SegmentInfo } from './contracts.js';
import { PropertiesBuilder } from './properties-writer.js';

export type MetadataFlavour = 'batch' | 'realtime-commit';

export interface MetadataOptions {
  /**
   * `batch` (default): what `SegmentIndexCreationDriverImpl` writes for rows from a record reader.
   * `realtime-commit`: what a server writes when it commits a consuming segment
   * (`RealtimeSegmentConverter`): `maxNumberOfMultiValues = -1` for single-value columns, and for raw
   * (no-dictionary) columns `cardinality = -2147483648` (unknown) with `bitsPerElement = 31`.
   */
  flavour?: MetadataFlavour;
  /**
   * `v3` (default): the file inside `v3/`, after Pinot's v1→v3 conversion. `v1`: the file as first written
   * (no `segment.index.version`, empty values as `key = `).
   */
  version?: 'v1' | 'v3';
  /** `creator.version` (written first when set; Pinot's own builds leave it unset). */
  creatorVersion?: string;
  /** `SegmentGeneratorConfig.getCustomProperties()`, e.g. `custom.input.data.file.uri`; written after the time keys. */
  customProperties?: ReadonlyArray<readonly [string, string]>;
}

/** Pinot omits min/max values longer than this (`METADATA_PROPERTY_LENGTH_LIMIT`, in UTF-16 units). */
export const METADATA_PROPERTY_LENGTH_LIMIT = 512;

const UNKNOWN_CARDINALITY = -2147483648;
const UNKNOWN_CARDINALITY_BITS = 31;

/** Java `String.compareTo` order (UTF-16 code units), which is what Pinot's TreeMaps and sorts use. */
function javaOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The whole `metadata.properties` text. */
export function metadataProperties(segment: SegmentInfo, columns: ColumnStats[], options: MetadataOptions = {}): string {
  const flavour = options.flavour ?? 'batch';
  const version = options.version ?? 'v3';
  checkColumns(segment, columns);
  const p = new PropertiesBuilder();
  p.set('creator.version', options.creatorVersion);
  p.set('segment.padding.character', '\0');
  p.set('segment.name', segment.name);
  p.set('segment.table.name', segment.tableName);
  p.set('segment.dimension.column.names', sorted(segment.dimensions));
  p.set('segment.metric.column.names', sorted(segment.metrics));
  p.set('segment.datetime.column.names', sorted(segment.dateTimes));
  p.set('segment.complex.column.names', sorted(segment.complex));
  p.set('segment.time.column.name', segment.timeColumn);
  p.set('segment.total.docs', String(segment.totalDocs));
  if (segment.timeColumn !== undefined && segment.startTime !== undefined && segment.endTime !== undefined && segment.timeUnit !== undefined) {
    p.set('segment.start.time', segment.startTime);
    p.set('segment.end.time', segment.endTime);
    p.set('segment.time.unit', segment.timeUnit);
  }
  for (const [key, value] of options.customProperties ?? []) p.set(key, value);
  for (const column of [...columns].sort((a, b) => javaOrder(a.name, b.name))) {
    addColumn(p, column, segment.totalDocs, flavour);
  }
  // From the committing server's SegmentZKPropsConfig; absent in batch builds.
  p.set('segment.realtime.startOffset', segment.realtimeStartOffset);
  p.set('segment.realtime.endOffset', segment.realtimeEndOffset);
  if (version === 'v3') p.set('segment.index.version', 'v3');
  return p.text({ resaved: version === 'v3' });
}

function sorted(names: readonly string[]): string[] {
  return [...names].sort(javaOrder);
}

function checkColumns(segment: SegmentInfo, columns: readonly ColumnStats[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new RangeError(`column ${JSON.stringify(c.name)} is described twice`);
    seen.add(c.name);
    if (c.fieldType === 'COMPLEX') {
      // Pinot writes complexChildFieldNames and one key set per child field spec, which ColumnStats lacks.
      throw new RangeError(`column ${JSON.stringify(c.name)}: COMPLEX columns are not supported by the metadata writer`);
    }
  }
  if (!Number.isInteger(segment.totalDocs) || segment.totalDocs < 0) {
    throw new RangeError(`segment.total.docs must be a non-negative integer, got ${segment.totalDocs}`);
  }
}

/** `BaseSegmentCreator.addColumnMetadataInfo` (1.5.1), in its key order. */
function addColumn(p: PropertiesBuilder, c: ColumnStats, totalDocs: number, flavour: MetadataFlavour): void {
  const key = (k: string): string => `column.${c.name}.${k}`;
  const realtime = flavour === 'realtime-commit';
  const unknownCardinality = realtime && !c.hasDictionary;
  const storedType = STORED_TYPE[c.dataType];
  p.set(key('cardinality'), String(unknownCardinality ? UNKNOWN_CARDINALITY : c.cardinality));
  p.set(key('totalDocs'), String(totalDocs));
  p.set(key('dataType'), c.dataType);
  p.set(key('bitsPerElement'), String(unknownCardinality ? UNKNOWN_CARDINALITY_BITS : c.bitsPerElement));
  p.set(key('lengthOfEachEntry'), String(c.lengthOfEachEntry));
  p.set(key('columnType'), c.fieldType);
  p.set(key('isSorted'), String(c.isSorted));
  p.set(key('hasDictionary'), String(c.hasDictionary));
  p.set(key('isSingleValues'), String(c.singleValue));
  p.set(key('maxNumberOfMultiValues'), String(realtime && c.singleValue ? -1 : c.maxNumberOfMultiValues));
  p.set(key('totalNumberOfEntries'), String(c.totalNumberOfEntries));
  p.set(key('isAutoGenerated'), String(c.isAutoGenerated));
  if (storedType === 'STRING' || storedType === 'BYTES') {
    p.set(key('schemaMaxLength'), String(c.schemaMaxLength ?? 512));
  }
  if (c.fieldType === 'DATE_TIME') {
    p.set(key('datetimeFormat'), c.datetimeFormat);
    p.set(key('datetimeGranularity'), c.datetimeGranularity);
  }
  if (totalDocs > 0 && c.minValue !== undefined && c.maxValue !== undefined) {
    const min = validPropertyValue(c.minValue, storedType);
    const max = validPropertyValue(c.maxValue, storedType);
    p.set(key('minValue'), min);
    p.set(key('maxValue'), max);
    if (min === undefined && max === undefined) p.set(key('minMaxValueInvalid'), 'true');
  }
  p.set(key('defaultNullValue'), storedType === 'STRING' ? escapePinotString(c.defaultNullValue) : c.defaultNullValue);
}

/**
 * `BaseSegmentCreator.getValidPropertyValue`: undefined when longer than 512 chars; STRING-stored values get
 * Pinot's comma/edge-space escaping and are refused when they hold surrogates.
 */
export function validPropertyValue(value: string, storedType: StoredType): string | undefined {
  if (value.length > METADATA_PROPERTY_LENGTH_LIMIT) return undefined;
  return storedType === 'STRING' ? escapePinotString(value) : value;
}
