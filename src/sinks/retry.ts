/**
 * Retries with capped exponential backoff for the S3 sink.
 *
 * Two users: the S3 client itself (every request, through `backoffRetryStrategy`, so each UploadPart,
 * PutObject and CompleteMultipartUpload is retried alone with its own bytes) and our own cleanup calls
 * (`withRetries`, e.g. AbortMultipartUpload, which gets a longer budget because a leftover upload costs
 * storage until someone aborts it).
 *
 * What is retried: HTTP 500/502/503/504, 429 and 408, S3's SlowDown / InternalError / ServiceUnavailable /
 * RequestTimeout codes, connection errors (reset, refused, timed out), and the SDK's own transient and
 * throttling classes. That includes a CompleteMultipartUpload answered with 200 and an `<Error>` body: the
 * SDK's S3 middleware turns it into a 503 before the retry step sees it.
 *
 * `backoffCeiling` and the abortable `sleep` are shared with the Iceberg REST client and the Iceberg committer.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retries). */
  maxAttempts: number;
  /** Delay before the first retry; doubles per retry. */
  baseDelayMs: number;
  /** Cap on one delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 20_000 };

/** Called before each retry; `attempt` is the attempt that failed (1-based). */
export type RetryListener = (event: { attempt: number; delayMs: number; error: unknown }) => void;

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_NAMES = new Set([
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException', 'OperationAborted',
]);
const RETRY_ERRNO = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ENOTFOUND', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
]);

interface ErrorLike {
  name?: string;
  code?: string;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Whether another attempt of the same request may succeed. */
export function isRetryableError(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as ErrorLike;
  if (e.name === 'AbortError') return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && RETRY_STATUS.has(status)) return true;
  if (e.name !== undefined && RETRY_NAMES.has(e.name)) return true;
  if (e.code !== undefined && RETRY_ERRNO.has(e.code)) return true;
  if (e.$retryable !== undefined) return true;
  return depth < 5 && e.cause !== undefined && isRetryableError(e.cause, depth + 1);
}

/**
 * Delay before retry number `retry` (1 = first retry): "equal jitter", half fixed and half random, so a
 * throttled store always gets some rest and clients that failed together do not retry together.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(policy.baseDelayMs, policy.maxDelayMs, retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Capped exponential delay before retry number `retry` (1 = first retry, which waits `baseMs`), no jitter. */
export function backoffCeiling(baseMs: number, maxMs: number, retry: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts, so a stop does not wait out a backoff. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type RetryStrategyV2 = Extract<NonNullable<S3ClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

class Token implements RetryToken {
  constructor(private readonly count: number, private readonly delay: number) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delay;
  }
}

/**
 * The S3 client's retry strategy: our policy and classification instead of the SDK's standard mode (whose
 * retry quota can stop retrying a long multipart upload halfway, and whose delays we cannot bound).
 * The SDK middleware sleeps for the token's delay before the next attempt.
 */
export function backoffRetryStrategy(policy: RetryPolicy, onRetry?: RetryListener): RetryStrategyV2 {
  return {
    async acquireInitialRetryToken() {
      return new Token(0, 0);
    },
    async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo) {
      const attempt = token.getRetryCount() + 1;
      const retryable = info.errorType === 'TRANSIENT' || info.errorType === 'THROTTLING' || isRetryableError(info.error);
      if (!retryable || attempt >= policy.maxAttempts) throw info.error ?? new Error('retry refused');
      let delayMs = backoffDelay(policy, attempt);
      if (info.retryAfterHint) {
        delayMs = Math.min(policy.maxDelayMs, Math.max(delayMs, info.retryAfterHint.getTime() - Date.now()));
      }
      onRetry?.({ attempt, delayMs, error: info.error });
      return new Token(attempt, delayMs);
    },
    recordSuccess() {},
  };
}

export interface WithRetriesOptions {
  policy: RetryPolicy;
  /** Stop retrying once this much time has passed since the first attempt (the attempt count still applies). */
  deadlineMs?: number;
  isRetryable?: (err: unknown) => boolean;
  onRetry?: RetryListener;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the attempts or deadline run out. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: WithRetriesOptions): Promise<T> {
  const { policy, deadlineMs = Infinity, isRetryable = isRetryableError, onRetry } = options;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const delayMs = backoffDelay(policy, attempt);
      const outOfTime = Date.now() - started + delayMs > deadlineMs;
      if (!isRetryable(err) || attempt >= policy.maxAttempts || outOfTime) throw err;
      onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}
