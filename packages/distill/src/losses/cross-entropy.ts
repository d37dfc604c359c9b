import { type Tensor, targetLogProbs, div, maximum, mul, neg, reduceSum } from '@mil/graph';
import { validMask } from './token-logprobs';

/**
 * Token-level cross-entropy, mean over the targets that are not IGNORE_INDEX (-100), like HF's causal-LM loss.
 * `targets` are already aligned with `logits` (position t predicts targets[t]).
 *
 * @example
 * const loss = crossEntropy(logits, g.input('targets', 'int64', ['batch', 'seq']));
 */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  const mask = validMask(targets, logits.dtype);
  const nll = neg(reduceSum(mul(targetLogProbs(logits, targets), mask)));
  return div(nll, maximum(reduceSum(mask), 1));
}
