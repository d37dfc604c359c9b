import { MilError } from '@mil/core';

/** What went wrong, as a stable string a caller can switch on. */
export type ModelsErrorCode =
  | 'BAD_CONFIG'
  | 'MISSING_WEIGHT'
  | 'BAD_WEIGHT_SHAPE'
  | 'BAD_INPUT'
  | 'BAD_CACHE'
  | 'BAD_OPTION'
  | 'BAD_LOGITS';

/**
 * The one error class of `@mil/models`.
 *
 * @example
 * try { llamaOracleForward(cfg, w, [[1, 2]]); }
 * catch (e) { if (e instanceof ModelsError && e.code === 'MISSING_WEIGHT') console.error(e.message); }
 */
export class ModelsError extends MilError<ModelsErrorCode> {}
