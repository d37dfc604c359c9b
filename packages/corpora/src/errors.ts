import { MilError } from '@mil/core';

/** Every way @mil/corpora can fail, as a stable string a caller can switch on. */
export type CorporaErrorCode =
  /** An option is out of range (a year range, a vocabulary size, a split size…); the message names it. */
  | 'BAD_OPTION'
  /** A corpus package is missing or its files are not what the loader expects; or a tokenizer input is malformed. */
  | 'BAD_INPUT';

/**
 * The error class of `@mil/corpora`.
 *
 * @example
 * try { loadSotu({ from: 2030, to: 2031 }); }
 * catch (e) { if (e instanceof CorporaError && e.code === 'BAD_OPTION') console.error(e.message); }
 */
export class CorporaError extends MilError<CorporaErrorCode> {}
