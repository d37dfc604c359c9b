import type { Dim, DType } from '../onnx/model-spec';
import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { broadcastShapes, dimProduct, dimQuotient, formatShape, normAxis } from '../shape';
import { requireRank } from './common';
import { typedArrayFrom } from '../dtypes';

/**
 * Reshape. Dims may be numbers, symbolic names known to the graph (resolved at run time), 0 (copy the input's dim)
 * or -1 (inferred).
 */
export function reshape(x: Tensor, dims: readonly Dim[]): Tensor {
  const g = x.graph;
  const out: Dim[] = dims.map((d, i) => (d === 0 ? x.shape[i] : d));
  const minus = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new GraphError('BAD_OPTION', `Reshape(${x.name}): more than one -1 in ${formatShape(dims)}`);
  if (minus >= 0) {
    const q = dimQuotient(x.shape, out.filter((d, i) => i !== minus));
    out[minus] = q ?? g.uniqueName('dim');
  } else {
    const a = dimProduct(x.shape);
    const b = dimProduct(out);
    if (typeof a === 'number' && typeof b === 'number' && a !== b)
      throw new GraphError('SHAPE_MISMATCH', `Reshape(${x.name}): ${formatShape(x.shape)} has ${a} elements, target ${formatShape(dims)} has ${b}`);
  }
  // Run-time shape: numbers and 0/-1 stay literal; symbolic names are looked up.
  const shapeT = g.shapeTensor(dims);
  return g.addNode('Reshape', [x, shapeT], [{ dtype: x.dtype, shape: out }])[0];
}

/** Permutes axes (reverses them when `perm` is omitted). */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== p.length || p.some((a) => a < 0 || a >= x.rank))
    throw new GraphError('BAD_OPTION', `Transpose(${x.name}): perm [${p}] is not a permutation of rank ${x.rank}`);
  return x.graph.addNode('Transpose', [x], [{ dtype: x.dtype, shape: p.map((a) => x.shape[a]) }], { perm: p })[0];
}

/** Concatenates along `axis`. */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new GraphError('BAD_OPTION', 'Concat: no inputs');
  const r = xs[0].rank;
  const a = normAxis(axis, r, 'Concat');
  const shape = [...xs[0].shape];
  const parts: Dim[] = [];
  for (const t of xs) {
    if (t.rank !== r || t.dtype !== xs[0].dtype)
      throw new GraphError('SHAPE_MISMATCH', `Concat: ${t.name} ${t.dtype}${formatShape(t.shape)} does not match ${xs[0].dtype}${formatShape(xs[0].shape)}`);
    t.shape.forEach((d, i) => {
      if (i !== a && typeof d === 'number' && typeof shape[i] === 'number' && d !== shape[i])
        throw new GraphError('SHAPE_MISMATCH', `Concat axis ${a}: ${t.name} ${formatShape(t.shape)} vs ${formatShape(xs[0].shape)} at axis ${i}`);
    });
    parts.push(t.shape[a]);
  }
  shape[a] = parts.every((d) => typeof d === 'number') ? (parts as number[]).reduce((s, d) => s + d, 0) : parts.join('+');
  return xs[0].graph.addNode('Concat', xs, [{ dtype: xs[0].dtype, shape }], { axis: a })[0];
}

function sliceDim(d: Dim, start: number, end: number, step: number): Dim {
  if (typeof d !== 'number') {
    if (step === 1 && start === 0 && end >= Number.MAX_SAFE_INTEGER) return d;
    if (step === 1 && start >= 0 && end >= Number.MAX_SAFE_INTEGER) return `${d}-${start}`;
    if (step === 1 && start >= 0 && end >= 0 && end < Number.MAX_SAFE_INTEGER) return end - start; // assumes d ≥ end
    return `${d}_sliced`;
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(start < 0 ? start + d : start, 0, d);
    const e = clamp(end < 0 ? end + d : end, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + d : start, -1, d - 1);
  const e = clamp(end < 0 ? end + d : end, -1, d - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

/** The "to the end" sentinel for slice ends. */
export const END = Number.MAX_SAFE_INTEGER;

/** Slice with static starts/ends (numpy semantics; use END for "to the end"). */
export function slice(x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]): Tensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.rank, `Slice(${x.name})`));
  const st = steps ?? starts.map(() => 1);
  if (ends.length !== starts.length || ax.length !== starts.length || st.length !== starts.length)
    throw new GraphError('BAD_OPTION', `Slice(${x.name}): starts/ends/axes/steps lengths differ`);
  const shape = [...x.shape];
  ax.forEach((a, i) => (shape[a] = sliceDim(x.shape[a], starts[i], ends[i], st[i])));
  const g = x.graph;
  const big = (v: number) => (v >= END ? BigInt('9223372036854775807') : BigInt(v));
  return g.addNode(
    'Slice',
    [x, g.constant(starts.map(big), 'int64', [starts.length]), g.constant(ends.map(big), 'int64', [ends.length]), g.ints(ax), g.ints(st)],
    [{ dtype: x.dtype, shape }],
  )[0];
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(x: Tensor, sizes: number[], axis: number): Tensor[] {
  const a = normAxis(axis, x.rank, `Split(${x.name})`);
  const d = x.shape[a];
  const total = sizes.reduce((s, v) => s + v, 0);
  if (typeof d === 'number' && d !== total)
    throw new GraphError('SHAPE_MISMATCH', `Split(${x.name}): sizes [${sizes}] sum to ${total}, axis ${a} has ${d}`);
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { dtype: x.dtype, shape };
  });
  return x.graph.addNode('Split', [x, x.graph.ints(sizes)], outs, { axis: a });
}

/** Gathers slices of `data` along `axis` by integer `indices` (embedding lookup with axis 0). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32')
    throw new GraphError('DTYPE_MISMATCH', `Gather(${data.name}): indices ${indices.name} must be int64 or int32, got ${indices.dtype}`);
  const a = normAxis(axis, data.rank, `Gather(${data.name})`);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: a })[0];
}

/** Broadcasts to `dims` (may include symbolic names). */
export function expand(x: Tensor, dims: readonly Dim[]): Tensor {
  const shape = broadcastShapes(x.shape, dims, `Expand(${x.name})`);
  return x.graph.addNode('Expand', [x, x.graph.shapeTensor(dims)], [{ dtype: x.dtype, shape }])[0];
}

/** Inserts size-1 axes (positions in the output). */
export function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const r = x.rank + axes.length;
  const ax = axes.map((a) => normAxis(a, r, `Unsqueeze(${x.name})`)).sort((p, q) => p - q);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
  return x.graph.addNode('Unsqueeze', [x, x.graph.ints(ax)], [{ dtype: x.dtype, shape }])[0];
}

/** Removes size-1 axes. */
export function squeeze(x: Tensor, axes: number[]): Tensor {
  const ax = axes.map((a) => normAxis(a, x.rank, `Squeeze(${x.name})`));
  for (const a of ax)
    if (typeof x.shape[a] === 'number' && x.shape[a] !== 1)
      throw new GraphError('SHAPE_MISMATCH', `Squeeze(${x.name}): axis ${a} has size ${x.shape[a]}, not 1`);
  const shape = x.shape.filter((_, i) => !ax.includes(i));
  return x.graph.addNode('Squeeze', [x, x.graph.ints(ax)], [{ dtype: x.dtype, shape }])[0];
}

/** Lower (upper=false) or upper triangle of the last two axes, offset by diagonal k. */
export function trilu(x: Tensor, upper: boolean, k = 0): Tensor {
  requireRank('Trilu', x, 2);
  return x.graph.addNode('Trilu', [x, x.graph.constant([BigInt(k)], 'int64', [])], [{ dtype: x.dtype, shape: [...x.shape] }], {
    upper: upper ? 1 : 0,
  })[0];
}

/** Constant-pads: `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}] (ONNX order). */
export function pad(x: Tensor, pads: number[], value = 0): Tensor {
  if (pads.length !== 2 * x.rank) throw new GraphError('BAD_OPTION', `Pad(${x.name}): ${pads.length} pads for rank ${x.rank}`);
  const shape = x.shape.map((d, i) => {
    const extra = pads[i] + pads[i + x.rank];
    if (extra === 0) return d;
    return typeof d === 'number' ? d + extra : `${d}+${extra}`;
  });
  const g = x.graph;
  return g.addNode('Pad', [x, g.ints(pads), g.scalar(value, x.dtype)], [{ dtype: x.dtype, shape }], { mode: 'constant' })[0];
}

/** Run-time shape as an int64 1-D tensor. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0];
}

/** Tensor of `value` with the run-time shape `shape` (an int64 1-D tensor) and static shape `dims`. */
export function constantOfShape(shape: Tensor, dims: readonly Dim[], dtype: DType, value = 0): Tensor {
  const data = typedArrayFrom(dtype, [value]);
  const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return shape.graph.addNode('ConstantOfShape', [shape], [{ dtype, shape: [...dims] }], {
    value: { type: 'tensor', value: { name: 'value', dtype, dims: [1], rawData } },
  })[0];
}

/** Zeros shaped like `x`. */
export function zerosLike(x: Tensor): Tensor {
  return constantOfShape(shapeOf(x), x.shape, x.dtype, 0);
}
