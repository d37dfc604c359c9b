import { SpecDecodeError, throwIfAborted } from './errors';
import type { Drafter, DraftProposal } from './types';

/** Options of `ngramDrafter`. */
export interface NgramDrafterOptions {
  /** Longest n-gram to look up (tried first). Default 3. */
  maxNgram?: number;
  /** Shortest n-gram to fall back to. Default 1. */
  minNgram?: number;
  /** Search only the last `maxLookback` tokens of the context for a match. Default: the whole context. */
  maxLookback?: number;
}

/**
 * Where `ngramDrafter` would copy from: the start of the tokens that followed the latest earlier occurrence of the
 * context's last n-gram (longest n first), or -1 when none of the n-grams occurs earlier.
 *
 * @example
 * lookupContinuation([5, 6, 7, 1, 5, 6], { maxNgram: 2 }); // 2 (the context continues with 7, 1, …)
 */
export function lookupContinuation(context: readonly number[], options: NgramDrafterOptions = {}): number {
  const { maxNgram, minNgram, maxLookback } = resolveNgram(options);
  const L = context.length;
  const lowest = Math.max(0, L - maxLookback);
  for (let n = Math.min(maxNgram, L - 1); n >= minNgram; n--) {
    // an occurrence at j must end before the context's last token, so that at least one token follows it
    for (let j = L - n - 1; j >= lowest; j--) {
      let m = 0;
      while (m < n && context[j + m] === context[L - n + m]) m++;
      if (m === n) return j + n;
    }
  }
  return -1;
}

function resolveNgram(options: NgramDrafterOptions): Required<NgramDrafterOptions> {
  const maxNgram = options.maxNgram ?? 3;
  const minNgram = options.minNgram ?? 1;
  const maxLookback = options.maxLookback ?? Infinity;
  if (!Number.isInteger(minNgram) || minNgram < 1) {
    throw new SpecDecodeError('BAD_OPTION', `ngramDrafter minNgram: expected an integer >= 1, got ${minNgram}`);
  }
  if (!Number.isInteger(maxNgram) || maxNgram < minNgram) {
    throw new SpecDecodeError('BAD_OPTION', `ngramDrafter maxNgram: expected an integer >= minNgram (${minNgram}), got ${maxNgram}`);
  }
  if (!(maxLookback >= 1) || (maxLookback !== Infinity && !Number.isInteger(maxLookback))) {
    throw new SpecDecodeError('BAD_OPTION', `ngramDrafter maxLookback: expected an integer >= 1, got ${maxLookback}`);
  }
  return { maxNgram, minNgram, maxLookback };
}

/**
 * Prompt-lookup decoding: needs no model. It finds the latest earlier occurrence of the context's last n-gram
 * (n from `maxNgram` down to `minNgram`) and proposes up to k of the tokens that followed it, as deterministic
 * proposals (`probs` null: q is one-hot, so sampling stays exact). No match: no proposal (a plain step).
 *
 * @example
 * const drafter = ngramDrafter({ maxNgram: 3, minNgram: 1 });
 * await drafter.propose([5, 6, 7, 1, 5, 6], 3, { sampling: {}, rng: createRng(0) }); // { tokens: [7, 1, 5], probs: [null, null, null] }
 */
export function ngramDrafter(options: NgramDrafterOptions = {}): Drafter {
  const resolved = resolveNgram(options);
  return {
    async propose(context, k, { signal }): Promise<DraftProposal> {
      throwIfAborted(signal, 'ngramDrafter');
      const from = lookupContinuation(context, resolved);
      if (from < 0 || k <= 0) return { tokens: [], probs: [] };
      const tokens = context.slice(from, Math.min(from + k, context.length));
      return { tokens, probs: tokens.map(() => null) };
    },
  };
}
