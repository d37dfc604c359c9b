// Oracle for com.microsoft.CausalConvWithState (ndim = 1) as onnxruntime 1.29's CPU kernel computes it.

import { check, checkLength, silu, type FloatArray } from './types';

export interface CausalConvWithStateArgs {
  batchSize: number;
  channels: number;
  /** L, new positions this call. */
  length: number;
  /** k, taps per channel. */
  kernelSize: number;
  /** (B, C, L), channels-first. */
  input: FloatArray;
  /** (C, 1, k) depthwise; tap k−1 multiplies the current position. */
  weight: FloatArray;
  /** (C), optional. */
  bias?: FloatArray;
  /** (B, C, k−1): the k−1 inputs before this call, oldest first; zeros when omitted. */
  pastState?: FloatArray;
  /** ORT attribute: 'none' (default), 'silu' or 'swish' (same thing). */
  activation?: 'none' | 'silu' | 'swish';
}

export interface CausalConvWithStateResult {
  /** (B, C, L): act(bias + Σ_j w[j] · x̃[t + j]) over x̃ = [pastState | input]. */
  output: Float64Array;
  /** (B, C, k−1): the last k−1 entries of [pastState | input] (so it includes old state when L < k−1). */
  presentState: Float64Array;
}

/**
 * Depthwise causal conv1d with carried state: out[b,c,t] = act(bias[c] + Σ_{j<k} w[c,j] · x̃[b,c,t+j]),
 * x̃ = concat(pastState, input) along time. Same math as causal-conv1d's `causal_conv1d_update`
 * (non-circular) / `causal_conv1d_fn` with initial_states.
 *
 * @example
 * const { output, presentState } = causalConvWithState({ batchSize: 1, channels: 8, length: 5, kernelSize: 4,
 *   input: x, weight: w, bias, activation: 'silu' });
 */
export function causalConvWithState(a: CausalConvWithStateArgs): CausalConvWithStateResult {
  const op = 'CausalConvWithState';
  const { batchSize: B, channels: C, length: L, kernelSize: K } = a;
  check(K >= 1, op, `kernelSize must be >= 1, got ${K}`);
  const act = a.activation ?? 'none';
  check(act === 'none' || act === 'silu' || act === 'swish', op, `activation must be 'none', 'silu' or 'swish', got '${act}'`);
  checkLength(a.input, B * C * L, op, 'input', `[${B}, ${C}, ${L}]`);
  checkLength(a.weight, C * K, op, 'weight', `[${C}, 1, ${K}]`);
  if (a.bias) checkLength(a.bias, C, op, 'bias', `[${C}]`);
  const pad = K - 1;
  if (a.pastState) checkLength(a.pastState, B * C * pad, op, 'pastState', `[${B}, ${C}, ${pad}]`);
  const output = new Float64Array(B * C * L);
  const presentState = new Float64Array(B * C * pad);
  const window = new Float64Array(pad + L);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const bc = b * C + c;
      for (let i = 0; i < pad; i++) window[i] = a.pastState ? a.pastState[bc * pad + i] : 0;
      for (let t = 0; t < L; t++) window[pad + t] = a.input[bc * L + t];
      for (let t = 0; t < L; t++) {
        let sum = a.bias ? a.bias[c] : 0;
        for (let j = 0; j < K; j++) sum += a.weight[c * K + j] * window[t + j];
        output[bc * L + t] = act === 'none' ? sum : silu(sum);
      }
      for (let i = 0; i < pad; i++) presentState[bc * pad + i] = window[L + i];
    }
  }
  return { output, presentState };
}
