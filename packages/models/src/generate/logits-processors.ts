import { ModelsError } from '../errors';
import { softmax } from './sampling';

/**
 * HF `RepetitionPenaltyLogitsProcessor`: for every token already seen (prompt and generated, each once),
 * a positive logit is divided by `penalty` and a negative one multiplied by it. Returns a new array.
 *
 * @example
 * applyRepetitionPenalty([2, -2, 1], [0, 1, 1], 2); // Float64Array [1, -4, 1]
 */
export function applyRepetitionPenalty(logits: ArrayLike<number>, seenIds: Iterable<number>, penalty: number): Float64Array {
  if (!(penalty > 0) || !Number.isFinite(penalty)) {
    throw new ModelsError('BAD_OPTION', `repetitionPenalty: expected a positive number, got ${penalty}`);
  }
  const out = Float64Array.from(logits);
  const seen = new Set(seenIds);
  for (const id of seen) {
    if (!Number.isInteger(id) || id < 0 || id >= out.length) {
      throw new ModelsError('BAD_OPTION', `repetition penalty: seen token ${id} is outside the vocabulary [0, ${out.length})`);
    }
    const x = out[id];
    out[id] = x < 0 ? x * penalty : x / penalty;
  }
  return out;
}

/**
 * HF `TemperatureLogitsWarper`: logits / temperature (temperature > 0). Returns a new array.
 *
 * @example
 * applyTemperature([1, 2], 0.5); // Float64Array [2, 4]
 */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ModelsError('BAD_OPTION', `temperature: expected a positive number, got ${temperature}`);
  }
  const out = Float64Array.from(logits);
  for (let i = 0; i < out.length; i++) out[i] /= temperature;
  return out;
}

/**
 * HF `TopKLogitsWarper`: keeps the logits >= the k-th largest (so ties with it all stay), sets the rest to
 * `-Infinity`. `k` is raised to `minTokensToKeep`. Returns a new array.
 *
 * @example
 * topK([1, 3, 2, 3, 0], 2); // Float64Array [-Inf, 3, -Inf, 3, -Inf]
 */
export function topK(logits: ArrayLike<number>, k: number, minTokensToKeep = 1): Float64Array {
  if (!Number.isInteger(k) || k <= 0) throw new ModelsError('BAD_OPTION', `topK: expected a positive integer, got ${k}`);
  const out = Float64Array.from(logits);
  const keep = Math.min(Math.max(k, minTokensToKeep), out.length);
  if (keep === out.length) return out;
  const sorted = Float64Array.from(out).sort(); // ascending; -Infinity first
  const kth = sorted[out.length - keep];
  for (let i = 0; i < out.length; i++) if (out[i] < kth) out[i] = -Infinity;
  return out;
}

/**
 * HF `TopPLogitsWarper` (nucleus): sorts ascending, removes every token whose cumulative probability from the
 * bottom is <= 1 - p, always keeping the `minTokensToKeep` most likely. Ties sort the lower index as more likely.
 * Returns a new array with removed entries at `-Infinity`.
 *
 * @example
 * topP([Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1)], 0.65); // keeps indices 0 and 1
 */
export function topP(logits: ArrayLike<number>, p: number, minTokensToKeep = 1): Float64Array {
  if (!(p > 0 && p <= 1)) throw new ModelsError('BAD_OPTION', `topP: expected a number in (0, 1], got ${p}`);
  const out = Float64Array.from(logits);
  const probs = softmax(out);
  const order = Array.from({ length: out.length }, (_, i) => i);
  order.sort((a, b) => out[a] - out[b] || b - a); // ascending likelihood; on ties the higher index is "less likely"
  const threshold = 1 - p;
  const removable = out.length - Math.min(minTokensToKeep, out.length);
  let cum = 0;
  for (let r = 0; r < removable; r++) {
    const i = order[r];
    cum += probs[i];
    if (cum <= threshold) out[i] = -Infinity;
    else break; // cumulative sums only grow
  }
  return out;
}

/** How next-token logits are turned into a choice (HF `generate` names, camelCased). */
export interface SamplingOptions {
  /** Sample (true) or take the argmax (false, default), like HF `do_sample`. */
  doSample?: boolean;
  /** Sampling temperature (> 0); default 1. `0` means greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens; unset or 0: off (HF's default is 50, ours is off). */
  topK?: number;
  /** Nucleus sampling mass in (0, 1]; unset or 1: off. */
  topP?: number;
  /** HF repetition penalty (> 0; 1 = off), applied in greedy mode too, as HF does. */
  repetitionPenalty?: number;
  /** Floor for top-k / top-p; default 1. */
  minTokensToKeep?: number;
}

/** True when these options pick tokens by sampling rather than argmax. */
export function isSampling(opts: SamplingOptions): boolean {
  return opts.doSample === true && opts.temperature !== 0;
}

/**
 * The whole HF logits pipeline in its order: repetition penalty, then (when sampling) temperature, top-k, top-p.
 * The result's softmax is the distribution a token is drawn from (what speculative decoding needs).
 *
 * @example
 * const processed = processLogits(logits, { doSample: true, temperature: 0.7, topP: 0.9 }, [...prompt, ...generated]);
 * const id = sampleFromLogits(processed, rng);
 */
export function processLogits(logits: ArrayLike<number>, opts: SamplingOptions, seenIds: Iterable<number> = []): Float64Array {
  const penalty = opts.repetitionPenalty ?? 1;
  let out = penalty === 1 ? Float64Array.from(logits) : applyRepetitionPenalty(logits, seenIds, penalty);
  if (!isSampling(opts)) return out;
  const minKeep = opts.minTokensToKeep ?? 1;
  const t = opts.temperature ?? 1;
  if (t !== 1) out = applyTemperature(out, t);
  if (opts.topK !== undefined && opts.topK !== 0) out = topK(out, opts.topK, minKeep);
  if (opts.topP !== undefined && opts.topP !== 1) out = topP(out, opts.topP, minKeep);
  return out;
}
