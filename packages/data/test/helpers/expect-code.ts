// Asserts that a promise / function fails with a DataError of the given code.
import { expect } from 'vitest';
import { DataError, type DataErrorCode } from '@mil/data';

export async function expectCode(p: Promise<unknown> | (() => unknown), code: DataErrorCode, message?: RegExp): Promise<DataError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a DataError ${code}`).toBeInstanceOf(DataError);
  const de = err as DataError;
  expect(de.code, de.message).toBe(code);
  if (message) expect(de.message).toMatch(message);
  return de;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
