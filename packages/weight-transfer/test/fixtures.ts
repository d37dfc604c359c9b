// Shared test fixtures: small teacher configs (d_inner ≠ d_model on purpose, so a swapped dimension shows) and
// an independent restatement of the parameter naming/shape contract.

/** A 4-layer GQA teacher: D = 48, 4 heads × 16 (d_inner 64), 2 KV heads (d_xb 32), dt_rank ceil(48/16) = 3. */
export const tinyTeacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 50,
  hidden_size: 48,
  intermediate_size: 80,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  max_position_embeddings: 64,
});

/** Llama-3-8B's config.json sizes. */
export const llama3_8b = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  tie_word_embeddings: false,
  max_position_embeddings: 8192,
});

/** Llama-3.2-3B's sizes (28 layers, tied embeddings). */
export const llama32_3b = parseLlamaConfig({ ...llama3_8b.raw,
  hidden_size: 3072,
  intermediate_size: 8192,
  num_hidden_layers: 28,
  num_attention_heads: 24,
  num_key_value_heads: 8,
  head_dim: 128,
  tie_word_embeddings: true,
});

/** The contract's Mamba mixer shapes, restated from the brief (not from src). */
export function contractMixerShapes(variant: 'mamba1' | 'mamba2', cfg: LlamaConfig): Record<string, number[]> {
  const D = cfg.hiddenSize;
  const P = cfg.headDim ?? D / cfg.numAttentionHeads;
  const dInner = cfg.numAttentionHeads * P;
  const dXb = (cfg.numKeyValueHeads ?? cfg.numAttentionHeads) * P;
  const w = 4;
  if (variant === 'mamba1') {
    const N = 16;
    const R = Math.ceil(D / 16);
    return {
      'in_proj_x.weight': [dXb, D],
      'B_proj.weight': [dXb, D],
      'C_proj.weight': [dInner, D],
      'out_proj.weight': [D, dInner],
      'in_proj_z.weight': [dInner, D],
      'dt_proj_down.weight': [R, D],
      'dt_proj.weight': [dInner, R],
      'dt_proj.bias': [dInner],
      'conv1d.weight': [dInner, 1, w],
      'conv1d.bias': [dInner],
      A_log: [dInner, N],
      D: [dInner],
    };
  }
  const H = cfg.numAttentionHeads;
  return {
    'in_proj.weight': [dInner + dXb + dXb + dInner + H, D],
    'conv1d.weight': [2 * dXb + dInner, 1, w],
    'conv1d.bias': [2 * dXb + dInner],
    dt_bias: [H],
    A_log: [H],
    D: [H],
    'norm.weight': [dInner],
    'out_proj.weight': [D, dInner],
  };
}

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** True when a and b hold the same float32 bit patterns. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** Rows [r0, r1) of a row-major matrix with `cols` columns. */
export function rows(m: Float32Array, cols: number, r0: number, r1: number): Float32Array {
  return m.subarray(r0 * cols, r1 * cols);
}

/** Kolmogorov–Smirnov distance between samples and a CDF. */
export function ksDistance(samples: number[], cdf: (x: number) => number): number {
  const s = [...samples].sort((a, b) => a - b);
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  }
  return d;
}import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';

