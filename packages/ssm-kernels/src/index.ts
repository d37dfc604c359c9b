/**
 * @mil/ssm-kernels — Mamba-1 / Mamba-2 scans, causal conv and multi-step verify.
 *
 * Oracles (src/oracle/): plain TypeScript over Float32Array / Float64Array, sequential and obviously correct; every
 * graph form must agree with them. Layouts are batch-first, sequence-second (documented at the top of each
 * src/oracle/*.ts file). A Float64Array primary input selects float64 mode (for gradient checks); a Float32Array
 * one keeps states in fp32 as the reference kernels do.
 */

// ---- oracles -------------------------------------------------------------------------------------------------
export { SsmKernelError, type SsmKernelErrorCode } from './oracle/errors';
export type { FloatArray, IndexArray } from './oracle/common';
export { softplus, silu, SOFTPLUS_THRESHOLD } from './oracle/activations';
export {
  mamba1Scan,
  mamba1Step,
  type Mamba1Params,
  type Mamba1ScanInput,
  type Mamba1ScanResult,
  type Mamba1StepInput,
  type Mamba1StepResult,
} from './oracle/mamba1';
export {
  mamba2Scan,
  mamba2Step,
  type Mamba2Params,
  type Mamba2ScanInput,
  type Mamba2ScanResult,
  type Mamba2StepInput,
  type Mamba2StepResult,
} from './oracle/mamba2';
export { ssdChunked, type SsdChunkedInput } from './oracle/ssd-chunked';
export { gatedRmsNorm, type GatedRmsNormInput } from './oracle/gated-rms-norm';
export {
  causalConv1d,
  causalConv1dUpdate,
  causalConv1dRing,
  type ConvActivation,
  type CausalConv1dParams,
  type CausalConv1dInput,
  type CausalConv1dResult,
  type CausalConv1dUpdateInput,
  type CausalConv1dRingInput,
  type CausalConv1dUpdateResult,
} from './oracle/causal-conv1d';
export {
  multiStepVerify,
  mamba2MultiStepVerify,
  recomputeStepsAfter,
  type Mamba1VerifyCache,
  type Mamba2VerifyCache,
  type MultiStepVerifyInput,
  type Mamba2MultiStepVerifyInput,
  type MultiStepVerifyResult,
} from './oracle/multi-step-verify';

// ---- graph forms (src/graph/) are exported below by their owner ---------------------------------------------
