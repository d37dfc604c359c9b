import { SpecDecodeError, throwIfAborted } from './errors';
import { commonPrefix, draftTokens } from './draft-loop';
import type { DraftModel, Drafter, DraftProposal } from './types';

/** Options of `modelDrafter`. */
export interface ModelDrafterOptions {
  /** The most tokens the draft model may hold; rounds near it draft fewer tokens. Default: unbounded. */
  maxLength?: number;
  /**
   * Adaptive K: stop a round's drafting after a token the draft itself is unsure of — its probability under the
   * draft is below this (greedy: the softmax maximum at temperature 1; sampling: q of the sampled token). That token
   * is still proposed, the ones after it are not drafted (saving their draft steps and verify width). In [0, 1);
   * default 0 (off: always k tokens). Greedy output stays the target's and sampling stays exact: the stopping rule
   * looks only at the draft.
   */
  minConfidence?: number;
}

/** Counters of a model drafter (how it kept in sync with the accepted context). */
export interface ModelDrafterStats {
  /** Draft-model `forward` calls (sync and draft steps; `prefill` calls not counted). */
  forwards: number;
  /** Tokens fed to the draft model. */
  fedTokens: number;
  /** Rollbacks done by `truncate`. */
  truncations: number;
  /** Rollbacks done by `restore` of the snapshot taken at the last synced point (then re-feeding). */
  restores: number;
  /** Rollbacks that had to reset and re-feed the whole context (no usable truncate or snapshot). */
  resets: number;
  /** Rounds that drafted fewer than k tokens because of `minConfidence`. */
  earlyStops: number;
}

/** A drafter built on a model; `stats` counts its rollbacks. */
export interface ModelDrafter extends Drafter {
  readonly stats: ModelDrafterStats;
}

/**
 * A drafter that runs a (small) model autoregressively. It owns the model (nothing else may feed it) and keeps the
 * list of tokens it fed. Each `propose` first syncs the model to the accepted context by their longest common
 * prefix: it rolls back with `truncate` when allowed (within the last `forward`, or anywhere when
 * `canTruncateAnywhere`), else restores the snapshot it took at the last synced point (for models that cannot be
 * cut, such as Mamba states) and re-feeds what follows in one `forward`, else resets and re-feeds everything.
 * Then it drafts k tokens one `forward` each, with the same temperature/top-k/top-p as the target, returning q.
 * Greedy proposals (temperature 0) are the draft's argmax and carry `null` distributions.
 *
 * @example
 * const drafter = modelDrafter(draftSession);   // any DraftModel, e.g. a small hybrid with snapshot/restore
 * const done = await decodeAll(speculativeDecode(target, drafter, prompt, { k: 4, maxNewTokens: 64 }));
 * console.log(done.summary.acceptanceRate, drafter.stats.restores);
 */
export function modelDrafter(model: DraftModel, options: ModelDrafterOptions = {}): ModelDrafter {
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function' || typeof model.truncate !== 'function') {
    throw new SpecDecodeError('BAD_OPTION', 'modelDrafter: expected a DraftModel (vocabSize, length, reset, forward, truncate)');
  }
  const { maxLength, minConfidence = 0 } = options;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength <= 0)) {
    throw new SpecDecodeError('BAD_OPTION', `modelDrafter maxLength: expected a positive integer, got ${maxLength}`);
  }
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence < 1)) {
    throw new SpecDecodeError('BAD_OPTION', `modelDrafter minConfidence: expected a number in [0, 1), got ${String(minConfidence)}`);
  }
  const canSnapshot = typeof model.snapshot === 'function' && typeof model.restore === 'function';
  const stats: ModelDrafterStats = { forwards: 0, fedTokens: 0, truncations: 0, restores: 0, resets: 0, earlyStops: 0 };
  let fed: number[] = []; // tokens in the model, in order
  let lastRow: Float32Array | null = null; // logits after fed[fed.length - 1]
  let floor = 0; // model.length before the last forward: truncate is always allowed down to here
  let snap: { state: unknown; length: number } | null = null;
  let started = false;

  const feed = async (ids: readonly number[]): Promise<void> => {
    const V = model.vocabSize;
    floor = fed.length;
    const logits = await model.forward(ids);
    if (!(logits instanceof Float32Array) || logits.length !== ids.length * V) {
      throw new SpecDecodeError('BAD_LOGITS', `draft model: forward of ${ids.length} tokens must give ${ids.length} x ${V} logits`);
    }
    fed.push(...ids);
    stats.forwards++;
    stats.fedTokens += ids.length;
    lastRow = logits.slice((ids.length - 1) * V);
    if (model.length !== fed.length) {
      throw new SpecDecodeError('BAD_STATE', `draft model: holds ${model.length} tokens after a forward, expected ${fed.length}`);
    }
  };

  /** Brings the model to exactly `context` with `lastRow` predicting the token after it. */
  const sync = async (context: readonly number[]): Promise<void> => {
    if (!started || model.length !== fed.length) {
      // first use, or the model was touched from outside: start over
      model.reset();
      fed = [];
      snap = null;
      floor = 0;
      started = true;
    }
    const common = commonPrefix(fed, context);
    if (common === fed.length && common === context.length && lastRow !== null) return;
    // Roll back to `keep` <= common, keeping at least one token to re-feed so that the last row is fresh.
    const keep = Math.min(common, context.length - 1);
    if (keep < fed.length) {
      if (keep >= floor || model.canTruncateAnywhere === true) {
        model.truncate(keep);
        fed.length = keep;
        stats.truncations++;
      } else if (canSnapshot && snap !== null && snap.length <= keep) {
        // the snapshot is retaken after every sync, so its tokens are fed[0, snap.length), a prefix of context
        model.restore!(snap.state);
        fed.length = snap.length;
        stats.restores++;
        if (model.length !== fed.length) {
          throw new SpecDecodeError('BAD_STATE', `draft model: holds ${model.length} tokens after restore, expected ${fed.length}`);
        }
      } else {
        model.reset();
        fed = [];
        stats.resets++;
      }
      lastRow = null;
    }
    let ids = context.slice(fed.length);
    if (fed.length === 0 && ids.length > 1 && typeof model.prefill === 'function') {
      // a fresh start (the prompt): only the last position's logits are needed
      await model.prefill(ids.slice(0, -1));
      fed.push(...ids.slice(0, -1));
      stats.fedTokens += ids.length - 1;
      ids = ids.slice(-1);
    }
    await feed(ids);
    // The synced point is where the next round's rollback will land (at or after it): remember it.
    if (canSnapshot && model.canTruncateAnywhere !== true) snap = { state: model.snapshot!(), length: fed.length };
  };

  return {
    stats,
    async propose(context, k, { sampling, rng, signal }): Promise<DraftProposal> {
      let budget = k;
      if (maxLength !== undefined) budget = Math.min(budget, maxLength - context.length + 1);
      if (budget <= 0 || context.length === 0) return { tokens: [], probs: [] };
      throwIfAborted(signal, 'modelDrafter');
      await sync(context);
      const r = await draftTokens({ budget, row: () => lastRow!, feed: (t) => feed([t]), sampling, rng, signal, minConfidence, who: 'modelDrafter' });
      if (r.stoppedEarly) stats.earlyStops++;
      return { tokens: r.tokens, probs: r.probs };
    },
  };
}
