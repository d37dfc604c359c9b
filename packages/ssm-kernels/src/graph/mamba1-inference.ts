/**
 * Mamba-1 inference forms on `com.microsoft.LinearAttention` (gated, per-key-dim decay, one KV head per channel
 * with d_v = 1): prefill over L steps and the single-step decode, state (b, d, n) in and out.
 * Oracles: `mamba1Scan`, `mamba1Step`. Mapping: linear-attention-core.ts. Not differentiable: train with
 * `mamba1ScanGraph`.
 */
import { type Graph, type Tensor, reshape } from '@mil/graph';
import { SsmKernelError } from '../errors';
import { checkFloatDtype, checkGraph, checkTensor } from './common';
import { skipAndGate } from './epilogue';
import {
  type Mamba1DeltaOptions,
  type Mamba1GraphParams,
  type Mamba1ScanGraphInput,
  type Mamba1ScanGraphResult,
  checkDeltaSoftplus,
  checkMamba1Params,
  checkMamba1Steps,
} from './inputs';
import { mamba1LinearAttention } from './linear-attention-core';
import { mamba1ElementwiseSteps } from './mamba1-elementwise';

/** Input of {@link mamba1DecodeStepGraph} (the oracle `mamba1Step` layouts). */
export interface Mamba1StepGraphInput extends Mamba1GraphParams {
  /** (b, d) */
  u: Tensor;
  /** (b, d) raw δ */
  delta: Tensor;
  /** (b, g, n) */
  B: Tensor;
  /** (b, g, n) */
  C: Tensor;
  /** (b, d); omitted = no gate. */
  z?: Tensor;
  /** (b, d, n) state before the step. */
  state: Tensor;
}

/** How the Mamba-1 decode / verify graphs run their few steps. */
export type Mamba1StepImpl = 'linear-attention' | 'standard';

/** Options of {@link mamba1DecodeStepGraph} and `mamba1MultiStepVerifyGraph`. */
export interface Mamba1StepGraphOptions extends Mamba1DeltaOptions {
  /**
   * 'linear-attention' (default): the contrib op, one KV head of d_k = n, d_v = 1 per channel. 'standard': the
   * update in elementwise ONNX ops over (b, d, n) (mamba1-elementwise.ts) — on ORT's CPU EP faster at d = 4096,
   * n = 16, where the contrib op loops over 4096 tiny heads (see README); same math.
   */
  impl?: Mamba1StepImpl;
}

/** Output of {@link mamba1DecodeStepGraph}. */
export interface Mamba1StepGraphResult {
  /** (b, d) */
  y: Tensor;
  /** (b, d, n) */
  state: Tensor;
}

/** Validates the `impl` option (default 'linear-attention'). */
export function checkImpl(fn: string, impl: unknown): Mamba1StepImpl {
  const v = impl ?? 'linear-attention';
  if (v !== 'linear-attention' && v !== 'standard') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'impl' must be 'linear-attention' or 'standard', got ${String(impl)}`);
  }
  return v;
}


/**
 * Mamba-1 over L ≥ 1 steps from an optional (b, d, n) state, one LinearAttention node. b and L may be symbolic.
 *
 * @example
 * const { y, finalState } = mamba1PrefillGraph(g, { u, delta, A, B, C, D, deltaBias, z, initialState }, { deltaSoftplus: true });
 */
export function mamba1PrefillGraph(g: Graph, input: Mamba1ScanGraphInput, opts: Mamba1DeltaOptions): Mamba1ScanGraphResult {
  const fn = 'mamba1PrefillGraph';
  const dims = checkMamba1Steps(fn, g, input);
  checkMamba1Params(fn, g, input, input.u, dims.d, dims.n);
  checkDeltaSoftplus(fn, opts);
  const { u, initialState } = input;
  if (initialState) {
    checkGraph(fn, g, { initialState });
    checkTensor(fn, 'initialState', initialState, [u.shape[0], dims.d, dims.n]);
    checkFloatDtype(fn, 'initialState', initialState, u);
  }
  const { o, state } = mamba1LinearAttention(
    g, dims, { u, delta: input.delta, B: input.B, C: input.C }, input.A, input.deltaBias, opts.deltaSoftplus,
    initialState ? reshape(initialState, [0, dims.d, dims.n, 1]) : null,
  );
  return { y: skipAndGate(o, u, input.D, input.z, false), finalState: reshape(state, [0, dims.d, dims.n]) };
}

/**
 * One Mamba-1 decode step (graph form of `mamba1Step`): u, δ, z (b, d), B / C (b, g, n), state (b, d, n).
 *
 * @example
 * const { y, state } = mamba1DecodeStepGraph(g, { u, delta, A, B, C, D, deltaBias, z, state: pastSsm }, { deltaSoftplus: true });
 */
export function mamba1DecodeStepGraph(g: Graph, input: Mamba1StepGraphInput, opts: Mamba1StepGraphOptions): Mamba1StepGraphResult {
  const fn = 'mamba1DecodeStepGraph';
  checkGraph(fn, g, { u: input.u, delta: input.delta, B: input.B, C: input.C, z: input.z, state: input.state });
  checkTensor(fn, 'u', input.u, [undefined, undefined]);
  const [b, d] = input.u.shape;
  checkTensor(fn, 'B', input.B, [b, undefined, undefined]);
  const [, G, n] = input.B.shape;
  if (typeof d !== 'number' || typeof G !== 'number' || typeof n !== 'number') {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: channels (axis 1 of 'u'), groups and state size (axes 1, 2 of 'B') must be static`);
  }
  if (d % G !== 0) throw new SsmKernelError('BAD_SHAPE', `${fn}: groups g (${G}, axis 1 of 'B') must divide channels d (${d})`);
  checkTensor(fn, 'delta', input.delta, [b, d]);
  checkTensor(fn, 'C', input.C, [b, G, n]);
  if (input.z) checkTensor(fn, 'z', input.z, [b, d]);
  checkTensor(fn, 'state', input.state, [b, d, n]);
  for (const [name, t] of Object.entries({ delta: input.delta, B: input.B, C: input.C, z: input.z, state: input.state })) if (t) checkFloatDtype(fn, name, t, input.u);
  checkMamba1Params(fn, g, input, input.u, d, n);
  checkDeltaSoftplus(fn, opts);
  const impl = checkImpl(fn, opts.impl);
  const dims = { d, n, g: G };
  if (impl === 'linear-attention') {
    const { o, state } = mamba1LinearAttention(g, dims, { u: input.u, delta: input.delta, B: input.B, C: input.C }, input.A, input.deltaBias, opts.deltaSoftplus, reshape(input.state, [0, d, n, 1]));
    return { y: skipAndGate(o, input.u, input.D, input.z, false), state: reshape(state, [0, d, n]) };
  }
  const r = mamba1ElementwiseSteps(g, dims, { u: input.u, delta: input.delta, B: input.B, C: input.C }, input.A, input.deltaBias, opts.deltaSoftplus, input.state);
  const o = r.o as Tensor;
  const state = r.state;
  return { y: skipAndGate(o, input.u, input.D, input.z, false), state };
}
