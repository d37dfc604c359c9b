import { type Tensor, cast, equal, logSoftmax, mul, reduceSum, unsqueeze } from '@mil/graph';

/** The ignore index of Hugging Face's causal-LM loss: targets equal to it count for nothing. */
export const IGNORE_INDEX = -100;

/** One-hot [.., V] (logits' dtype) of integer `targets` [..]; ignored targets give an all-zero row. */
export function oneHot(targets: Tensor, logits: Tensor): Tensor {
  const g = logits.graph;
  const v = logits.shape[logits.rank - 1] as number;
  const arange = g.constant(BigInt64Array.from({ length: v }, (_, i) => BigInt(i)), 'int64', [v]);
  return cast(equal(unsqueeze(targets, [-1]), arange), logits.dtype);
}

/** log p(target) per position, [..]: 0 where the target is ignored. */
export function targetLogProbs(logits: Tensor, targets: Tensor): Tensor {
  return reduceSum(mul(logSoftmax(logits, -1), oneHot(targets, logits)), [-1], false);
}

/** 1 where the target counts, 0 where it equals IGNORE_INDEX (logits' dtype), shaped like `targets`. */
export function validMask(targets: Tensor, dtype: Tensor['dtype']): Tensor {
  const g = targets.graph;
  const ignored = cast(equal(targets, g.scalar(IGNORE_INDEX, 'int64')), dtype);
  return g.addNode('Sub', [g.scalar(1, dtype), ignored], [{ dtype, shape: [...targets.shape] }])[0];
}
