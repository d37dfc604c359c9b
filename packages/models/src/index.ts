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
  type FinishReason,
  type ForwardOptions,
  generate,
  generateAll,
  type GeneratedToken,
  type GenerateOptions,
  type GenerationResult,
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
export { buildLlamaInferenceGraph, kvNames, kvHeadNames, type LlamaInferenceGraph, type InferenceGraphOptions, type InferenceContext } from './llama/inference-graph';
export { LlamaSession, type SessionOptions, type LlamaSessionState } from './llama/session';
export { KvBuffer } from './llama/kv-buffer';
export { initLlamaWeights } from './llama/init';
export { loadLlama, type LoadedLlama, type LoadLlamaOptions } from './llama/load';
export { hybridConfigForTeacher, resolveHybridDims, type HybridDims, type HybridModelOptions, type Mamba1DtBias } from './hybrid/hybrid-dims';
export { hybridWeightSpecs, hybridParamCount, randomHybridWeights, toMamba1Layout, type HybridParamCount, type HybridWeightSpecOptions, type Mamba1Layout } from './hybrid/hybrid-weights';
export { hybridOracleForward, emptyHybridState, type HybridOracleState, type HybridOracleOptions, type HybridOracleOutput, type HybridLayerState, type MambaLayerState } from './hybrid/hybrid-oracle';
export { buildHybridTrainGraph, buildHybridInferenceGraph, buildHybridMixerGraph, mambaStateNames, verifyStateNames, type HybridTrainGraphOptions, type HybridInferenceGraph, type HybridInferenceGraphOptions } from './hybrid/hybrid-graphs';
export { HybridSession, type HybridSessionOptions, type HybridSessionState } from './hybrid/hybrid-session';
export { MambaVerifyState, type MambaVerifyPoint } from './hybrid/hybrid-verify-state';
export { saveHybrid, loadHybrid, type HybridModel, type LoadedHybrid, type LoadHybridOptions, type SaveHybridOptions } from './hybrid/hybrid-io';
export { exportOnnx, buildExportSpec, writeExportGraph, type ExportOptions, type ExportedModel, type ExportSource, type GraphIo } from './export/export-onnx';
export { renameSymbolicDims, TRANSFORMERS_JS_DIM_NAMES } from './export/onnx-dims';
export { exportTransformersJs, transformersJsConfig, TOKENIZER_FILES, type TransformersJsExport, type TransformersJsExportOptions } from './export/export-transformers-js';
export { exportGguf, type GgufExport, type GgufExportOptions } from './export/export-gguf';
export { encodeGguf, ggmlTensorBytes, GGML_TYPE, GGUF_VALUE_TYPE, type GgufFile, type GgufTensor, type GgufValue, type GgmlType } from './export/gguf-writer';
export { quantizeQ8_0, dequantizeQ8_0, encodeGgml, QK8_0 } from './export/gguf-quant';
export { llamaGgufTensors, permuteRopeRows, GGUF_FILE_TYPE, type GgufDtype, type GgufEmitter, type LlamaGgufOptions } from './export/gguf-llama';
export { hybridGgufTensors } from './export/gguf-hybrid';
export { ggufTokenizer, GGUF_TOKEN_TYPE, type GgufTokenizer } from './export/gguf-tokenizer';
