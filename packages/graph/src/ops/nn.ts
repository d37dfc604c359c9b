import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { formatShape } from '../shape';
import { requireRank, sameDtype } from './common';
import type { Dim } from '../onnx/model-spec';
import { cast, equal, mul } from './elementwise';
import { logSoftmax, reduceSum } from './reduce';
import { unsqueeze } from './shape-ops';

export interface Conv1dOptions {
  /** Channel groups (= channels for depthwise). */
  group?: number;
  /** [begin, end] zero padding of the length axis. */
  pads?: [number, number];
}

/** 1-D convolution (ONNX Conv): x [N, C_in, L], w [C_out, C_in/group, K], optional bias [C_out]. Stride 1, dilation 1. */
export function conv1d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  requireRank('Conv', x, 3, 3);
  requireRank('Conv', w, 3, 3);
  const dtype = sameDtype('Conv', x, w, ...(bias ? [bias] : []));
  const group = opts.group ?? 1;
  const [pb, pe] = opts.pads ?? [0, 0];
  const cin = x.shape[1];
  const k = w.shape[2];
  if (typeof cin === 'number' && typeof w.shape[1] === 'number' && cin !== (w.shape[1] as number) * group)
    throw new GraphError('SHAPE_MISMATCH', `Conv(${x.name}, ${w.name}): input channels ${cin} ≠ ${w.shape[1]}×group ${group} (weight ${formatShape(w.shape)})`);
  if (typeof k !== 'number') throw new GraphError('SHAPE_MISMATCH', `Conv: kernel size of ${w.name} must be static`);
  const len = x.shape[2];
  const outLen: Dim = typeof len === 'number' ? len + pb + pe - k + 1 : pb + pe - k + 1 === 0 ? len : `${len}${pb + pe - k + 1 >= 0 ? '+' : ''}${pb + pe - k + 1}`;
  return x.graph.addNode('Conv', [x, w, bias], [{ dtype, shape: [x.shape[0], w.shape[0], outLen] }], {
    group,
    pads: [pb, pe],
    kernel_shape: [k],
    strides: [1],
    dilations: [1],
  })[0];
}

/** Transposed 1-D convolution (gradient of conv1d with respect to its input). */
export function convTranspose1d(x: Tensor, w: Tensor, opts: Conv1dOptions & { outLength: Dim }): Tensor {
  const group = opts.group ?? 1;
  const [pb, pe] = opts.pads ?? [0, 0];
  const cout = typeof w.shape[1] === 'number' ? (w.shape[1] as number) * group : w.shape[1];
  return x.graph.addNode('ConvTranspose', [x, w], [{ dtype: x.dtype, shape: [x.shape[0], cout, opts.outLength] }], {
    group,
    pads: [pb, pe],
    kernel_shape: [w.shape[2] as number],
    strides: [1],
    dilations: [1],
  })[0];
}

/** ScatterND with reduction 'add' into `data` (used for the gradient of Gather). */
export function scatterNDAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return data.graph.addNode('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: [...data.shape] }], { reduction: 'add' })[0];
}

/** One-hot encoding [..., depth] in `dtype` of integer `indices`; out-of-range indices (e.g. -100) give all zeros. */
export function oneHot(indices: Tensor, depth: number, dtype: Tensor['dtype']): Tensor {
  const g = indices.graph;
  const arange = g.constant(BigInt64Array.from({ length: depth }, (_, i) => BigInt(i)), 'int64', [depth]);
  const idx = indices.dtype === 'int64' ? indices : cast(indices, 'int64');
  return cast(equal(unsqueeze(idx, [-1]), arange), dtype);
}

/** log p(target) per position of `logits` [..., V]: Σ_v logSoftmax(logits) · onehot(target); 0 for out-of-range targets. */
export function targetLogProbs(logits: Tensor, targets: Tensor): Tensor {
  const v = logits.shape[logits.rank - 1] as number;
  return reduceSum(mul(logSoftmax(logits, -1), oneHot(targets, v, logits.dtype)), [-1], false);
}

/** ONNX GatherElements: out[i][j][k] = data[…index along `axis` from `indices`…]; indices shaped like the output. */
export function gatherElements(data: Tensor, indices: Tensor, axis = -1): Tensor {
  const a = axis < 0 ? axis + data.rank : axis;
  if (indices.rank !== data.rank) throw new GraphError('SHAPE_MISMATCH', `GatherElements(${data.name}): indices ${indices.name} must have rank ${data.rank}`);
  return data.graph.addNode('GatherElements', [data, indices], [{ dtype: data.dtype, shape: [...indices.shape] }], { axis: a })[0];
}

/** ONNX ScatterElements with reduction 'add' (the gradient of GatherElements). */
export function scatterElementsAdd(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  return data.graph.addNode('ScatterElements', [data, indices, updates], [{ dtype: data.dtype, shape: [...data.shape] }], { axis, reduction: 'add' })[0];
}
