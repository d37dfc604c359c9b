import { SpecDecodeError } from './errors';
import type { Drafter, DraftProposal } from './types';

/** Counters of a fallback drafter. */
export interface FallbackDrafterStats {
  /** Rounds drafted by the primary drafter. */
  primary: number;
  /** Rounds drafted by the fallback (the primary proposed nothing). */
  fallback: number;
}

/** A drafter made of two; `stats` counts which one drafted each round. */
export interface FallbackDrafter extends Drafter {
  readonly stats: FallbackDrafterStats;
}

/**
 * Proposes what `primary` proposes, or, when it proposes nothing, what `fallback` proposes. The usual pairing is
 * prompt lookup first (free, long and usually right when the output repeats its context, as greedy loops and
 * quotes do) and a draft model otherwise; a `modelDrafter` fallback catches up on the rounds it skipped in one
 * forward of the tokens it missed. Both see the same context, k and sampling options, so greedy output stays the
 * target's and sampled output keeps its distribution (each proposal carries its own q).
 *
 * @example
 * const drafter = fallbackDrafter(ngramDrafter({ maxNgram: 4, minNgram: 3 }), modelDrafter(draftModel));
 * const done = await decodeAll(speculativeDecode(target, drafter, prompt, { k: 6, maxNewTokens: 128 }));
 * console.log(drafter.stats); // { primary: 12, fallback: 30 }
 */
export function fallbackDrafter(primary: Drafter, fallback: Drafter): FallbackDrafter {
  for (const [name, d] of [['primary', primary], ['fallback', fallback]] as const) {
    if (d === null || typeof d !== 'object' || typeof d.propose !== 'function') {
      throw new SpecDecodeError('BAD_OPTION', `fallbackDrafter ${name}: expected a drafter (an object with propose(context, k, opts))`);
    }
  }
  const stats: FallbackDrafterStats = { primary: 0, fallback: 0 };
  return {
    stats,
    async propose(context, k, opts): Promise<DraftProposal> {
      const first = await primary.propose(context, k, opts);
      if (first.tokens.length > 0) {
        stats.primary++;
        return first;
      }
      stats.fallback++;
      return fallback.propose(context, k, opts);
    },
  };
}
