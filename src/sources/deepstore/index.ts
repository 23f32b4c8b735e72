/** Deep-store access: open a segment from a local directory, a local archive, S3 or HTTP. */
export { openSegment, type OpenSegmentOptions, type OpenedSegment } from './open.js';
export { detectCompression, extractSegmentArchive, type ArchiveCompression, type ExtractOptions, type ExtractResult } from './archive.js';
export { locateSegmentDir, METADATA_FILE, type LocatedSegment } from './locate.js';
export { openLocalSegmentFiles, type LocalSegmentFiles } from './local-files.js';
export { parseLocation, type Location } from './location.js';
export type { S3Options } from './s3.js';
