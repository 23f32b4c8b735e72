/**
 * One column of one segment → Arrow Data for any doc range. Picks the decoders (§7 of the format spec),
 * decodes the dictionary once, and applies the null vector as Arrow validity. No I/O: everything is read
 * through the layout's ByteRanges.
 *
 * In chunk mode (`chunkDictionary` set) a dictionary column's Data carries only the dictionary entries its
 * docs use, renumbered (see dictionary-subset.ts), and the whole dictionary is decoded only when asked to
 * keep it in memory; otherwise it is read per call in windows (dictionary-windows.ts).
 */
import { List, makeData, makeVector, type Data, type Dictionary, type Field, type Vector } from 'apache-arrow';
import { ErrorCodes, SegmentFormatError, enrich } from '../../errors.js';
import { usesArrowDictionary, type KeepDictionaries } from './arrow-schema.js';
import {
  dictionaryToData, dictionaryVector, gather, listToData, presentBlock, validityFromNulls, valuesToData,
  type Validity,
} from './arrow-values.js';
import { readDictionary, type DictionaryOptions } from './dictionary.js';
import { markEveryEntryUsed, markIdsBelow, markNullRowElements, memoryDictionary, renumberIds, type DictionarySource, type RenumberOptions } from './dictionary-subset.js';
import { windowedDictionary } from './dictionary-windows.js';
import { openDictForward } from './forward-dict.js';
import { openRawForward } from './forward-raw.js';
import type { ColumnMetadata } from './metadata.js';
import { readRoaringBitmap, type RoaringBitmap } from './roaring.js';
import type { SegmentLayout } from './segment-layout.js';
import type { ForwardReader, ValueBlock } from './types.js';

export interface ColumnReaderOptions {
  /**
   * Keep Pinot dictionaries as Arrow Dictionary vectors: `true` (default) for SV text/binary columns, `'all'`
   * for every dictionary column but BOOLEAN. Ignored in chunk mode, which is always `'all'`.
   */
  keepDictionaries?: KeepDictionaries;
  /** Pre-08/2016 `%`-padded STRING dictionaries: refuse (default) or strip the padding. */
  legacyPadding?: 'refuse' | 'strip';
  /**
   * Chunk mode: each read's dictionary holds only the entries its docs use. 'memory' decodes the whole
   * dictionary once and keeps it; 'windowed' keeps nothing and reads the needed entries per call.
   */
  chunkDictionary?: 'memory' | 'windowed';
}

export class ColumnReader {
  readonly field: Field;
  private readonly forward: ForwardReader;
  /** Dictionary values, already in presentation form (BIG_DECIMAL/MAP as text). */
  private readonly dictionary: ValueBlock | undefined;
  private readonly dictVector: Vector | undefined;
  /** Chunk mode: where each read's dictionary subset comes from. */
  private readonly subsetSource: DictionarySource | undefined;
  private readonly nulls: RoaringBitmap | undefined;

  private constructor(
    readonly column: ColumnMetadata,
    field: Field,
    forward: ForwardReader,
    dictionary: { values?: ValueBlock; vector?: Vector; subset?: DictionarySource },
    nulls: RoaringBitmap | undefined,
  ) {
    this.field = field;
    this.forward = forward;
    this.dictionary = dictionary.values;
    this.dictVector = dictionary.vector;
    this.subsetSource = dictionary.subset;
    this.nulls = nulls;
  }

  static open(column: ColumnMetadata, field: Field, layout: SegmentLayout, totalDocs: number, options: ColumnReaderOptions = {}): ColumnReader {
    const name = column.name;
    if (column.unsupported) {
      throw new SegmentFormatError(ErrorCodes.PINOT_UNSUPPORTED_TYPE, column.unsupported, { context: { column: name } });
    }
    const state = layout.forwardIndexState(name);
    if (state !== 'present') {
      const why = state === 'remote'
        ? 'its forward index is stored outside the segment (zero-size "remote" entry)'
        : 'its forward index is disabled (no forward_index in the segment)';
      throw new SegmentFormatError(ErrorCodes.PINOT_NO_FORWARD_INDEX, `column cannot be exported: ${why}`, {
        context: { column: name, index: 'forward_index' },
      });
    }
    const chunkMode = options.chunkDictionary;
    const keep = chunkMode ? 'all' : options.keepDictionaries ?? true;
    const fwdRange = layout.indexRange(name, 'forward_index')!;
    try {
      let forward: ForwardReader;
      const dictionary: { values?: ValueBlock; vector?: Vector; subset?: DictionarySource } = {};
      if (column.forwardIndexEncoding === 'DICTIONARY') {
        const dictRange = layout.indexRange(name, 'dictionary');
        if (!dictRange) {
          throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, 'dictionary-encoded column has no dictionary', {
            context: { index: 'dictionary' },
          });
        }
        const dictOptions: DictionaryOptions = {
          storedType: column.storedType,
          cardinality: column.cardinality,
          entryWidth: column.dictionaryElementSize,
          paddingCharacter: column.paddingCharacter,
          legacyPadding: options.legacyPadding,
          column: name,
        };
        const arrowDictionary = usesArrowDictionary(column, keep);
        if (chunkMode === 'windowed' && arrowDictionary) {
          dictionary.subset = windowedDictionary(dictRange, column.dataType, dictOptions);
        } else {
          dictionary.values = presentBlock(column.dataType, readDictionary(dictRange, dictOptions));
          if (chunkMode && arrowDictionary) dictionary.subset = memoryDictionary(dictionary.values, column.cardinality);
          else if (arrowDictionary) dictionary.vector = dictionaryVector(column.dataType, dictionary.values);
        }
        forward = openDictForward(fwdRange, {
          singleValue: column.singleValue,
          isSorted: column.isSorted,
          bits: column.bitsPerElement,
          cardinality: column.cardinality,
          totalDocs,
          totalEntries: column.totalNumberOfEntries,
          column: name,
        });
      } else {
        forward = openRawForward(fwdRange, {
          storedType: column.storedType,
          singleValue: column.singleValue,
          totalDocs,
          column: name,
        });
      }
      const nullRange = layout.indexRange(name, 'nullvalue_vector');
      const nulls = nullRange ? readRoaringBitmap(nullRange, { column: name, index: 'nullvalue_vector' }) : undefined;
      return new ColumnReader(column, field, forward, dictionary, nulls);
    } catch (err) {
      throw enrich(err, { column: name });
    }
  }

  /** Whether this column has a null value vector (only then can it produce NULLs). */
  get hasNullVector(): boolean {
    return this.nulls !== undefined && this.nulls.size > 0;
  }

  /** Arrow Data for docs `[start, end)`. */
  read(start: number, end: number): Data {
    try {
      return this.readUnchecked(start, end);
    } catch (err) {
      throw enrich(err, { column: this.column.name });
    }
  }

  private readUnchecked(start: number, end: number): Data {
    const { dataType } = this.column;
    const validity = this.validity(start, end);
    const fwd = this.forward;
    switch (fwd.kind) {
      case 'sv-dict': {
        if (this.subsetSource) {
          // renumberIds bounds-checks every id, so the forward reader's own pass over them is skipped.
          const ids = fwd.readDictIds(start, end, { unchecked: true });
          const vector = this.subsetVector(ids, { validBitmap: validity?.nullBitmap }, () => fwd.readDictIds(start, end));
          return dictionaryToData(vector, this.field.type as Dictionary, ids, validity);
        }
        const ids = fwd.readDictIds(start, end);
        if (this.dictVector) {
          return dictionaryToData(this.dictVector, this.field.type as Dictionary, ids, validity);
        }
        return valuesToData(dataType, gather(this.dictionary!, ids), validity);
      }
      case 'mv-dict': {
        let { offsets, values } = fwd.readDictIds(start, end);
        if (this.subsetSource || this.dictVector) {
          let vector = this.dictVector;
          if (this.subsetSource) {
            if (validity) markNullRowElements(offsets, values, validity.nullBitmap);
            vector = this.subsetVector(values, { nullMarks: true });
            // Null rows keep their elements as id 0; with no entry used at all (only null rows hold elements) id 0
            // would point past an empty dictionary, so every row becomes an empty list instead.
            if (vector.length === 0 && values.length > 0) {
              offsets = new Int32Array(offsets.length);
              values = new Int32Array(0);
            }
          }
          const type = this.field.type as List;
          const child = dictionaryToData(vector!, type.children[0]!.type as Dictionary, values);
          const nulls = validity ? { nullBitmap: validity.nullBitmap, nullCount: validity.nullCount } : {};
          return makeData({ type, length: offsets.length - 1, valueOffsets: offsets, child, ...nulls });
        }
        return listToData(dataType, offsets, valuesToData(dataType, gather(this.dictionary!, values)), validity);
      }
      case 'sv-raw':
        return valuesToData(dataType, presentBlock(dataType, fwd.read(start, end)), validity);
      case 'mv-raw': {
        const { offsets, values } = fwd.read(start, end);
        return listToData(dataType, offsets, valuesToData(dataType, presentBlock(dataType, values)), validity);
      }
    }
  }

  /**
   * Chunk mode: renumbers `ids` in place to the subset and returns the subset's values (ascending dictionary
   * order) as an Arrow vector. `checkedRead`, for ids read unchecked, reads them again with the forward
   * reader's check when one is out of bounds: its error names the byte offset and the doc.
   */
  private subsetVector(ids: Int32Array, opts: Omit<RenumberOptions, 'column'>, checkedRead?: () => unknown): Vector {
    const source = this.subsetSource!;
    let used: Int32Array;
    try {
      used = renumberIds(ids, source.cardinality, { ...opts, column: this.column.name });
    } catch (err) {
      checkedRead?.();
      throw err;
    }
    // Every id is now a rank below used.length (nulls 0), so the writer need not check them again.
    if (used.length > 0) markIdsBelow(ids, used.length);
    return makeVector(markEveryEntryUsed(valuesToData(this.column.dataType, source.values(used))));
  }

  private validity(start: number, end: number): Validity | undefined {
    if (!this.nulls) return undefined;
    const docs = this.nulls.valuesInRange(start, end);
    if (docs.length === 0) return undefined;
    const rows = new Int32Array(docs.length);
    for (let i = 0; i < docs.length; i++) rows[i] = docs[i]! - start;
    return { nullBitmap: validityFromNulls(end - start, rows), nullCount: docs.length };
  }
}
