/**
 * Mamba-2 training form: the chunked SSD algorithm in standard ONNX ops (differentiable by @mil/graph's autodiff).
 * Mirrors src/oracle/ssd-chunked.ts (and equals the sequential `mamba2Scan` up to rounding).
 *
 * Per batch element and head, with a_t = Δ_t·A (≤ 0), the (zero-padded) sequence is cut into chunks of Q steps:
 *   segsum[t][s] = Σ_{k=s+1..t} a_k, built "stably" as a masked cumsum (never a difference of two large sums);
 *   1. intra-chunk:  Y_diag = (exp(segsum) ⊙ mask ⊙ C Bᵀ) · (Δ x)                 (one batched matmul)
 *   2. chunk states: Z_c = Σ_s exp(segsum[Q−1][s]) Δ_s x_s ⊗ B_s                     (one batched matmul)
 *   3. inter-chunk:  [H_in(0..nc−1), H_final] = exp(segsum over chunk totals) · [H_0, Z_0..Z_{nc−1}]
 *                    (the same masked-cumsum trick one level up: an (nc+1)² matrix per head)
 *   4. state → out:  Y_off[t] = exp(Σ_{k≤t} a_k) · H_in C_t
 *   y = Y_diag + Y_off (+ D·x, ⊙ silu(z)).
 * Padding: Δ, Δx, B, C are zero-padded up to a multiple of Q. A padded step has Δ = 0, i.e. decay exp(0) = 1 and
 * no input, so it changes neither outputs nor the final state; the padded outputs are dropped.
 * Memory: the decay matrix is (b, L/Q, h, Q, Q) = b·L·h·Q values, the chunk-level one b·h·(L/Q + 1)².
 */
import {
  type Graph,
  type Tensor,
  add,
  concat,
  cumsum,
  exp,
  matmul,
  mul,
  reduceSum,
  reshape,
  slice,
  transpose,
  unsqueeze,
} from '@mil/graph';
import { checkFloatDtype, checkGraph, checkIntOption, checkTensor, lowerMask, padToMultiple, splitLast, takeFirst, zerosFrom } from './common';
import { ssmDeltaGraph } from './delta';
import { type Mamba2StateLayout, checkLayout, stateDims } from './state-layout';
import { skipAndGate } from './epilogue';
import {
  type Mamba2DeltaOptions,
  type Mamba2ScanGraphInput,
  type Mamba2ScanGraphResult,
  checkDeltaOptions,
  checkMamba2Params,
  checkMamba2Steps,
} from './inputs';

/** Options of {@link mamba2ScanGraph}. */
export interface Mamba2ScanGraphOptions extends Mamba2DeltaOptions {
  /** Chunk length Q ≥ 1 (upstream: 256). L need not be a multiple of it. */
  chunkSize: number;
  /**
   * Layout of `initialState` / `finalState` (default 'hpn' = (b, h, p, n)); 'hnp' matches the inference forms'
   * fast layout, so a chunked prefill can hand its state to a LinearAttention decode graph.
   */
  stateLayout?: Mamba2StateLayout;
}

/**
 * Mamba-2 scan over a whole sequence by chunked SSD, emitted into `g` (training / prefill; standard ops only,
 * so @mil/graph's `gradients` differentiates it). b and L may be symbolic.
 *
 * @example
 * const g = new Graph();
 * const x = g.input('x', 'float32', ['batch', 'seq', 8, 16]);
 * // … dt, B, C inputs; A, D, dtBias params …
 * const { y, finalState } = mamba2ScanGraph(g, { x, dt, A, B, C, D, dtBias }, { chunkSize: 64, dtSoftplus: true });
 */
export function mamba2ScanGraph(g: Graph, input: Mamba2ScanGraphInput, opts: Mamba2ScanGraphOptions): Mamba2ScanGraphResult {
  const fn = 'mamba2ScanGraph';
  const { h, p: P, n, g: G } = checkMamba2Steps(fn, g, input);
  checkMamba2Params(fn, g, input, input.x, h, P);
  const Q = checkIntOption(fn, 'chunkSize', opts.chunkSize, 1);
  checkDeltaOptions(fn, opts);
  const layout = checkLayout(fn, opts.stateLayout);
  const { x, dt, A, B, C, z, D, dtBias } = input;
  const batch = x.shape[0];
  if (input.initialState) {
    checkGraph(fn, g, { initialState: input.initialState });
    checkTensor(fn, 'initialState', input.initialState, stateDims(layout, batch, h, P, n));
    checkFloatDtype(fn, 'initialState', input.initialState, x);
  }
  // The algorithm works in (b, h, p, n); 'hnp' states are transposed at the boundary.
  const swap = (t: Tensor) => (layout === 'hnp' ? transpose(t, [0, 1, 3, 2]) : t);
  const initialState = input.initialState && swap(input.initialState);
  const hpg = h / G;

  const delta = ssmDeltaGraph(g, dt, dtBias, { softplus: opts.dtSoftplus, limit: opts.dtLimit }); // (b, L, h)
  const xdt = mul(x, unsqueeze(delta, [3])); // (b, L, h, P)
  const dC = reshape(padToMultiple(delta, 1, Q), [0, -1, Q, h]); // (b, nc, Q, h)
  const xC = reshape(padToMultiple(xdt, 1, Q), [0, -1, Q, h, P]); // (b, nc, Q, h, P)
  const Bt = transpose(reshape(padToMultiple(B, 1, Q), [0, -1, Q, G, n]), [0, 1, 3, 2, 4]); // (b, nc, G, Q, n)
  const Ct = transpose(reshape(padToMultiple(C, 1, Q), [0, -1, Q, G, n]), [0, 1, 3, 2, 4]); // (b, nc, G, Q, n)

  // Log-decays per (chunk, head, step) and the stable segment sums inside each chunk.
  const a = transpose(mul(dC, A), [0, 1, 3, 2]); // (b, nc, h, Q)
  const seg = cumsum(mul(unsqueeze(a, [4]), lowerMask(a, 3, 1)), 3); // seg[t][s] = Σ_{s<k≤t} a_k
  const decay = mul(exp(seg), lowerMask(a, 3, 0)); // (b, nc, h, Q, Q), zero above the diagonal

  // 1. intra-chunk: masked "attention" C_t·B_s with decay, applied to Δx.
  const cb = unsqueeze(matmul(Ct, transpose(Bt, [0, 1, 2, 4, 3])), [3]); // (b, nc, G, 1, Q, Q)
  const scores = reshape(mul(reshape(decay, [0, 0, G, hpg, Q, Q]), cb), [0, 0, h, Q, Q]);
  const xT = transpose(xC, [0, 1, 3, 2, 4]); // (b, nc, h, Q, P)
  const yDiag = matmul(scores, xT); // (b, nc, h, Q, P)

  // 2. chunk states from a zero entry state: Z = Σ_s exp(seg[Q−1][s]) Δ_s x_s ⊗ B_s.
  const toEnd = transpose(slice(decay, [Q - 1], [Q], [3]), [0, 1, 2, 4, 3]); // (b, nc, h, Q, 1)
  const xw = reshape(transpose(mul(xT, toEnd), [0, 1, 2, 4, 3]), [0, 0, G, hpg, P, Q]);
  const Z = reshape(matmul(xw, unsqueeze(Bt, [3])), [0, 0, h, P, n]); // (b, nc, h, P, n)

  // 3. inter-chunk state passing over [H_0, Z_0, …, Z_{nc−1}] with the chunks' total log-decays.
  const totals = transpose(reduceSum(a, [3], false), [0, 2, 1]); // (b, h, nc)
  const padded = concat([zerosFrom(g, x.dtype as 'float32' | 'float64', [[x, 0], h, 1]), totals], 2); // (b, h, nc+1)
  const seg2 = cumsum(mul(unsqueeze(padded, [3]), lowerMask(padded, 2, 1)), 2);
  const pass = mul(exp(seg2), lowerMask(padded, 2, 0)); // (b, h, nc+1, nc+1)
  const h0 = initialState ?? zerosFrom(g, x.dtype as 'float32' | 'float64', [[x, 0], h, P, n]);
  const states = reshape(transpose(concat([unsqueeze(h0, [1]), Z], 1), [0, 2, 1, 3, 4]), [0, 0, -1, P * n]); // (b, h, nc+1, P·n)
  const [entering, last] = splitLast(matmul(pass, states), 2); // (b, h, nc, P·n), (b, h, 1, P·n)
  const finalState = swap(reshape(last, [0, h, P, n]));

  // 4. entry state → outputs: exp(Σ_{k≤t} a_k) · H_in C_t.
  const hin = reshape(transpose(reshape(entering, [0, 0, -1, P, n]), [0, 2, 1, 4, 3]), [0, 0, G, hpg, n, P]); // (b, nc, G, hpg, n, P)
  const yOffRaw = reshape(matmul(unsqueeze(Ct, [3]), hin), [0, 0, h, Q, P]);
  const yOff = mul(yOffRaw, unsqueeze(exp(cumsum(a, 3)), [4]));

  const yPadded = reshape(transpose(add(yDiag, yOff), [0, 1, 3, 2, 4]), [0, -1, h, P]); // (b, Lp, h, P)
  const y = takeFirst(yPadded, 1, x, 1);
  return { y: skipAndGate(y, x, D, z, true), finalState };
}
