import type { DType } from '../onnx/model-spec';
import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { broadcastShapes, formatShape } from '../shape';

export type TensorLike = Tensor | number;

/** Turns numbers into scalar constants of the other operand's dtype. */
export function lift(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, a.graph.scalar(b as number, a.dtype)];
  if (b instanceof Tensor) return [b.graph.scalar(a as number, b.dtype), b];
  throw new GraphError('BAD_OPTION', `${op}: at least one operand must be a tensor`);
}

export function sameDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts)
    if (t.dtype !== d)
      throw new GraphError('DTYPE_MISMATCH', `${op}: dtypes differ (${ts.map((x) => `${x.name}: ${x.dtype}`).join(', ')})`);
  return d;
}

export function requireRank(op: string, t: Tensor, min: number, max = Infinity): void {
  if (t.rank < min || t.rank > max)
    throw new GraphError('SHAPE_MISMATCH', `${op}: ${t.name} has shape ${formatShape(t.shape)}; rank ${min}${max === Infinity ? '+' : max === min ? '' : `..${max}`} expected`);
}

export function binaryNode(op: string, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const [x, y] = lift(a, b, op);
  const dtype = sameDtype(op, x, y);
  const shape = broadcastShapes(x.shape, y.shape, `${op}(${x.name}, ${y.name})`);
  return x.graph.addNode(op, [x, y], [{ dtype: outDtype ?? dtype, shape }])[0];
}

export function unaryNode(op: string, x: Tensor, attrs: Record<string, number | undefined> = {}): Tensor {
  return x.graph.addNode(op, [x], [{ dtype: x.dtype, shape: [...x.shape] }], attrs)[0];
}
