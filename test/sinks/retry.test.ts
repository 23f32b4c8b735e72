/** Which failures are retried, how long we wait, and when we give up. */
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, backoffRetryStrategy, isRetryableError, sleep, withRetries, type RetryPolicy } from '../../src/sinks/retry.js';

const s3Error = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });

describe('classification', () => {
  it('retries 5xx, throttling, timeouts and connection errors', () => {
    expect(isRetryableError(s3Error('SlowDown', 503))).toBe(true);
    expect(isRetryableError(s3Error('InternalError', 500))).toBe(true);
    expect(isRetryableError(s3Error('Unknown', 502))).toBe(true);
    expect(isRetryableError(s3Error('TooManyRequests', 429))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryableError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }))).toBe(true);
  });

  it('does not retry client errors or aborts', () => {
    expect(isRetryableError(s3Error('AccessDenied', 403))).toBe(false);
    expect(isRetryableError(s3Error('BadDigest', 400))).toBe(false);
    expect(isRetryableError(s3Error('PreconditionFailed', 412))).toBe(false);
    expect(isRetryableError(s3Error('NoSuchBucket', 404))).toBe(false);
    expect(isRetryableError(Object.assign(new Error('a'), { name: 'AbortError', code: 'ECONNRESET' }))).toBe(false);
    expect(isRetryableError('a string')).toBe(false);
  });
});

type ErrorInfo = Parameters<ReturnType<typeof backoffRetryStrategy>['refreshRetryTokenForRetry']>[1];
const info = (errorType: ErrorInfo['errorType'], error: Error) => ({ errorType, error }) as unknown as ErrorInfo;

describe('backoff', () => {
  const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles per retry with equal jitter and a cap', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 20, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 20, () => 0)).toBe(500);
  });

  it('the SDK strategy grants retries up to maxAttempts and only for retryable errors', async () => {
    const retries: number[] = [];
    const strategy = backoffRetryStrategy({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 }, ({ attempt }) => retries.push(attempt));
    let token = await strategy.acquireInitialRetryToken('');
    token = await strategy.refreshRetryTokenForRetry(token, info('TRANSIENT', s3Error('InternalError', 500)));
    expect(token.getRetryCount()).toBe(1);
    expect(token.getRetryDelay()).toBeGreaterThanOrEqual(5);
    token = await strategy.refreshRetryTokenForRetry(token, info('THROTTLING', s3Error('SlowDown', 503)));
    await expect(strategy.refreshRetryTokenForRetry(token, info('TRANSIENT', s3Error('InternalError', 500)))).rejects.toThrow('InternalError');
    const fresh = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(fresh, info('CLIENT_ERROR', s3Error('AccessDenied', 403)))).rejects.toThrow('AccessDenied');
    expect(retries).toEqual([1, 2]);
  });
});

describe('withRetries', () => {
  it('retries until success', async () => {
    let calls = 0;
    const out = await withRetries(async () => {
      if (++calls < 3) throw s3Error('SlowDown', 503);
      return 'ok';
    }, { policy: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 } });
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after maxAttempts, at once on a non-retryable error, and at the deadline', async () => {
    let calls = 0;
    await expect(withRetries(async () => {
      calls++;
      throw s3Error('InternalError', 500);
    }, { policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } })).rejects.toThrow('InternalError');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withRetries(async () => {
      calls++;
      throw s3Error('AccessDenied', 403);
    }, { policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } })).rejects.toThrow('AccessDenied');
    expect(calls).toBe(1);
    calls = 0;
    const started = Date.now();
    await expect(withRetries(async () => {
      calls++;
      throw s3Error('SlowDown', 503);
    }, { policy: { maxAttempts: 1000, baseDelayMs: 20, maxDelayMs: 20 }, deadlineMs: 150 })).rejects.toThrow('SlowDown');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toBeGreaterThan(2);
  });
});

describe('backoffCeiling and sleep', () => {
  it('backoffCeiling doubles from base per retry, no jitter, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeiling(100, 1000, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffCeiling(100, 1000, 0)).toBe(100);
  });

  it('sleep waits, and rejects with the reason when aborted before or during the wait', async () => {
    const t0 = Date.now();
    await sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);

    const before = new AbortController();
    before.abort(new Error('stopped before'));
    await expect(sleep(10_000, before.signal)).rejects.toThrow('stopped before');

    const during = new AbortController();
    const started = Date.now();
    setTimeout(() => during.abort(new Error('stopped during')), 20);
    await expect(sleep(10_000, during.signal)).rejects.toThrow('stopped during');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
