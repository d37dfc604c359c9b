/**
 * The one error class every @mil package throws (directly or through a subclass that narrows `code`).
 * Codes are UPPER_SNAKE_CASE strings a caller can switch on; the message names the file, tensor, flag or option
 * at fault and what was expected. `hint` (optional) says how to fix it, e.g. how to install a missing provider.
 *
 * @example
 * try { await load(dir); } catch (e) {
 *   if (e instanceof MilError && e.code === 'NOT_FOUND') console.error(e.message);
 * }
 */
export class MilError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly hint?: string;
  constructor(code: Code, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

/** True for any error thrown by a @mil package (any subclass of `MilError`). */
export function isMilError(e: unknown): e is MilError {
  return e instanceof MilError;
}
