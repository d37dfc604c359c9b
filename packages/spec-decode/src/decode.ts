import { createRng, type Rng } from '@mil/core';
import { SpecDecodeError, throwIfAborted } from './errors';
import {
  acceptProbability,
  argmax,
  processedDistribution,
  resolveSampling,
  residualDistribution,
  sampleFromProbs,
} from './sampling';
import { earliestStop, unsafeTailLength } from './stop-strings';
import type {
  DecodeEvent,
  DecodeOptions,
  DecodeSummary,
  DoneEvent,
  Drafter,
  FinishReason,
  RoundEvent,
  SamplingOptions,
  SpeculativeOptions,
  VerifyTarget,
} from './types';

/** Options after validation. */
interface Resolved {
  target: VerifyTarget;
  drafter: Drafter | null;
  prompt: readonly number[];
  k: number;
  maxNewTokens: number;
  sampling: Required<SamplingOptions>;
  greedy: boolean;
  rng: Rng;
  eos: ReadonlySet<number>;
  stopStrings: readonly string[];
  decode: ((ids: readonly number[]) => string) | undefined;
  signal: AbortSignal | undefined;
  maxLength: number | undefined;
}

function checkTokenId(id: unknown, vocabSize: number, what: string, code: 'BAD_OPTION' | 'BAD_INPUT'): void {
  if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= vocabSize) {
    throw new SpecDecodeError(code, `${what}: expected a token id in [0, ${vocabSize}), got ${String(id)}`);
  }
}

function resolve(
  target: VerifyTarget,
  drafter: Drafter | null,
  prompt: readonly number[],
  opts: DecodeOptions,
  k: number,
): Resolved {
  if (opts === null || typeof opts !== 'object') {
    throw new SpecDecodeError('BAD_OPTION', 'options: expected an object with at least maxNewTokens');
  }
  const vocabSize = target.vocabSize;
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
    throw new SpecDecodeError('BAD_STATE', `target.vocabSize: expected a positive integer, got ${vocabSize}`);
  }
  const { maxNewTokens } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new SpecDecodeError('BAD_OPTION', `maxNewTokens: expected an integer >= 0, got ${maxNewTokens}`);
  }
  if (!Array.isArray(prompt) || prompt.length === 0) {
    throw new SpecDecodeError('BAD_INPUT', 'prompt: expected at least one token id');
  }
  prompt.forEach((id, i) => checkTokenId(id, vocabSize, `prompt[${i}]`, 'BAD_INPUT'));
  const sampling = resolveSampling(opts.sampling);
  if (opts.rng !== undefined && typeof opts.rng !== 'function') {
    throw new SpecDecodeError('BAD_OPTION', 'rng: expected a function returning uniform floats in [0, 1) (createRng from @mil/core)');
  }
  const eosList = opts.eos === undefined ? [] : typeof opts.eos === 'number' ? [opts.eos] : [...opts.eos];
  eosList.forEach((id, i) => checkTokenId(id, vocabSize, `eos[${i}]`, 'BAD_OPTION'));
  const stopStrings = opts.stopStrings ?? [];
  if (!Array.isArray(stopStrings) || stopStrings.some((s) => typeof s !== 'string')) {
    throw new SpecDecodeError('BAD_OPTION', 'stopStrings: expected an array of strings');
  }
  const nonEmpty = stopStrings.filter((s) => s.length > 0);
  if (opts.decode !== undefined && typeof opts.decode !== 'function') {
    throw new SpecDecodeError('BAD_OPTION', 'decode: expected a function (ids) => string');
  }
  if (nonEmpty.length > 0 && opts.decode === undefined) {
    throw new SpecDecodeError('BAD_OPTION', 'stopStrings: a decode(ids) callback is needed to find stop strings');
  }
  const { maxLength } = opts;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength <= 0)) {
    throw new SpecDecodeError('BAD_OPTION', `maxLength: expected a positive integer, got ${maxLength}`);
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new SpecDecodeError('BAD_OPTION', 'signal: expected an AbortSignal');
  }
  return {
    target,
    drafter,
    prompt: [...prompt],
    k,
    maxNewTokens,
    sampling,
    greedy: sampling.temperature === 0,
    rng: opts.rng ?? createRng(0),
    eos: new Set(eosList),
    stopStrings: nonEmpty,
    decode: opts.decode,
    signal: opts.signal,
    maxLength,
  };
}

/**
 * Speculative decoding: each round the drafter proposes up to K tokens after the accepted context and the target
 * scores the pending token plus the drafts in ONE `forward` (K + 1 rows), accepts a prefix (greedy: drafts equal to
 * the argmax; sampling: min(1, p/q), resampling from normalize(max(0, p − q)) at the first rejection), adds one
 * token of its own (the correction, or a bonus token when all K are accepted) and truncates back to the accepted
 * prefix. Greedy output equals `plainDecode`'s token for token; sampled output has the target's distribution.
 * Yields one `round` event per target call, then a `done` event (also the return value). Options are checked
 * when this is called (SpecDecodeError BAD_OPTION / BAD_INPUT).
 *
 * @example
 * const drafter = ngramDrafter({ maxNgram: 3 });
 * for await (const ev of speculativeDecode(target, drafter, promptIds, { k: 4, maxNewTokens: 128, eos: 2 })) {
 *   if (ev.type === 'round') process.stdout.write(tokenizer.decode(ev.tokens));
 *   else console.log(`acceptance ${ev.summary.acceptanceRate}, ${ev.summary.tokensPerRound} tokens/round`);
 * }
 */
export function speculativeDecode(
  target: VerifyTarget,
  drafter: Drafter,
  prompt: readonly number[],
  opts: SpeculativeOptions,
): AsyncGenerator<DecodeEvent, DoneEvent, undefined> {
  const k = opts?.k ?? 4;
  if (!Number.isInteger(k) || k < 1) {
    throw new SpecDecodeError('BAD_OPTION', `k: expected an integer >= 1 (draft tokens per round), got ${k}`);
  }
  if (drafter === null || typeof drafter !== 'object' || typeof drafter.propose !== 'function') {
    throw new SpecDecodeError('BAD_OPTION', 'drafter: expected an object with propose(context, k, opts)');
  }
  return decodeLoop(resolve(target, drafter, prompt, opts, k));
}

/**
 * The baseline: one target `forward` of one token per new token, with the same options, bookkeeping and output
 * shape as `speculativeDecode` (so speedups compare like with like).
 *
 * @example
 * const done = await decodeAll(plainDecode(target, promptIds, { maxNewTokens: 64, sampling: { temperature: 0.8 },
 *   rng: createRng(1) }));
 * console.log(done.tokens, done.summary.tokensPerSecond);
 */
export function plainDecode(
  target: VerifyTarget,
  prompt: readonly number[],
  opts: DecodeOptions,
): AsyncGenerator<DecodeEvent, DoneEvent, undefined> {
  return decodeLoop(resolve(target, null, prompt, opts, 0));
}

/**
 * Runs a decode iterator to its end and resolves to its `done` event; `onRound` sees every round event.
 *
 * @example
 * const { tokens, summary } = await decodeAll(speculativeDecode(target, drafter, prompt, { maxNewTokens: 32 }));
 */
export async function decodeAll(
  events: AsyncIterator<DecodeEvent, DoneEvent, undefined>,
  onRound?: (event: RoundEvent) => void,
): Promise<DoneEvent> {
  for (;;) {
    const step = await events.next();
    if (step.done) return step.value;
    if (step.value.type === 'round') onRound?.(step.value);
  }
}

/**
 * One summary of several decodings (say, one per prompt): counts and times summed, rates recomputed from the sums
 * (not averaged, so a long run weighs more than a short one).
 *
 * @example
 * const all = mergeSummaries(runs.map((r) => r.summary)); // all.tokensPerSecond over every run's decode time
 */
export function mergeSummaries(summaries: readonly DecodeSummary[]): DecodeSummary {
  const totals: Totals = { rounds: 0, drafted: 0, accepted: 0, prefillMs: 0, draftMs: 0, verifyMs: 0, acceptMs: 0 };
  let newTokens = 0;
  for (const s of summaries) {
    for (const key of Object.keys(totals) as (keyof Totals)[]) totals[key] += s[key];
    newTokens += s.newTokens;
  }
  return summarize(totals, newTokens);
}

type Totals = { rounds: number; drafted: number; accepted: number; prefillMs: number; draftMs: number; verifyMs: number; acceptMs: number };

function summarize(t: Totals, newTokens: number): DecodeSummary {
  const decodeMs = t.draftMs + t.verifyMs + t.acceptMs;
  return {
    ...t,
    newTokens,
    acceptanceRate: t.drafted === 0 ? 0 : t.accepted / t.drafted,
    tokensPerRound: t.rounds === 0 ? 0 : newTokens / t.rounds,
    decodeMs,
    tokensPerSecond: decodeMs > 0 ? (newTokens * 1000) / decodeMs : 0,
  };
}

async function* decodeLoop(c: Resolved): AsyncGenerator<DecodeEvent, DoneEvent, undefined> {
  const { target, drafter, k, maxNewTokens, sampling, greedy, rng, eos, stopStrings, decode, signal, maxLength } = c;
  const vocabSize = target.vocabSize;
  const tokens: number[] = [];
  const textTokens: number[] = [];
  let text = '';
  let released = 0;
  const totals: Totals = { rounds: 0, drafted: 0, accepted: 0, prefillMs: 0, draftMs: 0, verifyMs: 0, acceptMs: 0 };
  const finish = (finishReason: FinishReason): DoneEvent => ({
    type: 'done',
    tokens,
    text,
    finishReason,
    summary: summarize(totals, tokens.length),
  });
  const checkLogits = (logits: Float32Array, rows: number, where: string): void => {
    if (!(logits instanceof Float32Array) || logits.length !== rows * vocabSize) {
      throw new SpecDecodeError(
        'BAD_LOGITS',
        `${where}: target.forward of ${rows} tokens must resolve to a Float32Array of ${rows} x ${vocabSize} logits, got ${
          logits instanceof Float32Array ? logits.length : typeof logits
        }`,
      );
    }
  };

  throwIfAborted(signal, 'decode');
  if (maxNewTokens === 0) {
    const done = finish('length');
    yield done;
    return done;
  }
  const context = [...c.prompt];
  if (maxLength !== undefined && context.length > maxLength) {
    throw new SpecDecodeError('CONTEXT_FULL', `prompt: ${context.length} tokens do not fit maxLength ${maxLength}`);
  }
  // The prompt's last token stays pending: it is the first input of the first verify call.
  const t0 = performance.now();
  target.reset();
  if (context.length > 1) {
    const ids = context.slice(0, -1);
    if (typeof target.prefill === 'function') await target.prefill(ids);
    else checkLogits(await target.forward(ids), ids.length, 'prefill');
  }
  totals.prefillMs = performance.now() - t0;

  for (let round = 0; ; round++) {
    throwIfAborted(signal, `round ${round}`);
    if (maxLength !== undefined && context.length > maxLength) {
      throw new SpecDecodeError(
        'CONTEXT_FULL',
        `round ${round}: the next token needs ${context.length} tokens in the target, over maxLength ${maxLength}`,
        { hint: 'raise maxLength or lower maxNewTokens' },
      );
    }
    let kRound = Math.min(k, maxNewTokens - tokens.length - 1);
    if (maxLength !== undefined) kRound = Math.min(kRound, maxLength - context.length);

    const tDraft = performance.now();
    let drafts: number[] = [];
    let probs: (Float32Array | null)[] = [];
    if (drafter !== null && kRound > 0) {
      const proposal = await drafter.propose(context, kRound, { sampling, rng, signal });
      if (!proposal || !Array.isArray(proposal.tokens) || !Array.isArray(proposal.probs)) {
        throw new SpecDecodeError('BAD_PROPOSAL', `round ${round}: drafter.propose must resolve to { tokens, probs }`);
      }
      if (proposal.tokens.length > kRound || proposal.probs.length !== proposal.tokens.length) {
        throw new SpecDecodeError(
          'BAD_PROPOSAL',
          `round ${round}: asked for at most ${kRound} draft tokens, got ${proposal.tokens.length} tokens and ${proposal.probs.length} distributions`,
        );
      }
      proposal.tokens.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new SpecDecodeError('BAD_PROPOSAL', `round ${round}: draft token ${i} is ${id}, outside [0, ${vocabSize})`);
        }
        const q = proposal.probs[i];
        if (q !== null && (!(q instanceof Float32Array) || q.length !== vocabSize)) {
          throw new SpecDecodeError('BAD_PROPOSAL', `round ${round}: probs[${i}] must be null or a Float32Array of ${vocabSize}`);
        }
      });
      drafts = [...proposal.tokens];
      probs = [...proposal.probs];
    }
    throwIfAborted(signal, `round ${round}`);

    const tVerify = performance.now();
    const before = target.length;
    if (before !== context.length - 1) {
      throw new SpecDecodeError(
        'BAD_STATE',
        `round ${round}: the target holds ${before} tokens, expected ${context.length - 1} (was it used elsewhere?)`,
      );
    }
    const n = drafts.length;
    const logits = await target.forward([context[context.length - 1], ...drafts]);
    checkLogits(logits, n + 1, `round ${round}`);

    const tAccept = performance.now();
    let accepted = 0;
    let next: number;
    for (;;) {
      const row = logits.subarray(accepted * vocabSize, (accepted + 1) * vocabSize);
      if (accepted === n) {
        next = greedy ? argmax(row) : sampleFromProbs(processedDistribution(row, sampling), rng);
        break;
      }
      const d = drafts[accepted];
      if (greedy) {
        const best = argmax(row);
        if (best === d) {
          accepted++;
          continue;
        }
        next = best;
        break;
      }
      const p = processedDistribution(row, sampling);
      const q = probs[accepted];
      if (rng() < acceptProbability(p, q, d)) {
        accepted++;
        continue;
      }
      next = sampleFromProbs(residualDistribution(p, q, d), rng);
      break;
    }
    target.truncate(before + 1 + accepted);

    let finishReason: FinishReason | null = null;
    const index = tokens.length;
    for (const t of [...drafts.slice(0, accepted), next]) {
      tokens.push(t);
      context.push(t);
      if (eos.has(t)) {
        finishReason = 'eos';
        break;
      }
      if (decode !== undefined) {
        textTokens.push(t);
        text = decode(textTokens);
        const at = earliestStop(text, stopStrings);
        if (at >= 0) {
          text = text.slice(0, at);
          finishReason = 'stop';
          break;
        }
      }
      if (tokens.length === maxNewTokens) {
        finishReason = 'length';
        break;
      }
    }
    const safe = finishReason !== null ? text.length : Math.max(released, text.length - unsafeTailLength(text, stopStrings));
    const delta = text.slice(released, safe);
    released = safe;
    const tEnd = performance.now();
    const stats = {
      round,
      drafted: n,
      accepted,
      emitted: tokens.length - index,
      draftMs: tVerify - tDraft,
      verifyMs: tAccept - tVerify,
      acceptMs: tEnd - tAccept,
    };
    totals.rounds++;
    totals.drafted += n;
    totals.accepted += accepted;
    totals.draftMs += stats.draftMs;
    totals.verifyMs += stats.verifyMs;
    totals.acceptMs += stats.acceptMs;
    yield { type: 'round', tokens: tokens.slice(index), index, text: delta, stats };
    if (finishReason !== null) {
      const done = finish(finishReason);
      yield done;
      return done;
    }
  }
}
