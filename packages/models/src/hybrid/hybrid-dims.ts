// The sizes of a Mamba-in-Llama student, derived once from the teacher config and the hybrid config and
// checked against the reference's constraints (dossier §1.3–1.4), so every builder works from the same numbers.
import { checkHybridMatchesTeacher, parseMambaHybridConfig, type HybridConfig, type HybridVariant, type LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';

/** The Mamba-2 mixer's gated RMSNorm eps: a constant of the reference module, not the model's rms_norm_eps. */
export const MAMBA2_NORM_EPS = 1e-5;

/**
 * How a Mamba-1 layer adds `dt_proj.bias`: 'double' (default) as the released MambaInLlama checkpoints were
 * trained — once inside the dt_proj Linear and again as the scan's delta bias, Δ = softplus(W_dt W_down u + 2 b);
 * 'single' as stock Mamba-1, Δ = softplus(W_dt W_down u + b).
 */
export type Mamba1DtBias = 'double' | 'single';

/** Options every student graph / oracle / session shares. */
export interface HybridModelOptions {
  /** Mamba-1 only; default 'double' (the released checkpoints). */
  mamba1DtBias?: Mamba1DtBias;
}

/** Every size a student layer needs. Mamba-1 fills the Mamba-2 fields with their Mamba-1 meaning and vice versa. */
export interface HybridDims {
  variant: HybridVariant;
  teacher: LlamaConfig;
  dModel: number;
  /** Channels of z, C and the expanded x (= query heads × head dim). */
  dInner: number;
  /** Channels of x and B before the GQA repeat (= KV heads × head dim). */
  dXb: number;
  /** N: state size per channel (Mamba-1) or per head row (Mamba-2). */
  dState: number;
  /** Conv kernel width w. */
  dConv: number;
  /** Mamba-1: rank R of the low-rank Δ projection. Mamba-2: unused (0). */
  dtRank: number;
  /** Mamba-2: SSM heads H (= ngroups). Mamba-1: unused (0). */
  nHeads: number;
  /** Mamba-2: channels per head P (= d_state in the reference). Mamba-1: unused (0). */
  headDim: number;
  /** B/C groups after the repeat: Mamba-1 d_inner / N, Mamba-2 ngroups. */
  nGroups: number;
  /** B groups (and, for Mamba-2, x heads) before the repeat: d_xb / N. */
  xbGroups: number;
  /** The GQA repeat factor d_inner / d_xb. */
  rep: number;
  /** Channels the depthwise conv runs on: Mamba-1 d_inner (expanded x), Mamba-2 2·d_xb + d_inner (x, B, C). */
  convChannels: number;
  /** Rows of the fused in_proj: Mamba-1 [z, x, B, C, dt_down], Mamba-2 [z, x, B, C, dt]. */
  inProjRows: number;
  nLayer: number;
  /** Layers that keep attention, ascending. */
  attnLayers: readonly number[];
  /** Layers whose mixer is Mamba, ascending. */
  ssmLayers: readonly number[];
  isMamba: (layer: number) => boolean;
}

function bad(message: string): never {
  throw new ModelsError('BAD_CONFIG', message);
}

// Dims per (teacher, hybrid) pair: configs are immutable values, so each pair is checked and sized once and every
// builder, oracle and session that asks again gets the same object.
const resolved = new WeakMap<LlamaConfig, WeakMap<HybridConfig, HybridDims>>();

/**
 * Checks a hybrid config against its teacher (@mil/checkpoint's `checkHybridMatchesTeacher`, the one size check)
 * and the reference's mixer constraints, and returns the sizes. Computed once per config pair.
 *
 * @example
 * const dims = resolveHybridDims(teacher, hybrid);
 * dims.isMamba(0); // true for the 50% students (Mamba at even layers)
 */
export function resolveHybridDims(teacher: LlamaConfig, hybrid: HybridConfig): HybridDims {
  let byHybrid = resolved.get(teacher);
  if (!byHybrid) resolved.set(teacher, (byHybrid = new WeakMap()));
  let dims = byHybrid.get(hybrid);
  if (!dims) byHybrid.set(hybrid, (dims = computeHybridDims(teacher, hybrid)));
  return dims;
}

function computeHybridDims(teacher: LlamaConfig, hybrid: HybridConfig): HybridDims {
  const r = teacher;
  const h = hybrid;
  checkHybridMatchesTeacher(h, r);
  for (const i of h.attnLayers) if (!Number.isInteger(i) || i < 0 || i >= h.nLayer) bad(`mamba_config.json: attn_layers has ${i}, outside [0, ${h.nLayer})`);
  const { dInner, dXb } = h;
  const N = h.ssm.dState;
  const w = h.ssm.dConv;
  if (!(w >= 2)) bad(`mamba_config.json: ssm_cfg.d_conv must be >= 2, got ${w}`);
  if (dInner % dXb !== 0) bad(`mamba_config.json: d_xb (${dXb}) must divide d_inner (${dInner})`);
  if (dXb % N !== 0 || dInner % N !== 0) bad(`mamba_config.json: d_xb (${dXb}) and d_inner (${dInner}) must be multiples of ssm_cfg.d_state (${N})`);
  const rep = dInner / dXb;
  const xbGroups = dXb / N;
  const attn = new Set(h.attnLayers);
  const ssmLayers = Array.from({ length: h.nLayer }, (_, i) => i).filter((i) => !attn.has(i));
  const common = {
    variant: h.variant,
    teacher: r,
    dModel: h.dModel,
    dInner,
    dXb,
    dState: N,
    dConv: w,
    xbGroups,
    rep,
    nLayer: h.nLayer,
    attnLayers: [...attn].sort((a, b) => a - b),
    ssmLayers,
    isMamba: (i: number) => !attn.has(i),
  };
  if (h.variant === 'mamba1') {
    const R = h.ssm.dtRank;
    if (!(R >= 1)) bad(`mamba_config.json: ssm_cfg.dt_rank must be >= 1, got ${R}`);
    return {
      ...common,
      dtRank: R,
      nHeads: 0,
      headDim: 0,
      nGroups: dInner / N,
      convChannels: dInner,
      inProjRows: 2 * dInner + 2 * dXb + R,
    };
  }
  // The reference Mamba-2 mixer forces headdim = d_state and nheads = ngroups (one SSM head per attention head).
  const P = h.ssm.headdim;
  const G = h.ssm.ngroups;
  if (P !== N) bad(`mamba_config.json: the Mamba-2 student needs ssm_cfg.headdim (${P}) = ssm_cfg.d_state (${N}), as the reference forces`);
  if (G * P !== dInner) bad(`mamba_config.json: ssm_cfg.ngroups (${G}) × d_state (${N}) must equal d_inner (${dInner})`);
  if (G % xbGroups !== 0) bad(`mamba_config.json: ssm_cfg.ngroups (${G}) must be a multiple of d_xb / d_state (${xbGroups})`);
  return {
    ...common,
    dtRank: 0,
    nHeads: G,
    headDim: P,
    nGroups: G,
    convChannels: 2 * dXb + dInner,
    inProjRows: 2 * dInner + 2 * dXb + G,
  };
}

/**
 * The reference's student config for a teacher: d_inner = heads × head_dim, d_xb = KV heads × head_dim;
 * Mamba-1 `ssm_cfg = {expand: 1}` (N = 16, dt_rank = ceil(d_model/16)); Mamba-2
 * `ssm_cfg = {expand: 1, ngroups: heads, d_state: head_dim}` — the released configs' choices. Layers not in
 * `attnLayers` become Mamba. `ssmCfg` overrides or adds `ssm_cfg` fields.
 *
 * @example
 * const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1, 3, 5, 7]); // 50% attention, Mamba at even layers
 */
export function hybridConfigForTeacher(
  teacher: LlamaConfig,
  variant: HybridVariant,
  attnLayers: readonly number[],
  ssmCfg: Record<string, unknown> = {},
): HybridConfig {
  const r = teacher;
  const base: Record<string, unknown> =
    variant === 'mamba1' ? { expand: 1 } : { expand: 1, ngroups: r.numAttentionHeads, d_state: r.headDim };
  const json = {
    d_model: r.hiddenSize,
    ssm_cfg: { ...base, ...ssmCfg },
    rms_norm_eps: r.rmsNormEps,
    vocab_size: r.vocabSize,
    d_inner: r.numAttentionHeads * r.headDim,
    d_xb: r.numKeyValueHeads * r.headDim,
    intermediate_size: r.intermediateSize,
    hidden_act: 'silu',
    n_layer: r.numHiddenLayers,
    attn_layers: [...attnLayers],
  };
  return parseMambaHybridConfig(json, 'mamba_config.json', { variant });
}
