/**
 * @mil/ssm-kernels — Mamba-1 / Mamba-2 scans, causal conv and multi-step verify.
 *
 * Oracles (src/oracle/): plain TypeScript over Float32Array / Float64Array, sequential and obviously correct; every
 * graph form must agree with them. Layouts are batch-first, sequence-second (documented at the top of each
 * src/oracle/*.ts file). A Float64Array primary input selects float64 mode (for gradient checks); a Float32Array
 * one keeps states in fp32 as the reference kernels do.
 */

// ---- oracles -------------------------------------------------------------------------------------------------
export { SsmKernelError, type SsmKernelErrorCode } from './errors';
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

// ---- graph forms (src/graph/) ---------------------------------------------------------------------------------
export { ssmDeltaGraph, type SsmDeltaOptions } from './graph/delta';
export {
  type Mamba2GraphParams,
  type Mamba2DeltaOptions,
  type Mamba2ScanGraphInput,
  type Mamba2ScanGraphResult,
  type Mamba1GraphParams,
  type Mamba1DeltaOptions,
  type Mamba1ScanGraphInput,
  type Mamba1ScanGraphResult,
} from './graph/inputs';
export { mamba2ScanGraph, type Mamba2ScanGraphOptions } from './graph/mamba2-chunked';
export { mamba1ScanGraph, type Mamba1ScanGraphOptions } from './graph/mamba1-chunked';
export { gatedRmsNormGraph, type GatedRmsNormGraphInput, type GatedRmsNormGraphOptions } from './graph/gated-rms-norm';
export {
  causalConv1dGraph,
  causalConv1dUpdateGraph,
  causalConv1dRingGraph,
  type CausalConv1dGraphParams,
  type CausalConv1dGraphInput,
  type CausalConv1dUpdateGraphInput,
  type CausalConv1dRingGraphInput,
  type CausalConv1dGraphOptions,
  type CausalConv1dGraphResult,
} from './graph/causal-conv1d';
export { type Mamba2StateLayout } from './graph/state-layout';
export {
  mamba2PrefillGraph,
  mamba2DecodeStepGraph,
  type Mamba2InferenceOptions,
  type Mamba2StepGraphInput,
  type Mamba2StepGraphResult,
} from './graph/mamba2-inference';
export {
  mamba1PrefillGraph,
  mamba1DecodeStepGraph,
  type Mamba1StepGraphInput,
  type Mamba1StepGraphOptions,
  type Mamba1StepImpl,
  type Mamba1StepGraphResult,
} from './graph/mamba1-inference';
export {
  mamba2MultiStepVerifyGraph,
  mamba1MultiStepVerifyGraph,
  type Mamba2MultiStepVerifyGraphInput,
  type Mamba1MultiStepVerifyGraphInput,
  type Mamba2VerifyCacheGraph,
  type Mamba1VerifyCacheGraph,
  type MultiStepVerifyGraphResult,
} from './graph/multi-step-verify';
