// The training graph of the teacher equals the plain TypeScript oracle on random weights.
import { describe, it, expect } from 'vitest';
import { Graph, Runner } from '@mil/graph';
import { buildLlamaTrainGraph } from '../src/llama/train-graph';
import { llamaOracleForward, randomLlamaWeights } from '../src/oracle';
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';

const base = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 37, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});

async function compare(config: LlamaConfig, ids: number[][], dtype: 'float32' | 'float64', tol: number) {
  const weights = randomLlamaWeights(config, 7);
  const g = new Graph();
  const { logits } = buildLlamaTrainGraph(g, config, { dtype });
  const model = g.toModel({ outputs: { logits } });
  const run = await Runner.create(model, { threads: 1, optimization: dtype === 'float64' ? 'basic' : 'all' });
  const b = ids.length;
  const s = ids[0].length;
  const feeds: Record<string, { data: Float32Array | Float64Array | BigInt64Array; dims: number[] }> = {
    input_ids: { data: BigInt64Array.from(ids.flat().map(BigInt)), dims: [b, s] },
    position_ids: { data: BigInt64Array.from(ids.flatMap((r) => r.map((_, t) => BigInt(t)))), dims: [b, s] },
  };
  for (const name of model.paramNames) {
    const w = weights.get(name)!;
    feeds[name] = { data: dtype === 'float64' ? Float64Array.from(w) : w, dims: [...g.tensor(name).shape] as number[] };
  }
  const out = await run.run(feeds);
  const ref = llamaOracleForward(config, (n) => weights.get(n), ids);
  const got = out.logits.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < ref.logits.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.logits[i]) / (1 + Math.abs(ref.logits[i])));
  expect(got.length).toBe(ref.logits.length);
  expect(worst).toBeLessThan(tol);
}

describe('Llama training graph vs oracle', () => {
  it('GQA, untied, float64', () => compare(base, [[1, 5, 9, 2, 30, 11], [4, 4, 8, 36, 0, 7]], 'float64', 1e-9));
  it('GQA, untied, float32', () => compare(base, [[3, 1, 4, 1, 5, 9, 2, 6]], 'float32', 1e-4));
  it('tied embeddings, MHA, llama3 rope scaling', () =>
    compare(parseLlamaConfig({ ...base.raw, num_key_value_heads: 4, tie_word_embeddings: true, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 } }), [[2, 7, 1, 8, 2, 8, 1, 8, 2, 8]], 'float64', 1e-9));
  it('Mistral sliding window', () => compare(parseLlamaConfig({ ...base.raw, sliding_window: 3 }), [[9, 8, 7, 6, 5, 4, 3, 2]], 'float64', 1e-9));
  it('head_dim different from hidden/heads', () => compare(parseLlamaConfig({ ...base.raw, head_dim: 8 }), [[1, 2, 3, 4, 5]], 'float64', 1e-9));
});
