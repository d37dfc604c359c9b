// Plain TypeScript oracles of the onnxruntime contrib ops the inference graphs use; each reproduces
// onnxruntime-node 1.29's CPU kernel (verified by test/contrib-oracles*.test.ts). See docs/contrib-ops.md.

export type { FloatArray, IntArray } from './types';
export {
  simplifiedLayerNormalization,
  skipSimplifiedLayerNormalization,
  type SimplifiedLayerNormalizationArgs,
  type SimplifiedLayerNormalizationResult,
  type SkipSimplifiedLayerNormalizationArgs,
  type SkipSimplifiedLayerNormalizationResult,
} from './rms-norm';
export { rotaryEmbedding, type RotaryEmbeddingArgs } from './rotary-embedding';
export { groupQueryAttention, type GroupQueryAttentionArgs, type GroupQueryAttentionResult } from './group-query-attention';
export {
  linearAttention,
  type LinearAttentionArgs,
  type LinearAttentionResult,
  type LinearAttentionUpdateRule,
} from './linear-attention';
export { causalConvWithState, type CausalConvWithStateArgs, type CausalConvWithStateResult } from './causal-conv-with-state';
