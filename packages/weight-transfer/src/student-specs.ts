// Names and shapes of every parameter of a hybrid student (the naming contract shared with @mil/models),
// computed from the configs alone so sizes can be had without allocating anything.
import type { HybridConfig } from '@mil/checkpoint';
import { llamaWeightSpecs, type LlamaOracleConfig, type ResolvedLlamaConfig, type WeightSpec } from '@mil/models';
import { WeightTransferError } from './errors';
import { resolveTeacher } from './teacher-config';

/** Parameter names of one Mamba-1 mixer, relative to `model.layers.{i}.mamba.`. */
export const MAMBA1_PARAMS = [
  'in_proj_x.weight',
  'B_proj.weight',
  'C_proj.weight',
  'out_proj.weight',
  'in_proj_z.weight',
  'dt_proj_down.weight',
  'dt_proj.weight',
  'dt_proj.bias',
  'conv1d.weight',
  'conv1d.bias',
  'A_log',
  'D',
] as const;

/** Parameter names of one Mamba-2 mixer, relative to `model.layers.{i}.mamba.`. */
export const MAMBA2_PARAMS = ['in_proj.weight', 'conv1d.weight', 'conv1d.bias', 'dt_bias', 'A_log', 'D', 'norm.weight', 'out_proj.weight'] as const;

/** Sizes of one Mamba mixer, derived from a hybrid config. @internal */
export interface MixerDims {
  dModel: number;
  dInner: number;
  dXb: number;
  dState: number;
  dConv: number;
  /** Mamba-1: rank of the low-rank Δ projection. */
  dtRank: number;
  /** Mamba-2: SSM heads (= dInner / headdim); Mamba-1: unused. */
  nHeads: number;
}

/** The mixer sizes of `hybrid`, after checking it fits the teacher. @internal */
export function mixerDims(hybrid: HybridConfig, t: ResolvedLlamaConfig): MixerDims {
  const mismatch = (field: string, value: number, teacherField: string, expected: number): never => {
    throw new WeightTransferError(
      'BAD_CONFIG',
      `hybrid config ${field} = ${value} but the teacher config gives ${teacherField} = ${expected}; they must match`,
    );
  };
  if (hybrid.dModel !== t.hiddenSize) mismatch('d_model', hybrid.dModel, 'hidden_size', t.hiddenSize);
  if (hybrid.nLayer !== t.numLayers) mismatch('n_layer', hybrid.nLayer, 'num_hidden_layers', t.numLayers);
  if (hybrid.vocabSize !== t.vocabSize) mismatch('vocab_size', hybrid.vocabSize, 'vocab_size', t.vocabSize);
  if (hybrid.intermediateSize !== t.intermediateSize) mismatch('intermediate_size', hybrid.intermediateSize, 'intermediate_size', t.intermediateSize);
  if (hybrid.dInner !== t.numHeads * t.headDim) mismatch('d_inner', hybrid.dInner, 'num_attention_heads × head_dim', t.numHeads * t.headDim);
  if (hybrid.dXb !== t.numKvHeads * t.headDim) mismatch('d_xb', hybrid.dXb, 'num_key_value_heads × head_dim', t.numKvHeads * t.headDim);
  for (const i of hybrid.attnLayers) {
    if (!Number.isSafeInteger(i) || i < 0 || i >= hybrid.nLayer) {
      throw new WeightTransferError('BAD_CONFIG', `hybrid config attn_layers: ${i} is not a layer index in [0, ${hybrid.nLayer})`);
    }
  }
  const { dState, dConv, dtRank, headdim } = hybrid.ssm;
  for (const [k, v] of [['d_state', dState], ['d_conv', dConv], ['dt_rank', dtRank], ['headdim', headdim]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new WeightTransferError('BAD_CONFIG', `hybrid config ssm_cfg.${k}: expected a positive integer, got ${v}`);
  }
  if (hybrid.variant === 'mamba2' && hybrid.dInner % headdim !== 0) {
    throw new WeightTransferError('BAD_CONFIG', `hybrid config: d_inner (${hybrid.dInner}) is not a multiple of the Mamba-2 head dim (${headdim})`);
  }
  if (hybrid.variant !== 'mamba1' && hybrid.variant !== 'mamba2') {
    throw new WeightTransferError('BAD_CONFIG', `hybrid config variant: expected 'mamba1' or 'mamba2', got ${JSON.stringify(hybrid.variant)}`);
  }
  return { dModel: hybrid.dModel, dInner: hybrid.dInner, dXb: hybrid.dXb, dState, dConv, dtRank, nHeads: hybrid.dInner / headdim };
}

/** Names and shapes of one Mamba mixer's parameters (full names, layer `layer`). @internal */
export function mambaLayerSpecs(variant: HybridConfig['variant'], d: MixerDims, layer: number): WeightSpec[] {
  const p = `model.layers.${layer}.mamba.`;
  const { dModel: D, dInner, dXb, dState: N, dConv: w, dtRank: R, nHeads: H } = d;
  const shapes: Record<string, number[]> =
    variant === 'mamba1'
      ? {
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
        }
      : {
          'in_proj.weight': [dInner + dXb + dXb + dInner + H, D],
          'conv1d.weight': [2 * dXb + dInner, 1, w],
          'conv1d.bias': [2 * dXb + dInner],
          dt_bias: [H],
          A_log: [H],
          D: [H],
          'norm.weight': [dInner],
          'out_proj.weight': [D, dInner],
        };
  const names = variant === 'mamba1' ? MAMBA1_PARAMS : MAMBA2_PARAMS;
  return names.map((n) => ({ name: p + n, shape: shapes[n] }));
}

/** Number of values of a shape. @internal */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Every parameter of the hybrid student, in checkpoint order: the teacher's parameters with each Mamba layer's
 * `self_attn.*` replaced by its `mamba.*` mixer. Nothing is allocated, so this sizes an 8B model for free.
 * It follows the naming contract of @mil/models' hybrid students.
 *
 * @example
 * const specs = studentWeightSpecs(llama3Config, makeHybridConfig(llama3Config, 'mamba1', [1, 3, 5]));
 * specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0); // parameter count
 */
export function studentWeightSpecs(teacherConfig: LlamaOracleConfig, hybrid: HybridConfig): WeightSpec[] {
  const t = resolveTeacher(teacherConfig);
  const dims = mixerDims(hybrid, t);
  const attn = new Set(hybrid.attnLayers);
  const out: WeightSpec[] = [];
  const emitted = new Set<number>();
  for (const spec of llamaWeightSpecs(teacherConfig)) {
    const m = /^model\.layers\.(\d+)\.self_attn\./.exec(spec.name);
    if (m === null || attn.has(Number(m[1]))) {
      out.push(spec);
      continue;
    }
    const layer = Number(m[1]);
    if (!emitted.has(layer)) {
      emitted.add(layer);
      out.push(...mambaLayerSpecs(hybrid.variant, dims, layer));
    }
  }
  return out;
}

/**
 * The student's parameter count, from shapes only.
 *
 * @example
 * studentParamCount(llama3Config, makeHybridConfig(llama3Config, 'mamba1', layerSchedule(32, { attentionFraction: 0.5 }).attnLayers));
 * // 8,333,758,464
 */
export function studentParamCount(teacherConfig: LlamaOracleConfig, hybrid: HybridConfig): number {
  return studentWeightSpecs(teacherConfig, hybrid).reduce((n, s) => n + numel(s.shape), 0);
}
