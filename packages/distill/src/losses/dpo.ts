import { type Tensor, targetLogProbs, mul, neg, reduceMean, reduceSum, softplus, sub } from '@mil/graph';
import { validMask } from './token-logprobs';

/** Σ_t log p(target_t) over the response tokens (targets not -100), per sequence: [batch]. */
export function sequenceLogProb(logits: Tensor, targets: Tensor): Tensor {
  return reduceSum(mul(targetLogProbs(logits, targets), validMask(targets, logits.dtype)), [-1]);
}

/**
 * DPO with the sigmoid loss (Rafailov et al.; TRL's default, what the reference's stage 3 uses), mean over pairs:
 * −log σ(β[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))]).
 * Inputs are per-sequence summed log-probs [batch]; the reference ones are constants (a frozen model's).
 *
 * @example
 * const loss = dpoLoss(sequenceLogProb(logitsW, tW), sequenceLogProb(logitsL, tL), refW, refL, 0.1);
 */
export function dpoLoss(policyChosen: Tensor, policyRejected: Tensor, refChosen: Tensor, refRejected: Tensor, beta: number): Tensor {
  const margin = mul(sub(sub(policyChosen, refChosen), sub(policyRejected, refRejected)), beta);
  // −log σ(m) = softplus(−m)
  return reduceMean(softplus(neg(margin)));
}
