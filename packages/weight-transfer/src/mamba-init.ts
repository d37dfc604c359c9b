// One Mamba mixer's parameters: x/B/C/out from an attention layer's V/K/Q/O (or random, for the ablation),
// every other parameter new, initialised as the reference does (dossier §1.3.2 and §1.4).
import type { HybridDims } from '@mil/models';
import { dtBias, mamba2ALog, s4dRealALog, tensorRng, torchDefault, type DtBiasMode } from './seeded-init';

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
 * keeps PyTorch's Linear default (the paper's `init_with_kqvo = false` ablation). Each tensor (for Mamba-2's in_proj:
 * each row block) is drawn from its own seeded stream, so every new parameter is identical whichever way x/B/C/out are
 * initialised, and nothing is drawn for what the attention weights replace. @internal
 */
export function initMambaMixer(
  d: HybridDims,
  layer: number,
  attention: AttentionWeights | null,
  opts: MixerInitOptions,
): Map<string, Float32Array> {
  const p = `model.layers.${layer}.mamba.`;
  const rng = (n: string) => tensorRng(opts.seed, p + n);
  const { dModel: D, dInner, dXb, dState: N, dConv: w, dtRank: R, nHeads: H } = d;
  const out = new Map<string, Float32Array>();
  const set = (n: string, t: Float32Array) => out.set(p + n, t);
  // A projection (or row block) that an attention weight initialises: a bit-exact copy, else the Linear default.
  const fromAttn = (stream: string, size: number, fanIn: number, src: Float32Array | undefined) =>
    src !== undefined ? src.slice() : torchDefault(rng(stream), size, fanIn);

  if (d.variant === 'mamba1') {
    set('in_proj_x.weight', fromAttn('in_proj_x.weight', dXb * D, D, attention?.v));
    set('B_proj.weight', fromAttn('B_proj.weight', dXb * D, D, attention?.k));
    set('C_proj.weight', fromAttn('C_proj.weight', dInner * D, D, attention?.q));
    set('out_proj.weight', fromAttn('out_proj.weight', D * dInner, dInner, attention?.o));
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
  // Every row block is Linear-default U(±1/√D) unless V/K/Q replace it.
  const blocks: [stream: string, rows: number, src: Float32Array | undefined][] = [
    ['in_proj.weight[z]', dInner, undefined],
    ['in_proj.weight[x]', dXb, attention?.v],
    ['in_proj.weight[B]', dXb, attention?.k],
    ['in_proj.weight[C]', dInner, attention?.q],
    ['in_proj.weight[dt]', H, undefined],
  ];
  const inProj = new Float32Array(d.inProjRows * D);
  let row = 0;
  for (const [stream, n, src] of blocks) {
    inProj.set(src ?? torchDefault(rng(stream), n * D, D), row * D);
    row += n;
  }
  set('in_proj.weight', inProj);
  const convCh = d.convChannels;
  set('conv1d.weight', torchDefault(rng('conv1d.weight'), convCh * w, w));
  set('conv1d.bias', torchDefault(rng('conv1d.bias'), convCh, w));
  set('dt_bias', dtBias(rng('dt_bias'), H, false));
  set('A_log', mamba2ALog(rng('A_log'), H));
  set('D', new Float32Array(H).fill(1));
  set('norm.weight', new Float32Array(dInner).fill(1));
  set('out_proj.weight', fromAttn('out_proj.weight', D * dInner, dInner, attention?.o));
  return out;
}
