export { crossEntropy } from './cross-entropy';
export { forwardKl, reverseKl, klPlusCe, type KlOptions } from './kl';
export { dpoLoss, sequenceLogProb } from './dpo';
export { IGNORE_INDEX, validMask } from './token-logprobs';
