/**
 * Mamba-1 training form in standard ONNX ops (differentiable): a chunked scan with per-(channel, state) decay.
 *
 * Why not the SSD masked-matmul form: Mamba-1's decay exp(Δ_t[d]·A[d, n]) differs per (d, n), so the intra-chunk
 * decay matrix would be (d, n, Q, Q) per chunk — Q× more values than the states themselves — and no matmul is
 * left to exploit. Instead, with the sequence cut into chunks of Q steps (zero-padded; Δ = 0 steps are exact
 * no-ops):
 *   1. inside each chunk, from a zero entry state, the Q steps run sequentially (unrolled in the graph), all
 *      chunks, channels and states at once: h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t u_t B_t;
 *   2. across chunks, entry states come from one masked-cumsum "segsum" over the chunks' total Δ (stable: sums
 *      of non-negative Δ, never differences), per (d, n): H_in = exp(A ⊗ segsum) · [H_0, Z_0, …];
 *   3. the true state at step t is h_t + exp(A · Σ_{k≤t} Δ_k) ⊙ H_in (A is time-invariant, so the entry
 *      state's decay to step t needs only the in-chunk cumsum of Δ), and y_t = Σ_n C_t ⊙ state (+ D u, ⊙ silu(z)).
 * Cost: O(d·n) values per token plus b·d·n·(L/Q + 1)² for the chunk-level matrix, graph depth O(Q): choose
 * Q ≈ √L (e.g. 32–64 for L = 2048).
 */
import {
  type Graph,
  add,
  concat,
  cumsum,
  exp,
  mul,
  reduceSum,
  reshape,
  split,
  squeeze,
  transpose,
  unsqueeze,
} from '@mil/graph';
import { checkFloatDtype, checkGraph, checkIntOption, checkTensor, lowerMask, padToMultiple, splitLast, takeFirst, zerosFrom } from './common';
import { ssmDeltaGraph } from './delta';
import { skipAndGate } from './epilogue';
import {
  type Mamba1DeltaOptions,
  type Mamba1ScanGraphInput,
  type Mamba1ScanGraphResult,
  checkDeltaSoftplus,
  checkMamba1Params,
  checkMamba1Steps,
} from './inputs';

/** Options of {@link mamba1ScanGraph}. */
export interface Mamba1ScanGraphOptions extends Mamba1DeltaOptions {
  /** Chunk length Q ≥ 1 (steps unrolled per chunk). L need not be a multiple of it. */
  chunkSize: number;
}

/**
 * Mamba-1 selective scan over a whole sequence, emitted into `g` (training / prefill; standard ops only).
 * b and L may be symbolic.
 *
 * @example
 * const { y, finalState } = mamba1ScanGraph(g, { u, delta, A, B, C, D, deltaBias, z }, { chunkSize: 32, deltaSoftplus: true });
 */
export function mamba1ScanGraph(g: Graph, input: Mamba1ScanGraphInput, opts: Mamba1ScanGraphOptions): Mamba1ScanGraphResult {
  const fn = 'mamba1ScanGraph';
  const { d, n, g: G } = checkMamba1Steps(fn, g, input);
  checkMamba1Params(fn, g, input, input.u, d, n);
  const Q = checkIntOption(fn, 'chunkSize', opts.chunkSize, 1);
  checkDeltaSoftplus(fn, opts);
  const { u, A, B, C, z, D, deltaBias, initialState } = input;
  const dtype = u.dtype as 'float32' | 'float64';
  if (initialState) {
    checkGraph(fn, g, { initialState });
    checkTensor(fn, 'initialState', initialState, [u.shape[0], d, n]);
    checkFloatDtype(fn, 'initialState', initialState, u);
  }
  const dpg = d / G;

  const delta = ssmDeltaGraph(g, input.delta, deltaBias, { softplus: opts.deltaSoftplus }); // (b, L, d)
  const dC = reshape(padToMultiple(delta, 1, Q), [0, -1, Q, d]); // (b, nc, Q, d)
  const du = reshape(padToMultiple(mul(delta, u), 1, Q), [0, -1, Q, G, dpg, 1]);
  const B6 = reshape(padToMultiple(B, 1, Q), [0, -1, Q, G, 1, n]);
  const C6 = reshape(padToMultiple(C, 1, Q), [0, -1, Q, G, 1, n]);
  const inputs = reshape(mul(du, B6), [0, 0, Q, d, n]); // (b, nc, Q, d, n): Δ u B
  const decays = exp(mul(unsqueeze(dC, [4]), A)); // (b, nc, Q, d, n): exp(Δ A)

  // 1. sequential inside each chunk from a zero state, every chunk at once.
  const ones = new Array<number>(Q).fill(1);
  const decayAt = Q === 1 ? [decays] : split(decays, ones, 2);
  const inputAt = Q === 1 ? [inputs] : split(inputs, ones, 2);
  let hcur = inputAt[0];
  const hs = [hcur];
  for (let t = 1; t < Q; t++) {
    hcur = add(mul(decayAt[t], hcur), inputAt[t]);
    hs.push(hcur);
  }
  const local = Q === 1 ? hs[0] : concat(hs, 2); // (b, nc, Q, d, n)
  const Z = squeeze(hcur, [2]); // (b, nc, d, n)

  // 2. entry states: per (d, n) segsum over the chunks' total Δ, padded with a leading 0 for H_0.
  const totals = transpose(reduceSum(dC, [2], false), [0, 2, 1]); // (b, d, nc)
  const padded = concat([zerosFrom(g, dtype, [[u, 0], d, 1]), totals], 2); // (b, d, nc+1)
  const seg2 = cumsum(mul(unsqueeze(padded, [3]), lowerMask(padded, 2, 1)), 2); // (b, d, nc+1, nc+1)
  const pass = mul(exp(mul(unsqueeze(seg2, [2]), reshape(A, [d, n, 1, 1]))), lowerMask(padded, 2, 0)); // (b, d, n, Z, C')
  const h0 = initialState ?? zerosFrom(g, dtype, [[u, 0], d, n]);
  const states = unsqueeze(transpose(concat([unsqueeze(h0, [1]), Z], 1), [0, 2, 3, 1]), [3]); // (b, d, n, 1, nc+1)
  const [entering, last] = splitLast(reduceSum(mul(pass, states), [4], false), 3); // (b, d, n, nc), (b, d, n, 1)
  const finalState = reshape(last, [0, d, n]);

  // 3. true states = local + exp(A · in-chunk cumsum Δ) ⊙ H_in; outputs y_t = Σ_n C_t ⊙ state.
  const hin = unsqueeze(transpose(entering, [0, 3, 1, 2]), [2]); // (b, nc, 1, d, n)
  const fromEntry = exp(mul(unsqueeze(cumsum(dC, 2), [4]), A)); // (b, nc, Q, d, n)
  const full = add(local, mul(fromEntry, hin));
  const yC = reduceSum(mul(reshape(full, [0, 0, Q, G, dpg, n]), C6), [5], false); // (b, nc, Q, G, dpg)
  const y = takeFirst(reshape(yC, [0, -1, d]), 1, u, 1);
  return { y: skipAndGate(y, u, D, z, false), finalState };
}
