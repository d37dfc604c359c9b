// Builders for onnxruntime contrib ops used by inference graphs (no gradients: training graphs spell the math
// out in standard ops). Semantics: docs/contrib-ops.md and the TypeScript oracles in test/contrib-oracles.
import type { Dim } from '../onnx/model-spec';
import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { floatAttr } from '../graph';
import { requireRank, sameDtype } from './common';

const MS = 'com.microsoft';

/** RMSNorm over the last axis (ONNX-domain contrib op SimplifiedLayerNormalization, axis -1). */
export function simplifiedLayerNorm(x: Tensor, scale: Tensor, epsilon: number): Tensor {
  sameDtype('SimplifiedLayerNormalization', x, scale);
  return x.graph.addNode('SimplifiedLayerNormalization', [x, scale], [{ dtype: x.dtype, shape: [...x.shape] }], {
    axis: -1,
    epsilon: floatAttr(epsilon),
    stash_type: 1,
  })[0];
}

/** Fused residual add + RMSNorm: returns [norm(input + skip) · gamma, input + skip]. */
export function skipSimplifiedLayerNorm(input: Tensor, skip: Tensor, gamma: Tensor, epsilon: number): [Tensor, Tensor] {
  sameDtype('SkipSimplifiedLayerNormalization', input, skip, gamma);
  requireRank('SkipSimplifiedLayerNormalization', input, 2, 3);
  const spec = { dtype: input.dtype, shape: [...input.shape] };
  const [out, , , sum] = input.graph.addNode(
    'SkipSimplifiedLayerNormalization',
    [input, skip, gamma],
    [spec, { dtype: 'float32', shape: [] }, { dtype: 'float32', shape: [] }, spec],
    { epsilon: floatAttr(epsilon) },
    MS,
  );
  return [out, sum];
}

export interface RotaryEmbeddingOptions {
  interleaved?: boolean;
  numHeads?: number;
  rotaryDim?: number;
}

/** com.microsoft.RotaryEmbedding on [b, s, hidden] or [b, heads, s, headSize] with cos/sin caches [maxSeq, rotaryDim/2]. */
export function rotaryEmbedding(x: Tensor, positionIds: Tensor, cos: Tensor, sin: Tensor, opts: RotaryEmbeddingOptions = {}): Tensor {
  requireRank('RotaryEmbedding', x, 3, 4);
  return x.graph.addNode('RotaryEmbedding', [x, positionIds, cos, sin], [{ dtype: x.dtype, shape: [...x.shape] }], {
    interleaved: opts.interleaved ? 1 : 0,
    num_heads: opts.numHeads,
    rotary_embedding_dim: opts.rotaryDim,
  }, MS)[0];
}

export interface GqaOptions {
  numHeads: number;
  kvNumHeads: number;
  /** Fused rotary with these caches [maxSeq, headSize/2]. */
  rotary?: { cos: Tensor; sin: Tensor; interleaved?: boolean };
  scale?: number;
  /** Sliding window (keys per query); -1 / undefined = full causal. */
  localWindowSize?: number;
}

/**
 * com.microsoft.GroupQueryAttention: causal attention over [past | new] keys with KV heads shared by query heads.
 * q [b, s, heads·hd], k/v [b, s, kvHeads·hd], past [b, kvHeads, past, hd], seqlensK [b] int32 (total − 1),
 * totalSeqLen [] int32. Returns [output [b, s, heads·hd], presentKey, presentValue [b, kvHeads, total, hd]].
 */
export function groupQueryAttention(
  q: Tensor, k: Tensor, v: Tensor, pastKey: Tensor | null, pastValue: Tensor | null,
  seqlensK: Tensor, totalSeqLen: Tensor, opts: GqaOptions,
): [Tensor, Tensor, Tensor] {
  sameDtype('GroupQueryAttention', q, k, v);
  if (seqlensK.dtype !== 'int32' || totalSeqLen.dtype !== 'int32')
    throw new GraphError('DTYPE_MISMATCH', `GroupQueryAttention: seqlens_k and total_sequence_length must be int32`);
  const hd = (k.shape[2] as number) / opts.kvNumHeads;
  if (!Number.isInteger(hd)) throw new GraphError('SHAPE_MISMATCH', `GroupQueryAttention: key width ${k.shape[2]} is not kvNumHeads ${opts.kvNumHeads} × head size`);
  // onnxruntime's kernels reject other head sizes at run time; say so when the graph is built.
  if (hd % 16 !== 0) throw new GraphError('SHAPE_MISMATCH', `GroupQueryAttention: head size ${hd} must be a multiple of 16 (onnxruntime requirement)`);
  const total: Dim = pastKey ? (typeof pastKey.shape[2] === 'number' && typeof q.shape[1] === 'number' ? (pastKey.shape[2] as number) + (q.shape[1] as number) : `${pastKey.shape[2]}+${q.shape[1]}`) : q.shape[1];
  const kvShape: Dim[] = [q.shape[0], opts.kvNumHeads, total, hd];
  return q.graph.addNode(
    'GroupQueryAttention',
    [q, k, v, pastKey, pastValue, seqlensK, totalSeqLen, opts.rotary?.cos ?? null, opts.rotary?.sin ?? null],
    [{ dtype: q.dtype, shape: [...q.shape] }, { dtype: q.dtype, shape: kvShape }, { dtype: q.dtype, shape: kvShape }],
    {
      num_heads: opts.numHeads,
      kv_num_heads: opts.kvNumHeads,
      do_rotary: opts.rotary ? 1 : 0,
      rotary_interleaved: opts.rotary?.interleaved ? 1 : 0,
      scale: opts.scale !== undefined ? floatAttr(opts.scale) : undefined,
      local_window_size: opts.localWindowSize ?? -1,
    },
    MS,
  ) as [Tensor, Tensor, Tensor];
}

export interface LinearAttentionOptions {
  qNumHeads: number;
  kvNumHeads: number;
  updateRule: 'linear' | 'gated' | 'delta' | 'gated_delta';
  scale?: number;
}

/**
 * com.microsoft.LinearAttention: per KV head state S [dk, dv]; gated rule S ← exp(g)⊙S + k vᵀ, o = scale·qᵀS.
 * q [b, t, qHeads·dk], k [b, t, nK·dk], v [b, t, kvHeads·dv], state [b, kvHeads, dk, dv],
 * decay [b, t, kvHeads] or [b, t, kvHeads·dk]. Returns [output [b, t, max(q,kv)Heads·dv], presentState].
 */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, pastState: Tensor | null, decay: Tensor | null, opts: LinearAttentionOptions, beta: Tensor | null = null): [Tensor, Tensor] {
  sameDtype('LinearAttention', q, k, v);
  const dk = (q.shape[2] as number) / opts.qNumHeads;
  const dv = (v.shape[2] as number) / opts.kvNumHeads;
  if (!Number.isInteger(dk) || !Number.isInteger(dv))
    throw new GraphError('SHAPE_MISMATCH', `LinearAttention: query width ${q.shape[2]} / value width ${v.shape[2]} not divisible by head counts`);
  const heads = Math.max(opts.qNumHeads, opts.kvNumHeads);
  return q.graph.addNode(
    'LinearAttention',
    [q, k, v, pastState, decay, beta],
    [{ dtype: q.dtype, shape: [q.shape[0], q.shape[1], heads * dv] }, { dtype: q.dtype, shape: [q.shape[0], opts.kvNumHeads, dk, dv] }],
    { q_num_heads: opts.qNumHeads, kv_num_heads: opts.kvNumHeads, update_rule: opts.updateRule, scale: opts.scale !== undefined ? floatAttr(opts.scale) : undefined },
    MS,
  ) as [Tensor, Tensor];
}

/**
 * com.microsoft.CausalConvWithState (1-D depthwise): x [b, c, l], weight [c, 1, k], bias [c], past [b, c, k−1].
 * Returns [output [b, c, l], presentState [b, c, k−1]].
 */
export function causalConvWithState(x: Tensor, weight: Tensor, bias: Tensor | null, pastState: Tensor | null, activation: 'none' | 'silu' = 'none'): [Tensor, Tensor] {
  requireRank('CausalConvWithState', x, 3, 3);
  const k = weight.shape[2] as number;
  return x.graph.addNode(
    'CausalConvWithState',
    [x, weight, bias, pastState],
    [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: x.dtype, shape: [x.shape[0], x.shape[1], k - 1] }],
    { activation },
    MS,
  ) as [Tensor, Tensor];
}
