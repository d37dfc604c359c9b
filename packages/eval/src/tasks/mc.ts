// Multiple choice by log-likelihood, as lm-evaluation-harness scores it: each choice is a continuation of the
// context; acc takes the argmax of the summed log-likelihood, acc_norm divides it by the choice's length in
// characters first. An item with one choice is a greedy task (LAMBADA): correct when every token is the argmax.
import type { LoadedTokenizer } from '@mil/checkpoint';
import { createRng } from '@mil/core';
import { EvalError } from '../eval-error';
import type { ScoreRequest, Scorer } from '../scorer';

/**
 * One item in lm-eval-harness's shape. `contexts` (optional, one per choice) replaces `context` for tasks whose
 * choices change the context and share the continuation (WinoGrande's partial scoring): then `choices` holds
 * that shared continuation once per choice.
 */
export interface McItem {
  context: string;
  choices: string[];
  gold: number;
  contexts?: string[];
}

export interface McOptions {
  /** Solved examples before each item (taken from the other items, seeded). Default 0. */
  fewShot?: number;
  seed?: number;
  /** Longest scored sequence; longer prompts lose tokens from the left. */
  maxPositions: number;
  /** Between few-shot examples and before the item (lm-eval: "\n\n"). */
  delimiter?: string;
}

export interface McResult {
  acc: number;
  acc_norm: number;
  items: number;
  /** Per item: the chosen index by acc and by acc_norm. */
  predictions: { acc: number; accNorm: number }[];
}

/**
 * Parses lm-eval-shaped JSONL: one `{"context", "choices", "gold"}` object per line (`contexts` optional).
 *
 * @example
 * const items = parseMcJsonl(readFileSync('sotu-hellaswag.jsonl', 'utf8'), 'sotu-hellaswag.jsonl');
 */
export function parseMcJsonl(text: string, file: string): McItem[] {
  return text.split('\n').filter((l) => l.trim()).map((l, i) => {
    let o: Partial<McItem>;
    try {
      o = JSON.parse(l) as Partial<McItem>;
    } catch (e) {
      throw new EvalError('BAD_TASK_FILE', `${file}:${i + 1}: not JSON`, { cause: e });
    }
    if (typeof o.context !== 'string' || !Array.isArray(o.choices) || !o.choices.every((c) => typeof c === 'string') || !Number.isInteger(o.gold) || o.gold! < 0 || o.gold! >= o.choices.length)
      throw new EvalError('BAD_TASK_FILE', `${file}:${i + 1}: expected {"context": string, "choices": string[], "gold": index into choices}`);
    return { context: o.context, choices: o.choices, gold: o.gold!, ...(o.contexts ? { contexts: o.contexts } : {}) };
  });
}

/** Context of choice `c`. */
const ctxOf = (it: McItem, c: number) => it.contexts?.[c] ?? it.context;

/**
 * The token pairs lm-eval scores: trailing spaces of the context move to the continuation; the continuation is
 * what encoding context + continuation adds after the encoded context.
 *
 * @example
 * const { context, continuation } = encodePair(tok, 'The capital of France is', ' Paris', 512);
 */
export function encodePair(tok: LoadedTokenizer, context: string, continuation: string, maxPositions: number): ScoreRequest {
  const trail = context.length - context.trimEnd().length;
  if (trail > 0) {
    continuation = context.slice(context.length - trail) + continuation;
    context = context.slice(0, context.length - trail);
  }
  const ctx = tok.encode(context, { addSpecialTokens: true });
  const whole = tok.encode(context + continuation, { addSpecialTokens: true });
  let cont = whole.slice(ctx.length);
  if (cont.length === 0) cont = tok.encode(continuation, { addSpecialTokens: false });
  cont = cont.slice(-(maxPositions - 1));
  const room = maxPositions - cont.length;
  return { context: ctx.length > room ? ctx.slice(ctx.length - room) : ctx, continuation: cont };
}

/**
 * Prompts with `k` solved examples in front (seeded choice among the other items, as lm-eval's sampler).
 *
 * @example
 * const prompted = withFewShot(items, 3, 1234);
 */
export function withFewShot(items: readonly McItem[], k: number, seed = 1234, delimiter = '\n\n'): McItem[] {
  if (k <= 0) return [...items];
  if (k >= items.length) throw new EvalError('BAD_OPTION', `mc: --few-shot ${k} needs more than ${k} items (have ${items.length})`);
  const rng = createRng(seed);
  return items.map((it, i) => {
    const picked = new Set<number>();
    while (picked.size < k) {
      const j = Math.floor(rng() * items.length);
      if (j !== i) picked.add(j);
    }
    const shots = [...picked].map((j) => ctxOf(items[j], items[j].gold) + items[j].choices[items[j].gold]).join(delimiter);
    const pre = shots + delimiter;
    return { ...it, context: pre + it.context, ...(it.contexts ? { contexts: it.contexts.map((c) => pre + c) } : {}) };
  });
}

/**
 * acc / acc_norm of `items` scored by `scorer` (all choices of an item in one call, so a session scorer runs the
 * shared context once).
 *
 * @example
 * const r = await multipleChoice(scorer, tokenizer, items, { maxPositions: 1024, fewShot: 0 });
 * r.acc; r.acc_norm;
 */
export async function multipleChoice(
  scorer: Scorer, tok: LoadedTokenizer, items: readonly McItem[], o: McOptions, onProgress?: (done: number, total: number) => void,
): Promise<McResult> {
  const prompted = withFewShot(items, o.fewShot ?? 0, o.seed, o.delimiter);
  const requests: ScoreRequest[] = [];
  for (const it of prompted) it.choices.forEach((c, j) => requests.push(encodePair(tok, ctxOf(it, j), c, o.maxPositions)));
  const res = await scorer.score(requests, onProgress);
  let k = 0;
  let acc = 0;
  let accNorm = 0;
  const predictions: McResult['predictions'] = [];
  for (const it of prompted) {
    const r = res.slice(k, k + it.choices.length);
    k += it.choices.length;
    const p = mcPrediction(it, r.map((x) => x.logProb), r.map((x) => x.greedy));
    if (p.acc === it.gold) acc++;
    if (p.accNorm === it.gold) accNorm++;
    predictions.push(p);
  }
  const n = Math.max(prompted.length, 1);
  return { acc: acc / n, acc_norm: accNorm / n, items: prompted.length, predictions };
}

/**
 * The choice lm-eval picks from per-choice log-likelihoods: argmax, and argmax of ll / characters (acc_norm).
 * A one-choice item is greedy: predicted 0 when the continuation is the greedy one, −1 otherwise.
 *
 * @example
 * mcPrediction({ context: 'Q', choices: [' a', ' bbbb'], gold: 1 }, [-2, -3], [false, false]); // { acc: 0, accNorm: 1 }
 */
export function mcPrediction(it: McItem, logProbs: readonly number[], greedy: readonly boolean[]): { acc: number; accNorm: number } {
  if (it.choices.length === 1) {
    const p = greedy[0] ? 0 : -1;
    return { acc: p, accNorm: p };
  }
  let a = 0;
  let b = 0;
  const norm = (j: number) => logProbs[j] / Math.max(it.choices[j].length, 1);
  for (let j = 1; j < logProbs.length; j++) {
    if (logProbs[j] > logProbs[a]) a = j;
    if (norm(j) > norm(b)) b = j;
  }
  return { acc: a, accNorm: b };
}
