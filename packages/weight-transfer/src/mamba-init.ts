// One Mamba mixer's parameters: x/B/C/out from an attention layer's V/K/Q/O (or random, for the ablation),
// every other parameter new, initialised as the reference does (dossier §1.3.2 and §1.4).
import type { HybridVariant } from '@mil/checkpoint';
import { dtBias, mamba2ALog, s4dRealALog, tensorRng, torchDefault, type DtBiasMode } from './seeded-init';
import type { MixerDims } from './student-specs';

/** The attention projections a mixer is initialised from (flat [out, in] row-major, HF layout). @internal */
export interface AttentionWeights {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
}

/** @internal */
export interface MixerInitOptions {
  seed: number;
  dtBiasMode: DtBiasMode;
}

/**
 * The parameters of the Mamba mixer of layer `layer`, by full name. With `attention` null every projection
 * keeps PyTorch's Linear default (the paper's `init_with_kqvo = false` ablation). Each tensor is drawn from its own
 * seeded stream, and x/B/C/out are drawn before being overwritten, so every new parameter is identical whichever
 * way x/B/C/out are initialised. @internal
 */
export function initMambaMixer(
  variant: HybridVariant,
  d: MixerDims,
  layer: number,
  attention: AttentionWeights | null,
  opts: MixerInitOptions,
): Map<string, Float32Array> {
  const p = `model.layers.${layer}.mamba.`;
  const rng = (n: string) => tensorRng(opts.seed, p + n);
  const { dModel: D, dInner, dXb, dState: N, dConv: w, dtRank: R, nHeads: H } = d;
  const out = new Map<string, Float32Array>();
  const set = (n: string, t: Float32Array) => out.set(p + n, t);
  // A projection that an attention weight replaces: drawn anyway (see above), then replaced by a copy.
  const fromAttn = (n: string, size: number, fanIn: number, src: Float32Array | undefined) => {
    const t = torchDefault(rng(n), size, fanIn);
    if (src !== undefined) t.set(src);
    set(n, t);
  };

  if (variant === 'mamba1') {
    fromAttn('in_proj_x.weight', dXb * D, D, attention?.v);
    fromAttn('B_proj.weight', dXb * D, D, attention?.k);
    fromAttn('C_proj.weight', dInner * D, D, attention?.q);
    fromAttn('out_proj.weight', D * dInner, dInner, attention?.o);
    set('in_proj_z.weight', torchDefault(rng('in_proj_z.weight'), dInner * D, D));
    set('dt_proj_down.weight', torchDefault(rng('dt_proj_down.weight'), R * D, D));
    // mamba_ssm's dt_init = "random": U(±dt_rank^-0.5 · dt_scale), dt_scale = 1.
    set('dt_proj.weight', torchDefault(rng('dt_proj.weight'), dInner * R, R));
    set('dt_proj.bias', dtBias(rng('dt_proj.bias'), dInner, opts.dtBiasMode === 'effective'));
    // Depthwise conv: fan_in = (in_channels / groups) · kernel = w for both weight and bias.
    set('conv1d.weight', torchDefault(rng('conv1d.weight'), dInner * w, w));
    set('conv1d.bias', torchDefault(rng('conv1d.bias'), dInner, w));
    set('A_log', s4dRealALog(dInner, N));
    set('D', new Float32Array(dInner).fill(1));
    return out;
  }

  // Mamba-2: in_proj rows [z | x | B | C | dt]; the x, B and C blocks come from V, K and Q.
  const rows = dInner + dXb + dXb + dInner + H;
  const inProj = torchDefault(rng('in_proj.weight'), rows * D, D);
  if (attention !== null) {
    inProj.set(attention.v, dInner * D);
    inProj.set(attention.k, (dInner + dXb) * D);
    inProj.set(attention.q, (dInner + 2 * dXb) * D);
  }
  set('in_proj.weight', inProj);
  const convCh = 2 * dXb + dInner;
  set('conv1d.weight', torchDefault(rng('conv1d.weight'), convCh * w, w));
  set('conv1d.bias', torchDefault(rng('conv1d.bias'), convCh, w));
  set('dt_bias', dtBias(rng('dt_bias'), H, false));
  set('A_log', mamba2ALog(rng('A_log'), H));
  set('D', new Float32Array(H).fill(1));
  set('norm.weight', new Float32Array(dInner).fill(1));
  fromAttn('out_proj.weight', D * dInner, dInner, attention?.o);
  return out;
}
