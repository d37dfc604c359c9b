/**
 * @mil/models: the Llama/Mistral teacher and the Mamba-in-Llama hybrid students as ONNX graph emitters,
 * their plain-TypeScript oracles, generation, and the corpora + tokenizer of the embedded default teacher.
 */
export * from './oracle/index';
export * from './generate/index';
export { buildLlamaTrainGraph, ropeTables, type LlamaTrainGraph, type TrainGraphOptions, type LayerContext } from './llama/train-graph';
export { linear, rmsNorm, applyRope, swiglu } from './llama/layers';
export { buildLlamaInferenceGraph, kvNames, type LlamaInferenceGraph, type InferenceGraphOptions, type InferenceContext } from './llama/inference-graph';
export { LlamaSession, type SessionOptions } from './llama/session';
