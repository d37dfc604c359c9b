/**
 * @mil/models: the Llama/Mistral teacher and the Mamba-in-Llama hybrid students as ONNX graph emitters,
 * their plain-TypeScript oracles, sessions and generation.
 */
export {
  applyRopeInPlace,
  createOracleStepModel,
  emptyKvCache,
  type KvCache,
  type KvCacheLayer,
  llamaOracleForward,
  type LlamaOracleOptions,
  type LlamaOracleOutput,
  llamaWeightSpecs,
  ModelsError,
  type ModelsErrorCode,
  type OracleStepModel,
  randomLlamaWeights,
  rmsNormRow,
  ropeInvFreq,
  truncateKvCache,
  type WeightSource,
  type WeightSpec,
} from './oracle/index';
export {
  applyRepetitionPenalty,
  applyTemperature,
  argmax,
  findStopString,
  type FinishReason,
  generate,
  generateAll,
  type GeneratedToken,
  type GenerateOptions,
  type GenerationResult,
  heldBackLength,
  isSampling,
  type Logits,
  processLogits,
  sampleFromLogits,
  sampleFromProbs,
  type SamplingOptions,
  softmax,
  type StepModel,
  topK,
  topP,
} from './generate/index';
export { buildLlamaTrainGraph, ropeTables, type LlamaTrainGraph, type TrainGraphOptions, type LayerContext } from './llama/train-graph';
export { linear, rmsNorm, applyRope, swiglu } from './llama/layers';
export { buildLlamaInferenceGraph, kvNames, type LlamaInferenceGraph, type InferenceGraphOptions, type InferenceContext } from './llama/inference-graph';
export { LlamaSession, type SessionOptions } from './llama/session';
export { initLlamaWeights } from './llama/init';
export { loadLlama, type LoadedLlama } from './llama/load';
export { hybridConfigForTeacher, resolveHybridDims, type HybridDims, type HybridModelOptions, type Mamba1DtBias } from './hybrid/hybrid-dims';
export { hybridWeightSpecs, hybridParamCount, randomHybridWeights, toMamba1Layout, type HybridParamCount, type HybridWeightSpecOptions, type Mamba1Layout } from './hybrid/hybrid-weights';
export { hybridOracleForward, emptyHybridState, type HybridOracleState, type HybridOracleOptions, type HybridOracleOutput, type HybridLayerState, type MambaLayerState } from './hybrid/hybrid-oracle';
export { buildHybridTrainGraph, buildHybridInferenceGraph, buildHybridMixerGraph, mambaStateNames, type HybridTrainGraphOptions, type HybridInferenceGraph, type HybridInferenceGraphOptions } from './hybrid/hybrid-graphs';
export { HybridSession, type HybridSessionOptions, type HybridSessionState } from './hybrid/hybrid-session';
export { saveHybrid, loadHybrid, type HybridModel, type LoadedHybrid, type LoadHybridOptions, type SaveHybridOptions } from './hybrid/hybrid-io';
export { exportOnnx, type ExportOptions, type ExportedModel } from './export/export-onnx';
