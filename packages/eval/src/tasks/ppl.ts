// Perplexity with a sliding window and a stride (the usual Hugging Face recipe): windows of `window` tokens start
// every `stride` tokens; each token is scored exactly once, by the first window that reaches it, with up to
// window − stride tokens of context (the first window scores everything after its first token).
import type { ScoreRequest, Scorer } from '../scorer';
import { EvalError } from '../eval-error';

export interface SlidingWindowOptions {
  /** Tokens per window (context + scored). */
  window: number;
  /** Tokens between window starts (≤ window). */
  stride: number;
}

export interface PplResult {
  /** Mean negative log-likelihood, nats per token. */
  nll: number;
  /** exp(nll). */
  ppl: number;
  /** Tokens scored. */
  tokens: number;
}

/**
 * The (context, continuation) requests of the sliding-window recipe over one token stream.
 *
 * @example
 * slidingWindowRequests([1, 5, 6, 7, 8], { window: 3, stride: 2 });
 * // [{ context: [1], continuation: [5, 6] }, { context: [6], continuation: [7, 8] }]
 */
export function slidingWindowRequests(tokens: readonly number[], o: SlidingWindowOptions): ScoreRequest[] {
  if (!(o.window >= 2 && o.stride >= 1 && o.stride <= o.window))
    throw new EvalError('BAD_OPTION', `ppl: need window ≥ 2 and 1 ≤ stride ≤ window (got window ${o.window}, stride ${o.stride})`);
  const out: ScoreRequest[] = [];
  let prevEnd = 1; // token 0 is never scored
  for (let begin = 0; prevEnd < tokens.length; begin += o.stride) {
    const end = Math.min(begin + o.window, tokens.length);
    if (end <= prevEnd) continue;
    const from = Math.max(prevEnd, begin + 1);
    out.push({ context: tokens.slice(begin, from), continuation: tokens.slice(from, end) });
    prevEnd = end;
  }
  return out;
}

/**
 * Sliding-window perplexity of each stream (documents are scored separately and pooled per token).
 *
 * @example
 * const scorer = await batchScorer(model, { maxPositions: 256 });
 * const r = await slidingWindowPerplexity(scorer, [tokens], { window: 256, stride: 128 }); // { nll, ppl, tokens }
 */
export async function slidingWindowPerplexity(
  scorer: Scorer, streams: readonly (readonly number[])[], o: SlidingWindowOptions, onProgress?: (done: number, total: number) => void,
): Promise<PplResult> {
  const requests = streams.flatMap((s) => slidingWindowRequests(s, o));
  const res = await scorer.score(requests, onProgress);
  let lp = 0;
  let n = 0;
  for (const r of res) {
    lp += r.logProb;
    n += r.tokens;
  }
  const nll = -lp / Math.max(n, 1);
  return { nll, ppl: Math.exp(nll), tokens: n };
}
