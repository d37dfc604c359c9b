import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { createOracleStepModel, randomLlamaWeights } from '@mil/models';
import { collatePseudoLabels, generatePseudoLabels } from '../src/pseudo-labels';

const cfg = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 19, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, max_position_embeddings: 64,
});

describe('pseudo-labels', () => {
  it('samples reproducibly with the reference settings and masks the prompt in the batch', async () => {
    const w = randomLlamaWeights(cfg, 2);
    const teacher = createOracleStepModel(cfg, (n) => w.get(n));
    const prompts = [[1, 5, 6], [1, 9]];
    const a = await generatePseudoLabels(teacher, prompts, { maxNewTokens: 5, seed: 4 });
    const b = await generatePseudoLabels(teacher, prompts, { maxNewTokens: 5, seed: 4 });
    expect(a).toEqual(b);
    expect(a[0].completion.length).toBe(5);
    const batch = collatePseudoLabels(a, 6);
    // row 0: prompt [1,5,6] + completion; targets start at the last prompt position (predicting completion[0])
    expect(batch.targets[0]).toBe(-100n);
    expect(batch.targets[1]).toBe(-100n);
    expect(batch.targets[2]).toBe(BigInt(a[0].completion[0]));
    expect(batch.inputIds[3]).toBe(BigInt(a[0].completion[0]));
  });
});
