/**
 * Mamba-2 inference forms on `com.microsoft.LinearAttention` (gated): prefill over L steps and the single-step
 * decode, with the SSM state as an explicit input and output. Oracles: `mamba2Scan`, `mamba2Step`.
 * The mapping and its exactness: linear-attention-core.ts. Not differentiable (contrib op): train with
 * `mamba2ScanGraph`.
 */
import type { Graph, Tensor } from '@mil/graph';
import { SsmKernelError } from '../errors';
import { checkFloatDtype, checkGraph, checkTensor } from './common';
import { skipAndGate } from './epilogue';
import {
  type Mamba2DeltaOptions,
  type Mamba2GraphParams,
  type Mamba2ScanGraphInput,
  type Mamba2ScanGraphResult,
  checkDeltaOptions,
  checkMamba2Params,
  checkMamba2Steps,
} from './inputs';
import { mamba2LinearAttention } from './linear-attention-core';
import { type Mamba2StateLayout, checkLayout, fromNative, stateDims, toNative } from './state-layout';

/** Options of the Mamba-2 inference forms. */
export interface Mamba2InferenceOptions extends Mamba2DeltaOptions {
  /** Layout of the state tensors in and out (default 'hpn' = (b, h, p, n), the oracle layout). */
  stateLayout?: Mamba2StateLayout;
}

/** Input of {@link mamba2DecodeStepGraph} (the oracle `mamba2Step` layouts). */
export interface Mamba2StepGraphInput extends Mamba2GraphParams {
  /** (b, h, p) */
  x: Tensor;
  /** (b, h) raw dt */
  dt: Tensor;
  /** (b, g, n) */
  B: Tensor;
  /** (b, g, n) */
  C: Tensor;
  /** (b, h, p); omitted = no gate. */
  z?: Tensor;
  /** State before the step, in `stateLayout`. */
  state: Tensor;
}

/** Output of {@link mamba2DecodeStepGraph}. */
export interface Mamba2StepGraphResult {
  /** (b, h, p) */
  y: Tensor;
  /** State after the step, in `stateLayout`. */
  state: Tensor;
}


/**
 * Mamba-2 over L ≥ 1 steps (prefill, or a chunk of a long prompt) from an optional state, one LinearAttention
 * node. x (b, L, h, p), dt (b, L, h), B / C (b, L, g, n), z (b, L, h, p); b and L may be symbolic.
 *
 * @example
 * const { y, finalState } = mamba2PrefillGraph(g, { x, dt, A, B, C, D, dtBias, initialState: pastSsm },
 *   { dtSoftplus: true });
 */
export function mamba2PrefillGraph(g: Graph, input: Mamba2ScanGraphInput, opts: Mamba2InferenceOptions): Mamba2ScanGraphResult {
  const fn = 'mamba2PrefillGraph';
  const dims = checkMamba2Steps(fn, g, input);
  checkMamba2Params(fn, g, input, input.x, dims.h, dims.p);
  checkDeltaOptions(fn, opts);
  const layout = checkLayout(fn, opts.stateLayout);
  const { x, initialState } = input;
  if (initialState) {
    checkGraph(fn, g, { initialState });
    checkTensor(fn, 'initialState', initialState, stateDims(layout, x.shape[0], dims.h, dims.p, dims.n));
    checkFloatDtype(fn, 'initialState', initialState, x);
  }
  const { o, state } = mamba2LinearAttention(
    g, dims, { x, dt: input.dt, B: input.B, C: input.C }, input.A, input.dtBias,
    { softplus: opts.dtSoftplus, limit: opts.dtLimit }, initialState ? toNative(initialState, layout) : null,
  );
  return { y: skipAndGate(o, x, input.D, input.z, true), finalState: fromNative(state, layout) };
}

/**
 * One Mamba-2 decode step (graph form of `mamba2Step`): x (b, h, p), dt (b, h), B / C (b, g, n), state in and out.
 *
 * @example
 * const { y, state } = mamba2DecodeStepGraph(g, { x, dt, A, B, C, D, dtBias, state: pastSsm }, { dtSoftplus: true });
 */
export function mamba2DecodeStepGraph(g: Graph, input: Mamba2StepGraphInput, opts: Mamba2InferenceOptions): Mamba2StepGraphResult {
  const fn = 'mamba2DecodeStepGraph';
  checkGraph(fn, g, { x: input.x, dt: input.dt, B: input.B, C: input.C, z: input.z, state: input.state });
  checkTensor(fn, 'x', input.x, [undefined, undefined, undefined]);
  const [b, h, P] = input.x.shape;
  checkTensor(fn, 'B', input.B, [b, undefined, undefined]);
  if (typeof h !== 'number' || typeof P !== 'number' || typeof input.B.shape[1] !== 'number' || typeof input.B.shape[2] !== 'number') {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: heads, head dim (axes 1, 2 of 'x'), groups and state size (axes 1, 2 of 'B') must be static`);
  }
  const dims = { h, p: P, g: input.B.shape[1] as number, n: input.B.shape[2] as number };
  if (h % dims.g !== 0) throw new SsmKernelError('BAD_SHAPE', `${fn}: groups g (${dims.g}, axis 1 of 'B') must divide heads h (${h})`);
  checkTensor(fn, 'dt', input.dt, [b, h]);
  checkTensor(fn, 'C', input.C, [b, dims.g, dims.n]);
  if (input.z) checkTensor(fn, 'z', input.z, [b, h, P]);
  for (const [name, t] of Object.entries({ dt: input.dt, B: input.B, C: input.C, z: input.z, state: input.state })) if (t) checkFloatDtype(fn, name, t, input.x);
  checkMamba2Params(fn, g, input, input.x, h, P);
  checkDeltaOptions(fn, opts);
  const layout = checkLayout(fn, opts.stateLayout);
  checkTensor(fn, 'state', input.state, stateDims(layout, b, h, P, dims.n));
  const { o, state } = mamba2LinearAttention(
    g, dims, { x: input.x, dt: input.dt, B: input.B, C: input.C }, input.A, input.dtBias,
    { softplus: opts.dtSoftplus, limit: opts.dtLimit }, toNative(input.state, layout),
  );
  return { y: skipAndGate(o, input.x, input.D, input.z, true), state: fromNative(state, layout) };
}
