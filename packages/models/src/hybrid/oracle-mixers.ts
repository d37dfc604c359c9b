// The Mamba-1 and Mamba-2 mixers of the students in plain TypeScript (float64), written from the dossier's
// per-token description (§1.3.3, §1.4) on top of @mil/ssm-kernels' sequential oracles. The oracle of the graphs.
import {
  causalConv1dUpdate,
  gatedRmsNorm,
  mamba1Scan,
  mamba2Scan,
} from '@mil/ssm-kernels';
import { linear } from '../oracle/llama-oracle';
import { readWeight, type WeightSource } from '../oracle/llama-weights';
import { ModelsError } from '../errors';
import { MAMBA2_NORM_EPS, type HybridDims, type Mamba1DtBias } from './hybrid-dims';
import { mamba1InProjParts } from './hybrid-weights';

/** One Mamba layer's recurrent state (oracle form, float64). */
export interface MambaLayerState {
  /** (batch, convChannels, d_conv − 1): the last pre-conv inputs, oldest first. */
  readonly conv: Float64Array;
  /** Mamba-1 (batch, d_inner, N); Mamba-2 (batch, heads, head_dim, N) — the reference's (b, h, p, n). */
  readonly ssm: Float64Array;
}

/** A Mamba layer's weights in float64, projections split (whatever the stored layout). @internal */
export interface MambaWeights {
  /** Mamba-1: in_proj_z, in_proj_x, B_proj, C_proj, dt_proj_down; Mamba-2: z, x, B, C, dt blocks of in_proj. */
  z: Float64Array;
  x: Float64Array;
  B: Float64Array;
  C: Float64Array;
  /** Mamba-1: dt_proj_down [R, D]; Mamba-2: the dt rows of in_proj [H, D]. */
  dt: Float64Array;
  /** Mamba-1 only: dt_proj [d_inner, R]. */
  dtUp: Float64Array | null;
  /** Mamba-1 dt_proj.bias [d_inner]; Mamba-2 dt_bias [H]. */
  dtBias: Float64Array;
  /** (convChannels, w) */
  convWeight: Float64Array;
  convBias: Float64Array;
  /** −exp(A_log) */
  A: Float64Array;
  D: Float64Array;
  /** Mamba-2 only. */
  norm: Float64Array | null;
  out: Float64Array;
}

/** Rows `[from, from + rows)` of a row-major [*, cols] matrix. */
function rowsOf(m: Float64Array, from: number, rows: number, cols: number): Float64Array {
  return m.slice(from * cols, (from + rows) * cols);
}

/**
 * Reads one Mamba layer's weights from a source in either Mamba-1 layout (fused `in_proj` or the five
 * separate projections) or the Mamba-2 layout. @internal
 */
export function readMambaWeights(dims: HybridDims, source: WeightSource, i: number): MambaWeights {
  const p = `model.layers.${i}.mamba`;
  const D = dims.dModel;
  const di = dims.dInner;
  const read = (n: string, size: number) => readWeight(source, `${p}.${n}`, size);
  const negExp = (a: Float64Array) => a.map((v) => -Math.exp(v));
  const common = {
    convWeight: read('conv1d.weight', dims.convChannels * dims.dConv),
    convBias: read('conv1d.bias', dims.convChannels),
    D: read('D', dims.variant === 'mamba1' ? di : dims.nHeads),
    out: read('out_proj.weight', D * di),
  };
  if (dims.variant === 'mamba2') {
    const inProj = read('in_proj.weight', dims.inProjRows * D);
    const dxb = dims.dXb;
    return {
      ...common,
      z: rowsOf(inProj, 0, di, D),
      x: rowsOf(inProj, di, dxb, D),
      B: rowsOf(inProj, di + dxb, dxb, D),
      C: rowsOf(inProj, di + 2 * dxb, di, D),
      dt: rowsOf(inProj, 2 * di + 2 * dxb, dims.nHeads, D),
      dtUp: null,
      dtBias: read('dt_bias', dims.nHeads),
      A: negExp(read('A_log', dims.nHeads)),
      norm: read('norm.weight', di),
    };
  }
  const parts = mamba1InProjParts(dims);
  let proj: Float64Array[];
  if (source(`${p}.in_proj.weight`) !== undefined) {
    const inProj = read('in_proj.weight', dims.inProjRows * D);
    let row = 0;
    proj = parts.map(([, rows]) => {
      const m = rowsOf(inProj, row, rows, D);
      row += rows;
      return m;
    });
  } else {
    proj = parts.map(([n, rows]) => read(`${n}.weight`, rows * D));
  }
  const [z, x, B, C, dt] = proj;
  return {
    ...common,
    z,
    x,
    B,
    C,
    dt,
    dtUp: read('dt_proj.weight', di * dims.dtRank),
    dtBias: read('dt_proj.bias', di),
    A: negExp(read('A_log', di * dims.dState)),
    norm: null,
  };
}

/** Zero state of one Mamba layer for `batch` sequences. */
export function emptyMambaState(dims: HybridDims, batch: number): MambaLayerState {
  const ssm = dims.variant === 'mamba1' ? dims.dInner * dims.dState : dims.nHeads * dims.headDim * dims.dState;
  return { conv: new Float64Array(batch * dims.convChannels * (dims.dConv - 1)), ssm: new Float64Array(batch * ssm) };
}

/** Output of a mixer: `y` [rows, d_model] (after out_proj) and the state after these tokens. */
export interface MixerResult {
  y: Float64Array;
  state: MambaLayerState;
}

/**
 * The reference's Mamba-1 GQA repeat at N-channel granularity: expanded channel c = (rep·g + r)·N + j reads
 * x̃[N·g + j] (and expanded B group k reads B̃'s group ⌊k/rep⌋). Returns the x̃ channel. @internal
 */
export function mamba1RepeatSource(c: number, N: number, rep: number): number {
  return Math.floor(Math.floor(c / N) / rep) * N + (c % N);
}

/**
 * The Mamba-1 mixer on u = RMSNorm(hidden) [batch, L, D]: x̃ = W_x u, z, B̃ = W_B u, C = W_C u,
 * δ = W_dt W_down u + b; x̃ and B̃ repeated by the reference's 16-channel (N-channel) map; causal conv + SiLU on
 * the expanded x only; selective scan with Δ = softplus(δ + b) ('double') or softplus(δ) ('single'); D skip,
 * silu(z) gate; out_proj.
 */
export function mamba1MixerOracle(
  dims: HybridDims,
  w: MambaWeights,
  u: Float64Array,
  batch: number,
  len: number,
  past: MambaLayerState,
  dtBias: Mamba1DtBias,
): MixerResult {
  const { dModel: D, dInner: di, dXb: dxb, dState: N, rep, nGroups: G } = dims;
  const rows = batch * len;
  const xs = linear(u, rows, D, w.x, dxb, null);
  const z = linear(u, rows, D, w.z, di, null);
  const Bk = linear(u, rows, D, w.B, dxb, null);
  const C = linear(u, rows, D, w.C, di, null);
  const delta = linear(linear(u, rows, D, w.dt, dims.dtRank, null), rows, dims.dtRank, w.dtUp as Float64Array, di, w.dtBias);
  const xExp = new Float64Array(rows * di);
  const bExp = new Float64Array(rows * G * N);
  for (let row = 0; row < rows; row++) {
    for (let c = 0; c < di; c++) xExp[row * di + c] = xs[row * dxb + mamba1RepeatSource(c, N, rep)];
    for (let k = 0; k < G; k++) {
      const src = row * dxb + N * Math.floor(k / rep);
      for (let n = 0; n < N; n++) bExp[(row * G + k) * N + n] = Bk[src + n];
    }
  }
  const conv = causalConv1dUpdate({
    batch, seqLen: len, dim: di, width: dims.dConv, stateLen: dims.dConv - 1, activation: 'silu',
    x: xExp, state: past.conv, weight: w.convWeight, bias: w.convBias,
  });
  const scan = mamba1Scan({
    batch, seqLen: len, dim: di, dState: N, nGroups: G, A: w.A, D: w.D,
    deltaBias: dtBias === 'double' ? w.dtBias : undefined, deltaSoftplus: true,
    u: conv.y, delta, B: bExp, C, z, initialState: past.ssm,
  });
  return {
    y: linear(scan.y as Float64Array, rows, di, w.out, D, null),
    state: { conv: conv.state as Float64Array, ssm: scan.finalState as Float64Array },
  };
}

/** The Mamba-2 input projection: z [rows, d_inner], xBC [rows, 2·d_xb + d_inner] (pre-conv), dt [rows, H]. @internal */
export function mamba2Project(dims: HybridDims, w: MambaWeights, u: Float64Array, rows: number): { z: Float64Array; xbc: Float64Array; dt: Float64Array } {
  const { dModel: D, dInner: di, dXb: dxb, nHeads: H } = dims;
  const cc = dims.convChannels;
  const xbc = new Float64Array(rows * cc);
  const parts: [Float64Array, number, number][] = [
    [w.x, dxb, 0],
    [w.B, dxb, dxb],
    [w.C, di, 2 * dxb],
  ];
  for (const [m, n, off] of parts) {
    const y = linear(u, rows, D, m, n, null);
    for (let row = 0; row < rows; row++) xbc.set(y.subarray(row * n, (row + 1) * n), row * cc + off);
  }
  return { z: linear(u, rows, D, w.z, di, null), xbc, dt: linear(u, rows, D, w.dt, H, null) };
}

/**
 * Splits the (conv output) xBC rows into the scan inputs: x (rows, H, P) with head h reading x̃'s KV head ⌊h/rep⌋,
 * B (rows, G, N) with group g reading B̃'s group ⌊g/rep⌋, C (rows, G, N). @internal
 */
export function mamba2Expand(dims: HybridDims, xbc: Float64Array, rows: number): { x: Float64Array; B: Float64Array; C: Float64Array } {
  const { dXb: dxb, dState: N, nHeads: H, headDim: P, nGroups: G } = dims;
  const cc = dims.convChannels;
  const headRep = H / (dxb / P);
  const groupRep = G / (dxb / N);
  const x = new Float64Array(rows * H * P);
  const B = new Float64Array(rows * G * N);
  const C = new Float64Array(rows * G * N);
  for (let row = 0; row < rows; row++) {
    const base = row * cc;
    for (let h = 0; h < H; h++) {
      const src = base + Math.floor(h / headRep) * P;
      x.set(xbc.subarray(src, src + P), (row * H + h) * P);
    }
    for (let g = 0; g < G; g++) {
      const src = base + dxb + Math.floor(g / groupRep) * N;
      B.set(xbc.subarray(src, src + N), (row * G + g) * N);
    }
    C.set(xbc.subarray(base + 2 * dxb, base + cc), row * G * N);
  }
  return { x, B, C };
}

/**
 * The Mamba-2 mixer: [z, x̃, B̃, C, dt] = in_proj(u); causal conv + SiLU on [x̃, B̃, C] (before the repeat);
 * head h reads x̃'s KV head ⌊h/rep⌋, group g reads B̃'s group ⌊g/rep⌋; scalar-decay SSD with Δ = softplus(dt +
 * dt_bias), D skip; y ← RMSNorm_group(y ⊙ silu(z)) ⊙ norm.weight (groups of d_inner / ngroups); out_proj.
 */
export function mamba2MixerOracle(
  dims: HybridDims,
  w: MambaWeights,
  u: Float64Array,
  batch: number,
  len: number,
  past: MambaLayerState,
): MixerResult {
  const { dModel: D, dInner: di, dState: N, nHeads: H, headDim: P, nGroups: G } = dims;
  const rows = batch * len;
  const { z, xbc, dt } = mamba2Project(dims, w, u, rows);
  const conv = causalConv1dUpdate({
    batch, seqLen: len, dim: dims.convChannels, width: dims.dConv, stateLen: dims.dConv - 1, activation: 'silu',
    x: xbc, state: past.conv, weight: w.convWeight, bias: w.convBias,
  });
  const { x, B, C } = mamba2Expand(dims, conv.y as Float64Array, rows);
  const scan = mamba2Scan({
    batch, seqLen: len, nHeads: H, headDim: P, dState: N, nGroups: G, A: w.A, D: w.D, dtBias: w.dtBias,
    dtSoftplus: true, x, dt, B, C, initialState: past.ssm,
  });
  const normed = gatedRmsNorm({
    rows, dim: di, x: scan.y, z, weight: w.norm as Float64Array, eps: MAMBA2_NORM_EPS, groupSize: di / G, normBeforeGate: false,
  });
  return {
    y: linear(normed as Float64Array, rows, di, w.out, D, null),
    state: { conv: conv.state as Float64Array, ssm: scan.finalState as Float64Array },
  };
}

/** Checks a state's sizes for `batch` sequences. @internal */
export function checkMambaState(dims: HybridDims, s: MambaLayerState, batch: number, layer: number): void {
  const e = emptyMambaState(dims, 1);
  if (s.conv.length !== batch * e.conv.length || s.ssm.length !== batch * e.ssm.length) {
    throw new ModelsError(
      'BAD_CACHE',
      `state of Mamba layer ${layer}: expected conv ${batch * e.conv.length} and ssm ${batch * e.ssm.length} values, got ${s.conv.length} and ${s.ssm.length}`,
    );
  }
}
