/**
 * Shared plumbing of the graph forms: shape checks against the oracle layouts, and the few graph helpers that
 * must work with symbolic (run-time) batch / sequence sizes while staying differentiable by @mil/graph's autodiff
 * (padding to a chunk multiple, dropping the padding, taking the last steps, triangular masks, ranges).
 *
 * Rule for symbolic dims: head / channel / state sizes must be static numbers (they size parameters); batch and
 * sequence may be symbolic strings. Whatever is static is checked at build time.
 */
import {
  type Dim,
  type Graph,
  type Tensor,
  concat,
  constantOfShape,
  pad,
  slice,
  trilu,
  END,
} from '@mil/graph';
import { SsmKernelError } from '../errors';

/** A float graph dtype the graph forms accept (float64 for gradient checks, float32 for everything else). */
export type GraphFloat = 'float32' | 'float64';

/**
 * Checks `t`'s rank and every static entry of `expected` (undefined = any; a number must match when `t`'s dim is
 * static too). Returns t's dims.
 */
export function checkTensor(fn: string, name: string, t: Tensor, expected: (Dim | undefined)[], dtype?: string): readonly Dim[] {
  const show = (s: readonly (Dim | undefined)[]) => `[${s.map((d) => (d === undefined ? '?' : d)).join(', ')}]`;
  if (t.rank !== expected.length) {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: tensor '${name}' (${t.name}) must have shape ${show(expected)}, got [${t.shape.join(', ')}]`);
  }
  expected.forEach((e, i) => {
    const d = t.shape[i];
    if (typeof e === 'number' && typeof d === 'number' && d !== e) {
      throw new SsmKernelError('BAD_SHAPE', `${fn}: tensor '${name}' (${t.name}) must have shape ${show(expected)}, got [${t.shape.join(', ')}] (axis ${i})`);
    }
  });
  if (dtype !== undefined && t.dtype !== dtype) {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor '${name}' (${t.name}) must be ${dtype}, got ${t.dtype}`);
  }
  return t.shape;
}

/** A dim that must be a static number (head counts, state sizes, kernel widths). */
export function staticDim(fn: string, name: string, t: Tensor, axis: number, what: string): number {
  const d = t.shape[axis];
  if (typeof d !== 'number') {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: axis ${axis} (${what}) of tensor '${name}' (${t.name}) must be static, got '${d}'`);
  }
  return d;
}

/** Checks that every given tensor belongs to `g`. */
export function checkGraph(fn: string, g: Graph, tensors: Record<string, Tensor | undefined>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t && t.graph !== g) {
      throw new SsmKernelError('BAD_OPTION', `${fn}: tensor '${name}' (${t.name}) belongs to another graph than the one given`);
    }
  }
}

/** Checks that `t` is a float tensor of the same dtype as `like`. */
export function checkFloatDtype(fn: string, name: string, t: Tensor, like: Tensor): void {
  if (t.dtype !== like.dtype) {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: tensor '${name}' (${t.name}) must be ${like.dtype} like the primary input, got ${t.dtype}`);
  }
}

/** Checks an integer option ≥ min. */
export function checkIntOption(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option '${name}' must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** Int64 [1] tensor with the run-time size of `t`'s axis. */
export function sizeOf(t: Tensor, axis: number): Tensor {
  const d = t.shape[axis];
  if (typeof d === 'number') return t.graph.ints([d]);
  return t.graph.addNode('Shape', [t], [{ dtype: 'int64', shape: [1] }], { start: axis, end: axis + 1 })[0];
}

/** Elementwise int64 op on [1]-shaped size tensors. */
function intOp(op: 'Add' | 'Sub' | 'Mod' | 'Mul', a: Tensor, b: Tensor): Tensor {
  return a.graph.addNode(op, [a, b], [{ dtype: 'int64', shape: [1] }])[0];
}

/** The shape of `t` as an int64 tensor with axis `axis` replaced by `size` (an int64 [1] tensor). */
function shapeWith(t: Tensor, axis: number, size: Tensor): Tensor {
  const g = t.graph;
  const parts: Tensor[] = [];
  for (let i = 0; i < t.rank; i++) parts.push(i === axis ? size : sizeOf(t, i));
  return g.addNode('Concat', parts, [{ dtype: 'int64', shape: [t.rank] }], { axis: 0 })[0];
}

/**
 * Zero-pads `x` along `axis` up to a multiple of `q` (no-op when already a multiple). Static lengths use Pad;
 * symbolic ones concatenate a run-time-sized zero block (both have gradient rules).
 */
export function padToMultiple(x: Tensor, axis: number, q: number): Tensor {
  const d = x.shape[axis];
  if (typeof d === 'number') {
    const extra = (q - (d % q)) % q;
    if (extra === 0) return x;
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[x.rank + axis] = extra;
    return pad(x, pads);
  }
  if (q === 1) return x;
  const g = x.graph;
  const len = sizeOf(x, axis);
  const qT = g.ints([q]);
  const extra = intOp('Mod', intOp('Sub', qT, intOp('Mod', len, qT)), qT);
  const zdims = [...x.shape];
  zdims[axis] = `${d}_padding`;
  const zeros = constantOfShape(shapeWith(x, axis, extra), zdims, x.dtype, 0);
  return concat([x, zeros], axis);
}

/**
 * The first `length` entries of `x` along `axis`, where `length` is the (static or symbolic) size of `like`'s
 * axis `likeAxis`. Static: Slice; symbolic: Split with run-time sizes (both differentiable).
 */
export function takeFirst(x: Tensor, axis: number, like: Tensor, likeAxis: number): Tensor {
  const want = like.shape[likeAxis];
  const have = x.shape[axis];
  if (want === have) return x;
  if (typeof want === 'number' && typeof have === 'number') return slice(x, [0], [want], [axis]);
  const g = x.graph;
  const lenT = sizeOf(like, likeAxis);
  const restT = intOp('Sub', sizeOf(x, axis), lenT);
  const sizes = g.addNode('Concat', [lenT, restT], [{ dtype: 'int64', shape: [2] }], { axis: 0 })[0];
  const s0 = [...x.shape];
  s0[axis] = want;
  const s1 = [...x.shape];
  s1[axis] = `${have}_rest`;
  return g.addNode('Split', [x, sizes], [{ dtype: x.dtype, shape: s0 }, { dtype: x.dtype, shape: s1 }], { axis })[0];
}

/**
 * The last `k` entries of `x` along `axis` (the axis must hold at least k). Static: Slice; symbolic: Split
 * with run-time sizes [len − k, k] (differentiable either way, unlike a negative-start Slice on a symbolic axis).
 */
export function takeLast(x: Tensor, axis: number, k: number): Tensor {
  const d = x.shape[axis];
  if (typeof d === 'number') return d === k ? x : slice(x, [d - k], [END], [axis]);
  const g = x.graph;
  const kT = g.ints([k]);
  const sizes = g.addNode('Concat', [intOp('Sub', sizeOf(x, axis), kT), kT], [{ dtype: 'int64', shape: [2] }], { axis: 0 })[0];
  const s0 = [...x.shape];
  s0[axis] = `${d}_head`;
  const s1 = [...x.shape];
  s1[axis] = k;
  return g.addNode('Split', [x, sizes], [{ dtype: x.dtype, shape: s0 }, { dtype: x.dtype, shape: s1 }], { axis })[1];
}

/**
 * Splits `x` along `axis` into [all but the last entry, the last entry] (run-time sizes when symbolic).
 */
export function splitLast(x: Tensor, axis: number): [Tensor, Tensor] {
  const d = x.shape[axis];
  const g = x.graph;
  const s0 = [...x.shape];
  const s1 = [...x.shape];
  s1[axis] = 1;
  let sizes: Tensor;
  if (typeof d === 'number') {
    s0[axis] = d - 1;
    sizes = g.ints([d - 1, 1]);
  } else {
    s0[axis] = `${d}-1`;
    const one = g.ints([1]);
    sizes = g.addNode('Concat', [intOp('Sub', sizeOf(x, axis), one), one], [{ dtype: 'int64', shape: [2] }], { axis: 0 })[0];
  }
  const [a, b] = g.addNode('Split', [x, sizes], [{ dtype: x.dtype, shape: s0 }, { dtype: x.dtype, shape: s1 }], { axis });
  return [a, b];
}

/**
 * A (n, n) 0/1 float matrix, 1 where row − col ≥ k (k = 0: lower triangle incl. diagonal, k = 1: strictly lower).
 * `n` is `like`'s axis `axis`: a constant when static, built at run time (Expand + Trilu) when symbolic.
 */
export function lowerMask(like: Tensor, axis: number, k: number): Tensor {
  const g = like.graph;
  const n = like.shape[axis];
  if (typeof n === 'number') {
    const data = like.dtype === 'float64' ? new Float64Array(n * n) : new Float32Array(n * n);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) data[r * n + c] = r - c >= k ? 1 : 0;
    return g.constant(data, like.dtype, [n, n]);
  }
  const nT = sizeOf(like, axis);
  const shapeT = g.addNode('Concat', [nT, nT], [{ dtype: 'int64', shape: [2] }], { axis: 0 })[0];
  const ones = g.addNode('Expand', [g.scalar(1, like.dtype), shapeT], [{ dtype: like.dtype, shape: [n, n] }])[0];
  return trilu(ones, false, -k);
}

/** int64 [0, 1, …, n−1] with n = `like`'s axis `axis` (constant when static). */
export function arange(like: Tensor, axis: number): Tensor {
  const g = like.graph;
  const n = like.shape[axis];
  if (typeof n === 'number') return g.constant(BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), 'int64', [n]);
  const nScalar = g.addNode('Squeeze', [sizeOf(like, axis), g.ints([0])], [{ dtype: 'int64', shape: [] }])[0];
  return g.addNode('Range', [g.constant([0n], 'int64', []), nScalar, g.constant([1n], 'int64', [])], [{ dtype: 'int64', shape: [n] }])[0];
}

/** Zeros of the given dims, where symbolic dims are read from `sources` (tensor, axis) pairs. */
export function zerosFrom(g: Graph, dtype: GraphFloat, dims: (number | [Tensor, number])[]): Tensor {
  const parts = dims.map((d) => (typeof d === 'number' ? g.ints([d]) : sizeOf(d[0], d[1])));
  const shapeT = g.addNode('Concat', parts, [{ dtype: 'int64', shape: [dims.length] }], { axis: 0 })[0];
  const staticDims = dims.map((d) => (typeof d === 'number' ? d : d[0].shape[d[1]]));
  return constantOfShape(shapeT, staticDims, dtype, 0);
}
