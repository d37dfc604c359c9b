// The cached inference graph (GroupQueryAttention, SimplifiedLayerNormalization) equals the oracle for prefill,
// decode, multi-token verify and rollback.
import { describe, it, expect } from 'vitest';
import { LlamaSession } from '../src/llama/session';
import { llamaOracleForward, randomLlamaWeights } from '../src/oracle';
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';

const base = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});

function maxRel(got: Float32Array, ref: Float64Array, offset = 0): number {
  let w = 0;
  for (let i = 0; i < got.length; i++) w = Math.max(w, Math.abs(got[i] - ref[offset + i]) / (1 + Math.abs(ref[offset + i])));
  return w;
}

async function check(config: LlamaConfig) {
  const w = randomLlamaWeights(config, 3);
  const s = await LlamaSession.create(config, w, { threads: 1 });
  const ids = [5, 9, 2, 33, 17, 8, 1, 40, 12];
  const V = config.vocabSize;
  const ref = llamaOracleForward(config, (n) => w.get(n), [ids]).logits;
  // prefill 4 tokens, decode 2, verify 3 at once
  const a = await s.forward(ids.slice(0, 4));
  expect(maxRel(a, ref, 0)).toBeLessThan(1e-4);
  for (let t = 4; t < 6; t++) expect(maxRel(await s.decode(ids[t]), ref, t * V)).toBeLessThan(1e-4);
  const v = await s.forward(ids.slice(6, 9));
  expect(maxRel(v, ref, 6 * V)).toBeLessThan(1e-4);
  // roll back 2 tokens and redo them: same logits
  s.truncate(7);
  expect(s.length).toBe(7);
  const again = await s.forward(ids.slice(7, 9));
  expect(maxRel(again, ref, 7 * V)).toBeLessThan(1e-4);
  await s.release();
}

describe('Llama inference session vs oracle', () => {
  it('GQA, untied', () => check(base));
  it('tied, Mistral sliding window 3', () => check(parseLlamaConfig({ ...base.raw, tie_word_embeddings: true, sliding_window: 3 })));
  it('llama3 rope scaling', () => check(parseLlamaConfig({ ...base.raw, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } })));
});
