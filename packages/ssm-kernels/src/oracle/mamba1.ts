/**
 * Mamba-1 selective scan and its single-step (decode) update: the sequential oracle.
 *
 * LAYOUTS (row-major, batch-first, sequence-second; graph forms mirror them exactly):
 *   u, delta, z     (b, L, d)      NOTE: time-major within a batch element, unlike the CUDA
 *                                  `selective_scan_fn`, which takes (b, d, L). Transpose when comparing.
 *   A               (d, n)         per-channel, per-state decay (A = -exp(A_log), negative)
 *   B, C            (b, L, g, n)   channel d reads group ⌊d / (d_total / g)⌋ (g = 1: shared B / C)
 *   D, deltaBias    (d)
 *   state           (b, d, n)      (the Mamba-1 inference layout (b, d/16, 16, 16) is the same memory)
 *   single step: u, delta, z (b, d); B, C (b, g, n); y (b, d)
 *
 * Math per batch element, channel d, step t (mamba_ssm `selective_scan_ref` / `selective_state_update_ref`):
 *   Δ = softplus(delta + deltaBias)   (softplus only if deltaSoftplus; identity above 20)
 *   h[d, :] = exp(Δ · A[d, :]) ⊙ h[d, :] + Δ · B[g(d), :] · u[d]
 *   y[d]    = Σ_n h[d, n] · C[g(d), n] + D[d] · u[d];   y[d] *= silu(z[d]) if z is given
 * Precision: `u` is the primary input (see common.ts): float64 mode, or float32 mode with an fp32 state.
 * MambaInLlama's Mamba-1 checkpoints add dt_proj.bias twice (dossier §1.3.3): pass δ = W_dt·W_down·u + b_dt as
 * `delta` AND b_dt as `deltaBias`. That quirk belongs to the mixer, not to this kernel.
 */
import { softplus, silu } from './activations';
import {
  type FloatArray,
  allocLike,
  checkBool,
  checkDim,
  checkDivides,
  checkFloat,
  checkOptionalFloat,
  copyLike,
} from './common';

/** Parameters shared by every Mamba-1 step (scan, single step, multi-step verify). */
export interface Mamba1Params {
  /** Channels d (d_inner). */
  dim: number;
  /** State size n per channel. */
  dState: number;
  /** Number of B / C groups g; must divide `dim`. */
  nGroups: number;
  /** (d, n) decay, usually -exp(A_log). */
  A: FloatArray;
  /** (d) skip weight; omitted = no skip. */
  D?: FloatArray;
  /** (d) added to delta before softplus; omitted = 0. */
  deltaBias?: FloatArray;
  /**
   * Apply softplus (threshold 20) to delta + deltaBias. Required (no default) because the upstream kernel defaults to
   * false while every Mamba mixer passes true.
   */
  deltaSoftplus: boolean;
}

/** Input of {@link mamba1Scan}. */
export interface Mamba1ScanInput extends Mamba1Params {
  batch: number;
  /** Sequence length L (0 allowed: returns the initial state). */
  seqLen: number;
  /** (b, L, d) input (the conv output x in a mixer). Primary input: decides the precision. */
  u: FloatArray;
  /** (b, L, d) raw delta, before deltaBias and softplus. */
  delta: FloatArray;
  /** (b, L, g, n) */
  B: FloatArray;
  /** (b, L, g, n) */
  C: FloatArray;
  /** (b, L, d) gate; omitted = no gate. */
  z?: FloatArray;
  /** (b, d, n) state before step 0; omitted = zeros. */
  initialState?: FloatArray;
}

/** Output of {@link mamba1Scan}. */
export interface Mamba1ScanResult {
  /** (b, L, d), precision of `u`. */
  y: FloatArray;
  /** (b, d, n) state after the last step, precision of `u` (fp32 in float32 mode). */
  finalState: FloatArray;
}

/** Input of {@link mamba1Step}. */
export interface Mamba1StepInput extends Mamba1Params {
  batch: number;
  /** (b, d, n) state before this step; not modified. */
  state: FloatArray;
  /** (b, d) primary input. */
  u: FloatArray;
  /** (b, d) raw delta. */
  delta: FloatArray;
  /** (b, g, n) */
  B: FloatArray;
  /** (b, g, n) */
  C: FloatArray;
  /** (b, d) gate; omitted = no gate. */
  z?: FloatArray;
}

/** Output of {@link mamba1Step}. */
export interface Mamba1StepResult {
  /** (b, d) */
  y: FloatArray;
  /** (b, d, n) new state (a fresh array). */
  state: FloatArray;
}

/** Validates the shared parameters; returns them unchanged. */
export function checkMamba1Params(fn: string, p: Mamba1Params): Mamba1Params {
  const d = checkDim(fn, 'dim', p.dim);
  const n = checkDim(fn, 'dState', p.dState);
  const g = checkDim(fn, 'nGroups', p.nGroups);
  checkDivides(fn, 'nGroups', g, 'dim', d);
  checkFloat(fn, 'A', p.A, { d, n });
  checkOptionalFloat(fn, 'D', p.D, { d });
  checkOptionalFloat(fn, 'deltaBias', p.deltaBias, { d });
  checkBool(fn, 'deltaSoftplus', p.deltaSoftplus);
  return p;
}

/**
 * Advances one batch element's state (at `h[hOff ..]`, layout (d, n)) by one step. Reads u/delta at uOff/dOff
 * (layout (d)), B/C at bOff/cOff (layout (g, n)). When `y` is given, writes the gated output at `y[yOff ..]`;
 * `C` may then not be null. Shared by scan, step and verify so that they agree bit for bit.
 */
export function mamba1Advance(
  p: Mamba1Params,
  h: FloatArray,
  hOff: number,
  u: FloatArray,
  uOff: number,
  delta: FloatArray,
  dOff: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray | null,
  cOff: number,
  z: FloatArray | undefined,
  zOff: number,
  y: FloatArray | null,
  yOff: number,
): void {
  const { dim, dState: n, A, D, deltaBias, deltaSoftplus } = p;
  const perGroup = dim / p.nGroups;
  for (let d = 0; d < dim; d++) {
    const raw = delta[dOff + d] + (deltaBias ? deltaBias[d] : 0);
    const dt = deltaSoftplus ? softplus(raw) : raw;
    const x = u[uOff + d];
    const gOff = Math.floor(d / perGroup) * n;
    const hRow = hOff + d * n;
    const aRow = d * n;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      h[hRow + k] = Math.exp(dt * A[aRow + k]) * h[hRow + k] + dt * B[bOff + gOff + k] * x;
      // Read back the stored (possibly fp32-rounded) state, as the kernels do.
      if (y) acc += h[hRow + k] * (C as FloatArray)[cOff + gOff + k];
    }
    if (y) {
      let out = acc + (D ? D[d] * x : 0);
      if (z) out *= silu(z[zOff + d]);
      y[yOff + d] = out;
    }
  }
}

/**
 * Mamba-1 selective scan over a whole sequence (sequential oracle of `selective_scan_fn` with
 * `return_last_state=True`, in batch-first / time-major layout).
 *
 * @example
 * const { y, finalState } = mamba1Scan({
 *   batch: 1, seqLen: 3, dim: 2, dState: 2, nGroups: 1, deltaSoftplus: true,
 *   u: new Float32Array(6).fill(1), delta: new Float32Array(6), A: Float32Array.of(-1, -2, -1, -2),
 *   B: new Float32Array(6).fill(0.5), C: new Float32Array(6).fill(1), D: Float32Array.of(1, 1),
 * });
 * // y: (1, 3, 2), finalState: (1, 2, 2)
 */
export function mamba1Scan(input: Mamba1ScanInput): Mamba1ScanResult {
  const fn = 'mamba1Scan';
  const p = checkMamba1Params(fn, input);
  const b = checkDim(fn, 'batch', input.batch);
  const L = checkDim(fn, 'seqLen', input.seqLen, 0);
  const { dim: d, dState: n, nGroups: g } = p;
  const u = checkFloat(fn, 'u', input.u, { b, L, d });
  const delta = checkFloat(fn, 'delta', input.delta, { b, L, d });
  const B = checkFloat(fn, 'B', input.B, { b, L, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, L, g, n });
  const z = checkOptionalFloat(fn, 'z', input.z, { b, L, d });
  const h0 = checkOptionalFloat(fn, 'initialState', input.initialState, { b, d, n });

  const state = h0 ? copyLike(u, h0) : allocLike(u, b * d * n);
  const y = allocLike(u, b * L * d);
  for (let bi = 0; bi < b; bi++) {
    for (let t = 0; t < L; t++) {
      const row = (bi * L + t) * d;
      const grp = (bi * L + t) * g * n;
      mamba1Advance(p, state, bi * d * n, u, row, delta, row, B, grp, C, grp, z, row, y, row);
    }
  }
  return { y, finalState: state };
}

/**
 * One Mamba-1 decode step (oracle of `selective_state_update` for (b, d, n) states). Equals one step of
 * {@link mamba1Scan} exactly. Functional: the input state is not modified.
 *
 * @example
 * const { y, state } = mamba1Step({
 *   batch: 1, dim: 2, dState: 2, nGroups: 1, deltaSoftplus: true, A: Float32Array.of(-1, -2, -1, -2),
 *   state: new Float32Array(4), u: Float32Array.of(1, 2), delta: Float32Array.of(0, 0),
 *   B: Float32Array.of(1, 1), C: Float32Array.of(1, 1),
 * });
 */
export function mamba1Step(input: Mamba1StepInput): Mamba1StepResult {
  const fn = 'mamba1Step';
  const p = checkMamba1Params(fn, input);
  const b = checkDim(fn, 'batch', input.batch);
  const { dim: d, dState: n, nGroups: g } = p;
  const u = checkFloat(fn, 'u', input.u, { b, d });
  const delta = checkFloat(fn, 'delta', input.delta, { b, d });
  const B = checkFloat(fn, 'B', input.B, { b, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, g, n });
  const z = checkOptionalFloat(fn, 'z', input.z, { b, d });
  const state = copyLike(u, checkFloat(fn, 'state', input.state, { b, d, n }));
  const y = allocLike(u, b * d);
  for (let bi = 0; bi < b; bi++) {
    mamba1Advance(p, state, bi * d * n, u, bi * d, delta, bi * d, B, bi * g * n, C, bi * g * n, z, bi * d, y, bi * d);
  }
  return { y, state };
}
