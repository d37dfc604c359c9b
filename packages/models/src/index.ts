/**
 * @mil/models: the Llama/Mistral teacher and the Mamba-in-Llama hybrid students as ONNX graph emitters,
 * their plain-TypeScript oracles, generation, and the corpora + tokenizer of the embedded default teacher.
 */
export * from './oracle/index';
export * from './generate/index';
export { buildLlamaTrainGraph, ropeTables, type LlamaTrainGraph, type TrainGraphOptions, type LayerContext } from './llama/train-graph';
export { linear, rmsNorm, applyRope, swiglu } from './llama/layers';
export { buildLlamaInferenceGraph, kvNames, kvHeadNames, type LlamaInferenceGraph, type InferenceGraphOptions, type InferenceContext } from './llama/inference-graph';
export { LlamaSession, type SessionOptions, type LlamaSessionState } from './llama/session';
export { KvBuffer } from './llama/kv-buffer';
export { loadSotu, cleanSotuText, type SotuSpeech, type SotuRange } from './data/sotu';
export { loadBrown, detokenizeBrown, type BrownDocument } from './data/brown';
export { loadMobyDick, type MobyDickChapter } from './data/moby-dick';
export { loadSplits, SOTU_TRAIN_YEARS, SOTU_HELD_OUT_YEARS, type CorpusDocument, type CorpusSplits } from './data/splits';
export { trainBpe, type TrainBpeOptions, type TrainedBpe } from './tokenizer/train-bpe';
export { ReferenceBpeEncoder } from './tokenizer/reference-encoder';
export { llamaBpeTokenizerJson, bytePiece, type LlamaBpeTokenizerJson } from './tokenizer/tokenizer-json';
export { llamaTokenizerConfig, SIMPLE_CHAT_TEMPLATE, type LlamaTokenizerConfig } from './tokenizer/tokenizer-config';
export { saveTokenizer, stringifyTokenizerJson } from './tokenizer/save-tokenizer';
export { charsPerToken } from './tokenizer/compression';
export { initLlamaWeights } from './llama/init';
export { loadLlama, type LoadedLlama } from './llama/load';
export { hybridConfigForTeacher, resolveHybridDims, type HybridDims, type HybridModelOptions, type Mamba1DtBias } from './hybrid/hybrid-dims';
export { hybridWeightSpecs, hybridParamCount, randomHybridWeights, toMamba1Layout, type HybridParamCount, type HybridWeightSpecOptions, type Mamba1Layout } from './hybrid/hybrid-weights';
export { hybridOracleForward, emptyHybridState, type HybridOracleState, type HybridOracleOptions, type HybridOracleOutput, type HybridLayerState, type MambaLayerState } from './hybrid/hybrid-oracle';
export { buildHybridTrainGraph, buildHybridInferenceGraph, buildHybridMixerGraph, mambaStateNames, verifyStateNames, type HybridTrainGraphOptions, type HybridInferenceGraph, type HybridInferenceGraphOptions } from './hybrid/hybrid-graphs';
export { HybridSession, type HybridSessionOptions, type HybridSessionState } from './hybrid/hybrid-session';
export { MambaVerifyState, type MambaVerifyPoint } from './hybrid/hybrid-verify-state';
export { saveHybrid, loadHybrid, type HybridModel, type LoadedHybrid, type LoadHybridOptions, type SaveHybridOptions } from './hybrid/hybrid-io';
export { exportOnnx, type ExportOptions, type ExportedModel } from './export/export-onnx';
