/** `SegmentFiles` over in-memory buffers: for tests, and for segments assembled in memory. */
import { ErrorCodes, SourceError } from '../../errors.js';
import { bytesRange } from './bytes.js';
import type { SegmentFiles } from './types.js';

/**
 * Files by path relative to the directory holding `metadata.properties` (e.g. `columns.psf`,
 * `col.dict`). A live view: later changes to a passed-in Map are visible.
 */
export function memoryFiles(entries: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>): SegmentFiles {
  const map: ReadonlyMap<string, Uint8Array> = entries instanceof Map ? entries : new Map(Object.entries(entries));
  return {
    list: () => [...map.keys()],
    has: (name) => map.has(name),
    open(name) {
      const bytes = map.get(name);
      if (!bytes) {
        throw new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `segment has no file ${JSON.stringify(name)}`, { context: { file: name } });
      }
      return bytesRange(bytes);
    },
  };
}
