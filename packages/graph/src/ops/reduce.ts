import { Tensor } from '../tensor';
import { normAxis } from '../shape';
import type { Dim } from '../onnx/model-spec';

function reduceShape(x: Tensor, axes: number[], keepdims: boolean): Dim[] {
  const set = new Set(axes);
  const out: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function reduce(op: string, x: Tensor, axes: number[] | undefined, keepdims: boolean): Tensor {
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.rank, `${op}(${x.name})`));
  return x.graph.addNode(op, [x, x.graph.ints(ax)], [{ dtype: x.dtype, shape: reduceShape(x, ax, keepdims) }], {
    keepdims: keepdims ? 1 : 0,
  })[0];
}

/** Sum over `axes` (all axes when omitted). */
export const reduceSum = (x: Tensor, axes?: number[], keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes?: number[], keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Tensor, axes?: number[], keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);

/** Softmax along one axis. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return x.graph.addNode('Softmax', [x], [{ dtype: x.dtype, shape: [...x.shape] }], { axis: normAxis(axis, x.rank, 'Softmax') })[0];
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.graph.addNode('LogSoftmax', [x], [{ dtype: x.dtype, shape: [...x.shape] }], {
    axis: normAxis(axis, x.rank, 'LogSoftmax'),
  })[0];
}

/** Cumulative sum along `axis`; `exclusive` drops the current element, `reverse` sums from the end. */
export function cumsum(x: Tensor, axis: number, opts: { exclusive?: boolean; reverse?: boolean } = {}): Tensor {
  const a = normAxis(axis, x.rank, 'CumSum');
  return x.graph.addNode('CumSum', [x, x.graph.constant([BigInt(a)], 'int64', [])], [{ dtype: x.dtype, shape: [...x.shape] }], {
    exclusive: opts.exclusive ? 1 : 0,
    reverse: opts.reverse ? 1 : 0,
  })[0];
}
