/**
 * Finds the segment inside an extracted tree. The top directory name is opaque (§1.2): look for the
 * directory holding `metadata.properties`, and when both `<seg>/v3/` and `<seg>/` hold one, take `v3/`
 * as Pinot does (`SegmentDirectoryPaths.findFormatFile`).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { ErrorCodes, SourceError } from '../../errors.js';

export const METADATA_FILE = 'metadata.properties';
const V3_DIR = 'v3';
/** `<root>/<seg>/v3/` is depth 2; one more level tolerates a wrapper directory without walking a whole disk. */
const MAX_DEPTH = 3;

export interface LocatedSegment {
  /** The directory holding `metadata.properties` (`<seg>/v3` or `<seg>`). */
  dir: string;
  /** The segment's own directory: the parent of `v3/`, else `dir`. Its base name is the segment name. */
  segmentDir: string;
}

export async function locateSegmentDir(root: string, uri?: string): Promise<LocatedSegment> {
  const found = await findMetadataDirs(root, 0);
  const chosen = found.filter((d) => !found.includes(join(d, V3_DIR)));
  if (chosen.length === 0) {
    throw new SourceError(ErrorCodes.ARCHIVE_INVALID, `no ${METADATA_FILE} found: not a Pinot segment`, { context: { uri } });
  }
  const segments = new Set(chosen.map(segmentDirOf));
  if (segments.size > 1) {
    const names = [...segments].map((d) => relative(root, d) || '.').sort();
    throw new SourceError(ErrorCodes.ARCHIVE_INVALID, `holds ${segments.size} segments (${names.join(', ')}); expected one`, { context: { uri } });
  }
  const dir = chosen[0]!;
  return { dir, segmentDir: segmentDirOf(dir) };
}

function segmentDirOf(dir: string): string {
  return basename(dir) === V3_DIR ? dirname(dir) : dir;
}

async function findMetadataDirs(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  const meta = entries.find((e) => e.name === METADATA_FILE);
  if (meta !== undefined && (meta.isFile() || (meta.isSymbolicLink() && (await stat(join(dir, METADATA_FILE))).isFile()))) out.push(dir);
  if (depth < MAX_DEPTH) {
    for (const e of entries) if (e.isDirectory()) out.push(...(await findMetadataDirs(join(dir, e.name), depth + 1)));
  }
  return out;
}
