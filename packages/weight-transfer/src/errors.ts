import { MilError } from '@mil/core';

/** Every way this package can fail, as a stable string a caller can switch on. */
export type WeightTransferErrorCode =
  /** A layer schedule that cannot be built (bad fraction, index out of range, duplicates…). */
  | 'BAD_SCHEDULE'
  /** A teacher or hybrid config that is invalid, or that does not fit the other config it is used with. */
  | 'BAD_CONFIG'
  /** A tensor the transfer needs is absent from the weights given. */
  | 'MISSING_TENSOR'
  /** A tensor has a different number of values than its config says. */
  | 'BAD_TENSOR_SHAPE'
  /** An option with a value outside what the function accepts. */
  | 'BAD_OPTION'
  /** Something the reference method cannot do (e.g. attention biases, a Mamba layer turned back into attention). */
  | 'UNSUPPORTED';

/**
 * The one error class of `@mil/weight-transfer`. `tensor` names the tensor at fault when there is one.
 *
 * @example
 * try { initStudentFromTeacher(w, cfg, hybrid, { seed: 0 }); }
 * catch (e) { if (e instanceof WeightTransferError && e.code === 'MISSING_TENSOR') console.error(e.tensor); }
 */
export class WeightTransferError extends MilError<WeightTransferErrorCode> {
  readonly tensor?: string;

  constructor(code: WeightTransferErrorCode, message: string, options: { tensor?: string; cause?: unknown; hint?: string } = {}) {
    super(code, message, options);
    if (options.tensor !== undefined) this.tensor = options.tensor;
  }
}
