/**
 * Mamba-2 (SSD) recurrence and its single-step (decode) update: the sequential oracle.
 *
 * LAYOUTS (row-major, batch-first, sequence-second; the same as `mamba_chunk_scan_combined`):
 *   x, z        (b, L, h, p)     p = headdim
 *   dt          (b, L, h)        raw dt, before dtBias / softplus / clamp
 *   A           (h)              scalar decay per head (A = -exp(A_log), negative)
 *   B, C        (b, L, g, n)     head hh reads group ⌊hh / (h / g)⌋
 *   D           (h) or (h, p)    (`D_has_hdim` false / true; told apart by length)
 *   dtBias      (h)
 *   state       (b, h, p, n)     (the same memory as Mamba-1's (b, d = h·p, n))
 *   single step: x, z (b, h, p); dt (b, h); B, C (b, g, n); y (b, h, p)
 *
 * Math per batch element, head hh, step t:
 *   Δ = softplus(dt + dtBias)   (softplus only if dtSoftplus; identity above 20)
 *   Δ = clamp(Δ, dtLimit[0], dtLimit[1])   (only when dtLimit is given and is not [0, ∞), as the kernel does)
 *   H = exp(Δ · A[hh]) · H + Δ · x ⊗ B[g(hh)]        (H is p × n)
 *   y = H · C[g(hh)] + D · x;   y *= silu(z) if z is given
 * Precision: `x` is the primary input (see common.ts): float64 mode, or float32 mode with an fp32 state.
 * The gated RMSNorm of the Mamba-2 mixer is separate: see gated-rms-norm.ts (pass no `z` here then).
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
import { SsmKernelError } from '../errors';

/** Parameters shared by every Mamba-2 step (scan, chunked SSD, single step, multi-step verify). */
export interface Mamba2Params {
  /** Heads h. */
  nHeads: number;
  /** Head dimension p. */
  headDim: number;
  /** State size n per head row. */
  dState: number;
  /** Number of B / C groups g; must divide `nHeads`. */
  nGroups: number;
  /** (h) scalar decay per head. */
  A: FloatArray;
  /** (h) or (h, p) skip weight; omitted = no skip. */
  D?: FloatArray;
  /** (h) added to dt before softplus; omitted = 0. */
  dtBias?: FloatArray;
  /** Apply softplus (threshold 20) to dt + dtBias. Required: upstream defaults to false, the mixers pass true. */
  dtSoftplus: boolean;
  /** [min, max] clamp applied to Δ after softplus; omitted or [0, ∞) = no clamp. */
  dtLimit?: readonly [number, number];
}

/** Input of {@link mamba2Scan} (and, with `chunkSize`, of `ssdChunked`). */
export interface Mamba2ScanInput extends Mamba2Params {
  batch: number;
  /** Sequence length L (0 allowed). */
  seqLen: number;
  /** (b, L, h, p) primary input: decides the precision. */
  x: FloatArray;
  /** (b, L, h) raw dt. */
  dt: FloatArray;
  /** (b, L, g, n) */
  B: FloatArray;
  /** (b, L, g, n) */
  C: FloatArray;
  /** (b, L, h, p) gate; omitted = no gate. */
  z?: FloatArray;
  /** (b, h, p, n) state before step 0; omitted = zeros. */
  initialState?: FloatArray;
}

/** Output of {@link mamba2Scan}. */
export interface Mamba2ScanResult {
  /** (b, L, h, p) */
  y: FloatArray;
  /** (b, h, p, n) */
  finalState: FloatArray;
}

/** Input of {@link mamba2Step}. */
export interface Mamba2StepInput extends Mamba2Params {
  batch: number;
  /** (b, h, p, n) state before the step; not modified. */
  state: FloatArray;
  /** (b, h, p) primary input. */
  x: FloatArray;
  /** (b, h) raw dt. */
  dt: FloatArray;
  /** (b, g, n) */
  B: FloatArray;
  /** (b, g, n) */
  C: FloatArray;
  /** (b, h, p) gate; omitted = no gate. */
  z?: FloatArray;
}

/** Output of {@link mamba2Step}. */
export interface Mamba2StepResult {
  /** (b, h, p) */
  y: FloatArray;
  /** (b, h, p, n) new state (a fresh array). */
  state: FloatArray;
}

/** Validates the shared parameters; returns them unchanged. */
export function checkMamba2Params(fn: string, p: Mamba2Params): Mamba2Params {
  const h = checkDim(fn, 'nHeads', p.nHeads);
  const hp = checkDim(fn, 'headDim', p.headDim);
  checkDim(fn, 'dState', p.dState);
  const g = checkDim(fn, 'nGroups', p.nGroups);
  checkDivides(fn, 'nGroups', g, 'nHeads', h);
  checkFloat(fn, 'A', p.A, { h });
  if (p.D !== undefined && p.D.length !== h) checkFloat(fn, 'D', p.D, { h, p: hp });
  else checkOptionalFloat(fn, 'D', p.D, { h });
  checkOptionalFloat(fn, 'dtBias', p.dtBias, { h });
  checkBool(fn, 'dtSoftplus', p.dtSoftplus);
  if (p.dtLimit !== undefined) {
    const [lo, hi] = p.dtLimit;
    if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
      throw new SsmKernelError(
        'BAD_OPTION',
        `${fn}: option 'dtLimit' must be [min, max] with min <= max, got ${JSON.stringify(p.dtLimit)}`,
      );
    }
  }
  return p;
}

/** Δ for head `hh` from a raw dt value: bias, softplus, clamp — the kernels' order. */
export function mamba2Delta(p: Mamba2Params, hh: number, rawDt: number): number {
  const raw = rawDt + (p.dtBias ? p.dtBias[hh] : 0);
  let dt = p.dtSoftplus ? softplus(raw) : raw;
  const lim = p.dtLimit;
  if (lim && !(lim[0] === 0 && lim[1] === Infinity)) dt = Math.min(Math.max(dt, lim[0]), lim[1]);
  return dt;
}

/** D for (head hh, row i): per head or per (head, row). */
export function mamba2Skip(p: Mamba2Params, hh: number, i: number): number {
  if (!p.D) return 0;
  return p.D.length === p.nHeads ? p.D[hh] : p.D[hh * p.headDim + i];
}

/**
 * Advances one batch element's state (at `s[sOff ..]`, layout (h, p, n)) by one step. x/z at xOff/zOff (layout
 * (h, p)), dt at dtOff (layout (h)), B/C at bOff/cOff (layout (g, n)). Writes the gated output at `y[yOff ..]` when
 * `y` is given (then `C` must not be null). Shared by scan, step and verify so that they agree bit for bit.
 */
export function mamba2Advance(
  p: Mamba2Params,
  s: FloatArray,
  sOff: number,
  x: FloatArray,
  xOff: number,
  dt: FloatArray,
  dtOff: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray | null,
  cOff: number,
  z: FloatArray | undefined,
  zOff: number,
  y: FloatArray | null,
  yOff: number,
): void {
  const { nHeads: h, headDim: P, dState: n, A } = p;
  const perGroup = h / p.nGroups;
  for (let hh = 0; hh < h; hh++) {
    const delta = mamba2Delta(p, hh, dt[dtOff + hh]);
    const decay = Math.exp(delta * A[hh]);
    const gOff = Math.floor(hh / perGroup) * n;
    for (let i = 0; i < P; i++) {
      const xv = x[xOff + hh * P + i];
      const row = sOff + (hh * P + i) * n;
      let acc = 0;
      for (let k = 0; k < n; k++) {
        s[row + k] = decay * s[row + k] + delta * B[bOff + gOff + k] * xv;
        // Read back the stored (possibly fp32-rounded) state, as the kernels do.
        if (y) acc += s[row + k] * (C as FloatArray)[cOff + gOff + k];
      }
      if (y) {
        let out = acc + mamba2Skip(p, hh, i) * xv;
        if (z) out *= silu(z[zOff + hh * P + i]);
        y[yOff + hh * P + i] = out;
      }
    }
  }
}

/**
 * Mamba-2 recurrence over a whole sequence, step by step (sequential oracle of `mamba_chunk_scan_combined` with
 * `return_final_states=True`).
 *
 * @example
 * const { y, finalState } = mamba2Scan({
 *   batch: 1, seqLen: 4, nHeads: 2, headDim: 3, dState: 2, nGroups: 1, dtSoftplus: true,
 *   x: new Float32Array(24).fill(1), dt: new Float32Array(8), A: Float32Array.of(-1, -4),
 *   B: new Float32Array(8).fill(1), C: new Float32Array(8).fill(1),
 * });
 * // y: (1, 4, 2, 3), finalState: (1, 2, 3, 2)
 */
export function mamba2Scan(input: Mamba2ScanInput): Mamba2ScanResult {
  const fn = 'mamba2Scan';
  const { b, L, x, dt, B, C, z, state } = checkMamba2ScanInput(fn, input);
  const { nHeads: h, headDim: P, dState: n, nGroups: g } = input;
  const y = allocLike(x, b * L * h * P);
  for (let bi = 0; bi < b; bi++) {
    for (let t = 0; t < L; t++) {
      const bt = bi * L + t;
      mamba2Advance(input, state, bi * h * P * n, x, bt * h * P, dt, bt * h, B, bt * g * n, C, bt * g * n, z, bt * h * P, y, bt * h * P);
    }
  }
  return { y, finalState: state };
}

/** Validates a {@link Mamba2ScanInput}; returns the tensors and a fresh state initialised from `initialState`. */
export function checkMamba2ScanInput(
  fn: string,
  input: Mamba2ScanInput,
): { b: number; L: number; x: FloatArray; dt: FloatArray; B: FloatArray; C: FloatArray; z?: FloatArray; state: FloatArray } {
  checkMamba2Params(fn, input);
  const b = checkDim(fn, 'batch', input.batch);
  const L = checkDim(fn, 'seqLen', input.seqLen, 0);
  const { nHeads: h, headDim: p, dState: n, nGroups: g } = input;
  const x = checkFloat(fn, 'x', input.x, { b, L, h, p });
  const dt = checkFloat(fn, 'dt', input.dt, { b, L, h });
  const B = checkFloat(fn, 'B', input.B, { b, L, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, L, g, n });
  const z = checkOptionalFloat(fn, 'z', input.z, { b, L, h, p });
  const h0 = checkOptionalFloat(fn, 'initialState', input.initialState, { b, h, p, n });
  const state = h0 ? copyLike(x, h0) : allocLike(x, b * h * p * n);
  return { b, L, x, dt, B, C, z, state };
}

/**
 * One Mamba-2 decode step (oracle of `selective_state_update` with a (b, h, p, n) state and scalar A per head).
 * Equals one step of {@link mamba2Scan} exactly. Functional: the input state is not modified.
 *
 * @example
 * const { y, state } = mamba2Step({
 *   batch: 1, nHeads: 1, headDim: 2, dState: 2, nGroups: 1, dtSoftplus: true, A: Float32Array.of(-1),
 *   state: new Float32Array(4), x: Float32Array.of(1, 2), dt: Float32Array.of(0),
 *   B: Float32Array.of(1, 1), C: Float32Array.of(1, 1),
 * });
 */
export function mamba2Step(input: Mamba2StepInput): Mamba2StepResult {
  const fn = 'mamba2Step';
  checkMamba2Params(fn, input);
  const b = checkDim(fn, 'batch', input.batch);
  const { nHeads: h, headDim: p, dState: n, nGroups: g } = input;
  const x = checkFloat(fn, 'x', input.x, { b, h, p });
  const dt = checkFloat(fn, 'dt', input.dt, { b, h });
  const B = checkFloat(fn, 'B', input.B, { b, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, g, n });
  const z = checkOptionalFloat(fn, 'z', input.z, { b, h, p });
  const state = copyLike(x, checkFloat(fn, 'state', input.state, { b, h, p, n }));
  const y = allocLike(x, b * h * p);
  for (let bi = 0; bi < b; bi++) {
    mamba2Advance(input, state, bi * h * p * n, x, bi * h * p, dt, bi * h, B, bi * g * n, C, bi * g * n, z, bi * h * p, y, bi * h * p);
  }
  return { y, state };
}
