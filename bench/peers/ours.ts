/**
 * Ours: segment → Parquet through segmentToParquet, the path the convert command and the daemon run — with the
 * default writer (`auto`: the direct writer, in process), as `ours-2t` with its column chunks encoded on two
 * worker threads, or as `ours-wasm` forced through parquet-wasm.
 */
import { open } from 'node:fs/promises';
import { segmentToParquet } from '../../src/pipeline/segment-export.js';
import type { PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

export async function runOurs(p: PreparedSegment, file: string, writer: 'auto' | 'parquet-wasm' = 'auto', threads = 1): Promise<RunTiming> {
  const { seconds, cpuSeconds } = await timed(async () => {
    const out = await open(file, 'w');
    try {
      const gen = segmentToParquet(p.reader, { parquet: { ...p.parquet, writer }, encoderThreads: threads });
      for (;;) {
        const r = await gen.next();
        if (r.done) return;
        await out.write(r.value);
      }
    } finally {
      await out.close();
    }
  });
  return { seconds, cpuSeconds };
}
