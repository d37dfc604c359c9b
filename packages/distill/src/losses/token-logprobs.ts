import { type Tensor, cast, equal } from '@mil/graph';

/** The ignore index of Hugging Face's causal-LM loss: targets equal to it count for nothing. */
export const IGNORE_INDEX = -100;

/** 1 where the target counts, 0 where it equals IGNORE_INDEX (in `dtype`), shaped like `targets`. */
export function validMask(targets: Tensor, dtype: Tensor['dtype']): Tensor {
  const g = targets.graph;
  const ignored = cast(equal(targets, g.scalar(IGNORE_INDEX, 'int64')), dtype);
  return g.addNode('Sub', [g.scalar(1, dtype), ignored], [{ dtype, shape: [...targets.shape] }])[0];
}
