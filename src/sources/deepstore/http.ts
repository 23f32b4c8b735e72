/**
 * GET of a controller download URL (`http(s)://<controller>/segments/<table>/<segment>`) as a stream,
 * with Node's global fetch (redirects followed).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ErrorCodes, SourceError } from '../../errors.js';

export async function getHttpObject(url: string, signal?: AbortSignal): Promise<Readable> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `GET failed: ${describeFetchError(err)}`, {
      context: { uri: url }, cause: err, retryable: true,
    });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const notFound = res.status === 404 || res.status === 410;
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new SourceError(notFound ? ErrorCodes.SOURCE_NOT_FOUND : ErrorCodes.SOURCE_FETCH_FAILED, `GET answered HTTP ${res.status} ${res.statusText}`.trim(), {
      context: { uri: url }, retryable: !notFound && retryable,
    });
  }
  if (res.body === null) return Readable.from([]);
  return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
}

/** undici says only "fetch failed"; the reason (ECONNREFUSED, …) is in `cause`. */
function describeFetchError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause ? `${message} (${cause.code ?? cause.message ?? ''})` : message;
}
