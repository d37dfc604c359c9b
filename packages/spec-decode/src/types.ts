import type { Rng } from '@mil/core';

/** A model that scores several appended tokens in one call and can roll back to a prefix of what it has seen. */
export interface VerifyTarget {
  readonly vocabSize: number;
  /** Tokens in the state (after rollbacks). */
  readonly length: number;
  /** Empties the state. */
  reset(): void;
  /** Appends `ids` after the current tokens in ONE model call; resolves to their logits, row-major [ids.length, vocabSize]: row i predicts the token after ids[i]. */
  forward(ids: readonly number[]): Promise<Float32Array>;
  /** Keeps the first n tokens. Must support any n between the length before the last `forward` and `length`. */
  truncate(n: number): void;
  /**
   * Optional: true when `truncate(n)` works for every 0 <= n <= `length` (a KV cache). `modelDrafter` then
   * rolls back by truncating and never takes snapshots.
   */
  readonly canTruncateAnywhere?: boolean;
  /**
   * Optional: appends `ids` like `forward` but returns no logits, so the prompt's LM head can be skipped. Used for
   * the target's prompt and a draft model's first feed. Counts as a `forward` for `truncate`'s range.
   */
  prefill?(ids: readonly number[]): Promise<void>;
}

/** A draft model: a VerifyTarget that can also return to an earlier point (Mamba states cannot be cut). */
export interface DraftModel extends VerifyTarget {
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

export interface DraftProposal {
  tokens: number[];
  /** per proposed token, the draft's distribution q (after temperature/top-k/top-p), or null for a deterministic proposal (n-gram) */
  probs: (Float32Array | null)[];
}

export interface Drafter {
  propose(
    context: readonly number[],
    k: number,
    opts: { sampling: SamplingOptions; rng: Rng; signal?: AbortSignal },
  ): Promise<DraftProposal>;
}

/** How logits become a token choice; the same options shape the target's p and the draft's q. */
export interface SamplingOptions {
  /** 0 (default): greedy (argmax; top-k/top-p ignored). > 0: sample from softmax(logits / temperature). */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th all stay); unset or 0: off. */
  topK?: number;
  /** Nucleus: keep the most likely tokens until their mass reaches p, in (0, 1]; unset or 1: off. */
  topP?: number;
}

/** Options shared by `speculativeDecode` and `plainDecode`. */
export interface DecodeOptions {
  /** Stop after this many new tokens (EOS and stop-string tokens count). Required. */
  maxNewTokens: number;
  /** Temperature / top-k / top-p; default greedy. */
  sampling?: SamplingOptions;
  /** Uniform [0, 1) source (e.g. `createRng(seed)` from @mil/core); default `createRng(0)`. Unused when greedy. */
  rng?: Rng;
  /** Token id(s) that end generation; the EOS token is emitted (kept in `tokens`, no text) and nothing after it. */
  eos?: number | readonly number[];
  /** Stop once the decoded continuation contains one of these; the text is cut just before it. Needs `decode`. */
  stopStrings?: readonly string[];
  /** Detokenizer of the new tokens (EOS excluded); enables `text`. */
  decode?: (ids: readonly number[]) => string;
  /** Aborting makes the pending `next()` reject with a `SpecDecodeError` coded ABORTED (cause: `signal.reason`). */
  signal?: AbortSignal;
  /**
   * The most tokens the target may hold. A round drafts fewer tokens near the bound; when the next token cannot be
   * computed without exceeding it, the iterator throws CONTEXT_FULL (tokens already emitted stay emitted).
   */
  maxLength?: number;
}

/** Options of `speculativeDecode`. */
export interface SpeculativeOptions extends DecodeOptions {
  /** Draft tokens per round (K >= 1); the target verifies K + 1 tokens in one call. Default 4. */
  k?: number;
}

/** What one round did. A round is one target `forward` (pending token + drafts). */
export interface RoundStats {
  /** 0-based round number. */
  round: number;
  /** Draft tokens verified this round (<= K; fewer near maxNewTokens / maxLength or when the drafter has none). */
  drafted: number;
  /** Draft tokens accepted (<= drafted). */
  accepted: number;
  /** Tokens emitted: accepted + 1, fewer when an EOS, a stop string or maxNewTokens cut the round. */
  emitted: number;
  /** Milliseconds in the drafter's `propose` (round 0 includes the draft model's prompt prefill). */
  draftMs: number;
  /** Milliseconds in the target's `forward` (the verify call). */
  verifyMs: number;
  /** Milliseconds in acceptance, truncation and stop checks. */
  acceptMs: number;
}

/** Totals of a run. */
export interface DecodeSummary {
  rounds: number;
  drafted: number;
  accepted: number;
  /** New tokens emitted. */
  newTokens: number;
  /** accepted / drafted (0 when nothing was drafted). */
  acceptanceRate: number;
  /** newTokens / rounds: tokens per target call after the prompt. */
  tokensPerRound: number;
  /** Milliseconds of the prompt's forward (target only). */
  prefillMs: number;
  draftMs: number;
  verifyMs: number;
  acceptMs: number;
  /** Milliseconds of all rounds (prefill excluded). */
  decodeMs: number;
  /** newTokens per second of `decodeMs` (prefill excluded, so speculative and plain compare like with like). */
  tokensPerSecond: number;
}

/** Why decoding ended. */
export type FinishReason = 'length' | 'eos' | 'stop';

/** One round's output. */
export interface RoundEvent {
  type: 'round';
  /** The tokens this round emitted, in order (at least one). */
  tokens: number[];
  /** Index of `tokens[0]` among all new tokens. */
  index: number;
  /**
   * Text released with these tokens ('' without `decode`). Text that may still grow into a stop string or complete a
   * UTF-8 character is held back; all `text`s joined equal the final `text`.
   */
  text: string;
  stats: RoundStats;
}

/** The last event (also the generator's return value). */
export interface DoneEvent {
  type: 'done';
  /** Every new token, including an EOS or the token that completed a stop string. */
  tokens: number[];
  /** The decoded continuation (EOS excluded), cut before a stop string; '' without `decode`. */
  text: string;
  finishReason: FinishReason;
  summary: DecodeSummary;
}

export type DecodeEvent = RoundEvent | DoneEvent;
