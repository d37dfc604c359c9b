import { describe, it, expect } from 'vitest';
import { createRng } from '@mil/core';
import { loadTokenizer } from '@mil/checkpoint';
import { hybridConfigForTeacher, hybridOracleForward, llamaOracleForward, randomHybridWeights, randomLlamaWeights } from '@mil/models';
import { parseLlamaConfig } from '@mil/checkpoint';
import {
  batchScorer, hybridEvalModel, mcPrediction, multipleChoice, sessionScorer, slidingWindowPerplexity, slidingWindowRequests, teacherEvalModel,
  encodePair, type EvalModel, type McItem, type ScoreRequest,
} from '../src/index';

const V = 41;
const cfg = parseLlamaConfig({ model_type: 'llama',
  vocab_size: V, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});
const tokenizer = await loadTokenizer(new URL('../../../models/sotu-tiny', import.meta.url).pathname);
const teacherW = randomLlamaWeights(cfg, 3);
const hybrid = hybridConfigForTeacher(cfg, 'mamba2', [1]);
const hybridW = randomHybridWeights(cfg, hybrid, 4);

/** Independent log-likelihoods: float64 oracle forward over the whole row, log-softmax by hand. */
function oracleScore(kind: 'teacher' | 'hybrid', r: ScoreRequest): { logProb: number; greedy: boolean } {
  const ids = [...r.context, ...r.continuation];
  const logits = kind === 'teacher'
    ? llamaOracleForward(cfg, (n) => teacherW.get(n), [ids]).logits
    : hybridOracleForward(cfg, hybrid, (n) => hybridW.get(n), [ids]).logits;
  let logProb = 0;
  let greedy = true;
  for (let t = r.context.length; t < ids.length; t++) {
    const row = Array.from(logits.subarray((t - 1) * V, t * V));
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    logProb += row[ids[t]] - m - Math.log(z);
    greedy &&= row[ids[t]] === m;
  }
  return { logProb, greedy };
}

const rng = createRng(11);
const randIds = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(rng() * (V - 1)));
// Shared contexts with several continuations each, as multiple choice asks, plus single ones.
const requests: ScoreRequest[] = [];
for (let i = 0; i < 4; i++) {
  const ctx = randIds(3 + Math.floor(rng() * 9));
  for (let j = 0; j < 3; j++) requests.push({ context: ctx, continuation: randIds(1 + Math.floor(rng() * 5)) });
}
requests.push({ context: randIds(1), continuation: randIds(20) });

const models: Record<string, EvalModel> = {
  teacher: teacherEvalModel(cfg, teacherW, tokenizer, { threads: 1 }),
  hybrid: hybridEvalModel(cfg, hybrid, hybridW, tokenizer, { threads: 1 }),
};

describe.each(['teacher', 'hybrid'] as const)('scoring agrees with the oracle (%s)', (kind) => {
  const expected = requests.map((r) => oracleScore(kind, r));
  it('session scorer (shared context, rewind between continuations)', async () => {
    const s = await sessionScorer(models[kind], 64);
    const got = await s.score(requests);
    await s.release();
    got.forEach((g, i) => {
      expect(g.logProb).toBeCloseTo(expected[i].logProb, 3);
      expect(g.tokens).toBe(requests[i].continuation.length);
    });
    expect(got.map((g) => g.greedy)).toEqual(expected.map((e) => e.greedy));
  });
  it('batched scorer (padded rows)', async () => {
    const s = await batchScorer(models[kind], { batch: 5, maxPositions: 64 });
    const got = await s.score(requests);
    await s.release();
    got.forEach((g, i) => expect(g.logProb).toBeCloseTo(expected[i].logProb, 3));
    expect(got.map((g) => g.greedy)).toEqual(expected.map((e) => e.greedy));
  });
});

describe('sliding-window perplexity', () => {
  const tokens = [1, ...randIds(30)];
  it('scores every token after the first exactly once, with at most window − stride context', () => {
    const reqs = slidingWindowRequests(tokens, { window: 8, stride: 3 });
    expect(reqs.flatMap((r) => r.continuation)).toEqual(tokens.slice(1));
    for (const r of reqs.slice(1)) expect(r.context.length).toBe(5);
    expect(reqs.every((r) => r.context.length + r.continuation.length <= 8)).toBe(true);
  });
  it('equals full-context perplexity when the window covers the stream', async () => {
    const s = await batchScorer(models.teacher, { maxPositions: 64 });
    const r = await slidingWindowPerplexity(s, [tokens], { window: 64, stride: 32 });
    await s.release();
    const full = oracleScore('teacher', { context: tokens.slice(0, 1), continuation: tokens.slice(1) });
    expect(r.tokens).toBe(tokens.length - 1);
    expect(r.nll).toBeCloseTo(-full.logProb / (tokens.length - 1), 4);
    expect(r.ppl).toBeCloseTo(Math.exp(-full.logProb / (tokens.length - 1)), 3);
  });
  it('with a short window equals the oracle window by window', async () => {
    const s = await sessionScorer(models.hybrid, 64);
    const r = await slidingWindowPerplexity(s, [tokens], { window: 10, stride: 4 });
    await s.release();
    const lp = slidingWindowRequests(tokens, { window: 10, stride: 4 }).reduce((a, q) => a + oracleScore('hybrid', q).logProb, 0);
    expect(r.nll).toBeCloseTo(-lp / (tokens.length - 1), 4);
  });
});

describe('multiple choice', () => {
  it('acc takes the argmax log-likelihood, acc_norm divides by characters first', () => {
    const it1: McItem = { context: 'Q', choices: [' no', ' a much longer answer'], gold: 1 };
    // -3 vs -8: acc picks 0; per character -3/3 = -1 vs -8/21 ≈ -0.38: acc_norm picks 1.
    expect(mcPrediction(it1, [-3, -8], [false, false])).toEqual({ acc: 0, accNorm: 1 });
    const it2: McItem = { context: 'Q', choices: [' ab', ' cd', ' efgh'], gold: 2 };
    expect(mcPrediction(it2, [-4, -2, -6], [false, false, false])).toEqual({ acc: 1, accNorm: 1 });
    expect(mcPrediction({ context: 'x', choices: [' y'], gold: 0 }, [-9], [true])).toEqual({ acc: 0, accNorm: 0 });
    expect(mcPrediction({ context: 'x', choices: [' y'], gold: 0 }, [-0.1], [false])).toEqual({ acc: -1, accNorm: -1 });
  });
  it('moves trailing context spaces into the continuation, as lm-eval', () => {
    const a = encodePair(tokenizer, 'The state of the ', 'Union', 64);
    const b = encodePair(tokenizer, 'The state of the', ' Union', 64);
    expect(a).toEqual(b);
    expect(tokenizer.decode([...a.context, ...a.continuation], { skipSpecialTokens: true })).toBe('The state of the Union');
  });
  it('scores items end to end like the oracle, both engines', async () => {
    // The real tokenizer's ids need its vocabulary: the same tiny model with vocab_size = tokenizer.vocabSize.
    const items: McItem[] = [
      { context: 'The state of the', choices: [' Union', ' economy', ' art'], gold: 0 },
      { context: 'We will', choices: [' go', ' never give up the fight'], gold: 1 },
      { context: 'America is', choices: [' strong', ' a', ' the land of the free'], gold: 2 },
    ];
    const c2 = parseLlamaConfig({ ...cfg.raw, vocab_size: tokenizer.vocabSize });
    const wV = randomLlamaWeights(c2, 9);
    const vocabModel = teacherEvalModel(c2, wV, tokenizer, { threads: 1 });
    const expected = items.map((it) => {
      const lps = it.choices.map((c) => {
        const p = encodePair(tokenizer, it.context, c, 64);
        const ids = [...p.context, ...p.continuation];
        const logits = llamaOracleForward(c2, (n) => wV.get(n), [ids]).logits;
        const Vv = c2.vocabSize;
        let lp = 0;
        for (let t = p.context.length; t < ids.length; t++) {
          const row = Array.from(logits.subarray((t - 1) * Vv, t * Vv));
          const m = Math.max(...row);
          lp += row[ids[t]] - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        }
        return lp;
      });
      return mcPrediction(it, lps, lps.map(() => false));
    });
    for (const engine of [sessionScorer(vocabModel, 64), batchScorer(vocabModel, { maxPositions: 64 })]) {
      const s = await engine;
      const r = await multipleChoice(s, tokenizer, items, { maxPositions: 64 });
      await s.release();
      expect(r.predictions).toEqual(expected);
      expect(r.acc).toBe(expected.filter((p, i) => p.acc === items[i].gold).length / items.length);
      expect(r.acc_norm).toBe(expected.filter((p, i) => p.accNorm === items[i].gold).length / items.length);
    }
  });
});
