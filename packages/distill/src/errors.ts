import { MilError } from '@mil/core';

/** Every way the distill package can fail, as a stable string a caller can switch on. */
export type DistillErrorCode =
  /** An option is missing, out of range or inconsistent (the message names it). */
  | 'BAD_OPTION'
  /** `lossAndGrads` returned a gradient that is missing, unknown or of the wrong length. */
  | 'BAD_GRADS'
  /** An optimizer was given a parameter or gradient name it does not hold. */
  | 'UNKNOWN_TENSOR'
  /** A parameter and its gradient (or optimizer state) have different lengths. */
  | 'SHAPE_MISMATCH'
  /** The loss or the gradient norm is NaN or infinite; no update was applied. */
  | 'NON_FINITE'
  /** The data source yielded no batch for a whole epoch. */
  | 'DATA_EXHAUSTED'
  /** The checkpoint to resume from does not exist. */
  | 'CHECKPOINT_NOT_FOUND'
  /** A checkpoint file is missing, truncated, fails its checksum or cannot be parsed. */
  | 'CHECKPOINT_CORRUPT'
  /** The checkpoint is intact but does not fit this run (other parameters, shapes, frozen set, seed…). */
  | 'CHECKPOINT_MISMATCH'
  /** Writing a checkpoint failed; nothing was published under the step's name. */
  | 'CHECKPOINT_WRITE_FAILED'
  /** The run folder (--out) is an existing file, or cannot be written. */
  | 'OUT_NOT_A_FOLDER'
  | 'OUT_NOT_WRITABLE'
  /** The run folder already holds a run (resume it) / holds no run to resume. */
  | 'RUN_EXISTS'
  | 'RUN_NOT_FOUND'
  /** The options ask for more memory than the machine has, or a longer context than the teacher's. */
  | 'TOO_LARGE';

/**
 * Error raised by `@mil/distill`.
 *
 * @example
 * try { await train(opts); } catch (e) { if (e instanceof DistillError && e.code === 'CHECKPOINT_CORRUPT') ... }
 */
export class DistillError extends MilError<DistillErrorCode> {}
