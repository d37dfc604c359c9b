// Parameter names and shapes of the hybrid students (the reference's `model.layers.{i}.mamba.*` layout), their
// counts without allocating anything, seeded test weights, and the Mamba-1 separate ↔ fused in_proj conversion.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { createRng, type Rng } from '@mil/core';
import { llamaWeightSpecs, type WeightSpec } from '../oracle/llama-weights';
import { ModelsError } from '../errors';
import { resolveHybridDims, type HybridDims } from './hybrid-dims';

/**
 * Mamba-1 checkpoint layouts: 'separate' (training: in_proj_x, B_proj, C_proj, in_proj_z, dt_proj_down) or
 * 'fused' (inference: one `in_proj.weight` with rows [z, x, B, C, dt_down]). Mamba-2 has only the fused in_proj.
 */
export type Mamba1Layout = 'separate' | 'fused';

export interface HybridWeightSpecOptions {
  /** Default 'separate'. */
  mamba1Layout?: Mamba1Layout;
}

/** The five Mamba-1 input projections in the fused in_proj's row order, with their row counts. */
export function mamba1InProjParts(dims: HybridDims): [name: string, rows: number][] {
  return [
    ['in_proj_z', dims.dInner],
    ['in_proj_x', dims.dXb],
    ['B_proj', dims.dXb],
    ['C_proj', dims.dInner],
    ['dt_proj_down', dims.dtRank],
  ];
}

/** The `mamba.*` parameters of Mamba layer `i` (full names), in checkpoint order. */
export function mambaLayerSpecs(dims: HybridDims, i: number, mamba1Layout: Mamba1Layout = 'separate'): WeightSpec[] {
  const p = `model.layers.${i}.mamba`;
  const D = dims.dModel;
  const w = dims.dConv;
  if (dims.variant === 'mamba2') {
    const H = dims.nHeads;
    return [
      { name: `${p}.in_proj.weight`, shape: [dims.inProjRows, D] },
      { name: `${p}.conv1d.weight`, shape: [dims.convChannels, 1, w] },
      { name: `${p}.conv1d.bias`, shape: [dims.convChannels] },
      { name: `${p}.dt_bias`, shape: [H] },
      { name: `${p}.A_log`, shape: [H] },
      { name: `${p}.D`, shape: [H] },
      { name: `${p}.norm.weight`, shape: [dims.dInner] },
      { name: `${p}.out_proj.weight`, shape: [D, dims.dInner] },
    ];
  }
  const di = dims.dInner;
  const projections: WeightSpec[] =
    mamba1Layout === 'fused'
      ? [{ name: `${p}.in_proj.weight`, shape: [dims.inProjRows, D] }]
      : [
          { name: `${p}.in_proj_x.weight`, shape: [dims.dXb, D] },
          { name: `${p}.B_proj.weight`, shape: [dims.dXb, D] },
          { name: `${p}.C_proj.weight`, shape: [di, D] },
          { name: `${p}.in_proj_z.weight`, shape: [di, D] },
          { name: `${p}.dt_proj_down.weight`, shape: [dims.dtRank, D] },
        ];
  return [
    ...projections,
    { name: `${p}.dt_proj.weight`, shape: [di, dims.dtRank] },
    { name: `${p}.dt_proj.bias`, shape: [di] },
    { name: `${p}.conv1d.weight`, shape: [di, 1, w] },
    { name: `${p}.conv1d.bias`, shape: [di] },
    { name: `${p}.A_log`, shape: [di, dims.dState] },
    { name: `${p}.D`, shape: [di] },
    { name: `${p}.out_proj.weight`, shape: [D, di] },
  ];
}

const LAYER_NAME = /^model\.layers\.(\d+)\.(.*)$/;

/**
 * Every parameter of the student, by reference name, in checkpoint order: embeddings; per layer the input norm,
 * the teacher's `self_attn.*` (attention layers) or `mamba.*` (Mamba layers), the post-attention norm and the
 * MLP; the final norm and `lm_head.weight` (absent with tied embeddings). Nothing is allocated.
 *
 * @example
 * hybridWeightSpecs(teacher, hybrid).find((s) => s.name === 'model.layers.0.mamba.A_log')!.shape; // [d_inner, 16]
 */
export function hybridWeightSpecs(teacher: LlamaConfig, hybrid: HybridConfig, opts: HybridWeightSpecOptions = {}): WeightSpec[] {
  const dims = resolveHybridDims(teacher, hybrid);
  const layout = opts.mamba1Layout ?? 'separate';
  const out: WeightSpec[] = [];
  for (const spec of llamaWeightSpecs(teacher)) {
    const m = LAYER_NAME.exec(spec.name);
    if (!m || !dims.isMamba(Number(m[1]))) {
      out.push(spec);
      continue;
    }
    const i = Number(m[1]);
    // The Mamba mixer takes the place of the attention block, right after the input norm.
    if (m[2] === 'input_layernorm.weight') out.push(spec, ...mambaLayerSpecs(dims, i, layout));
    else if (!m[2].startsWith('self_attn.')) out.push(spec);
  }
  return out;
}

/** What `hybridParamCount` returns. */
export interface HybridParamCount {
  /** All parameters of the student (tied embeddings counted once). */
  total: number;
  /** Parameters of one Mamba mixer (the `mamba.*` tensors of a layer). */
  perMambaLayer: number;
  /** Parameters of one attention block of the teacher (`self_attn.*`). */
  perAttentionLayer: number;
  mambaLayers: number;
  attentionLayers: number;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Parameter counts computed from the configs alone (no weights allocated). Llama-3-8B, 50% Mamba:
 * 60,911,616 per Mamba-1 layer (≈ 8.33 B total), 58,886,240 per Mamba-2 layer (≈ 8.30 B).
 *
 * @example
 * hybridParamCount(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba1', odd)).perMambaLayer; // 60911616
 */
export function hybridParamCount(teacher: LlamaConfig, hybrid: HybridConfig): HybridParamCount {
  const dims = resolveHybridDims(teacher, hybrid);
  const total = hybridWeightSpecs(teacher, hybrid).reduce((s, w) => s + sizeOf(w.shape), 0);
  const perMambaLayer = mambaLayerSpecs(dims, 0).reduce((s, w) => s + sizeOf(w.shape), 0);
  const perAttentionLayer = llamaWeightSpecs({ ...teacher, numHiddenLayers: 1 })
    .filter((w) => w.name.includes('.self_attn.'))
    .reduce((s, w) => s + sizeOf(w.shape), 0);
  return { total, perMambaLayer, perAttentionLayer, mambaLayers: dims.ssmLayers.length, attentionLayers: dims.attnLayers.length };
}

/**
 * Seeded random student weights for tests and oracles (training layout unless `mamba1Layout: 'fused'`):
 * non-trivial everywhere so tests can fail — linears ±1.5/√fan_in, norms 1 ± 0.3, embeddings ±1, conv ±0.5,
 * A_log so that A spans [−8, −0.5] (Mamba-2) or ln(n+1) ± 0.3 (Mamba-1), Δ biases giving softplus ≈ 0.05–1,
 * D in [0.5, 1.5].
 *
 * @example
 * const w = randomHybridWeights(teacher, hybrid, 1);
 * hybridOracleForward(teacher, hybrid, (n) => w.get(n), [[1, 2, 3]]);
 */
export function randomHybridWeights(
  teacher: LlamaConfig,
  hybrid: HybridConfig,
  seedOrRng: number | Rng,
  opts: HybridWeightSpecOptions = {},
): Map<string, Float32Array> {
  const rng = typeof seedOrRng === 'number' ? createRng(seedOrRng) : seedOrRng;
  const dims = resolveHybridDims(teacher, hybrid);
  const uni = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of hybridWeightSpecs(teacher, hybrid, opts)) {
    const n = sizeOf(shape);
    const a = new Float32Array(n);
    const mambaTail = name.includes('.mamba.') ? name.slice(name.indexOf('.mamba.') + '.mamba.'.length) : null;
    if (mambaTail !== null && !MAMBA_LINEARS.has(mambaTail)) {
      fillMambaSpecial(name, mambaTail, a, shape, dims, uni);
    } else if (name.endsWith('norm.weight')) {
      for (let k = 0; k < n; k++) a[k] = uni(0.7, 1.3);
    } else if (name.endsWith('.bias')) {
      for (let k = 0; k < n; k++) a[k] = uni(-0.1, 0.1);
    } else {
      const scale = name === 'model.embed_tokens.weight' ? 1 : 1.5 / Math.sqrt(shape[1]);
      for (let k = 0; k < n; k++) a[k] = uni(-scale, scale);
    }
    out.set(name, a);
  }
  return out;
}

const MAMBA_LINEARS = new Set([
  'in_proj.weight', 'in_proj_x.weight', 'in_proj_z.weight', 'B_proj.weight', 'C_proj.weight',
  'dt_proj_down.weight', 'dt_proj.weight', 'out_proj.weight',
]);

function fillMambaSpecial(name: string, tail: string, a: Float32Array, shape: number[], dims: HybridDims, uni: (lo: number, hi: number) => number): void {
  const n = a.length;
  switch (tail) {
    case 'conv1d.weight':
    case 'conv1d.bias':
      for (let k = 0; k < n; k++) a[k] = uni(-0.5, 0.5);
      return;
    case 'A_log':
      if (dims.variant === 'mamba2') for (let k = 0; k < n; k++) a[k] = Math.log(uni(0.5, 8));
      else for (let k = 0; k < n; k++) a[k] = Math.log((k % shape[1]) + 1) + uni(-0.3, 0.3);
      return;
    case 'D':
      for (let k = 0; k < n; k++) a[k] = uni(0.5, 1.5);
      return;
    case 'dt_bias':
    case 'dt_proj.bias':
      // softplus(bias) ≈ 0.05–1 (Mamba-1 adds it twice by default, still a useful range).
      for (let k = 0; k < n; k++) a[k] = uni(-3, 0.5);
      return;
    case 'norm.weight':
      for (let k = 0; k < n; k++) a[k] = uni(0.7, 1.3);
      return;
    default:
      throw new ModelsError('BAD_CONFIG', `randomHybridWeights: no rule for ${name}`);
  }
}

/**
 * The same weights with every Mamba-1 layer in `layout` (fused in_proj rows [z, x, B, C, dt_down], or the five
 * separate projections). Tensors other than those projections are shared, not copied. Mamba-2 weights pass
 * through. Throws MISSING_WEIGHT when a layer has neither layout.
 *
 * @example
 * const fused = toMamba1Layout(teacher, hybrid, weights, 'fused'); // what the reference's inference code loads
 */
export function toMamba1Layout(
  teacher: LlamaConfig,
  hybrid: HybridConfig,
  weights: ReadonlyMap<string, Float32Array>,
  layout: Mamba1Layout,
): Map<string, Float32Array> {
  const dims = resolveHybridDims(teacher, hybrid);
  const out = new Map(weights);
  if (dims.variant !== 'mamba1') return out;
  const D = dims.dModel;
  const parts = mamba1InProjParts(dims);
  for (const i of dims.ssmLayers) {
    const p = `model.layers.${i}.mamba`;
    const fusedName = `${p}.in_proj.weight`;
    const fused = weights.get(fusedName);
    const separate = parts.map(([n]) => weights.get(`${p}.${n}.weight`));
    if (layout === 'fused') {
      if (fused && separate.every((s) => s === undefined)) continue;
      if (!separate.every((s) => s !== undefined)) throw new ModelsError('MISSING_WEIGHT', `toMamba1Layout: layer ${i} has neither ${fusedName} nor all of ${parts.map(([n]) => `${p}.${n}.weight`).join(', ')}`);
      const cat = new Float32Array(dims.inProjRows * D);
      let row = 0;
      parts.forEach(([n, rows], k) => {
        const s = separate[k] as Float32Array;
        if (s.length !== rows * D) throw new ModelsError('BAD_WEIGHT_SHAPE', `toMamba1Layout: ${p}.${n}.weight has ${s.length} values, expected ${rows}×${D}`);
        cat.set(s, row * D);
        row += rows;
        out.delete(`${p}.${n}.weight`);
      });
      out.set(fusedName, cat);
    } else {
      if (!fused) {
        if (separate.every((s) => s !== undefined)) continue;
        throw new ModelsError('MISSING_WEIGHT', `toMamba1Layout: layer ${i} has neither ${fusedName} nor all of the separate projections`);
      }
      if (fused.length !== dims.inProjRows * D) throw new ModelsError('BAD_WEIGHT_SHAPE', `toMamba1Layout: ${fusedName} has ${fused.length} values, expected ${dims.inProjRows}×${D}`);
      let row = 0;
      for (const [n, rows] of parts) {
        out.set(`${p}.${n}.weight`, fused.slice(row * D, (row + rows) * D));
        row += rows;
      }
      out.delete(fusedName);
    }
  }
  return out;
}
