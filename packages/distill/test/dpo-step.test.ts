// DPO on a tiny Llama: the loss starts at log 2 (policy = reference) and a few AdamW steps raise the margin.
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { buildLlamaTrainGraph, randomLlamaWeights } from '@mil/models';
import { collatePairs, compileDpoStep, ReferenceLogProbs } from '../src/dpo-step';
import { AdamW } from '@mil/distill';

const cfg = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 17, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 32,
});

describe('DPO step', () => {
  it('starts at log 2 against itself and learns to prefer the chosen completion', async () => {
    const w = randomLlamaWeights(cfg, 9);
    for (const v of w.values()) for (let i = 0; i < v.length; i++) v[i] *= 0.3;
    const build = (g: Parameters<typeof buildLlamaTrainGraph>[0]) => buildLlamaTrainGraph(g, cfg, { maxPositions: 16 });
    const ref = await ReferenceLogProbs.create((g) => build(g).logits, w, { threads: 1 });
    const pairs = collatePairs([{ prompt: [1, 4], chosen: [5, 6, 7], rejected: [9, 9, 3] }, { prompt: [1, 8, 2], chosen: [3, 3], rejected: [11, 12] }], 8);
    const refLogps = await ref.of(pairs);
    const step = await compileDpoStep(build, 0.5, { threads: 1 });
    const opt = new AdamW(w, { lr: 0.02, weightDecay: 0 });
    const first = await step.lossAndGrads(w, pairs, refLogps);
    expect(first.loss).toBeCloseTo(Math.log(2), 5);
    let last = first.loss;
    for (let i = 0; i < 10; i++) {
      const r = await step.lossAndGrads(w, pairs, refLogps);
      opt.step(r.grads);
      last = r.loss;
    }
    expect(last).toBeLessThan(first.loss - 0.05);
    await step.release();
    await ref.release();
  });
});
