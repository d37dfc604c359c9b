// The model sessions as speculative-decoding targets and drafts. The sessions already score several tokens in one
// call and roll back; this adapter only narrows them to the @mil/spec-decode interface (their `prefill` resets the
// session and returns logits; the interface's optional append-without-logits `prefill` is one `forward` that asks
// for the last row only, so a prompt's LM head runs on one row).
import { LlamaSession, type HybridSession } from '@mil/models';
import type { DraftModel } from '@mil/spec-decode';

/**
 * A Llama or hybrid session as a `DraftModel` (usable as a target too). A Llama KV cache can be cut anywhere
 * (`canTruncateAnywhere`); a hybrid rolls back within its last forward or through `snapshot` / `restore`.
 *
 * @example
 * const target = specModel(await LlamaSession.create(config, weights));
 * const done = await decodeAll(speculativeDecode(target, ngramDrafter(), prompt, { k: 4, maxNewTokens: 64 }));
 */
export function specModel(session: LlamaSession | HybridSession): DraftModel {
  const restore =
    session instanceof LlamaSession
      ? (state: unknown) => session.restore(state as Parameters<LlamaSession['restore']>[0])
      : (state: unknown) => session.restore(state as Parameters<HybridSession['restore']>[0]);
  return {
    vocabSize: session.vocabSize,
    get length() {
      return session.length;
    },
    canTruncateAnywhere: session instanceof LlamaSession,
    reset: () => session.reset(),
    forward: (ids) => session.forward(ids),
    prefill: (ids) => session.forward(ids, { logits: 'last' }),
    truncate: (n) => session.truncate(n),
    snapshot: () => session.snapshot(),
    restore,
  };
}
