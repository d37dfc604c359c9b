/**
 * Depthwise causal conv1d (oracles of the `causal-conv1d` package: `causal_conv1d_fn`, `causal_conv1d_update`,
 * and `causal_conv1d_update` with `cache_seqlens`, the circular buffer used for speculative-decoding rollback).
 *
 * LAYOUTS (row-major):
 *   x, y        (b, L, d)          NOTE: time-major within a batch element, unlike the CUDA (b, d, L)
 *   weight      (d, w)             depthwise kernel (the checkpoint's (d, 1, w) is the same memory)
 *   bias        (d)
 *   state       (b, d, S)          raw PRE-conv inputs, oldest first; S = w − 1 for the full / rolling forms,
 *                                  S = stateLen ≥ w − 1 for the rolling form, any S ≥ w − 1 for the ring
 *   cacheSeqlens (b)               integer write counters of the ring
 * Math: y[t, d] = act(bias[d] + Σ_{k=0..w−1} weight[d, k] · x[t − w + 1 + k, d]), act = SiLU or identity,
 * with x at negative times taken from the state (or zeros).
 * Precision: `x` is the primary input; arithmetic in float64, outputs and states stored in x's precision.
 */
import { silu } from './activations';
import {
  type FloatArray,
  type IndexArray,
  allocLike,
  checkDim,
  checkFloat,
  checkIndexArray,
  checkOptionalFloat,
  copyLike,
} from './common';
import { SsmKernelError } from '../errors';

/** Activation after the conv: the Mamba mixers use 'silu'. */
export type ConvActivation = 'silu' | 'none';

/** Fields shared by the three conv forms. */
export interface CausalConv1dParams {
  batch: number;
  /** Channels d. */
  dim: number;
  /** Kernel width w (Mamba: 4). */
  width: number;
  /** (d, w) */
  weight: FloatArray;
  /** (d); omitted = no bias. */
  bias?: FloatArray;
  /** Required (no default): the upstream default is none, the mixers use silu. */
  activation: ConvActivation;
}

/** Input of {@link causalConv1d}. */
export interface CausalConv1dInput extends CausalConv1dParams {
  /** L ≥ 0 */
  seqLen: number;
  /** (b, L, d) primary input. */
  x: FloatArray;
  /** (b, d, w − 1): the w − 1 inputs before step 0, oldest first; omitted = zeros (left zero padding). */
  initialState?: FloatArray;
}

/** Output of {@link causalConv1d}. */
export interface CausalConv1dResult {
  /** (b, L, d) */
  y: FloatArray;
  /** (b, d, w − 1): the last w − 1 pre-conv inputs (reaching into initialState when L < w − 1). */
  finalState: FloatArray;
}

/** Input of {@link causalConv1dUpdate}. */
export interface CausalConv1dUpdateInput extends CausalConv1dParams {
  /** New steps L_new ≥ 1 (decode: 1, verify: K + 1). */
  seqLen: number;
  /** State length S ≥ w − 1 (usually w − 1). */
  stateLen: number;
  /** (b, L_new, d) primary input. */
  x: FloatArray;
  /** (b, d, S) previous pre-conv inputs, oldest first; not modified. */
  state: FloatArray;
}

/** Input of {@link causalConv1dRing}. */
export interface CausalConv1dRingInput extends CausalConv1dUpdateInput {
  /**
   * (b) write counters: step t of batch element i is written at slot (cacheSeqlens[i] + t) mod S, and the w − 1
   * slots before cacheSeqlens[i] mod S are the history. Not advanced here: the caller sets it to
   * old + (accepted tokens + 1) after verification (rollback = setting the counter back).
   */
  cacheSeqlens: IndexArray;
}

/** Output of {@link causalConv1dUpdate} and {@link causalConv1dRing}. */
export interface CausalConv1dUpdateResult {
  /** (b, L_new, d) */
  y: FloatArray;
  /** (b, d, S) new state (a fresh array). */
  state: FloatArray;
}

function checkParams(fn: string, p: CausalConv1dParams): { b: number; d: number; w: number } {
  const b = checkDim(fn, 'batch', p.batch);
  const d = checkDim(fn, 'dim', p.dim);
  const w = checkDim(fn, 'width', p.width);
  checkFloat(fn, 'weight', p.weight, { d, w });
  checkOptionalFloat(fn, 'bias', p.bias, { d });
  if (p.activation !== 'silu' && p.activation !== 'none') {
    throw new SsmKernelError(
      'BAD_OPTION',
      `${fn}: option 'activation' must be 'silu' or 'none', got ${String(p.activation)}`,
    );
  }
  return { b, d, w };
}

/** One output value from a window `win[0 .. w−1]` (oldest first) of channel `c`. */
function convAt(p: CausalConv1dParams, c: number, win: Float64Array): number {
  const w = p.width;
  let acc = p.bias ? p.bias[c] : 0;
  for (let k = 0; k < w; k++) acc += p.weight[c * w + k] * win[k];
  return p.activation === 'silu' ? silu(acc) : acc;
}

/**
 * Causal conv over a whole sequence, from zeros or a given state, also returning the final state
 * (oracle of `causal_conv1d_fn(..., initial_states, return_final_states=True)`).
 *
 * @example
 * const { y, finalState } = causalConv1d({
 *   batch: 1, seqLen: 3, dim: 1, width: 2, activation: 'none',
 *   x: Float32Array.of(1, 2, 3), weight: Float32Array.of(0.5, 1),
 * }); // y = [1, 2.5, 4], finalState = [3]
 */
export function causalConv1d(input: CausalConv1dInput): CausalConv1dResult {
  const fn = 'causalConv1d';
  const { b, d, w } = checkParams(fn, input);
  const L = checkDim(fn, 'seqLen', input.seqLen, 0);
  const x = checkFloat(fn, 'x', input.x, { b, L, d });
  const init = checkOptionalFloat(fn, 'initialState', input.initialState, { b, d, 'w-1': w - 1 });
  const y = allocLike(x, b * L * d);
  const finalState = allocLike(x, b * d * (w - 1));
  // Value of channel c at time j (negative j reaches into the initial state).
  const at = (bi: number, c: number, j: number): number =>
    j >= 0 ? x[(bi * L + j) * d + c] : init ? init[(bi * d + c) * (w - 1) + (w - 1 + j)] : 0;
  const win = new Float64Array(w);
  for (let bi = 0; bi < b; bi++) {
    for (let c = 0; c < d; c++) {
      for (let t = 0; t < L; t++) {
        for (let k = 0; k < w; k++) win[k] = at(bi, c, t - w + 1 + k);
        y[(bi * L + t) * d + c] = convAt(input, c, win);
      }
      for (let j = 0; j < w - 1; j++) finalState[(bi * d + c) * (w - 1) + j] = at(bi, c, L - (w - 1) + j);
    }
  }
  return { y, finalState };
}

/**
 * Rolling-state conv for decode / verify: concat(state, x) along time, convolve the new steps, keep the last S
 * values as the new state (oracle of `causal_conv1d_update` without `cache_seqlens`).
 *
 * @example
 * const { y, state } = causalConv1dUpdate({
 *   batch: 1, seqLen: 1, dim: 1, width: 2, stateLen: 1, activation: 'none',
 *   x: Float32Array.of(3), state: Float32Array.of(2), weight: Float32Array.of(0.5, 1),
 * }); // y = [4], state = [3]
 */
export function causalConv1dUpdate(input: CausalConv1dUpdateInput): CausalConv1dUpdateResult {
  const fn = 'causalConv1dUpdate';
  const { b, d, w } = checkParams(fn, input);
  const { L, S, x, state } = checkUpdateInput(fn, input, b, d, w);
  const y = allocLike(x, b * L * d);
  const next = allocLike(x, b * d * S);
  // Element m of concat(state, x) for batch bi, channel c.
  const at = (bi: number, c: number, m: number): number =>
    m < S ? state[(bi * d + c) * S + m] : x[(bi * L + (m - S)) * d + c];
  const win = new Float64Array(w);
  for (let bi = 0; bi < b; bi++) {
    for (let c = 0; c < d; c++) {
      for (let t = 0; t < L; t++) {
        for (let k = 0; k < w; k++) win[k] = at(bi, c, S + t - w + 1 + k);
        y[(bi * L + t) * d + c] = convAt(input, c, win);
      }
      for (let j = 0; j < S; j++) next[(bi * d + c) * S + j] = at(bi, c, L + j);
    }
  }
  return { y, state: next };
}

/**
 * Circular-buffer conv for speculative decoding (oracle of `causal_conv1d_update(..., cache_seqlens)`): reads the
 * w − 1 slots before `cacheSeqlens mod S` as history, then writes the new raw inputs from there on (wrapping).
 * Rollback after verification is only a counter change: rejected inputs stay in the ring and are overwritten
 * next time. With S = w − 1 + K and K + 1 inputs per call, the history of every accepted prefix survives.
 *
 * @example
 * const { y, state } = causalConv1dRing({
 *   batch: 1, seqLen: 2, dim: 1, width: 2, stateLen: 3, activation: 'none', cacheSeqlens: [1],
 *   x: Float32Array.of(5, 6), state: Float32Array.of(7, 8, 9), weight: Float32Array.of(0.5, 1),
 * }); // history slot 0 (7): y = [0.5·7 + 5, 0.5·5 + 6]; state = [7, 5, 6]
 */
export function causalConv1dRing(input: CausalConv1dRingInput): CausalConv1dUpdateResult {
  const fn = 'causalConv1dRing';
  const { b, d, w } = checkParams(fn, input);
  const { L, S, x, state } = checkUpdateInput(fn, input, b, d, w);
  if (L > S) {
    throw new SsmKernelError(
      'BAD_OPTION',
      `${fn}: option 'seqLen' (${L}) must not exceed 'stateLen' (${S}): the ring would overwrite its own new inputs`,
    );
  }
  const counters = checkIndexArray(fn, 'cacheSeqlens', input.cacheSeqlens, b);
  const mod = (v: number): number => ((v % S) + S) % S;
  const y = allocLike(x, b * L * d);
  const next = copyLike(x, state);
  const seq = new Float64Array(w - 1 + L); // history (w − 1) then the new inputs
  const win = new Float64Array(w);
  for (let bi = 0; bi < b; bi++) {
    const c0 = counters[bi];
    for (let c = 0; c < d; c++) {
      const row = (bi * d + c) * S;
      // Read the whole history before writing anything (the reference gathers, then scatters).
      for (let j = 0; j < w - 1; j++) seq[j] = state[row + mod(c0 - (w - 1) + j)];
      for (let t = 0; t < L; t++) seq[w - 1 + t] = x[(bi * L + t) * d + c];
      for (let t = 0; t < L; t++) {
        for (let k = 0; k < w; k++) win[k] = seq[t + k];
        y[(bi * L + t) * d + c] = convAt(input, c, win);
        next[row + mod(c0 + t)] = x[(bi * L + t) * d + c];
      }
    }
  }
  return { y, state: next };
}

function checkUpdateInput(
  fn: string,
  input: CausalConv1dUpdateInput,
  b: number,
  d: number,
  w: number,
): { L: number; S: number; x: FloatArray; state: FloatArray } {
  const L = checkDim(fn, 'seqLen', input.seqLen);
  const S = checkDim(fn, 'stateLen', input.stateLen, 0);
  if (S < w - 1) {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'stateLen' (${S}) must be >= width - 1 (${w - 1})`);
  }
  const x = checkFloat(fn, 'x', input.x, { b, L, d });
  const state = checkFloat(fn, 'state', input.state, { b, d, S });
  return { L, S, x, state };
}
