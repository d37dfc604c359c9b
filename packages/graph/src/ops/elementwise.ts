import type { DType } from '../onnx/model-spec';
import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { broadcastShapes } from '../shape';
import { binaryNode, unaryNode, lift, sameDtype, type TensorLike } from './common';

/** a + b with broadcasting. Numbers become scalars of the tensor's dtype. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Div', a, b);
/** a ** b (elementwise). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Pow', a, b);
/** Elementwise maximum / minimum of two tensors. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Max', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Min', a, b);
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Equal', a, b, 'bool');
export const less = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Less', a, b, 'bool');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryNode('Greater', a, b, 'bool');

export const neg = (x: Tensor): Tensor => unaryNode('Neg', x);
export const exp = (x: Tensor): Tensor => unaryNode('Exp', x);
export const log = (x: Tensor): Tensor => unaryNode('Log', x);
export const sqrt = (x: Tensor): Tensor => unaryNode('Sqrt', x);
export const reciprocal = (x: Tensor): Tensor => unaryNode('Reciprocal', x);
export const sigmoid = (x: Tensor): Tensor => unaryNode('Sigmoid', x);
export const tanh = (x: Tensor): Tensor => unaryNode('Tanh', x);
export const abs = (x: Tensor): Tensor => unaryNode('Abs', x);
export const relu = (x: Tensor): Tensor => unaryNode('Relu', x);
export const identity = (x: Tensor): Tensor => unaryNode('Identity', x);

/**
 * softplus(x) = log(1 + exp(x)), returning x itself above `threshold` (torch/Mamba semantics, threshold 20).
 * Built from Where + Exp + Log1p-style ops rather than ONNX Softplus, which has no threshold and overflows.
 */
export function softplus(x: Tensor, threshold = 20): Tensor {
  const g = x.graph;
  const big = greater(x, threshold);
  const safe = where(big, g.scalar(0, x.dtype), x);
  const sp = log(add(exp(safe), 1));
  return where(big, x, sp);
}

/** ONNX Softplus (no threshold): log(exp(x) + 1). */
export const softplusOnnx = (x: Tensor): Tensor => unaryNode('Softplus', x);

/** silu(x) = x · sigmoid(x). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/** where(cond, a, b) with broadcasting over all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (cond.dtype !== 'bool') throw new GraphError('DTYPE_MISMATCH', `Where: condition ${cond.name} must be bool, got ${cond.dtype}`);
  const [x, y] = lift(a, b, 'Where');
  const dtype = sameDtype('Where', x, y);
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape, 'Where'), y.shape, 'Where');
  return cond.graph.addNode('Where', [cond, x, y], [{ dtype, shape }])[0];
}

/** Converts to another dtype. */
export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const code = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[to as string];
  if (code === undefined) throw new GraphError('BAD_OPTION', `Cast: unsupported target dtype ${to}`);
  return x.graph.addNode('Cast', [x], [{ dtype: to, shape: [...x.shape] }], { to: code })[0];
}
