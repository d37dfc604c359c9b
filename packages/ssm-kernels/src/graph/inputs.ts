/**
 * Graph-side input records of the Mamba scans (the oracle layouts, as Tensors) and their validation.
 *
 * Mamba-2: x, z (b, L, h, p); dt (b, L, h); A (h); B, C (b, L, g, n); D (h) or (h, p); dtBias (h);
 *          state (b, h, p, n).
 * Mamba-1: u, delta, z (b, L, d); A (d, n); B, C (b, L, g, n); D, deltaBias (d); state (b, d, n).
 * b and L may be symbolic; h, p, n, g, d must be static.
 */
import type { Graph, Tensor } from '@mil/graph';
import { SsmKernelError } from '../errors';
import { checkFloatDtype, checkGraph, checkTensor, staticDim } from './common';

/** Per-layer Mamba-2 parameters (tensors) and Δ options. */
export interface Mamba2GraphParams {
  /** (h) scalar decay per head (−exp(A_log)). */
  A: Tensor;
  /** (h) or (h, p) skip; omitted = none. */
  D?: Tensor;
  /** (h) added to dt before softplus; omitted = 0. */
  dtBias?: Tensor;
}

/** Δ options of the Mamba-2 graph forms (as in `Mamba2Params`). */
export interface Mamba2DeltaOptions {
  /** Apply softplus (threshold 20) to dt + dtBias. Required (the mixers pass true). */
  dtSoftplus: boolean;
  /** [min, max] clamp after softplus; omitted or [0, ∞) = none. */
  dtLimit?: readonly [number, number];
}

/** Tensors of a Mamba-2 scan over L steps. */
export interface Mamba2ScanGraphInput extends Mamba2GraphParams {
  /** (b, L, h, p) primary input. */
  x: Tensor;
  /** (b, L, h) raw dt. */
  dt: Tensor;
  /** (b, L, g, n) */
  B: Tensor;
  /** (b, L, g, n) */
  C: Tensor;
  /** (b, L, h, p) gate y ⊙ silu(z); omitted = none (the Mamba-2 mixer gates in the RMSNorm instead). */
  z?: Tensor;
  /** (b, h, p, n) state before step 0 (oracle layout; see `stateLayout` of the inference forms); omitted = zeros. */
  initialState?: Tensor;
}

/** Output of the Mamba-2 scan graph forms. */
export interface Mamba2ScanGraphResult {
  /** (b, L, h, p) */
  y: Tensor;
  /** (b, h, p, n), or (b, h, n, p) with stateLayout 'hnp'. */
  finalState: Tensor;
}

/** Per-layer Mamba-1 parameters (tensors). */
export interface Mamba1GraphParams {
  /** (d, n) decay (−exp(A_log)). */
  A: Tensor;
  /** (d) skip; omitted = none. */
  D?: Tensor;
  /** (d) added to δ before softplus; omitted = 0 (MambaInLlama's checkpoints: pass b_dt here AND inside δ). */
  deltaBias?: Tensor;
}

/** Δ options of the Mamba-1 graph forms. */
export interface Mamba1DeltaOptions {
  /** Apply softplus (threshold 20) to δ + deltaBias. Required (the mixers pass true). */
  deltaSoftplus: boolean;
}

/** Tensors of a Mamba-1 scan over L steps. */
export interface Mamba1ScanGraphInput extends Mamba1GraphParams {
  /** (b, L, d) primary input (conv output). */
  u: Tensor;
  /** (b, L, d) raw δ. */
  delta: Tensor;
  /** (b, L, g, n) */
  B: Tensor;
  /** (b, L, g, n) */
  C: Tensor;
  /** (b, L, d) gate; omitted = none. */
  z?: Tensor;
  /** (b, d, n) state before step 0; omitted = zeros. */
  initialState?: Tensor;
}

/** Output of the Mamba-1 scan graph forms. */
export interface Mamba1ScanGraphResult {
  /** (b, L, d) */
  y: Tensor;
  /** (b, d, n) */
  finalState: Tensor;
}

/** Static sizes of a Mamba-2 problem. */
export interface Mamba2Dims {
  h: number;
  p: number;
  n: number;
  g: number;
}

/** Static sizes of a Mamba-1 problem. */
export interface Mamba1Dims {
  d: number;
  n: number;
  g: number;
}

/** Validates Mamba-2 parameters against (h, p); returns nothing (throws SsmKernelError). */
export function checkMamba2Params(fn: string, g: Graph, p: Mamba2GraphParams, like: Tensor, h: number, P: number): void {
  checkGraph(fn, g, { A: p.A, D: p.D, dtBias: p.dtBias });
  checkTensor(fn, 'A', p.A, [h]);
  checkFloatDtype(fn, 'A', p.A, like);
  if (p.D) {
    if (p.D.rank === 1) checkTensor(fn, 'D', p.D, [h]);
    else checkTensor(fn, 'D', p.D, [h, P]);
    checkFloatDtype(fn, 'D', p.D, like);
  }
  if (p.dtBias) {
    checkTensor(fn, 'dtBias', p.dtBias, [h]);
    checkFloatDtype(fn, 'dtBias', p.dtBias, like);
  }
}

/**
 * Validates a Mamba-2 per-step tensor set: x (b, T, h, p), dt (b, T, h), B / C (b, T, g, n) — `C` and `z`
 * optional. Returns the static sizes.
 */
export function checkMamba2Steps(
  fn: string,
  g: Graph,
  t: { x: Tensor; dt: Tensor; B: Tensor; C?: Tensor; z?: Tensor },
  prefix = '',
): Mamba2Dims {
  checkGraph(fn, g, { x: t.x, dt: t.dt, B: t.B, C: t.C, z: t.z });
  checkTensor(fn, `${prefix}x`, t.x, [undefined, undefined, undefined, undefined]);
  if (t.x.dtype !== 'float32' && t.x.dtype !== 'float64') {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor '${prefix}x' (${t.x.name}) must be float32 or float64, got ${t.x.dtype}`);
  }
  const h = staticDim(fn, `${prefix}x`, t.x, 2, 'heads h');
  const P = staticDim(fn, `${prefix}x`, t.x, 3, 'head dim p');
  const [b, L] = t.x.shape;
  checkTensor(fn, `${prefix}dt`, t.dt, [b, L, h]);
  checkTensor(fn, `${prefix}B`, t.B, [b, L, undefined, undefined]);
  const gr = staticDim(fn, `${prefix}B`, t.B, 2, 'groups g');
  const n = staticDim(fn, `${prefix}B`, t.B, 3, 'state size n');
  if (h % gr !== 0) throw new SsmKernelError('BAD_SHAPE', `${fn}: groups g (${gr}, axis 2 of '${prefix}B') must divide heads h (${h})`);
  if (t.C) checkTensor(fn, `${prefix}C`, t.C, [b, L, gr, n]);
  if (t.z) checkTensor(fn, `${prefix}z`, t.z, [b, L, h, P]);
  for (const [name, v] of Object.entries({ dt: t.dt, B: t.B, C: t.C, z: t.z })) if (v) checkFloatDtype(fn, prefix + name, v, t.x);
  return { h, p: P, n, g: gr };
}

/** Validates Mamba-1 parameters against (d, n). */
export function checkMamba1Params(fn: string, g: Graph, p: Mamba1GraphParams, like: Tensor, d: number, n: number): void {
  checkGraph(fn, g, { A: p.A, D: p.D, deltaBias: p.deltaBias });
  checkTensor(fn, 'A', p.A, [d, n]);
  checkFloatDtype(fn, 'A', p.A, like);
  if (p.D) {
    checkTensor(fn, 'D', p.D, [d]);
    checkFloatDtype(fn, 'D', p.D, like);
  }
  if (p.deltaBias) {
    checkTensor(fn, 'deltaBias', p.deltaBias, [d]);
    checkFloatDtype(fn, 'deltaBias', p.deltaBias, like);
  }
}

/** Validates a Mamba-1 per-step tensor set: u (b, T, d), delta (b, T, d), B / C (b, T, g, n). */
export function checkMamba1Steps(
  fn: string,
  g: Graph,
  t: { u: Tensor; delta: Tensor; B: Tensor; C?: Tensor; z?: Tensor },
  prefix = '',
  uName = 'u',
): Mamba1Dims {
  checkGraph(fn, g, { u: t.u, delta: t.delta, B: t.B, C: t.C, z: t.z });
  checkTensor(fn, prefix + uName, t.u, [undefined, undefined, undefined]);
  if (t.u.dtype !== 'float32' && t.u.dtype !== 'float64') {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor '${prefix}${uName}' (${t.u.name}) must be float32 or float64, got ${t.u.dtype}`);
  }
  const d = staticDim(fn, prefix + uName, t.u, 2, 'channels d');
  const [b, L] = t.u.shape;
  checkTensor(fn, `${prefix}delta`, t.delta, [b, L, d]);
  checkTensor(fn, `${prefix}B`, t.B, [b, L, undefined, undefined]);
  const gr = staticDim(fn, `${prefix}B`, t.B, 2, 'groups g');
  const n = staticDim(fn, `${prefix}B`, t.B, 3, 'state size n');
  if (d % gr !== 0) throw new SsmKernelError('BAD_SHAPE', `${fn}: groups g (${gr}, axis 2 of '${prefix}B') must divide channels d (${d})`);
  if (t.C) checkTensor(fn, `${prefix}C`, t.C, [b, L, gr, n]);
  if (t.z) checkTensor(fn, `${prefix}z`, t.z, [b, L, d]);
  for (const [name, v] of Object.entries({ delta: t.delta, B: t.B, C: t.C, z: t.z })) if (v) checkFloatDtype(fn, prefix + name, v, t.u);
  return { d, n, g: gr };
}

/** Checks the required `dtSoftplus` switch of the Mamba-2 forms. */
export function checkDeltaOptions(fn: string, opts: Mamba2DeltaOptions): void {
  if (typeof opts.dtSoftplus !== 'boolean') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'dtSoftplus' must be true or false, got ${String(opts.dtSoftplus)}`);
  }
}

/** Checks the required `deltaSoftplus` switch of the Mamba-1 forms. */
export function checkDeltaSoftplus(fn: string, opts: Mamba1DeltaOptions): void {
  if (typeof opts.deltaSoftplus !== 'boolean') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'deltaSoftplus' must be true or false, got ${String(opts.deltaSoftplus)}`);
  }
}
