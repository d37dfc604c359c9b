/**
 * The Mamba recurrences as `com.microsoft.LinearAttention` (update rule 'gated': S ← exp(g) ⊙ S + k vᵀ,
 * o = scale · qᵀ S, state S (d_k × d_v) per KV head). Both map exactly (tests: graph-inference.test.ts):
 *
 * Mamba-2 (H ∈ R^{p×n} per head): S = Hᵀ (d_k = n, d_v = p), k = B, v = Δ·x, q = C, g = Δ·A per head, scale 1;
 *   KV heads = h, key heads = query heads = g groups (head hh reads group ⌊hh·g/h⌋ — ORT's "inverse GQA" when
 *   g < h, the Mamba-2 group map). ORT's state layout is (b, h, n, p), the transpose of Mamba's (b, h, p, n).
 * Mamba-1 (h[d, :] ∈ R^n per channel): one KV head per channel with d_k = n, d_v = 1, k = B, v = Δ·u, q = C,
 *   per-key-dim decay g[d, :] = Δ_d·A[d, :]; key / query heads = groups. State (b, d, n, 1) = (b, d, n) memory.
 * D·x and the silu(z) gate are applied after the op in standard ops (see epilogue.ts).
 *
 * Per-step tensors come either as sequences (x (b, T, h, p) …) or, for the decode step, without the T axis
 * (x (b, h, p) …); the step path is written separately so that a decode graph has as few nodes as possible
 * (each ORT node costs microseconds, a fair share of a ~0.5 ms step).
 */
import { type Graph, type Tensor, linearAttention, mul, reshape, unsqueeze } from '@mil/graph';
import { ssmDeltaInference } from './delta';
import type { Mamba1Dims, Mamba2Dims } from './inputs';

/** Mamba-2 per-step tensors of one LinearAttention call (with or without the T axis). */
export interface Mamba2Steps {
  /** (b, T, h, p) or (b, h, p) */
  x: Tensor;
  /** (b, T, h) or (b, h), raw dt */
  dt: Tensor;
  /** (b, T, g, n) or (b, g, n) */
  B: Tensor;
  /** like B; null = use B (outputs unused, e.g. replayed steps) */
  C: Tensor | null;
}

/**
 * One LinearAttention call over T Mamba-2 steps. `state` and the returned state are in ORT's layout
 * (b, h, n, p); `mask` (b, T, 1) multiplies Δ (Δ = 0 makes a step an exact no-op: decay exp(0) = 1, input 0).
 * Returns the raw outputs H·C shaped like x (no D, no gate).
 */
export function mamba2LinearAttention(
  g: Graph,
  dims: Mamba2Dims,
  s: Mamba2Steps,
  A: Tensor,
  dtBias: Tensor | undefined,
  delta: { softplus: boolean; limit?: readonly [number, number] },
  state: Tensor | null,
  mask?: Tensor,
): { o: Tensor; state: Tensor } {
  const { h, p, n, g: G } = dims;
  const step = s.x.rank === 3;
  let d = ssmDeltaInference(g, step ? unsqueeze(s.dt, [1]) : s.dt, dtBias, delta); // (b, T, h)
  if (mask) d = mul(d, mask);
  const v = step ? reshape(mul(s.x, reshape(d, [0, h, 1])), [0, 1, h * p]) : reshape(mul(s.x, unsqueeze(d, [3])), [0, 0, h * p]);
  const flat = (t: Tensor) => reshape(t, [0, step ? 1 : 0, G * n]);
  const k = flat(s.B);
  const q = s.C ? flat(s.C) : k;
  const [o, next] = linearAttention(q, k, v, state, mul(d, A), { qNumHeads: G, kvNumHeads: h, updateRule: 'gated', scale: 1 });
  return { o: reshape(o, step ? [0, h, p] : [0, 0, h, p]), state: next };
}

/** Mamba-1 per-step tensors of one LinearAttention call (with or without the T axis). */
export interface Mamba1Steps {
  /** (b, T, d) or (b, d) */
  u: Tensor;
  /** (b, T, d) or (b, d), raw δ */
  delta: Tensor;
  /** (b, T, g, n) or (b, g, n) */
  B: Tensor;
  /** like B; null = use B */
  C: Tensor | null;
}

/**
 * One LinearAttention call over T Mamba-1 steps; `state` / returned state in ORT's layout (b, d, n, 1).
 * Returns the raw outputs Σ_n h·C shaped like u.
 */
export function mamba1LinearAttention(
  g: Graph,
  dims: Mamba1Dims,
  s: Mamba1Steps,
  A: Tensor,
  deltaBias: Tensor | undefined,
  softplus: boolean,
  state: Tensor | null,
  mask?: Tensor,
): { o: Tensor; state: Tensor } {
  const { d, n, g: G } = dims;
  const step = s.u.rank === 2;
  const T = step ? 1 : 0;
  let dl = ssmDeltaInference(g, s.delta, deltaBias, { softplus }); // (b, T, d) or (b, d)
  if (mask) dl = mul(dl, mask);
  const decay = reshape(mul(unsqueeze(dl, [-1]), A), [0, T, d * n]); // per key dim: Δ_d·A[d, :]
  const flat = (t: Tensor) => reshape(t, [0, T, G * n]);
  const k = flat(s.B);
  const q = s.C ? flat(s.C) : k;
  const v = mul(dl, s.u);
  const [o, next] = linearAttention(q, k, step ? reshape(v, [0, 1, d]) : v, state, decay, { qNumHeads: G, kvNumHeads: d, updateRule: 'gated', scale: 1 });
  return { o: step ? reshape(o, [0, d]) : o, state: next };
}
