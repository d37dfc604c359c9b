import type { Dim } from '../onnx/model-spec';
import { Tensor } from '../tensor';
import { reduceSum } from '../ops/reduce';
import { reshape } from '../ops/shape-ops';

/** Sums `grad` over the axes that broadcasting expanded, so that it has `target`'s shape. */
export function unbroadcast(grad: Tensor, target: readonly Dim[]): Tensor {
  const lead = grad.rank - target.length;
  let g = grad;
  if (lead > 0) g = reduceSum(g, Array.from({ length: lead }, (_, i) => i), false);
  const axes: number[] = [];
  target.forEach((d, i) => {
    if (d === 1 && g.shape[i] !== 1) axes.push(i);
  });
  if (axes.length) g = reduceSum(g, axes, true);
  if (g.shape.length !== target.length) g = reshape(g, target);
  return g;
}
