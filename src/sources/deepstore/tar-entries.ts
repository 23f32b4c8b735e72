/**
 * Writes the entries of a tar stream (tar-stream's `extract`) under one directory, refusing anything that
 * could land outside it. PAX and GNU long-name records are already folded into the headers by tar-stream.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Extract, Header } from 'tar-stream';
import { ErrorCodes, SourceError } from '../../errors.js';

/** What the writer is doing, so an error anywhere in the pipeline can name the entry. */
export interface TarProgress {
  entry: string | undefined;
  /** Offset of the current entry's header in the (uncompressed) tar stream. */
  tarOffset: number | undefined;
  files: string[];
}

export async function writeTarEntries(extract: Extract, destDir: string, progress: TarProgress): Promise<void> {
  // Subscribe before the first await: tar-stream emits entries to whoever listens at that moment.
  const iterator = extract[Symbol.asyncIterator]();
  const entries = { [Symbol.asyncIterator]: () => iterator };
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  for await (const entry of entries) {
    const header = entry.header;
    progress.entry = header.name;
    progress.tarOffset = entry.offset;
    const parts = safeParts(header);
    if (parts === undefined) {
      await drain(entry);
      continue;
    }
    const target = join(root, ...parts);
    // Belt and braces: `safeParts` already refused every way out of `root`.
    if (!target.startsWith(root + sep)) throw unsafe(header, 'resolves outside the extraction directory');
    if (header.type === 'directory') {
      await mkdir(target, { recursive: true });
      await drain(entry);
    } else {
      await mkdir(resolve(target, '..'), { recursive: true });
      await pipeline(entry, createWriteStream(target));
      progress.files.push(parts.join('/'));
    }
  }
  progress.entry = undefined;
  progress.tarOffset = undefined;
}

/**
 * Path segments of a regular file or directory entry, or undefined for entries to skip: the archive root
 * itself and macOS AppleDouble `._*` records (extended attributes stored as files by macOS tar).
 */
function safeParts(header: Header): string[] | undefined {
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
    case 'directory':
      break;
    case 'symlink':
    case 'link':
      throw unsafe(header, `is a ${header.type === 'link' ? 'hard link' : 'symlink'}; segment archives hold only files`);
    default:
      // block/char devices, fifos, and types tar-stream does not know (reported as null), e.g. GNU sparse
      throw unsafe(header, `has unsupported tar entry type ${String(header.type)}`);
  }
  const name = header.name;
  if (name.includes('\0') || name.includes('\\')) throw unsafe(header, 'has a NUL or backslash in its name');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(header, 'has an absolute path');
  const parts = name.split('/').filter((p: string) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(header, 'escapes the extraction directory with ".."');
  if (parts.length === 0) return undefined;
  if (parts[parts.length - 1]!.startsWith('._')) return undefined;
  return parts;
}

function unsafe(header: Header, why: string): SourceError {
  return new SourceError(ErrorCodes.ARCHIVE_INVALID, `tar entry ${JSON.stringify(header.name)} ${why}`, {
    context: { file: header.name },
  });
}

/** Reads past an entry's data; tar-stream only moves to the next header once it is consumed. */
async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of entry) {
    // discard
  }
}
