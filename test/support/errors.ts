import { expect } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';

/** Runs `fn`, asserts it throws a SegmentFormatError and returns it for checks of code and context. */
export function thrown(fn: () => unknown): SegmentFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SegmentFormatError);
    return err as SegmentFormatError;
  }
  return expect.fail('expected a SegmentFormatError, nothing was thrown');
}
