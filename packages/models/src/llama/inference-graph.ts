// The Llama / Mistral decoder as an inference graph with an explicit KV cache: one graph serves prefill
// (empty past), single-token decode and multi-token verify (any number of new tokens after a past).
// Caches are named as transformers.js expects: past_key_values.{i}.key/value → present.{i}.key/value.
import {
  type DType, type Graph, type Tensor,
  add, cast, concat, gather, groupQueryAttention, reduceSum, reshape, simplifiedLayerNorm, split, sub, squeeze, unsqueeze,
} from '@mil/graph';
import type { LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { bufferAttention, type BufferAttentionContext } from './buffer-attention';
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
  /**
   * How the KV cache crosses the graph boundary. 'grow' (default, the transformers.js contract): past in,
   * grown present out, lengths from `attention_mask`. 'buffer' (sessions): the past is a capacity buffer
   * [batch, kvHeads, capacity, headDim] of which the first `total_sequence_length − seq` rows are valid,
   * lengths come from `seqlens_k` [batch] and `total_sequence_length` [] (int32), and the graph returns only
   * the new rows `kv_rows.{i}.key/value` [batch, kvHeads, seq, headDim] for the caller to write into its
   * buffer — so a step's host traffic does not grow with the context (see the package README). The logits are
   * those of the positions from input `logits_start` on (`LOGITS_START`).
   */
  kvCache?: 'grow' | 'buffer';
  /**
   * 'buffer' mode only: the dtype of the cache inputs / new-row outputs (default `dtype`). float16 under a float32
   * graph halves the bytes a decode step reads at long contexts; the graph computes in float32 on rows rounded to
   * float16 (`bufferAttention`). Not for sliding-window models (their GroupQueryAttention path).
   */
  kvDtype?: DType;
}

export interface InferenceContext {
  g: Graph;
  cfg: LlamaConfig;
  dtype: DType;
  param: (name: string, shape: number[]) => Tensor;
}

/**
 * 'buffer' mode input [1] int64: the first of the new positions whose logits the run returns (0: all of them,
 * seq − 1: the last only).
 */
export const LOGITS_START = 'logits_start';

/** The cache inputs and outputs of attention layer `i`, transformers.js names. */
export const kvNames = (i: number) => ({
  pastKey: `past_key_values.${i}.key`,
  pastValue: `past_key_values.${i}.value`,
  presentKey: `present.${i}.key`,
  presentValue: `present.${i}.value`,
  /** 'buffer' mode outputs: the new rows only, [batch, kvHeads, seq, headDim]. */
  rowsKey: `kv_rows.${i}.key`,
  rowsValue: `kv_rows.${i}.value`,
});

/** 'buffer' mode inputs: the valid rows of KV head `j` of attention layer `i`, [batch, 1, past, headDim]. */
export const kvHeadNames = (i: number, j: number) => ({
  pastKey: `past_key_values.${i}.key.${j}`,
  pastValue: `past_key_values.${i}.value.${j}`,
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
  const buffered = opts.kvCache === 'buffer';
  const kvDtype = opts.kvDtype ?? dtype;
  if (kvDtype !== dtype && (!buffered || cfg.slidingWindow != null)) {
    throw new ModelsError('BAD_OPTION', `buildLlamaInferenceGraph: kvDtype ${kvDtype} differs from dtype ${dtype}, which only the 'buffer' KV cache of a model without sliding window supports (this one: kvCache ${opts.kvCache ?? 'grow'}, sliding_window ${cfg.slidingWindow ?? 'none'})`);
  }
  // GQA wants seqlens_k = valid length − 1 per row and the total length, both int32. 'buffer' mode takes them as
  // inputs (created lazily: a hybrid without attention layers has none).
  let lengths: { seqlensK: Tensor; totalLen: Tensor } | null = null;
  const getLengths = (): { seqlensK: Tensor; totalLen: Tensor } => {
    if (lengths) return lengths;
    if (buffered) {
      lengths = { seqlensK: g.input('seqlens_k', 'int32', ['batch']), totalLen: g.input('total_sequence_length', 'int32', []) };
    } else {
      const mask = g.input('attention_mask', 'int64', ['batch', 'total']);
      lengths = { seqlensK: cast(sub(reduceSum(mask, [1]), g.scalar(1, 'int64')), 'int32'), totalLen: cast(squeeze(g.dimTensor('total'), [0]), 'int32') };
    }
    return lengths;
  };
  if (!buffered) getLengths();
  let bctx: BufferAttentionContext | null = null;
  const bufferCtx = (): BufferAttentionContext => {
    if (bctx) return bctx;
    const total = reshape(cast(getLengths().totalLen, 'int64'), [1]);
    const pastLen = sub(total, g.dimTensor('seq'));
    const positions = unsqueeze(g.addNode('Range', [reshape(pastLen, []), reshape(total, []), g.scalar(1, 'int64')], [{ dtype: 'int64', shape: ['seq'] }])[0], [0]);
    bctx = { g, dtype, kvDtype, numHeads: cfg.numAttentionHeads, numKvHeads: cfg.numKeyValueHeads, headDim: hd, cos: tcos, sin: tsin, positions, pastLen };
    return bctx;
  };
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
      const { seqlensK, totalLen } = getLengths();
      const gqa = { rotary: { cos: tcos, sin: tsin }, scale: 1 / Math.sqrt(hd), localWindowSize: cfg.slidingWindow ?? undefined };
      let att: Tensor;
      if (!buffered) {
        const pk = g.input(names.pastKey, dtype, ['batch', cfg.numKeyValueHeads, 'past', hd]);
        const pv = g.input(names.pastValue, dtype, ['batch', cfg.numKeyValueHeads, 'past', hd]);
        const [a, key, value] = groupQueryAttention(q, k, v, pk, pv, seqlensK, totalLen, { ...gqa, numHeads: cfg.numAttentionHeads, kvNumHeads: cfg.numKeyValueHeads });
        presents.set(i, { key, value });
        att = a;
      } else if (cfg.slidingWindow == null) {
        const r = bufferAttention(bufferCtx(), i, q, k, v);
        presents.set(i, { key: r.keyRows, value: r.valueRows });
        att = r.out;
      } else {
        // Sliding window: one GQA per KV head (GQA applies the window): its past [batch, 1, past, hd] is a contiguous prefix of that head's buffer, so the
        // caller feeds a view of exactly the valid rows (no copy, and nothing proportional to the capacity).
        const rep = cfg.numAttentionHeads / cfg.numKeyValueHeads;
        const kvH = cfg.numKeyValueHeads;
        const qs = kvH === 1 ? [q] : split(q, new Array<number>(kvH).fill(rep * hd), -1);
        const ks = kvH === 1 ? [k] : split(k, new Array<number>(kvH).fill(hd), -1);
        const vs = kvH === 1 ? [v] : split(v, new Array<number>(kvH).fill(hd), -1);
        const atts: Tensor[] = [];
        const keys: Tensor[] = [];
        const values: Tensor[] = [];
        for (let j = 0; j < kvH; j++) {
          const hn = kvHeadNames(i, j);
          const pk = g.input(hn.pastKey, dtype, ['batch', 1, 'past', hd]);
          const pv = g.input(hn.pastValue, dtype, ['batch', 1, 'past', hd]);
          const [a, key, value] = groupQueryAttention(qs[j], ks[j], vs[j], pk, pv, seqlensK, totalLen, { ...gqa, numHeads: rep, kvNumHeads: 1 });
          atts.push(a);
          keys.push(newRows(g, key, totalLen));
          values.push(newRows(g, value, totalLen));
        }
        att = kvH === 1 ? atts[0] : concat(atts, -1);
        presents.set(i, { key: kvH === 1 ? keys[0] : concat(keys, 1), value: kvH === 1 ? values[0] : concat(values, 1) });
      }
      mixed = linear(att, param(`${p}.o_proj.weight`, []), b('o_proj', d));
    }
    x = add(x, mixed);
    const h2 = simplifiedLayerNorm(x, param(`${pre}.post_attention_layernorm.weight`, [d]), cfg.rmsNormEps);
    x = add(x, swiglu(h2, param(`${pre}.mlp.gate_proj.weight`, []), param(`${pre}.mlp.up_proj.weight`, []), param(`${pre}.mlp.down_proj.weight`, [])));
  }
  if (opts.lastLogitsOnly) {
    // Keep [b, 1, d]: slice the last position.
    x = g.addNode('Slice', [x, g.ints([-1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])], [{ dtype, shape: [x.shape[0], 1, d] }])[0];
  } else if (buffered) {
    // The sessions ask for the logits of positions logits_start … seq − 1 only: a prompt needs its last row, a
    // verify step all of them; the final norm and the LM head run on those rows alone.
    const start = g.input(LOGITS_START, 'int64', [1]);
    x = g.addNode('Slice', [x, start, g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])], [{ dtype, shape: [x.shape[0], 'logit_rows', d] }])[0];
  }
  const hidden = simplifiedLayerNorm(x, param('model.norm.weight', [d]), cfg.rmsNormEps);
  const head = cfg.tieWordEmbeddings ? param('model.embed_tokens.weight', []) : param('lm_head.weight', [cfg.vocabSize, d]);
  const logits = linear(hidden, head);
  const outputs: Record<string, Tensor> = { logits };
  for (const [i, p] of presents) {
    const n = kvNames(i);
    outputs[buffered ? n.rowsKey : n.presentKey] = p.key;
    outputs[buffered ? n.rowsValue : n.presentValue] = p.value;
  }
  return { logits, presents, params, outputs };
}

/** Rows [total − seq, total) of a present cache [b, kvHeads, ≥ total, hd]: the new tokens' keys / values. */
function newRows(g: Graph, present: Tensor, totalLen: Tensor): Tensor {
  const end = reshape(cast(totalLen, 'int64'), [1]);
  const start = sub(end, g.dimTensor('seq'));
  const shape = [present.shape[0], present.shape[1], 'seq', present.shape[3]];
  return g.addNode('Slice', [present, start, end, g.ints([2])], [{ dtype: present.dtype, shape }])[0];
}

