import { describe, expect, it } from 'vitest';
import { MilError, isMilError } from '../src/index';

class DemoError extends MilError<'BAD_THING'> {}

describe('MilError', () => {
  it('keeps code, message, cause and hint; subclasses keep their name', () => {
    const cause = new Error('root');
    const e = new DemoError('BAD_THING', 'thing.json: expected 1, got 2', { cause, hint: 'fix it' });
    expect(e).toBeInstanceOf(MilError);
    expect(isMilError(e)).toBe(true);
    expect(isMilError(new Error('x'))).toBe(false);
    expect(e.name).toBe('DemoError');
    expect(e.code).toBe('BAD_THING');
    expect(e.cause).toBe(cause);
    expect(e.hint).toBe('fix it');
    expect(new MilError('X', 'm').cause).toBeUndefined();
  });
});
