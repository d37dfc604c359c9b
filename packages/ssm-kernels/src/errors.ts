import { MilError } from '@mil/core';

/**
 * The one error class of `@mil/ssm-kernels`. Every message names the function, the tensor or option at fault and
 * what was expected, e.g. `mamba2Scan: tensor 'B' must hold 24 values for shape (b=1, L=2, g=2, n=6), got 20`.
 */
export type SsmKernelErrorCode =
  /** A tensor's element count does not match the shape given by the dimension fields. */
  | 'BAD_SHAPE'
  /** A tensor is not a Float32Array / Float64Array (or an index array is not integral). */
  | 'BAD_DTYPE'
  /** A dimension or option is out of range or inconsistent (e.g. `dim % nGroups !== 0`, `stateLen < width - 1`). */
  | 'BAD_OPTION';

/**
 * @example
 * throw new SsmKernelError('BAD_OPTION', "mamba1Scan: option 'nGroups' must divide 'dim' (8), got 3");
 */
export class SsmKernelError extends MilError<SsmKernelErrorCode> {}
