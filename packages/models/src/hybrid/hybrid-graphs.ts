// The hybrid students as graphs: the teacher's decoder (one definition in src/llama) with a Mamba mixer in place of
// attention at the Mamba layers — a training graph and a cached inference graph (prefill / decode / multi-token).
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { DType, Graph, Tensor } from '@mil/graph';
import { buildLlamaInferenceGraph } from '../llama/inference-graph';
import { buildLlamaTrainGraph, type LlamaTrainGraph } from '../llama/train-graph';
import { ModelsError } from '../errors';
import { resolveHybridDims, type HybridDims, type HybridModelOptions } from './hybrid-dims';
import { hybridWeightSpecs, type Mamba1Layout } from './hybrid-weights';
import { mamba1MixerGraph, mamba2MixerGraph, type MixerGraphContext, type MixerMode, type MixerGraphResult } from './graph-mixers';

export interface HybridTrainGraphOptions extends HybridModelOptions {
  /** float32 (default) or float64 (gradient checks). */
  dtype?: DType;
  /** Rows of the RoPE tables (default max_position_embeddings). */
  maxPositions?: number;
  /** Chunk length of the chunked scans (default: 64 for Mamba-2, 16 for Mamba-1 ≈ √L for L ≈ 256). */
  chunkSize?: number;
  /** Mamba-1 parameter names; default 'separate' (the training layout). */
  mamba1Layout?: Mamba1Layout;
}

function mixerFor(dims: HybridDims, c: MixerGraphContext, i: number, u: Tensor, mode: MixerMode, layout: Mamba1Layout, opts: HybridModelOptions): MixerGraphResult {
  return dims.variant === 'mamba1'
    ? mamba1MixerGraph(c, i, u, mode, layout, opts.mamba1DtBias ?? 'double')
    : mamba2MixerGraph(c, i, u, mode);
}

/**
 * Emits the student's training graph (full sequences, standard ops, differentiable by `gradients`). Inputs
 * `input_ids`, `position_ids` [batch, seq] int64; parameters by reference name (`model.layers.{i}.mamba.*` at Mamba
 * layers, the teacher's names elsewhere); output logits [batch, seq, vocab]. A student without attention layers
 * reads no `position_ids`, so its built model has no such input (`BuiltModel.inputNames` says what to feed).
 *
 * @example
 * const g = new Graph();
 * const { logits, params } = buildHybridTrainGraph(g, teacher, hybrid, { chunkSize: 32 });
 * const model = g.toModel({ outputs: { logits } }); // weights as inputs
 */
export function buildHybridTrainGraph(g: Graph, teacher: LlamaConfig, hybrid: HybridConfig, opts: HybridTrainGraphOptions = {}): LlamaTrainGraph {
  const dims = resolveHybridDims(teacher, hybrid);
  const chunkSize = opts.chunkSize ?? (dims.variant === 'mamba2' ? 64 : 16);
  const layout = opts.mamba1Layout ?? 'separate';
  return buildLlamaTrainGraph(g, teacher, {
    dtype: opts.dtype,
    maxPositions: opts.maxPositions,
    mixer: (i, u, ctx) => (dims.isMamba(i) ? mixerFor(dims, { g, dims, param: ctx.param }, i, u, { kind: 'train', chunkSize }, layout, opts).y : null),
  });
}

/**
 * Emits only the Mamba mixer of layer `i` on a given normed input [batch, seq, d_model] (training form), with its
 * parameters by reference name. Used for layer-wise alignment of a mixer to the attention output it replaces.
 *
 * @example
 * const { y, params } = buildHybridMixerGraph(g, teacher, hybrid, 0, g.input('h', 'float32', ['batch', 'seq', 256]));
 */
export function buildHybridMixerGraph(
  g: Graph, teacher: LlamaConfig, hybrid: HybridConfig, layer: number, input: Tensor, opts: HybridTrainGraphOptions = {},
): { y: Tensor; params: Map<string, Tensor> } {
  const dims = resolveHybridDims(teacher, hybrid);
  if (!dims.isMamba(layer)) throw new ModelsError('BAD_CONFIG', `buildHybridMixerGraph: layer ${layer} is an attention layer of this hybrid`);
  const layout = opts.mamba1Layout ?? 'separate';
  const shapes = new Map(hybridWeightSpecs(teacher, hybrid, { mamba1Layout: layout }).map((w) => [w.name, w.shape]));
  const params = new Map<string, Tensor>();
  const param = (name: string, shape: number[]): Tensor => {
    let t = params.get(name);
    if (!t) params.set(name, (t = g.param(name, opts.dtype ?? 'float32', shapes.get(name) ?? shape)));
    return t;
  };
  const chunkSize = opts.chunkSize ?? (dims.variant === 'mamba2' ? 64 : 16);
  const y = mixerFor(dims, { g, dims, param }, layer, input, { kind: 'train', chunkSize }, layout, opts).y;
  return { y, params };
}

/** The state inputs and outputs of Mamba layer `i`, as transformers.js names them. */
export const mambaStateNames = (i: number) => ({
  pastConv: `past_conv.${i}`,
  pastSsm: `past_ssm.${i}`,
  presentConv: `present_conv.${i}`,
  presentSsm: `present_ssm.${i}`,
});

export interface HybridInferenceGraphOptions extends HybridModelOptions {
  /** Longest context (rows of the RoPE tables; default max_position_embeddings). */
  maxPositions?: number;
  /** Only the last position's logits. */
  lastLogitsOnly?: boolean;
  /** Mamba-1 parameter names; default 'fused' (one in_proj MatMul, the reference's inference layout). */
  mamba1Layout?: Mamba1Layout;
  /**
   * The sessions' graph (batch 1): KV cache in 'buffer' mode (see `buildLlamaInferenceGraph`) and Mamba layers in
   * multi-step verify form — inputs `conv_offset` [1] and `replay_steps` [1] (int64), per Mamba layer
   * `past_conv.{i}` (the conv window), `past_ssm.{i}` (the state to start from) and `past_verify_x/dt/B.{i}` (the
   * previous run's per-step inputs); outputs `present_conv.{i}`, `present_ssm.{i}`, `snapshot_ssm.{i}` (state after
   * the replayed steps) and `present_verify_x/dt/B.{i}`. Not the exported (transformers.js) contract.
   */
  verify?: boolean;
  /** With `verify`: how the attention layers' KV buffers store keys / values (`buildLlamaInferenceGraph`'s `kvDtype`; default float32). */
  kvDtype?: 'float32' | 'float16';
}

/** The extra inputs / outputs of Mamba layer `i` in the verify graph. */
export const verifyStateNames = (i: number) => ({
  pastX: `past_verify_x.${i}`,
  pastDt: `past_verify_dt.${i}`,
  pastB: `past_verify_B.${i}`,
  presentX: `present_verify_x.${i}`,
  presentDt: `present_verify_dt.${i}`,
  presentB: `present_verify_B.${i}`,
  snapshot: `snapshot_ssm.${i}`,
});

export interface HybridInferenceGraph {
  logits: Tensor;
  /** present.{i}.key / present.{i}.value per attention layer. */
  presents: Map<number, { key: Tensor; value: Tensor }>;
  /** present_conv.{i} / present_ssm.{i} per Mamba layer. */
  states: Map<number, { conv: Tensor; ssm: Tensor }>;
  params: Map<string, Tensor>;
  /** Every output by its graph name (logits, present.*, present_conv.*, present_ssm.*), for `toModel`. */
  outputs: Record<string, Tensor>;
}

/**
 * Emits the student's cached inference graph (float32): one graph for prefill (empty / zero states), single-token
 * decode and multi-token verify. Inputs: `input_ids` [batch, seq], `attention_mask` [batch, past + seq] (int64);
 * per attention layer `past_key_values.{i}.key/value` [batch, kvHeads, past, headDim]; per Mamba layer
 * `past_conv.{i}` [batch, convChannels, d_conv − 1] (pre-conv inputs, oldest first) and `past_ssm.{i}` —
 * Mamba-1 [batch, d_inner, N], Mamba-2 [batch, heads, head_dim, N] (the reference's (b, h, p, n) layout).
 * Outputs: `logits` and `present.{i}.key/value`, `present_conv.{i}`, `present_ssm.{i}`. Without attention layers
 * there is no `attention_mask` input. ORT's GroupQueryAttention takes several new tokens after a past only at batch 1.
 *
 * @example
 * const g = new Graph();
 * const m = buildHybridInferenceGraph(g, teacher, hybrid);
 * const model = g.toModel({ outputs: m.outputs, weights: 'initializers', weightData: (n) => w.get(n) });
 */
export function buildHybridInferenceGraph(g: Graph, teacher: LlamaConfig, hybrid: HybridConfig, opts: HybridInferenceGraphOptions = {}): HybridInferenceGraph {
  const dims = resolveHybridDims(teacher, hybrid);
  const layout = opts.mamba1Layout ?? 'fused';
  const dtype: DType = 'float32';
  const states = new Map<number, { conv: Tensor; ssm: Tensor }>();
  const ssmShape = dims.variant === 'mamba1' ? [dims.dInner, dims.dState] : [dims.nHeads, dims.headDim, dims.dState];
  const verifyOutputs: Record<string, Tensor> = {};
  let shared: { convOffset: Tensor; replaySteps: Tensor } | null = null;
  const verifyMode = (i: number): MixerMode => {
    shared ??= { convOffset: g.input('conv_offset', 'int64', [1]), replaySteps: g.input('replay_steps', 'int64', ['batch']) };
    const n = mambaStateNames(i);
    const v = verifyStateNames(i);
    const m1 = dims.variant === 'mamba1';
    return {
      kind: 'verify',
      ...shared,
      convWindow: g.input(n.pastConv, dtype, ['batch', dims.convChannels, 'conv_window']),
      start: g.input(n.pastSsm, dtype, ['batch', ...ssmShape]),
      cache: {
        x: g.input(v.pastX, dtype, m1 ? ['batch', 'cached', dims.dInner] : ['batch', 'cached', dims.nHeads, dims.headDim]),
        dt: g.input(v.pastDt, dtype, m1 ? ['batch', 'cached', dims.dInner] : ['batch', 'cached', dims.nHeads]),
        B: g.input(v.pastB, dtype, ['batch', 'cached', dims.nGroups, dims.dState]),
      },
    };
  };
  const m = buildLlamaInferenceGraph(g, teacher, {
    dtype,
    maxPositions: opts.maxPositions,
    lastLogitsOnly: opts.lastLogitsOnly,
    kvCache: opts.verify ? 'buffer' : 'grow',
    kvDtype: opts.kvDtype,
    // The mixer declares its own state inputs and keeps its outputs here: the Llama graph needs no state plumbing.
    mixer: (i, u, ctx) => {
      if (!dims.isMamba(i)) return null;
      const n = mambaStateNames(i);
      let mode: MixerMode;
      if (opts.verify) mode = verifyMode(i);
      else {
        const conv = g.input(n.pastConv, dtype, ['batch', dims.convChannels, dims.dConv - 1]);
        const ssm = g.input(n.pastSsm, dtype, ['batch', ...ssmShape]);
        mode = { kind: 'infer', conv, ssm };
      }
      const r = mixerFor(dims, { g, dims, param: ctx.param }, i, u, mode, layout, opts);
      if (!r.conv || !r.ssm) throw new ModelsError('BAD_OPTION', `buildHybridInferenceGraph: layer ${i} returned no state`);
      states.set(i, { conv: r.conv, ssm: r.ssm });
      if (opts.verify) {
        if (!r.verify) throw new ModelsError('BAD_OPTION', `buildHybridInferenceGraph: layer ${i} returned no verify state`);
        const v = verifyStateNames(i);
        verifyOutputs[v.snapshot] = r.verify.snapshot;
        verifyOutputs[v.presentX] = r.verify.cache.x;
        verifyOutputs[v.presentDt] = r.verify.cache.dt;
        verifyOutputs[v.presentB] = r.verify.cache.B;
      }
      return r.y;
    },
  });
  const outputs: Record<string, Tensor> = { ...m.outputs, ...verifyOutputs };
  for (const [i, s] of states) {
    const n = mambaStateNames(i);
    outputs[n.presentConv] = s.conv;
    outputs[n.presentSsm] = s.ssm;
  }
  return { logits: m.logits, presents: m.presents, states, params: m.params, outputs };
}
