// The Llama / Mistral decoder as an inference graph with an explicit KV cache: one graph serves prefill
// (empty past), single-token decode and multi-token verify (any number of new tokens after a past).
// Caches are named as transformers.js expects: past_key_values.{i}.key/value → present.{i}.key/value.
import type { LlamaConfig } from '@mil/checkpoint';
import {
  type DType, type Graph, type Tensor,
  add, cast, gather, groupQueryAttention, reduceSum, simplifiedLayerNorm, sub, squeeze,
} from '@mil/graph';
import { linear, swiglu } from './layers';
import { llamaParamFactory } from './param-factory';
import { ropeTables } from './train-graph';

export interface LlamaInferenceGraph {
  logits: Tensor;
  /** present.{i}.key / present.{i}.value per attention layer index. */
  presents: Map<number, { key: Tensor; value: Tensor }>;
  params: Map<string, Tensor>;
  /** Every graph output by its transformers.js name: `logits`, `present.{i}.key/value`. */
  outputs: Record<string, Tensor>;
}

export interface InferenceGraphOptions {
  dtype?: DType;
  /** Rows of the RoPE tables = the longest context the graph supports (default max_position_embeddings). */
  maxPositions?: number;
  /** Replaces the mixer of some layers (hybrids); returns null to keep attention. */
  mixer?: (layer: number, x: Tensor, ctx: InferenceContext) => Tensor | null;
  /** Only the last position's logits (saves the LM head on long prompts). */
  lastLogitsOnly?: boolean;
}

export interface InferenceContext {
  g: Graph;
  cfg: LlamaConfig;
  dtype: DType;
  param: (name: string, shape: number[]) => Tensor;
}

/** The cache inputs and outputs of attention layer `i`, transformers.js names. */
export const kvNames = (i: number) => ({
  pastKey: `past_key_values.${i}.key`,
  pastValue: `past_key_values.${i}.value`,
  presentKey: `present.${i}.key`,
  presentValue: `present.${i}.value`,
});

/**
 * Emits the cached inference graph. Inputs: `input_ids` [batch, seq] int64, `attention_mask` [batch, total] int64
 * (1 for every cached and new token), and per attention layer `past_key_values.{i}.key/value`
 * [batch, kvHeads, past, headDim]. Outputs: `logits` and `present.{i}.key/value` [batch, kvHeads, past+seq, headDim].
 *
 * @example
 * const g = new Graph();
 * const m = buildLlamaInferenceGraph(g, config);
 * const model = g.toModel({ outputs: { logits: m.logits, ... }, weights: 'initializers', weightData: (n) => w.get(n) });
 */
export function buildLlamaInferenceGraph(g: Graph, config: LlamaConfig, opts: InferenceGraphOptions = {}): LlamaInferenceGraph {
  const cfg = config;
  const dtype = opts.dtype ?? 'float32';
  const { params, param } = llamaParamFactory(g, config, dtype);
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'total']);
  // GQA wants seqlens_k = valid length − 1 per row and the total length, both int32.
  const seqlensK = cast(sub(reduceSum(mask, [1]), g.scalar(1, 'int64')), 'int32');
  const totalLen = cast(squeeze(g.dimTensor('total'), [0]), 'int32');
  const maxPos = opts.maxPositions ?? cfg.maxPositionEmbeddings;
  const { cos, sin } = ropeTables(cfg, maxPos);
  const half = cfg.headDim / 2;
  const tcos = cast(g.constant(Float32Array.from(cos), 'float32', [maxPos, half]), dtype);
  const tsin = cast(g.constant(Float32Array.from(sin), 'float32', [maxPos, half]), dtype);
  const ctx: InferenceContext = { g, cfg, dtype, param };
  const presents = new Map<number, { key: Tensor; value: Tensor }>();
  const d = cfg.hiddenSize;
  const hd = cfg.headDim;
  let x = gather(param('model.embed_tokens.weight', [cfg.vocabSize, d]), inputIds);
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const pre = `model.layers.${i}`;
    const h = simplifiedLayerNorm(x, param(`${pre}.input_layernorm.weight`, [d]), cfg.rmsNormEps);
    let mixed = opts.mixer?.(i, h, ctx) ?? null;
    if (!mixed) {
      const p = `${pre}.self_attn`;
      const b = (n: string, size: number) => (cfg.attentionBias ? param(`${p}.${n}.bias`, [size]) : null);
      const q = linear(h, param(`${p}.q_proj.weight`, []), b('q_proj', cfg.numAttentionHeads * hd));
      const k = linear(h, param(`${p}.k_proj.weight`, []), b('k_proj', cfg.numKeyValueHeads * hd));
      const v = linear(h, param(`${p}.v_proj.weight`, []), b('v_proj', cfg.numKeyValueHeads * hd));
      const names = kvNames(i);
      const pk = g.input(names.pastKey, dtype, ['batch', cfg.numKeyValueHeads, 'past', hd]);
      const pv = g.input(names.pastValue, dtype, ['batch', cfg.numKeyValueHeads, 'past', hd]);
      const [att, key, value] = groupQueryAttention(q, k, v, pk, pv, seqlensK, totalLen, {
        numHeads: cfg.numAttentionHeads,
        kvNumHeads: cfg.numKeyValueHeads,
        rotary: { cos: tcos, sin: tsin },
        scale: 1 / Math.sqrt(hd),
        localWindowSize: cfg.slidingWindow ?? undefined,
      });
      presents.set(i, { key, value });
      mixed = linear(att, param(`${p}.o_proj.weight`, []), b('o_proj', d));
    }
    x = add(x, mixed);
    const h2 = simplifiedLayerNorm(x, param(`${pre}.post_attention_layernorm.weight`, [d]), cfg.rmsNormEps);
    x = add(x, swiglu(h2, param(`${pre}.mlp.gate_proj.weight`, []), param(`${pre}.mlp.up_proj.weight`, []), param(`${pre}.mlp.down_proj.weight`, [])));
  }
  if (opts.lastLogitsOnly) {
    // Keep [b, 1, d]: slice the last position.
    x = g.addNode('Slice', [x, g.ints([-1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])], [{ dtype, shape: [x.shape[0], 1, d] }])[0];
  }
  const hidden = simplifiedLayerNorm(x, param('model.norm.weight', [d]), cfg.rmsNormEps);
  const head = cfg.tieWordEmbeddings ? param('model.embed_tokens.weight', []) : param('lm_head.weight', [cfg.vocabSize, d]);
  const logits = linear(hidden, head);
  const outputs: Record<string, Tensor> = { logits };
  for (const [i, p] of presents) {
    const n = kvNames(i);
    outputs[n.presentKey] = p.key;
    outputs[n.presentValue] = p.value;
  }
  return { logits, presents, params, outputs };
}

