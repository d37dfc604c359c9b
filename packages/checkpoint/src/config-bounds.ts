// Bounds on config sizes, checked when a config is parsed (before anything is allocated from it), and the memory a
// model implies, checked against the machine before its weights are read. Errors name the file, the field, the value
// and the allowed range — or the memory figure.
import { totalmem } from 'node:os';
import { CheckpointError } from './errors';
import type { HybridConfig } from './hybrid-config';
import type { LlamaConfig } from './llama-config';

/** Largest accepted value of each size field (far above any released model; a larger value is a corrupt file). */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 24,
  hidden_size: 1 << 17,
  intermediate_size: 1 << 20,
  num_hidden_layers: 4096,
  num_attention_heads: 4096,
  num_key_value_heads: 4096,
  head_dim: 4096,
  max_position_embeddings: 1 << 26,
  original_max_position_embeddings: 1 << 26,
  sliding_window: 1 << 26,
  // mamba_config.json
  d_model: 1 << 17,
  d_inner: 1 << 20,
  d_xb: 1 << 20,
  n_layer: 4096,
  d_state: 4096,
  d_conv: 64,
  expand: 64,
  dt_rank: 1 << 17,
  ngroups: 1 << 16,
  headdim: 4096,
} as const;

function outOfRange(source: string, field: string, value: number, max: number): never {
  throw new CheckpointError('BAD_CONFIG', `${source}: "${field}" = ${value} is out of range; expected an integer in [1, ${max}]`, { path: source });
}

/**
 * Size caps of a parsed Llama/Mistral config, head_dim even (RoPE rotates pairs), special token ids below
 * vocab_size. Called by parseLlamaConfig; returns `cfg` unchanged.
 *
 * @example checkLlamaConfigBounds(cfg, 'models/x/config.json');
 */
export function checkLlamaConfigBounds(cfg: LlamaConfig, source: string): LlamaConfig {
  const fields: [keyof typeof CONFIG_LIMITS, number | null][] = [
    ['vocab_size', cfg.vocabSize],
    ['hidden_size', cfg.hiddenSize],
    ['intermediate_size', cfg.intermediateSize],
    ['num_hidden_layers', cfg.numHiddenLayers],
    ['num_attention_heads', cfg.numAttentionHeads],
    ['num_key_value_heads', cfg.numKeyValueHeads],
    ['head_dim', cfg.headDim],
    ['max_position_embeddings', cfg.maxPositionEmbeddings],
    ['sliding_window', cfg.slidingWindow],
    ['original_max_position_embeddings', cfg.ropeScaling?.type === 'llama3' ? cfg.ropeScaling.originalMaxPositionEmbeddings : null],
  ];
  for (const [field, v] of fields) if (v !== null && v > CONFIG_LIMITS[field]) outOfRange(source, field, v, CONFIG_LIMITS[field]);
  if (cfg.headDim % 2 !== 0) {
    throw new CheckpointError('BAD_CONFIG', `${source}: head_dim = ${cfg.headDim} must be even (RoPE rotates pairs of channels)`, { path: source });
  }
  const ids: [string, number | number[] | null][] = [
    ['bos_token_id', cfg.raw.bos_token_id === undefined ? null : cfg.bosTokenId],
    ['eos_token_id', cfg.raw.eos_token_id === undefined ? null : cfg.eosTokenId],
    ['pad_token_id', cfg.padTokenId],
  ];
  for (const [field, v] of ids) {
    for (const id of v === null ? [] : Array.isArray(v) ? v : [v]) {
      if (id >= cfg.vocabSize) {
        throw new CheckpointError('BAD_CONFIG', `${source}: ${field} = ${id} is not a token id; expected an integer in [0, ${cfg.vocabSize - 1}] (vocab_size ${cfg.vocabSize})`, { path: source });
      }
    }
  }
  return cfg;
}

/**
 * Size caps of a raw `mamba_config.json` object, checked before the parser builds per-layer lists from it
 * (a non-number is left to the parser, which names the expected type).
 *
 * @example checkHybridConfigBounds(JSON.parse(text), 'out/student/mamba_config.json');
 */
export function checkHybridConfigBounds(raw: Readonly<Record<string, unknown>>, source: string): void {
  const check = (obj: unknown, prefix: string, fields: (keyof typeof CONFIG_LIMITS)[]) => {
    if (typeof obj !== 'object' || obj === null) return;
    for (const f of fields) {
      const v = (obj as Record<string, unknown>)[f];
      if (typeof v === 'number' && v > CONFIG_LIMITS[f]) outOfRange(source, `${prefix}${f}`, v, CONFIG_LIMITS[f]);
    }
  };
  check(raw, '', ['d_model', 'd_inner', 'd_xb', 'n_layer', 'intermediate_size', 'vocab_size']);
  check(raw.ssm_cfg, 'ssm_cfg.', ['d_state', 'd_conv', 'expand', 'dt_rank', 'ngroups', 'headdim']);
  if (Array.isArray(raw.attn_layers) && raw.attn_layers.length > CONFIG_LIMITS.n_layer) {
    outOfRange(source, 'attn_layers.length', raw.attn_layers.length, CONFIG_LIMITS.n_layer);
  }
}

/** The memory a model implies, in bytes, as float32 (how the models here hold weights and run). */
export interface ModelMemory {
  /** Parameters (teacher layout; hybrid: Mamba mixers in place of the replaced attention layers). */
  params: number;
  weightBytes: number;
  /** RoPE cos/sin tables at max_position_embeddings (float64 while built, float32 in the graph and in the runtime). */
  ropeTableBytes: number;
  /** KV cache per token of context (all attention layers, K and V). */
  kvBytesPerToken: number;
  /** KV cache at max_position_embeddings. */
  kvBytesAtMaxPositions: number;
}

/**
 * What a config implies before anything is allocated: weights, RoPE tables and KV cache.
 *
 * @example modelMemory(cfg).weightBytes / 2 ** 20; // MiB of float32 weights
 */
export function modelMemory(cfg: LlamaConfig, hybrid: HybridConfig | null = null): ModelMemory {
  const h = cfg.hiddenSize;
  const q = cfg.numAttentionHeads * cfg.headDim;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const attention = h * q * 2 + h * kv * 2;
  const mlp = 3 * h * cfg.intermediateSize;
  const embeddings = cfg.vocabSize * h * (cfg.tieWordEmbeddings ? 1 : 2);
  let mixers = cfg.numHiddenLayers * attention;
  let attnLayers = cfg.numHiddenLayers;
  if (hybrid) {
    // in_proj (z, x, B, C, dt) + out_proj + conv + per-channel/per-head vectors of each Mamba layer
    const d = hybrid.dInner;
    const mamba = h * (2 * d + 2 * hybrid.dXb + hybrid.ssm.ngroups + hybrid.ssm.dtRank) + d * h + (d + 2 * hybrid.dXb) * hybrid.ssm.dConv + 4 * d + hybrid.ssm.dtRank * d;
    attnLayers = hybrid.attnLayers.length;
    mixers = attnLayers * attention + hybrid.ssmLayers.length * mamba;
  }
  const params = embeddings + mixers + cfg.numHiddenLayers * (mlp + 2 * h) + h;
  const kvBytesPerToken = 2 * attnLayers * kv * 4;
  return {
    params,
    weightBytes: params * 4,
    ropeTableBytes: cfg.maxPositionEmbeddings * cfg.headDim * 16,
    kvBytesPerToken,
    kvBytesAtMaxPositions: kvBytesPerToken * cfg.maxPositionEmbeddings,
  };
}

/** Memory the models may use by default: the machine's physical memory. */
export function defaultMemoryLimit(): number {
  return totalmem();
}

const gib = (x: number) => (x >= 2 ** 30 ? `${(x / 2 ** 30).toFixed(1)} GiB` : x >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(1)} MiB` : `${x} bytes`);

/**
 * Refuses (TOO_LARGE_FOR_MEMORY, with the figure) a model whose weights plus RoPE tables — what loading and
 * compiling it allocate — exceed `limitBytes`. The KV cache is checked where a context length is known.
 *
 * @example checkModelFitsMemory(cfg, null, 'models/x/config.json'); // throws for num_hidden_layers: 1e6
 */
export function checkModelFitsMemory(cfg: LlamaConfig, hybrid: HybridConfig | null, source: string, limitBytes = defaultMemoryLimit()): ModelMemory {
  const m = modelMemory(cfg, hybrid);
  const need = m.weightBytes + m.ropeTableBytes;
  if (need > limitBytes) {
    throw new CheckpointError(
      'TOO_LARGE_FOR_MEMORY',
      `${source}: this model needs about ${gib(need)} (${m.params.toExponential(3)} float32 weights: ${gib(m.weightBytes)}; RoPE tables at max_position_embeddings ${cfg.maxPositionEmbeddings}: ${gib(m.ropeTableBytes)}) but the memory limit is ${gib(limitBytes)}`,
      { path: source },
    );
  }
  return m;
}
