import { ModelsError } from './models-error';

/** `rope_scaling` as found in a Hugging Face `config.json` (`rope_type`, or the older key `type`). */
export interface RopeScalingConfig {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/**
 * The fields of a Llama / Mistral `config.json` that the oracle reads (Hugging Face names).
 * `@mil/checkpoint`'s parsed config type is structurally compatible with this one.
 */
export interface LlamaOracleConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Defaults to `num_attention_heads` (plain MHA), as in HF. */
  num_key_value_heads?: number | null;
  /** Defaults to `hidden_size / num_attention_heads`, as in HF. */
  head_dim?: number | null;
  rms_norm_eps: number;
  /** transformers 4 spelling; transformers 5 keeps it in `rope_parameters` instead. */
  rope_theta?: number;
  /** transformers 4 spelling of the scaling (null / absent: plain RoPE). */
  rope_scaling?: RopeScalingConfig | null;
  /** transformers 5 spelling: `rope_theta` and the scaling fields in one object (`rope_type` "default" = plain). */
  rope_parameters?: (RopeScalingConfig & { rope_theta?: number }) | null;
  tie_word_embeddings: boolean;
  /** Mistral: a query at position i sees keys j with `i - j < sliding_window`. Null/absent: full causal. */
  sliding_window?: number | null;
  max_position_embeddings: number;
  /** Llama's optional q/k/v/o biases (`*.bias`); default false. */
  attention_bias?: boolean;
  /** Llama's optional gate/up/down biases; default false. */
  mlp_bias?: boolean;
  /** Only `silu` is supported (what Llama and Mistral use). */
  hidden_act?: string;
}

/** The config with defaults filled in and derived sizes computed; what the oracle works from. */
export interface ResolvedLlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScalingConfig | null;
  tieWordEmbeddings: boolean;
  slidingWindow: number | null;
  maxPositionEmbeddings: number;
  attentionBias: boolean;
  mlpBias: boolean;
}

function positiveInt(config: LlamaOracleConfig, field: keyof LlamaOracleConfig, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelsError('BAD_CONFIG', `config.${String(field)}: expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelsError('BAD_CONFIG', `config.${field}: expected a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** RoPE settings from either spelling: transformers 5's `rope_parameters` wins over 4's `rope_theta` / `rope_scaling`. */
function resolveRope(config: LlamaOracleConfig): { ropeTheta: number; ropeScaling: RopeScalingConfig | null } {
  const p = config.rope_parameters;
  if (p != null) {
    const type = p.rope_type ?? p.type ?? 'default';
    const { rope_theta, ...scaling } = p;
    return { ropeTheta: positiveNumber('rope_parameters.rope_theta', rope_theta ?? config.rope_theta ?? 10000), ropeScaling: type === 'default' ? null : scaling };
  }
  return { ropeTheta: positiveNumber('rope_theta', config.rope_theta ?? 10000), ropeScaling: config.rope_scaling ?? null };
}

/**
 * Checks a Llama/Mistral config and fills in HF's defaults (kv heads, head_dim).
 *
 * @example
 * const r = resolveLlamaConfig({ ...cfg, head_dim: null }); // r.headDim === cfg.hidden_size / cfg.num_attention_heads
 */
export function resolveLlamaConfig(config: LlamaOracleConfig): ResolvedLlamaConfig {
  const numHeads = positiveInt(config, 'num_attention_heads', config.num_attention_heads);
  const hiddenSize = positiveInt(config, 'hidden_size', config.hidden_size);
  const numKvHeads = positiveInt(config, 'num_key_value_heads', config.num_key_value_heads ?? numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelsError(
      'BAD_CONFIG',
      `config.num_attention_heads (${numHeads}) must be a multiple of config.num_key_value_heads (${numKvHeads})`,
    );
  }
  let headDim: number;
  if (config.head_dim == null) {
    if (hiddenSize % numHeads !== 0) {
      throw new ModelsError(
        'BAD_CONFIG',
        `config.head_dim is absent and hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads})`,
      );
    }
    headDim = hiddenSize / numHeads;
  } else {
    headDim = positiveInt(config, 'head_dim', config.head_dim);
  }
  if (headDim % 2 !== 0) throw new ModelsError('BAD_CONFIG', `config.head_dim must be even for RoPE, got ${headDim}`);
  if (config.hidden_act != null && config.hidden_act !== 'silu') {
    throw new ModelsError('BAD_CONFIG', `config.hidden_act: only "silu" is supported, got ${JSON.stringify(config.hidden_act)}`);
  }
  const slidingWindow = config.sliding_window == null ? null : positiveInt(config, 'sliding_window', config.sliding_window);
  return {
    vocabSize: positiveInt(config, 'vocab_size', config.vocab_size),
    hiddenSize,
    intermediateSize: positiveInt(config, 'intermediate_size', config.intermediate_size),
    numLayers: positiveInt(config, 'num_hidden_layers', config.num_hidden_layers),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positiveNumber('rms_norm_eps', config.rms_norm_eps),
    ...resolveRope(config),
    tieWordEmbeddings: config.tie_word_embeddings === true,
    slidingWindow,
    maxPositionEmbeddings: positiveInt(config, 'max_position_embeddings', config.max_position_embeddings),
    attentionBias: config.attention_bias === true,
    mlpBias: config.mlp_bias === true,
  };
}
