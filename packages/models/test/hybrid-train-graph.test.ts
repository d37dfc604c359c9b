// The hybrid students' training graphs equal the plain TypeScript oracle of the whole hybrid on random weights.
import { describe, it, expect } from 'vitest';
import { Graph, Runner } from '@mil/graph';
import { buildHybridTrainGraph } from '../src/hybrid/hybrid-graphs';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import type { LlamaOracleConfig } from '../src/oracle';
import type { HybridConfig } from '@mil/checkpoint';

const teacher: LlamaOracleConfig = {
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
};

async function compare(hybrid: HybridConfig, ids: number[][], dtype: 'float32' | 'float64', tol: number, opts: { chunkSize?: number; mamba1DtBias?: 'single' | 'double' } = {}) {
  const weights = randomHybridWeights(teacher, hybrid, 11);
  const g = new Graph();
  const { logits } = buildHybridTrainGraph(g, teacher, hybrid, { dtype, ...opts });
  const model = g.toModel({ outputs: { logits } });
  const run = await Runner.create(model, { threads: 1, optimization: dtype === 'float64' ? 'basic' : 'all' });
  const b = ids.length;
  const s = ids[0].length;
  const feeds: Record<string, { data: Float32Array | Float64Array | BigInt64Array; dims: number[] }> = {
    input_ids: { data: BigInt64Array.from(ids.flat().map(BigInt)), dims: [b, s] },
    position_ids: { data: BigInt64Array.from(ids.flatMap((r) => r.map((_, t) => BigInt(t)))), dims: [b, s] },
  };
  for (const name of model.paramNames) {
    const w = weights.get(name);
    if (!w) throw new Error(`no weight ${name}`);
    feeds[name] = { data: dtype === 'float64' ? Float64Array.from(w) : w, dims: [...g.tensor(name).shape] as number[] };
  }
  const out = await run.run(feeds);
  await run.release();
  const ref = hybridOracleForward(teacher, hybrid, (n) => weights.get(n), ids, opts);
  const got = out.logits.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < ref.logits.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.logits[i]) / (1 + Math.abs(ref.logits[i])));
  expect(got.length).toBe(ref.logits.length);
  expect(worst).toBeLessThan(tol);
  return worst;
}

describe('hybrid training graph vs oracle', () => {
  it('Mamba-1, 50% attention, float64', async () => {
    const w = await compare(hybridConfigForTeacher(teacher, 'mamba1', [1, 3]), [[1, 5, 9, 2, 30, 11, 7], [4, 4, 8, 36, 0, 7, 2]], 'float64', 1e-9, { chunkSize: 3 });
    console.log('m1', w);
  });
  it('Mamba-2, 50% attention, float64', async () => {
    const w = await compare(hybridConfigForTeacher(teacher, 'mamba2', [1, 3]), [[1, 5, 9, 2, 30, 11, 7], [4, 4, 8, 36, 0, 7, 2]], 'float64', 1e-9, { chunkSize: 3 });
    console.log('m2', w);
  });
});
