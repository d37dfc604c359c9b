// Asserts that a promise / function fails with a CheckpointError of the given code.
import { expect } from 'vitest';
import { CheckpointError, type CheckpointErrorCode } from '@mil/checkpoint';

export async function expectCode(p: Promise<unknown> | (() => unknown), code: CheckpointErrorCode, message?: RegExp): Promise<CheckpointError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError ${code}`).toBeInstanceOf(CheckpointError);
  const ce = err as CheckpointError;
  expect(ce.code, ce.message).toBe(code);
  if (message) expect(ce.message).toMatch(message);
  return ce;
}
