// The Mamba-1 and Mamba-2 mixers as graph code, in two forms from one definition: 'train' (standard ops, the
// chunked scans, differentiable) and 'infer' (conv and SSM state in and out: CausalConvWithState + LinearAttention).
import {
  type Graph,
  type Tensor,
  add,
  concat,
  exp,
  neg,
  reshape,
  split,
  transpose,
} from '@mil/graph';
import {
  causalConv1dGraph,
  causalConv1dUpdateGraph,
  gatedRmsNormGraph,
  mamba1PrefillGraph,
  mamba1MultiStepVerifyGraph,
  mamba1ScanGraph,
  mamba2MultiStepVerifyGraph,
  mamba2PrefillGraph,
  mamba2ScanGraph,
} from '@mil/ssm-kernels';
import { linear } from '../llama/layers';
import { MAMBA2_NORM_EPS, type HybridDims, type Mamba1DtBias } from './hybrid-dims';
import { mamba1InProjParts, type Mamba1Layout } from './hybrid-weights';

/** What a mixer needs from the decoder builder. */
export interface MixerGraphContext {
  g: Graph;
  dims: HybridDims;
  param: (name: string, shape: number[]) => Tensor;
}

/**
 * 'train': whole sequences from a zero state. 'infer': continue from explicit states and return the new ones.
 * 'verify': the multi-step verify of speculative decoding (see {@link VerifyMixerInputs}).
 */
export type MixerMode =
  | { kind: 'train'; chunkSize: number }
  | { kind: 'infer'; conv: Tensor; ssm: Tensor }
  | ({ kind: 'verify' } & VerifyMixerInputs);

/**
 * State inputs of a Mamba layer in 'verify' mode (paper Algorithm 2, snapshot-only protocol of
 * `mamba2MultiStepVerifyGraph`): the run starts from `start`, replays the first `replaySteps` steps of the previous
 * run from their cached inputs without outputs (the accepted tokens), then runs the new steps with outputs.
 */
export interface VerifyMixerInputs {
  /** Raw pre-conv inputs (batch, convChannels, d_conv − 1 + previous steps): the previous run's history + its new inputs. */
  convWindow: Tensor;
  /** (1) int64: where the conv history of this run starts in `convWindow` (= the previous run's kept steps). */
  convOffset: Tensor;
  /** SSM state to start from: Mamba-1 (batch, d_inner, N), Mamba-2 (batch, H, P, N). */
  start: Tensor;
  /** (batch) int64: cached steps to replay from `start`. */
  replaySteps: Tensor;
  /** The previous run's per-step SSM inputs: Mamba-2 x (b, Tc, H, P), dt (b, Tc, H), B (b, Tc, G, N); Mamba-1 x = conv output (b, Tc, d_inner), dt = raw δ (b, Tc, d_inner), B (b, Tc, G, N). */
  cache: { x: Tensor; dt: Tensor; B: Tensor };
}

export interface MixerGraphResult {
  /** [batch, seq, d_model], after out_proj. */
  y: Tensor;
  /** 'infer' only: the new conv state (batch, convChannels, d_conv − 1). */
  conv?: Tensor;
  /** 'infer' only: the new SSM state, Mamba-1 (batch, d_inner, N), Mamba-2 (batch, H, P, N). */
  ssm?: Tensor;
  /** 'verify' only: the state after the replayed steps (before the new ones) and this run's per-step SSM inputs. */
  verify?: { snapshot: Tensor; cache: { x: Tensor; dt: Tensor; B: Tensor } };
}

/**
 * Repeats blocks of a [batch, seq, blocks·size] tensor: output block k = input block ⌊k/rep⌋, as
 * [batch, seq, blocks·rep, size]. This is both the Mamba-1 N-channel map and the Mamba-2 head-level GQA map.
 */
function repeatBlocks(t: Tensor, blocks: number, size: number, rep: number): Tensor {
  if (rep === 1) return reshape(t, [0, 0, blocks, size]);
  const one = reshape(t, [0, 0, blocks, 1, size]);
  return reshape(concat(Array.from({ length: rep }, () => one), 3), [0, 0, blocks * rep, size]);
}

function conv(c: MixerGraphContext, i: number, x: Tensor, mode: MixerMode): { y: Tensor; state?: Tensor } {
  const p = `model.layers.${i}.mamba`;
  const { convChannels: ch, dConv: w } = c.dims;
  const weight = reshape(c.param(`${p}.conv1d.weight`, [ch, 1, w]), [ch, w]);
  const bias = c.param(`${p}.conv1d.bias`, [ch]);
  if (mode.kind === 'train') return { y: causalConv1dGraph(c.g, { x, weight, bias }, { activation: 'silu' }).y };
  if (mode.kind === 'infer') return causalConv1dUpdateGraph(c.g, { x, weight, bias, state: mode.conv }, { activation: 'silu' });
  // Verify: the history is w − 1 columns of the window at the offset (a buffer moved by a counter: rolling back
  // the conv is choosing where to read, nothing is recomputed); the new window is that history + the new inputs.
  const end = add(mode.convOffset, c.g.ints([w - 1]));
  const history = c.g.addNode('Slice', [mode.convWindow, mode.convOffset, end, c.g.ints([2])], [{ dtype: x.dtype, shape: [x.shape[0], ch, w - 1] }])[0];
  const y = causalConv1dUpdateGraph(c.g, { x, weight, bias, state: history }, { activation: 'silu' }).y;
  return { y, state: concat([history, transpose(x, [0, 2, 1])], 2) };
}

/**
 * Mamba-1 mixer of layer i on u = RMSNorm(hidden) (dossier §1.3.3). `layout` names the input projections
 * ('separate': five Linears; 'fused': one in_proj split in the graph — one MatMul, the inference choice).
 */
export function mamba1MixerGraph(c: MixerGraphContext, i: number, u: Tensor, mode: MixerMode, layout: Mamba1Layout, dtBias: Mamba1DtBias): MixerGraphResult {
  const { dims, param } = c;
  const p = `model.layers.${i}.mamba`;
  const D = dims.dModel;
  const { dInner: di, dXb: dxb, dState: N, nGroups: G, rep, dtRank: R } = dims;
  let z: Tensor, x: Tensor, B: Tensor, C: Tensor, dtLow: Tensor;
  if (layout === 'fused') {
    [z, x, B, C, dtLow] = split(linear(u, param(`${p}.in_proj.weight`, [dims.inProjRows, D])), mamba1InProjParts(dims).map(([, rows]) => rows), -1);
  } else {
    z = linear(u, param(`${p}.in_proj_z.weight`, [di, D]));
    x = linear(u, param(`${p}.in_proj_x.weight`, [dxb, D]));
    B = linear(u, param(`${p}.B_proj.weight`, [dxb, D]));
    C = linear(u, param(`${p}.C_proj.weight`, [di, D]));
    dtLow = linear(u, param(`${p}.dt_proj_down.weight`, [R, D]));
  }
  const bias = param(`${p}.dt_proj.bias`, [di]);
  const delta = linear(dtLow, param(`${p}.dt_proj.weight`, [di, R]), bias);
  const xExp = reshape(repeatBlocks(x, dims.xbGroups, N, rep), [0, 0, di]);
  const bExp = repeatBlocks(B, dims.xbGroups, N, rep);
  const cG = reshape(C, [0, 0, G, N]);
  const xc = conv(c, i, xExp, mode);
  const scanIn = {
    u: xc.y,
    delta,
    A: neg(exp(param(`${p}.A_log`, [di, N]))),
    B: bExp,
    C: cG,
    D: param(`${p}.D`, [di]),
    deltaBias: dtBias === 'double' ? bias : undefined,
    z,
  };
  const out = param(`${p}.out_proj.weight`, [D, di]);
  if (mode.kind === 'train') {
    const { y } = mamba1ScanGraph(c.g, scanIn, { chunkSize: mode.chunkSize, deltaSoftplus: true });
    return { y: linear(y, out) };
  }
  if (mode.kind === 'verify') {
    const { cache } = mode;
    const r = mamba1MultiStepVerifyGraph(
      c.g,
      { ...scanIn, x: xc.y, snapshot: mode.start, replaySteps: mode.replaySteps, cache: { x: cache.x, delta: cache.dt, B: cache.B } },
      { deltaSoftplus: true },
    );
    return { y: linear(r.y, out), conv: xc.state, ssm: r.state, verify: { snapshot: r.snapshot, cache: { x: r.cache.x, dt: r.cache.delta, B: r.cache.B } } };
  }
  const { y, finalState } = mamba1PrefillGraph(c.g, { ...scanIn, initialState: mode.ssm }, { deltaSoftplus: true });
  return { y: linear(y, out), conv: xc.state, ssm: finalState };
}

/** Mamba-2 mixer of layer i on u = RMSNorm(hidden) (dossier §1.4); SSM state in the reference layout (b, h, p, n). */
export function mamba2MixerGraph(c: MixerGraphContext, i: number, u: Tensor, mode: MixerMode): MixerGraphResult {
  const { dims, param } = c;
  const p = `model.layers.${i}.mamba`;
  const D = dims.dModel;
  const { dInner: di, dXb: dxb, dState: N, nHeads: H, headDim: P, nGroups: G } = dims;
  const [z, xBC, dt] = split(linear(u, param(`${p}.in_proj.weight`, [dims.inProjRows, D])), [di, dims.convChannels, H], -1);
  const xc = conv(c, i, xBC, mode);
  const [x, B, C] = split(xc.y, [dxb, dxb, di], -1);
  const kvHeads = dxb / P;
  const scanIn = {
    x: repeatBlocks(x, kvHeads, P, H / kvHeads),
    dt,
    A: neg(exp(param(`${p}.A_log`, [H]))),
    B: repeatBlocks(B, dims.xbGroups, N, G / dims.xbGroups),
    C: reshape(C, [0, 0, G, N]),
    D: param(`${p}.D`, [H]),
    dtBias: param(`${p}.dt_bias`, [H]),
  };
  let verify: MixerGraphResult['verify'];
  let scan: { y: Tensor; finalState?: Tensor };
  if (mode.kind === 'train') scan = mamba2ScanGraph(c.g, scanIn, { chunkSize: mode.chunkSize, dtSoftplus: true });
  else if (mode.kind === 'infer') scan = mamba2PrefillGraph(c.g, { ...scanIn, initialState: mode.ssm }, { dtSoftplus: true, stateLayout: 'hpn' });
  else {
    const r = mamba2MultiStepVerifyGraph(c.g, { ...scanIn, snapshot: mode.start, replaySteps: mode.replaySteps, cache: mode.cache }, { dtSoftplus: true, stateLayout: 'hpn' });
    scan = { y: r.y, finalState: r.state };
    verify = { snapshot: r.snapshot, cache: r.cache };
  }
  const y = gatedRmsNormGraph(
    c.g,
    { x: reshape(scan.y, [0, 0, di]), z, weight: param(`${p}.norm.weight`, [di]) },
    { eps: MAMBA2_NORM_EPS, groupSize: di / G, normBeforeGate: false },
  );
  const out = linear(y, param(`${p}.out_proj.weight`, [D, di]));
  return mode.kind === 'train' ? { y: out } : { y: out, conv: xc.state, ssm: scan.finalState, verify };
}
