import { ModelsError } from '../errors';
import type { Rng } from '@mil/core';

/**
 * Softmax in float64; `-Infinity` logits get probability 0.
 *
 * @example
 * softmax([0, Math.log(3)]); // Float64Array [0.25, 0.75]
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (Number.isNaN(x)) throw new ModelsError('BAD_LOGITS', `logits[${i}] is NaN`);
    if (x > max) max = x;
  }
  if (max === -Infinity) throw new ModelsError('BAD_LOGITS', 'every logit is -Infinity: nothing can be chosen');
  if (max === Infinity) throw new ModelsError('BAD_LOGITS', 'a logit is +Infinity');
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp(logits[i] - max);
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

/**
 * Index of the largest logit (the first one on ties, like `torch.argmax`).
 *
 * @example
 * argmax([0.1, 2, 2, -1]); // 1
 */
export function argmax(logits: ArrayLike<number>): number {
  if (logits.length === 0) throw new ModelsError('BAD_LOGITS', 'argmax: logits are empty');
  let best = 0;
  for (let i = 1; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) throw new ModelsError('BAD_LOGITS', `logits[${i}] is NaN`);
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

/**
 * Draws one index from `softmax(logits)` by inverse CDF with one `rng()` draw; `-Infinity` entries are never drawn.
 *
 * @example
 * const rng = createRng(3);
 * sampleFromLogits(topK([1, 2, 3], 2), rng); // 1 or 2
 */
export function sampleFromLogits(logits: ArrayLike<number>, rng: Rng): number {
  return sampleFromProbs(softmax(logits), rng);
}

/**
 * Draws one index from a probability vector (non-negative, summing to ~1) by inverse CDF.
 *
 * @example
 * sampleFromProbs(new Float64Array([0, 1, 0]), createRng(1)); // 1
 */
export function sampleFromProbs(probs: ArrayLike<number>, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  if (!(total > 0) || !Number.isFinite(total)) {
    throw new ModelsError('BAD_LOGITS', `sampleFromProbs: probabilities sum to ${total}`);
  }
  const u = rng() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // u landed past the rounded total: take the last token with mass
}
