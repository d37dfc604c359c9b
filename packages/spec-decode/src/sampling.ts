import type { Rng } from '@mil/core';
import { SpecDecodeError } from './errors';
import type { SamplingOptions } from './types';

/**
 * Checks sampling options and fills defaults: temperature 0 (greedy), top-k off (0), top-p off (1).
 *
 * @example
 * resolveSampling({ temperature: 0.8, topP: 0.9 }); // { temperature: 0.8, topK: 0, topP: 0.9 }
 */
export function resolveSampling(s: SamplingOptions = {}): Required<SamplingOptions> {
  const temperature = s.temperature ?? 0;
  const topK = s.topK ?? 0;
  const topP = s.topP ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new SpecDecodeError('BAD_OPTION', `sampling.temperature: expected a finite number >= 0 (0 = greedy), got ${temperature}`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new SpecDecodeError('BAD_OPTION', `sampling.topK: expected an integer >= 0 (0 = off), got ${topK}`);
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new SpecDecodeError('BAD_OPTION', `sampling.topP: expected a number in (0, 1] (1 = off), got ${topP}`);
  }
  return { temperature, topK, topP };
}

/** True when these options sample (temperature > 0) rather than take the argmax. */
export function isSampling(s: SamplingOptions): boolean {
  return (s.temperature ?? 0) > 0;
}

function badLogit(x: number, i: number): SpecDecodeError {
  return new SpecDecodeError('BAD_LOGITS', `logits[${i}] is ${Number.isNaN(x) ? 'NaN' : x}`);
}

/**
 * Index of the largest logit (the first on ties, like `torch.argmax`).
 *
 * @example
 * argmax([0.1, 2, 2, -1]); // 1
 */
export function argmax(logits: ArrayLike<number>): number {
  const n = logits.length;
  if (n === 0) throw new SpecDecodeError('BAD_LOGITS', 'argmax: logits are empty');
  let best = 0;
  let max = logits[0];
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    if (x > max) {
      max = x;
      best = i;
    } else if (x !== x) throw badLogit(x, i); // NaN
  }
  if (max === Infinity) throw badLogit(max, best);
  if (max !== max) throw badLogit(max, 0);
  return best;
}

/** The k-th largest value of `values` (1-based k), by quickselect on a copy: O(n) on average. */
function kthLargest(values: Float64Array, k: number): number {
  const a = Float64Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Zeroes every token outside the nucleus of `probs` (in place) and renormalises: a token stays while the mass of
 * the tokens ranked above it (more likely; on ties the lower index) is < p. Only tokens with probability >=
 * (1 - p) / (2n) are ranked: the others hold less than (1 - p) / 2 together, so the nucleus never reaches them.
 */
function nucleus(probs: Float64Array, topP: number): void {
  const n = probs.length;
  const rankAll = (floor: number): { cut: number; last: number } => {
    let m = 0;
    for (let i = 0; i < n; i++) if (probs[i] >= floor) m++;
    const sorted = new Float64Array(m);
    m = 0;
    for (let i = 0; i < n; i++) if (probs[i] >= floor) sorted[m++] = probs[i];
    sorted.sort(); // ascending: rank r is sorted[m - 1 - r]
    let above = 0;
    for (let r = 0; r < m; r++) {
      if (above >= topP) return { cut: r, last: sorted[m - r] };
      above += sorted[m - 1 - r];
    }
    return { cut: -1, last: 0 };
  };
  let { cut, last } = rankAll((1 - topP) / (2 * n));
  if (cut < 0) ({ cut, last } = rankAll(-Infinity)); // rounding kept the candidates' mass just under p
  if (cut < 0) return; // every token is in the nucleus
  // keep the `cut` most likely: everything above `last`, and ties with it by lower index
  let ties = cut;
  for (let i = 0; i < n; i++) if (probs[i] > last) ties--;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = probs[i];
    if (x > last || (x === last && ties-- > 0)) sum += x;
    else probs[i] = 0;
  }
  for (let i = 0; i < n; i++) probs[i] /= sum;
}

/**
 * The distribution a token is drawn from, in float64: softmax(logits / temperature), then top-k (keeps every logit
 * >= the k-th largest), then top-p (keeps a token while the mass of the tokens more likely than it is < p; ties rank
 * the lower index as more likely), renormalised. Temperature 0 (greedy) gives the one-hot of the argmax.
 * This is what speculative sampling uses as p (target) and q (draft).
 *
 * @example
 * processedDistribution([0, Math.log(3)], { temperature: 1 }); // Float64Array [0.25, 0.75]
 * processedDistribution([1, 3, 2], { temperature: 0.5, topK: 2 }); // mass only on indices 1 and 2
 */
export function processedDistribution(logits: ArrayLike<number>, sampling: SamplingOptions): Float64Array {
  const { temperature, topK, topP } = resolveSampling(sampling);
  const n = logits.length;
  const out = new Float64Array(n);
  if (temperature === 0) {
    out[argmax(logits)] = 1;
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    if (x !== x || x === Infinity) throw badLogit(x, i);
    const y = x / temperature;
    out[i] = y;
    if (y > max) max = y;
  }
  if (max === -Infinity) throw new SpecDecodeError('BAD_LOGITS', 'every logit is -Infinity: nothing can be chosen');
  if (topK > 0 && topK < n) {
    const kth = kthLargest(out, topK);
    for (let i = 0; i < n; i++) if (out[i] < kth) out[i] = -Infinity;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(out[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  if (topP < 1) nucleus(out, topP);
  return out;
}

/**
 * Draws one index from a probability vector (non-negative, summing to ~1) by inverse CDF with one `rng()` draw;
 * entries of zero are never drawn.
 *
 * @example
 * sampleFromProbs(new Float64Array([0, 1, 0]), createRng(1)); // 1
 */
export function sampleFromProbs(probs: ArrayLike<number>, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) {
    const x = probs[i];
    if (!(x >= 0) || !Number.isFinite(x)) throw new SpecDecodeError('BAD_LOGITS', `sampleFromProbs: probs[${i}] is ${x}`);
    total += x;
  }
  if (!(total > 0)) throw new SpecDecodeError('BAD_LOGITS', `sampleFromProbs: probabilities sum to ${total}`);
  const u = rng() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // u landed past the rounded total: the last token with mass
}

/**
 * Probability of accepting draft token `token` drawn from q when the target's distribution is p: min(1, p/q).
 * A deterministic proposal (`q` null) is q = one-hot(token), so the probability is p[token].
 *
 * @example
 * acceptProbability([0.5, 0.5], [0.25, 0.75], 1); // 0.666…
 */
export function acceptProbability(p: ArrayLike<number>, q: ArrayLike<number> | null, token: number): number {
  const qt = q === null ? 1 : q[token];
  if (!(qt > 0)) {
    throw new SpecDecodeError('BAD_PROPOSAL', `draft token ${token} has probability ${qt} under its own distribution q`);
  }
  return Math.min(1, p[token] / qt);
}

/**
 * The distribution to resample from after a rejection: normalize(max(0, p − q)), with q = one-hot(token) when
 * `q` is null. If p ≤ q everywhere (p = q up to rounding, where a rejection has probability 0) it returns p.
 *
 * @example
 * residualDistribution([0.5, 0.5], [0.25, 0.75], 1); // Float64Array [1, 0]
 * residualDistribution([0.2, 0.8], null, 1); // Float64Array [1, 0]
 */
export function residualDistribution(p: ArrayLike<number>, q: ArrayLike<number> | null, token: number): Float64Array {
  const out = new Float64Array(p.length);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const qi = q === null ? (i === token ? 1 : 0) : q[i];
    const d = p[i] - qi;
    if (d > 0) {
      out[i] = d;
      sum += d;
    }
  }
  if (!(sum > 0)) return Float64Array.from(p);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
