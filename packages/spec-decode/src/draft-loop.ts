// What every model drafter does once its model is in sync with the accepted context: draft up to `budget` tokens
// from the model's rows (argmax, or sampled from the processed distribution with q kept for the accept test),
// feeding each drafted token back before the next, and stopping early after an unsure token (adaptive K).
import type { Rng } from '@mil/core';
import { throwIfAborted } from './errors';
import { argmax, isSampling, processedDistribution, sampleFromProbs } from './sampling';
import type { DraftProposal, SamplingOptions } from './types';

/** Length of the longest common prefix of two token lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** softmax(row)[best] at temperature 1, where `best` is the row's argmax. */
function topProbability(row: ArrayLike<number>, best: number): number {
  const m = row[best];
  let z = 0;
  for (let j = 0; j < row.length; j++) z += Math.exp(row[j] - m);
  return 1 / z;
}

/** How one round drafts: the model's current row, how to feed a drafted token, and the round's settings. */
export interface DraftLoop {
  budget: number;
  /** Logits predicting the next token, after everything fed so far. */
  row(): ArrayLike<number>;
  /** Feeds a drafted token to the model (then `row()` predicts the one after it). */
  feed(token: number): Promise<void>;
  sampling: SamplingOptions;
  rng: Rng;
  signal?: AbortSignal;
  /** Stop after a token whose probability under the draft is below this (0: never). */
  minConfidence?: number;
  /** The drafter's name, for the abort error. */
  who: string;
}

/**
 * Drafts one round. `stoppedEarly` is true when `minConfidence` ended it before `budget` tokens.
 *
 * @example
 * const { tokens, probs } = await draftTokens({ budget: k, row: () => last, feed: step, sampling, rng, who: 'myDrafter' });
 */
export async function draftTokens(o: DraftLoop): Promise<DraftProposal & { stoppedEarly: boolean }> {
  const minConfidence = o.minConfidence ?? 0;
  const sampled = isSampling(o.sampling);
  const tokens: number[] = [];
  const probs: (Float32Array | null)[] = [];
  for (let i = 0; i < o.budget; i++) {
    if (i > 0) {
      throwIfAborted(o.signal, o.who);
      await o.feed(tokens[i - 1]);
    }
    const row = o.row();
    let confidence: number;
    if (sampled) {
      const q = Float32Array.from(processedDistribution(row, o.sampling));
      const t = sampleFromProbs(q, o.rng);
      tokens.push(t);
      probs.push(q);
      confidence = q[t];
    } else {
      const t = argmax(row);
      tokens.push(t);
      probs.push(null);
      confidence = minConfidence > 0 ? topProbability(row, t) : 1;
    }
    if (confidence < minConfidence && i < o.budget - 1) return { tokens, probs, stoppedEarly: true };
  }
  return { tokens, probs, stoppedEarly: false };
}
