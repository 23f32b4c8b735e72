import { expect } from 'vitest';
import { ConfigError, ErrorCodes, SegmentFormatError } from '../../src/errors.js';

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

/** Runs `fn`, asserts it throws a CONFIG_INVALID ConfigError and returns it for checks of message and context. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    return err as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}
