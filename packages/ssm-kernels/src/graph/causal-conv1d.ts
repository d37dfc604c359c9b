/**
 * Depthwise causal conv1d graph forms (oracles: src/oracle/causal-conv1d.ts). Layouts as the oracles:
 * x, y (b, L, d); weight (d, w); bias (d); state (b, d, S) of raw PRE-conv inputs, oldest first.
 *
 * - {@link causalConv1dGraph}: training / prefill in standard ops (ONNX Conv, group = d, on (b, d, L); with a
 *   symbolic L, w shifted multiply-adds — see `causalConvTrain`), differentiable; optional initial state;
 *   returns the final state.
 * - {@link causalConv1dUpdateGraph}: rolling-state update for prefill / decode / verify. With S = w − 1 it is
 *   `com.microsoft.CausalConvWithState` (exactly `causal_conv1d_update` without cache_seqlens); S > w − 1 (not
 *   supported by that op) falls back to standard ops.
 * - {@link causalConv1dRingGraph}: the circular buffer of speculative decoding (`cache_seqlens`), in standard ops
 *   (GatherElements / ScatterElements); no contrib op has a ring.
 * Width w ≥ 2 (a zero-length state has no ONNX representation worth supporting; Mamba uses 4).
 */
import {
  type Graph,
  type Tensor,
  add,
  cast,
  causalConvWithState,
  concat,
  mul,
  pad,
  reshape,
  silu,
  slice,
  transpose,
  unsqueeze,
  END,
} from '@mil/graph';
import type { ConvActivation } from '../oracle/causal-conv1d';
import { SsmKernelError } from '../errors';
import { arange, checkFloatDtype, checkGraph, checkTensor, sizeOf, staticDim, takeFirst, takeLast } from './common';

/** Tensors shared by the conv graph forms. */
export interface CausalConv1dGraphParams {
  /** (b, L, d) primary input (raw pre-conv values). */
  x: Tensor;
  /** (d, w) depthwise kernel; tap w − 1 multiplies the current step. */
  weight: Tensor;
  /** (d); omitted = no bias. */
  bias?: Tensor;
}

/** Input of {@link causalConv1dGraph}. */
export interface CausalConv1dGraphInput extends CausalConv1dGraphParams {
  /** (b, d, w − 1) inputs before step 0, oldest first; omitted = zeros. */
  initialState?: Tensor;
}

/** Input of {@link causalConv1dUpdateGraph}. */
export interface CausalConv1dUpdateGraphInput extends CausalConv1dGraphParams {
  /** (b, d, S), S ≥ w − 1. */
  state: Tensor;
}

/** Input of {@link causalConv1dRingGraph}. */
export interface CausalConv1dRingGraphInput extends CausalConv1dUpdateGraphInput {
  /** (b) int32 / int64 ring write counters (see `causalConv1dRing`). */
  cacheSeqlens: Tensor;
}

/** Options of the conv graph forms. */
export interface CausalConv1dGraphOptions {
  /** Required: the mixers use 'silu'. */
  activation: ConvActivation;
}

/** Output of the conv graph forms. */
export interface CausalConv1dGraphResult {
  /** (b, L, d) */
  y: Tensor;
  /** (b, d, w − 1) for {@link causalConv1dGraph}; (b, d, S) for the update / ring forms. */
  state: Tensor;
}

function checkParams(fn: string, g: Graph, p: CausalConv1dGraphParams, act: unknown): { d: number; w: number } {
  checkGraph(fn, g, { x: p.x, weight: p.weight, bias: p.bias });
  checkTensor(fn, 'x', p.x, [undefined, undefined, undefined]);
  const d = staticDim(fn, 'x', p.x, 2, 'channels d');
  checkTensor(fn, 'weight', p.weight, [d, undefined]);
  const w = staticDim(fn, 'weight', p.weight, 1, 'width w');
  if (w < 2) throw new SsmKernelError('BAD_OPTION', `${fn}: kernel width (axis 1 of 'weight') must be >= 2, got ${w}`);
  checkFloatDtype(fn, 'weight', p.weight, p.x);
  if (p.bias) {
    checkTensor(fn, 'bias', p.bias, [d]);
    checkFloatDtype(fn, 'bias', p.bias, p.x);
  }
  if (act !== 'silu' && act !== 'none') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'activation' must be 'silu' or 'none', got ${String(act)}`);
  }
  return { d, w };
}

/** Depthwise Conv over `seq` (b, d, Lseq) without padding; the output is declared (b, d, L) from x (b, L, d). */
function depthwiseConv(seq: Tensor, w3: Tensor, bias: Tensor | undefined, x: Tensor, d: number, w: number, pads: [number, number]): Tensor {
  return seq.graph.addNode('Conv', [seq, w3, bias ?? null], [{ dtype: seq.dtype, shape: [x.shape[0], d, x.shape[1]] }], {
    group: d,
    pads,
    kernel_shape: [w],
    strides: [1],
    dilations: [1],
  })[0];
}

/**
 * Causal depthwise conv of `seq` = [w − 1 history | L new] (b, d, w − 1 + L) → (b, d, L), differentiable.
 * Static L: one ONNX Conv. Symbolic L: Σ_k weight[:, k] ⊙ seq[:, :, k : k + L] (w shifted multiply-adds),
 * because @mil/graph's Conv weight-gradient rule convolves with the output gradient as a kernel, which needs
 * a static length.
 */
function causalConvTrain(seq: Tensor, weight: Tensor, bias: Tensor | undefined, x: Tensor, xT: Tensor, d: number, w: number): Tensor {
  if (typeof x.shape[1] === 'number') return depthwiseConv(seq, reshape(weight, [d, 1, w]), bias, x, d, w, [0, 0]);
  let acc: Tensor | null = bias ? reshape(bias, [d, 1]) : null;
  for (let k = 0; k < w; k++) {
    const window = takeFirst(k === 0 ? seq : slice(seq, [k], [END], [2]), 2, xT, 2); // length L, like xT
    const term = mul(window, slice(weight, [k], [k + 1], [1])); // weight[:, k] as (d, 1)
    acc = acc ? add(acc, term) : term;
  }
  return acc as Tensor;
}

const activate = (y: Tensor, act: ConvActivation): Tensor => (act === 'silu' ? silu(y) : y);

/**
 * Causal conv over a whole sequence (training / prefill), standard ops, differentiable (ORT's CPU Conv is
 * float32-only). Equals `causalConv1d` (oracle) incl. `finalState`.
 *
 * @example
 * const { y, state } = causalConv1dGraph(g, { x: xBC, weight: convW, bias: convB }, { activation: 'silu' });
 */
export function causalConv1dGraph(g: Graph, input: CausalConv1dGraphInput, opts: CausalConv1dGraphOptions): CausalConv1dGraphResult {
  const fn = 'causalConv1dGraph';
  const { d, w } = checkParams(fn, g, input, opts.activation);
  const { x, weight, bias, initialState } = input;
  const xT = transpose(x, [0, 2, 1]); // (b, d, L)
  let seq: Tensor; // (b, d, w − 1 + L): history then the new inputs
  if (initialState) {
    checkGraph(fn, g, { initialState });
    checkTensor(fn, 'initialState', initialState, [x.shape[0], d, w - 1]);
    checkFloatDtype(fn, 'initialState', initialState, x);
    seq = concat([initialState, xT], 2);
  } else {
    seq = pad(xT, [0, 0, w - 1, 0, 0, 0]);
  }
  const y = causalConvTrain(seq, weight, bias, x, xT, d, w);
  return { y: transpose(activate(y, opts.activation), [0, 2, 1]), state: takeLast(seq, 2, w - 1) };
}

/**
 * Rolling-state conv update (prefill from a state, decode L = 1, verify L = K + 1). With S = w − 1 and
 * `contrib` not false it emits `com.microsoft.CausalConvWithState`; otherwise standard ops. Not differentiable
 * through the contrib op (inference only). Equals `causalConv1dUpdate` (oracle).
 *
 * @example
 * const { y, state } = causalConv1dUpdateGraph(g, { x, weight, bias, state: convState }, { activation: 'silu' });
 */
export function causalConv1dUpdateGraph(
  g: Graph,
  input: CausalConv1dUpdateGraphInput,
  opts: CausalConv1dGraphOptions & { contrib?: boolean },
): CausalConv1dGraphResult {
  const fn = 'causalConv1dUpdateGraph';
  const { d, w } = checkParams(fn, g, input, opts.activation);
  const { x, weight, bias, state } = input;
  checkGraph(fn, g, { state });
  checkTensor(fn, 'state', state, [x.shape[0], d, undefined]);
  checkFloatDtype(fn, 'state', state, x);
  const S = staticDim(fn, 'state', state, 2, 'state length S');
  if (S < w - 1) throw new SsmKernelError('BAD_SHAPE', `${fn}: state length (axis 2 of 'state') must be >= width - 1 (${w - 1}), got ${S}`);
  const xT = transpose(x, [0, 2, 1]);
  if (S === w - 1 && opts.contrib !== false) {
    const [yT, next] = causalConvWithState(xT, reshape(weight, [d, 1, w]), bias ?? null, state, opts.activation);
    return { y: transpose(yT, [0, 2, 1]), state: next };
  }
  const seq = concat([state, xT], 2); // (b, d, S + L)
  const window = S === w - 1 ? seq : slice(seq, [S - (w - 1)], [END], [2]);
  const y = depthwiseConv(window, reshape(weight, [d, 1, w]), bias, x, d, w, [0, 0]);
  return { y: transpose(activate(y, opts.activation), [0, 2, 1]), state: takeLast(seq, 2, S) };
}

/**
 * Circular-buffer conv for speculative decoding (graph form of `causalConv1dRing`): reads the w − 1 slots
 * before `cacheSeqlens mod S` as history, writes the L new raw inputs from there on (wrapping), L ≤ S.
 * Standard ops (GatherElements, ScatterElements) plus CausalConvWithState for the arithmetic.
 *
 * @example
 * const { y, state } = causalConv1dRingGraph(g, { x, weight, bias, state: ring, cacheSeqlens }, { activation: 'silu' });
 */
export function causalConv1dRingGraph(g: Graph, input: CausalConv1dRingGraphInput, opts: CausalConv1dGraphOptions): CausalConv1dGraphResult {
  const fn = 'causalConv1dRingGraph';
  const { d, w } = checkParams(fn, g, input, opts.activation);
  const { x, weight, bias, state, cacheSeqlens } = input;
  checkGraph(fn, g, { state, cacheSeqlens });
  checkTensor(fn, 'state', state, [x.shape[0], d, undefined]);
  checkFloatDtype(fn, 'state', state, x);
  const S = staticDim(fn, 'state', state, 2, 'ring length S');
  if (S < w - 1) throw new SsmKernelError('BAD_SHAPE', `${fn}: ring length (axis 2 of 'state') must be >= width - 1 (${w - 1}), got ${S}`);
  if (typeof x.shape[1] === 'number' && x.shape[1] > S) {
    throw new SsmKernelError('BAD_OPTION', `${fn}: new steps (axis 1 of 'x', ${x.shape[1]}) must not exceed the ring length ${S}`);
  }
  checkTensor(fn, 'cacheSeqlens', cacheSeqlens, [x.shape[0]]);
  if (cacheSeqlens.dtype !== 'int32' && cacheSeqlens.dtype !== 'int64') {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor 'cacheSeqlens' must be int32 or int64, got ${cacheSeqlens.dtype}`);
  }
  const c0 = unsqueeze(cast(cacheSeqlens, 'int64'), [1]); // (b, 1)
  const mod = (v: Tensor): Tensor => g.addNode('Mod', [v, g.ints([S])], [{ dtype: 'int64', shape: [...v.shape] }])[0];
  // Slot indices broadcast over channels: (b, k) → (b, d, k).
  const perChannel = (idx: Tensor): Tensor => {
    const shapeT = g.addNode('Concat', [sizeOf(x, 0), g.ints([d]), sizeOf(idx, 1)], [{ dtype: 'int64', shape: [3] }], { axis: 0 })[0];
    return g.addNode('Expand', [unsqueeze(idx, [1]), shapeT], [{ dtype: 'int64', shape: [x.shape[0], d, idx.shape[1]] }])[0];
  };
  const histOffsets = g.constant(BigInt64Array.from({ length: w - 1 }, (_, j) => BigInt(j - (w - 1))), 'int64', [w - 1]);
  const histIdx = perChannel(mod(add(c0, histOffsets))); // (b, d, w − 1)
  const hist = g.addNode('GatherElements', [state, histIdx], [{ dtype: x.dtype, shape: [x.shape[0], d, w - 1] }], { axis: 2 })[0];
  const xT = transpose(x, [0, 2, 1]);
  const [yT] = causalConvWithState(xT, reshape(weight, [d, 1, w]), bias ?? null, hist, opts.activation);
  const writeIdx = perChannel(mod(add(c0, unsqueeze(arange(x, 1), [0])))); // (b, d, L)
  const next = g.addNode('ScatterElements', [state, writeIdx, xT], [{ dtype: x.dtype, shape: [...state.shape] }], { axis: 2 })[0];
  return { y: transpose(yT, [0, 2, 1]), state: next };
}
