/**
 * SegmentReader: a segment from deep store (directory, archive path/file://, s3://, http(s)://) as Arrow.
 * Owns the temporary extraction directory and removes it on close(), success or failure.
 */
import { Readable } from 'node:stream';
import type { RecordBatch, Schema } from 'apache-arrow';
import { openSegment, type OpenSegmentOptions, type OpenedSegment } from './deepstore/index.js';
import { PinotSegment, type BatchOptions, type ColumnChunkOptions, type ColumnChunkReader } from './pinot/segment.js';
import type { SegmentMetadata } from './pinot/metadata.js';

export type SegmentReaderOptions = OpenSegmentOptions;

export class SegmentReader implements AsyncDisposable {
  readonly segment: PinotSegment;
  private readonly opened: OpenedSegment;
  private closed = false;

  private constructor(opened: OpenedSegment, segment: PinotSegment) {
    this.opened = opened;
    this.segment = segment;
  }

  static async open(location: string, options: SegmentReaderOptions = {}): Promise<SegmentReader> {
    const opened = await openSegment(location, options);
    try {
      return new SegmentReader(opened, PinotSegment.open(opened.files, opened.name));
    } catch (err) {
      await opened.cleanup();
      throw err;
    }
  }

  get name(): string {
    return this.segment.name;
  }

  get location(): string {
    return this.opened.location;
  }

  /** Directory holding `metadata.properties` (inside the temporary extraction for archives). */
  get dir(): string {
    return this.opened.dir;
  }

  get metadata(): SegmentMetadata {
    return this.segment.metadata;
  }

  get files(): OpenedSegment['files'] {
    return this.opened.files;
  }

  schema(options: Pick<BatchOptions, 'columns' | 'keepDictionaries'> = {}): Schema {
    return this.segment.schema(options);
  }

  /** Record batches in doc order; decoding happens as the consumer pulls, one batch at a time. */
  async *batches(options: BatchOptions = {}): AsyncGenerator<RecordBatch, void, undefined> {
    this.assertOpen();
    for (const batch of this.segment.batches(options)) {
      yield batch;
      this.assertOpen();
    }
  }

  /**
   * Column chunks with read-scoped dictionaries (see PinotSegment.columnChunks); every read checks the
   * reader is still open, since the bytes come from files close() removes.
   */
  columnChunks(options: ColumnChunkOptions = {}): ColumnChunkReader {
    this.assertOpen();
    const chunks = this.segment.columnChunks(options);
    return {
      schema: chunks.schema,
      read: (name, start, end) => {
        this.assertOpen();
        return chunks.read(name, start, end);
      },
    };
  }

  /** Object-mode Readable of RecordBatches; decodes only when the consumer asks (backpressure). */
  toReadable(options: BatchOptions & { highWaterMark?: number } = {}): Readable {
    const { highWaterMark = 1, ...batchOptions } = options;
    return Readable.from(this.batches(batchOptions), { objectMode: true, highWaterMark });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opened.cleanup();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`segment reader for ${this.name} is closed`);
  }
}
