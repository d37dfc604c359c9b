/**
 * Multi-step verification for speculative decoding as ONE graph (graph forms of `multiStepVerify` and
 * `mamba2MultiStepVerify`; protocol in src/oracle/multi-step-verify.ts and reference dossier §4.2–4.3):
 *   start    = recomputeSteps ≥ 0 ? snapshot : state                    (per batch element, a Where)
 *   snapshot'= start advanced through cache slots 0..r, no outputs      (LinearAttention over the first
 *              max_b(r_b + 1) slots with Δ multiplied by [slot ≤ r_b]: a Δ = 0 step is an exact no-op, so batch
 *              elements with different r share one call)
 *   state'   = snapshot' advanced through the T new steps, with outputs (LinearAttention)
 * and returns y, state', snapshot' and the new cache (the new steps' x / dt|δ / B, i.e. the input tensors).
 * With every r = −1 the snapshot and cache inputs are still read but do not matter (feed finite values of the
 * right shape, e.g. the state and zeros — the first call after a prefill).
 *
 * Snapshot-only protocol (give `replaySteps` instead of `state` + `recomputeSteps`): within the protocol,
 * `state` is always the previous call's output, i.e. exactly the snapshot advanced through all Tc cache slots (by
 * the same kernel on the same inputs, so bitwise). So the graph can always start from the snapshot and replay
 * `replaySteps` = r + 1 slots (r ≥ 0), Tc slots (r = −1), or 0 (the first call after a prefill, with the prefill
 * state as the snapshot). That saves the Where (a read of both states and a write), and the caller keeps one
 * state per layer less between calls.
 */
import { type Graph, type Tensor, add, cast, greater, less, reduceMax, reshape, unsqueeze, where } from '@mil/graph';
import { SsmKernelError } from '../errors';
import { arange, checkFloatDtype, checkGraph, checkTensor } from './common';
import { skipAndGate } from './epilogue';
import {
  type Mamba1GraphParams,
  type Mamba2GraphParams,
  checkDeltaOptions,
  checkDeltaSoftplus,
  checkMamba1Params,
  checkMamba1Steps,
  checkMamba2Params,
  checkMamba2Steps,
} from './inputs';
import { mamba1LinearAttention, mamba2LinearAttention } from './linear-attention-core';
import { type Mamba1StepGraphOptions, checkImpl } from './mamba1-inference';
import { mamba1ElementwiseSteps } from './mamba1-elementwise';
import type { Mamba2InferenceOptions } from './mamba2-inference';
import { checkLayout, fromNative, stateDims, toNative } from './state-layout';

/** The previous call's Mamba-2 per-step inputs (Tc slots). */
export interface Mamba2VerifyCacheGraph {
  /** (b, Tc, h, p) */
  x: Tensor;
  /** (b, Tc, h) raw dt */
  dt: Tensor;
  /** (b, Tc, g, n) */
  B: Tensor;
}

/** The previous call's Mamba-1 per-step inputs (Tc slots). */
export interface Mamba1VerifyCacheGraph {
  /** (b, Tc, d) conv output */
  x: Tensor;
  /** (b, Tc, d) raw δ */
  delta: Tensor;
  /** (b, Tc, g, n) */
  B: Tensor;
}

interface VerifyCommonGraph<Cache> {
  /** State after all inputs of the previous call (oracle protocol, with `recomputeSteps`). */
  state?: Tensor;
  /** State before the previous call's inputs. */
  snapshot: Tensor;
  /** The previous call's inputs. */
  cache: Cache;
  /** (b) int32 / int64, with `state`: −1 = continue from `state`; 0 ≤ r < Tc = replay slots 0..r from `snapshot`. */
  recomputeSteps?: Tensor;
  /** (b) int32 / int64, snapshot-only protocol (no `state`): replay slots 0..replaySteps−1 from `snapshot`. */
  replaySteps?: Tensor;
}

/** Input of {@link mamba2MultiStepVerifyGraph}: T = K + 1 new steps plus the verify state. */
export interface Mamba2MultiStepVerifyGraphInput extends Mamba2GraphParams, VerifyCommonGraph<Mamba2VerifyCacheGraph> {
  /** (b, T, h, p) */
  x: Tensor;
  /** (b, T, h) raw dt */
  dt: Tensor;
  /** (b, T, g, n) */
  B: Tensor;
  /** (b, T, g, n) */
  C: Tensor;
  /** (b, T, h, p); omitted = no gate. */
  z?: Tensor;
}

/** Input of {@link mamba1MultiStepVerifyGraph}. */
export interface Mamba1MultiStepVerifyGraphInput extends Mamba1GraphParams, VerifyCommonGraph<Mamba1VerifyCacheGraph> {
  /** (b, T, d) conv output of the new steps */
  x: Tensor;
  /** (b, T, d) raw δ */
  delta: Tensor;
  /** (b, T, g, n) */
  B: Tensor;
  /** (b, T, g, n) */
  C: Tensor;
  /** (b, T, d); omitted = no gate. */
  z?: Tensor;
}

/** Output of the verify graphs. */
export interface MultiStepVerifyGraphResult<Cache> {
  /** Outputs of the T new steps. */
  y: Tensor;
  /** State after the T new steps. */
  state: Tensor;
  /** State after the accepted prefix (before the new steps). */
  snapshot: Tensor;
  /** The new steps' inputs: the next call's cache (the input tensors themselves). */
  cache: Cache;
}

/**
 * The start state, the number of slots to replay per batch element, and a function that cuts a cache tensor to
 * the slots the batch needs (max count, a run-time length; 0 is fine: LinearAttention over 0 steps passes the
 * state through) together with the mask [slot < count] as float (b, slots, 1). Oracle protocol: start = r ≥ 0 ?
 * snapshot : state (a Where per batch element), count = r + 1. Snapshot-only: start = snapshot, count = replaySteps.
 */
function replayControls(
  fn: string,
  g: Graph,
  input: VerifyCommonGraph<unknown>,
  cacheSteps: Tensor,
): { start: Tensor; cut: (t: Tensor) => Tensor; mask: (sliced: Tensor) => Tensor } {
  const { state, snapshot, recomputeSteps, replaySteps } = input;
  const oracle = state !== undefined;
  if (oracle ? !recomputeSteps || replaySteps : !replaySteps || recomputeSteps) {
    throw new SsmKernelError(
      'BAD_OPTION',
      `${fn}: give either 'state' with 'recomputeSteps' (oracle protocol) or 'replaySteps' without 'state' (snapshot-only protocol)`,
    );
  }
  const name = oracle ? 'recomputeSteps' : 'replaySteps';
  const r = (oracle ? recomputeSteps : replaySteps) as Tensor;
  checkGraph(fn, g, { [name]: r });
  checkTensor(fn, name, r, [cacheSteps.shape[0]]);
  if (r.dtype !== 'int32' && r.dtype !== 'int64') {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor '${name}' must be int32 or int64, got ${r.dtype}`);
  }
  const r64 = cast(r, 'int64');
  const count = oracle ? add(r64, 1) : r64; // r = −1 gives 0: that element starts from `state`
  // Replay only as many slots as the batch needs (one LinearAttention step per slot).
  const most = reduceMax(count, [0], true); // (1)
  const len = `${String(cacheSteps.shape[1])}_replayed`;
  const cut = (t: Tensor): Tensor => {
    const shape = [...t.shape];
    shape[1] = len;
    return g.addNode('Slice', [t, g.ints([0]), most, g.ints([1])], [{ dtype: t.dtype, shape }])[0];
  };
  const mask = (sliced: Tensor): Tensor =>
    unsqueeze(cast(less(unsqueeze(arange(sliced, 1), [0]), unsqueeze(count, [1])), sliced.dtype), [2]); // (b, slots, 1)
  if (!oracle) return { start: snapshot, cut, mask };
  const fromSnapshot = reshape(greater(r64, -1), [-1, ...new Array<number>(snapshot.rank - 1).fill(1)]);
  return { start: where(fromSnapshot, snapshot, state as Tensor), cut, mask };
}

/**
 * Mamba-2 multi-step verify as one graph (two LinearAttention nodes: masked replay, then the new steps).
 * Equals `mamba2MultiStepVerify` (oracle). State / snapshot in `stateLayout`.
 *
 * @example
 * const r = mamba2MultiStepVerifyGraph(g, { x, dt, B, C, A, D, dtBias, state, snapshot,
 *   cache: { x: cx, dt: cdt, B: cB }, recomputeSteps }, { dtSoftplus: true });
 * // outputs: r.y, r.state, r.snapshot; keep x / dt / B as the next call's cache
 */
export function mamba2MultiStepVerifyGraph(
  g: Graph,
  input: Mamba2MultiStepVerifyGraphInput,
  opts: Mamba2InferenceOptions,
): MultiStepVerifyGraphResult<Mamba2VerifyCacheGraph> {
  const fn = 'mamba2MultiStepVerifyGraph';
  const dims = checkMamba2Steps(fn, g, input);
  checkMamba2Params(fn, g, input, input.x, dims.h, dims.p);
  checkDeltaOptions(fn, opts);
  const layout = checkLayout(fn, opts.stateLayout);
  const { x, cache } = input;
  const cdims = checkMamba2Steps(fn, g, { x: cache.x, dt: cache.dt, B: cache.B }, 'cache.');
  if (cdims.h !== dims.h || cdims.p !== dims.p || cdims.n !== dims.n || cdims.g !== dims.g) {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: cache tensors must have the new steps' (h, p, g, n) = (${dims.h}, ${dims.p}, ${dims.g}, ${dims.n})`);
  }
  checkFloatDtype(fn, 'cache.x', cache.x, x);
  const sd = stateDims(layout, x.shape[0], dims.h, dims.p, dims.n);
  for (const [name, t] of Object.entries({ state: input.state, snapshot: input.snapshot })) {
    if (!t) continue;
    checkGraph(fn, g, { [name]: t });
    checkTensor(fn, name, t, sd);
    checkFloatDtype(fn, name, t, x);
  }
  const { start, cut, mask } = replayControls(fn, g, input, cache.x);
  const delta = { softplus: opts.dtSoftplus, limit: opts.dtLimit };
  const cx = cut(cache.x);
  const replay = mamba2LinearAttention(g, dims, { x: cx, dt: cut(cache.dt), B: cut(cache.B), C: null }, input.A, input.dtBias, delta, toNative(start, layout), mask(cx));
  const run = mamba2LinearAttention(g, dims, { x, dt: input.dt, B: input.B, C: input.C }, input.A, input.dtBias, delta, replay.state);
  return {
    y: skipAndGate(run.o, x, input.D, input.z, true),
    state: fromNative(run.state, layout),
    snapshot: fromNative(replay.state, layout),
    cache: { x, dt: input.dt, B: input.B },
  };
}

/**
 * Mamba-1 multi-step verify as one graph (graph form of `multiStepVerify`; x is the conv output, see
 * `causalConv1dRingGraph` for the conv). State / snapshot (b, d, n). `impl: 'standard'` unrolls the (static)
 * Tc + T steps in elementwise ops instead of two LinearAttention nodes (faster on ORT's CPU EP, see README).
 *
 * @example
 * const r = mamba1MultiStepVerifyGraph(g, { x, delta, B, C, z, A, D, deltaBias, state, snapshot,
 *   cache: { x: cx, delta: cdelta, B: cB }, recomputeSteps }, { deltaSoftplus: true });
 */
export function mamba1MultiStepVerifyGraph(
  g: Graph,
  input: Mamba1MultiStepVerifyGraphInput,
  opts: Mamba1StepGraphOptions,
): MultiStepVerifyGraphResult<Mamba1VerifyCacheGraph> {
  const fn = 'mamba1MultiStepVerifyGraph';
  const dims = checkMamba1Steps(fn, g, { u: input.x, delta: input.delta, B: input.B, C: input.C, z: input.z }, '', 'x');
  checkMamba1Params(fn, g, input, input.x, dims.d, dims.n);
  checkDeltaSoftplus(fn, opts);
  const { x, cache } = input;
  const cdims = checkMamba1Steps(fn, g, { u: cache.x, delta: cache.delta, B: cache.B }, 'cache.', 'x');
  if (cdims.d !== dims.d || cdims.n !== dims.n || cdims.g !== dims.g) {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: cache tensors must have the new steps' (d, g, n) = (${dims.d}, ${dims.g}, ${dims.n})`);
  }
  checkFloatDtype(fn, 'cache.x', cache.x, x);
  for (const [name, t] of Object.entries({ state: input.state, snapshot: input.snapshot })) {
    if (!t) continue;
    checkGraph(fn, g, { [name]: t });
    checkTensor(fn, name, t, [x.shape[0], dims.d, dims.n]);
    checkFloatDtype(fn, name, t, x);
  }
  const impl = checkImpl(fn, opts.impl);
  const { start, cut, mask } = replayControls(fn, g, input, cache.x);
  if (impl === 'standard') {
    // Unrolled steps need static counts: replay all Tc slots, masked (a Δ = 0 step is an exact no-op).
    const rep = mamba1ElementwiseSteps(g, dims, { u: cache.x, delta: cache.delta, B: cache.B, C: null }, input.A, input.deltaBias, opts.deltaSoftplus, start, mask(cache.x));
    const run = mamba1ElementwiseSteps(g, dims, { u: x, delta: input.delta, B: input.B, C: input.C }, input.A, input.deltaBias, opts.deltaSoftplus, rep.state);
    return { y: skipAndGate(run.o as Tensor, x, input.D, input.z, false), state: run.state, snapshot: rep.state, cache: { x, delta: input.delta, B: input.B } };
  }
  const cx = cut(cache.x);
  const replay = mamba1LinearAttention(g, dims, { u: cx, delta: cut(cache.delta), B: cut(cache.B), C: null }, input.A, input.deltaBias, opts.deltaSoftplus, reshape(start, [0, dims.d, dims.n, 1]), mask(cx));
  const run = mamba1LinearAttention(g, dims, { u: x, delta: input.delta, B: input.B, C: input.C }, input.A, input.deltaBias, opts.deltaSoftplus, replay.state);
  return {
    y: skipAndGate(run.o, x, input.D, input.z, false),
    state: reshape(run.state, [0, dims.d, dims.n]),
    snapshot: reshape(replay.state, [0, dims.d, dims.n]),
    cache: { x, delta: input.delta, B: input.B },
  };
}
