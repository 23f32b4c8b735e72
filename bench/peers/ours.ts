/**
 * Ours: segment → Parquet through segmentToParquet, the path the convert command and the daemon run — with the
 * default writer (`auto`: the direct writer, in process), as `ours-2t` with its column chunks encoded on two
 * worker threads, or as `ours-wasm` forced through parquet-wasm.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { segmentToParquet } from '../../src/pipeline/segment-export.js';
import type { PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

export async function runOurs(p: PreparedSegment, file: string, writer: 'auto' | 'parquet-wasm' = 'auto', threads = 1): Promise<RunTiming> {
  const { seconds, cpuSeconds } = await timed(async () => {
    // As the convert command writes: the generator piped into a file stream, so writing overlaps encoding.
    const gen = segmentToParquet(p.reader, { parquet: { ...p.parquet, writer }, encoderThreads: threads });
    await pipeline(Readable.from(gen, { objectMode: false, highWaterMark: 1 }), createWriteStream(file));
  });
  return { seconds, cpuSeconds };
}
