import { SpecDecodeError, throwIfAborted } from './errors';
import { commonPrefix, draftTokens } from './draft-loop';
import type { Drafter, DraftProposal } from './types';

/**
 * The smallest stateful stepper: `prefill` resets and runs a prompt, `decode` appends one token; both resolve to
 * the logits predicting the next token. (The shape of `StepModel` in @mil/models, matched structurally.)
 */
export interface StepLike {
  prefill(ids: readonly number[]): Promise<ArrayLike<number>>;
  decode(id: number): Promise<ArrayLike<number>>;
}

/** Counters of a step-model drafter. */
export interface StepModelDrafterStats {
  /** Full re-prefills (first use, or after a rejection: a stepper cannot roll back). */
  prefills: number;
  /** Single-token decode calls. */
  decodes: number;
}

/**
 * A drafter over any model that can only prefill and step forward (no truncate, no snapshot): it extends its
 * state while the accepted context extends what it fed, and re-prefills the whole context after a rejection.
 * Correct for any stepper; fast only while most rounds accept everything (else prefer `modelDrafter`).
 *
 * @example
 * const drafter = stepModelDrafter(smallSession); // { prefill(ids), decode(id) }
 * const done = await decodeAll(speculativeDecode(target, drafter, prompt, { k: 3, maxNewTokens: 64 }));
 */
export function stepModelDrafter(model: StepLike): Drafter & { readonly stats: StepModelDrafterStats } {
  if (model === null || typeof model !== 'object' || typeof model.prefill !== 'function' || typeof model.decode !== 'function') {
    throw new SpecDecodeError('BAD_OPTION', 'stepModelDrafter: expected a model with prefill(ids) and decode(id)');
  }
  const stats: StepModelDrafterStats = { prefills: 0, decodes: 0 };
  let fed: number[] = [];
  let last: ArrayLike<number> | null = null;

  const decodeOne = async (id: number): Promise<void> => {
    last = Float32Array.from(await model.decode(id)); // copied: a session may reuse its output buffer
    fed.push(id);
    stats.decodes++;
  };

  return {
    stats,
    async propose(context, k, { sampling, rng, signal }): Promise<DraftProposal> {
      if (k <= 0 || context.length === 0) return { tokens: [], probs: [] };
      throwIfAborted(signal, 'stepModelDrafter');
      const common = commonPrefix(fed, context);
      if (last !== null && common === fed.length) {
        for (const id of context.slice(fed.length)) await decodeOne(id);
      } else {
        last = Float32Array.from(await model.prefill(context));
        fed = [...context];
        stats.prefills++;
      }
      const { tokens, probs } = await draftTokens({ budget: k, row: () => last!, feed: decodeOne, sampling, rng, signal, who: 'stepModelDrafter' });
      return { tokens, probs };
    },
  };
}
