import { ModelsError } from '../errors';
import { isSampling, processLogits, type SamplingOptions } from './logits-processors';
import { createRng, type Rng } from '@mil/core';
import { argmax, sampleFromLogits } from './sampling';
import type { StepModel } from './step-model';
// Stop strings are found and held back exactly as in speculative decoding (one implementation, in @mil/spec-decode).
import { earliestStop as findStopString, unsafeTailLength as heldBackLength } from '@mil/spec-decode';

/** Options of `generate`. */
export interface GenerateOptions extends SamplingOptions {
  /** Stop after this many new tokens (EOS and stop-string tokens count). */
  maxNewTokens: number;
  /** Token id(s) that end generation; the EOS token is yielded and kept in `tokens`, its text is empty. */
  eosTokenId?: number | readonly number[];
  /** Stop once the decoded continuation contains one of these; the text is cut just before it. Needs `decode`. */
  stopStrings?: readonly string[];
  /** Detokenizer for the continuation (called on all new tokens so far, EOS excluded); enables `text`. */
  decode?: (ids: readonly number[]) => string;
  /** Seed of the xoshiro128** generator used when sampling; default 0. Ignored when `rng` is given. */
  seed?: number;
  /** A uniform [0, 1) source to sample with instead of a seeded one. */
  rng?: Rng;
  /** Aborting rejects the pending `next()` with `signal.reason`; the model is not called again. */
  signal?: AbortSignal;
}

/** One streamed token. */
export interface GeneratedToken {
  /** The token id. */
  token: number;
  /** 0-based index among the new tokens. */
  index: number;
  /**
   * Text released with this token (empty without `decode`). Text that might still become a stop string or
   * complete a UTF-8 character is held back and released later; all `text`s joined equal the result's `text`.
   */
  text: string;
}

/** Why generation ended. */
export type FinishReason = 'length' | 'eos' | 'stop';

/** The generator's return value (and `generateAll`'s result). */
export interface GenerationResult {
  /** Every new token, including the EOS or the token(s) that completed a stop string. */
  tokens: number[];
  /** The decoded continuation (EOS excluded), cut before a stop string; '' without `decode`. */
  text: string;
  finishReason: FinishReason;
}

/**
 * Streams new tokens from any `StepModel`: greedy (default) or sampled (`doSample`, temperature, top-k, top-p),
 * with HF's repetition penalty over prompt + new tokens, EOS ids, stop strings and an AbortSignal.
 * The model is called once for the prompt and once per new token except the last.
 *
 * @example
 * for await (const t of generate(model, promptIds, { maxNewTokens: 64, doSample: true, topP: 0.9, seed: 1,
 *   eosTokenId: 2, stopStrings: ['\nUser:'], decode: (ids) => tokenizer.decode(ids) })) {
 *   process.stdout.write(t.text);
 * }
 */
export async function* generate(
  model: StepModel,
  promptIds: readonly number[],
  opts: GenerateOptions,
): AsyncGenerator<GeneratedToken, GenerationResult, undefined> {
  const { maxNewTokens, signal } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new ModelsError('BAD_OPTION', `maxNewTokens: expected a non-negative integer, got ${maxNewTokens}`);
  }
  if (promptIds.length === 0) throw new ModelsError('BAD_INPUT', 'generate: promptIds must hold at least one token');
  const stopStrings = (opts.stopStrings ?? []).filter((s) => s.length > 0);
  if (stopStrings.length > 0 && opts.decode === undefined) {
    throw new ModelsError('BAD_OPTION', 'stopStrings: a decode(ids) callback is needed to find stop strings');
  }
  const eos = new Set(opts.eosTokenId === undefined ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId);
  const sampling = isSampling(opts);
  const rng = opts.rng ?? createRng(opts.seed ?? 0);
  const seen = new Set(promptIds);
  const tokens: number[] = [];
  const textTokens: number[] = [];
  let text = '';
  let released = 0;
  signal?.throwIfAborted();
  if (maxNewTokens === 0) return { tokens, text, finishReason: 'length' };

  let logits = await model.prefill(promptIds);
  for (;;) {
    signal?.throwIfAborted();
    const processed = processLogits(logits, opts, seen);
    const token = sampling ? sampleFromLogits(processed, rng) : argmax(processed);
    const index = tokens.length;
    tokens.push(token);
    seen.add(token);
    if (eos.has(token)) {
      yield { token, index, text: text.slice(released) };
      return { tokens, text, finishReason: 'eos' };
    }
    if (opts.decode !== undefined) {
      textTokens.push(token);
      text = opts.decode(textTokens);
      const stopAt = findStopString(text, stopStrings);
      if (stopAt >= 0) {
        text = text.slice(0, stopAt);
        yield { token, index, text: text.slice(released) };
        return { tokens, text, finishReason: 'stop' };
      }
    }
    if (tokens.length === maxNewTokens) {
      yield { token, index, text: text.slice(released) };
      return { tokens, text, finishReason: 'length' };
    }
    const safe = Math.max(released, text.length - heldBackLength(text, stopStrings));
    const delta = text.slice(released, safe);
    released = safe;
    yield { token, index, text: delta };
    signal?.throwIfAborted();
    logits = await model.decode(token);
  }
}

/**
 * Runs `generate` to the end and returns its result (tokens, text, finish reason).
 *
 * @example
 * const { tokens, text } = await generateAll(model, promptIds, { maxNewTokens: 20 });
 */
export async function generateAll(
  model: StepModel,
  promptIds: readonly number[],
  opts: GenerateOptions,
): Promise<GenerationResult> {
  const it = generate(model, promptIds, opts);
  for (;;) {
    const step = await it.next();
    if (step.done) return step.value;
  }
}
