/**
 * One column of one segment → Arrow Data for any doc range. Picks the decoders (§7 of the format spec),
 * decodes the dictionary once, and applies the null vector as Arrow validity. No I/O: everything is read
 * through the layout's ByteRanges.
 */
import type { Data, Dictionary, Field, Vector } from 'apache-arrow';
import { ErrorCodes, SegmentFormatError, enrich } from '../../errors.js';
import { usesArrowDictionary } from './arrow-schema.js';
import {
  dictionaryToData, dictionaryVector, gather, listToData, presentBlock, validityFromNulls, valuesToData,
  type Validity,
} from './arrow-values.js';
import { readDictionary } from './dictionary.js';
import { openDictForward } from './forward-dict.js';
import { openRawForward } from './forward-raw.js';
import type { ColumnMetadata } from './metadata.js';
import { readRoaringBitmap, type RoaringBitmap } from './roaring.js';
import type { SegmentLayout } from './segment-layout.js';
import type { ForwardReader, ValueBlock } from './types.js';

export interface ColumnReaderOptions {
  /** Keep Pinot dictionaries as Arrow Dictionary vectors for SV text/binary columns (default true). */
  keepDictionaries?: boolean;
  /** Pre-08/2016 `%`-padded STRING dictionaries: refuse (default) or strip the padding. */
  legacyPadding?: 'refuse' | 'strip';
}

export class ColumnReader {
  readonly field: Field;
  private readonly forward: ForwardReader;
  /** Dictionary values, already in presentation form (BIG_DECIMAL/MAP as text). */
  private readonly dictionary: ValueBlock | undefined;
  private readonly dictVector: Vector | undefined;
  private readonly nulls: RoaringBitmap | undefined;

  private constructor(
    readonly column: ColumnMetadata,
    field: Field,
    forward: ForwardReader,
    dictionary: ValueBlock | undefined,
    dictVector: Vector | undefined,
    nulls: RoaringBitmap | undefined,
  ) {
    this.field = field;
    this.forward = forward;
    this.dictionary = dictionary;
    this.dictVector = dictVector;
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
    const keep = options.keepDictionaries ?? true;
    const fwdRange = layout.indexRange(name, 'forward_index')!;
    try {
      let forward: ForwardReader;
      let dictionary: ValueBlock | undefined;
      let dictVector: Vector | undefined;
      if (column.forwardIndexEncoding === 'DICTIONARY') {
        const dictRange = layout.indexRange(name, 'dictionary');
        if (!dictRange) {
          throw new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, 'dictionary-encoded column has no dictionary', {
            context: { index: 'dictionary' },
          });
        }
        const raw = readDictionary(dictRange, {
          storedType: column.storedType,
          cardinality: column.cardinality,
          entryWidth: column.dictionaryElementSize,
          paddingCharacter: column.paddingCharacter,
          legacyPadding: options.legacyPadding,
          column: name,
        });
        dictionary = presentBlock(column.dataType, raw);
        if (usesArrowDictionary(column, keep)) dictVector = dictionaryVector(column.dataType, dictionary);
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
      return new ColumnReader(column, field, forward, dictionary, dictVector, nulls);
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
        const ids = fwd.readDictIds(start, end);
        if (this.dictVector) {
          return dictionaryToData(this.dictVector, this.field.type as Dictionary, ids, validity);
        }
        return valuesToData(dataType, gather(this.dictionary!, ids), validity);
      }
      case 'mv-dict': {
        const { offsets, values } = fwd.readDictIds(start, end);
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

  private validity(start: number, end: number): Validity | undefined {
    if (!this.nulls) return undefined;
    const docs = this.nulls.valuesInRange(start, end);
    if (docs.length === 0) return undefined;
    const rows = new Int32Array(docs.length);
    for (let i = 0; i < docs.length; i++) rows[i] = docs[i]! - start;
    return { nullBitmap: validityFromNulls(end - start, rows), nullCount: docs.length };
  }
}
