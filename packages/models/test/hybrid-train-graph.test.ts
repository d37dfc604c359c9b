// The hybrid students' training graphs equal the plain TypeScript oracle of the whole hybrid on random weights, and
// their gradients equal finite differences of that oracle.
import { describe, it, expect } from 'vitest';
import { Graph, Runner, gradients, mul, reduceSum, type Tensor } from '@mil/graph';
import { parseLlamaConfig, type HybridConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph } from '../src/hybrid/hybrid-graphs';
import { hybridConfigForTeacher, type Mamba1DtBias } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights, type Mamba1Layout } from '../src/hybrid/hybrid-weights';
import { createRng } from '@mil/core';
import type { LlamaConfig } from '@mil/checkpoint';

const teacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});
const twoRows = [[1, 5, 9, 2, 30, 11, 7], [4, 4, 8, 36, 0, 7, 2]];

interface Opts { chunkSize?: number; mamba1DtBias?: Mamba1DtBias; mamba1Layout?: Mamba1Layout }

/** Logits of the training graph on `weights`. */
async function graphLogits(cfg: LlamaConfig, hybrid: HybridConfig, weights: Map<string, Float32Array>, ids: number[][], dtype: 'float32' | 'float64', opts: Opts): Promise<Float32Array | Float64Array> {
  const g = new Graph();
  const { logits } = buildHybridTrainGraph(g, cfg, hybrid, { dtype, ...opts });
  const model = g.toModel({ outputs: { logits } });
  const run = await Runner.create(model, { threads: 1, optimization: dtype === 'float64' ? 'basic' : 'all' });
  const b = ids.length;
  const s = ids[0].length;
  const feeds: Record<string, { data: Float32Array | Float64Array | BigInt64Array; dims: number[] }> = {
    input_ids: { data: BigInt64Array.from(ids.flat().map(BigInt)), dims: [b, s] },
  };
  // Without attention layers nothing reads position_ids, and the model has no such input.
  if (model.inputNames.includes('position_ids')) feeds.position_ids = { data: BigInt64Array.from(ids.flatMap((r) => r.map((_, t) => BigInt(t)))), dims: [b, s] };
  for (const name of model.paramNames) {
    const w = weights.get(name);
    if (!w) throw new Error(`no weight ${name}`);
    feeds[name] = { data: dtype === 'float64' ? Float64Array.from(w) : w, dims: [...g.tensor(name).shape] as number[] };
  }
  const out = await run.run(feeds);
  await run.release();
  return out.logits.data as Float32Array | Float64Array;
}

function maxRel(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (1 + Math.abs(ref[i])));
  return worst;
}

async function compare(hybrid: HybridConfig, ids: number[][], dtype: 'float32' | 'float64', tol: number, opts: Opts = {}, cfg = teacher) {
  const weights = randomHybridWeights(cfg, hybrid, 11, { mamba1Layout: opts.mamba1Layout });
  const got = await graphLogits(cfg, hybrid, weights, ids, dtype, opts);
  const ref = hybridOracleForward(cfg, hybrid, (n) => weights.get(n), ids, opts);
  expect(got.length).toBe(ref.logits.length);
  expect(maxRel(got, ref.logits)).toBeLessThan(tol);
  return ref.logits;
}

describe('hybrid training graph vs oracle', () => {
  it('Mamba-1, 50% attention (Mamba at even layers), float64, chunks of 3 over 7 steps', () =>
    compare(hybridConfigForTeacher(teacher, 'mamba1', [1, 3]), twoRows, 'float64', 1e-9, { chunkSize: 3 }));
  it('Mamba-2, 50% attention, float64, chunks of 3', () =>
    compare(hybridConfigForTeacher(teacher, 'mamba2', [1, 3]), twoRows, 'float64', 1e-9, { chunkSize: 3 }));
  it('Mamba-1 float32 (default chunk), fused in_proj names', () =>
    compare(hybridConfigForTeacher(teacher, 'mamba1', [2]), [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3]], 'float32', 1e-4, { mamba1Layout: 'fused' }));
  it('Mamba-2 float32, 0% attention, tied embeddings', () => {
    const tied = parseLlamaConfig({ ...teacher.raw, tie_word_embeddings: true });
    return compare(hybridConfigForTeacher(tied, 'mamba2', []), [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3]], 'float32', 1e-4, {}, tied);
  });
  it('Mamba-2 with 4 groups over 1 KV head (repeat 4) and a Mistral sliding window on the attention layer', () => {
    const mqa = parseLlamaConfig({ ...teacher.raw, num_key_value_heads: 1, sliding_window: 3 });
    return compare(hybridConfigForTeacher(mqa, 'mamba2', [3]), twoRows, 'float64', 1e-9, { chunkSize: 4 }, mqa);
  });
  it('Mamba-1 double vs single Δ bias: both match their oracle, and they differ', async () => {
    const h = hybridConfigForTeacher(teacher, 'mamba1', [1, 3]);
    const dbl = await compare(h, twoRows, 'float64', 1e-9, { chunkSize: 4 });
    const sgl = await compare(h, twoRows, 'float64', 1e-9, { chunkSize: 4, mamba1DtBias: 'single' });
    expect(maxRel(sgl, dbl)).toBeGreaterThan(1e-3);
  });
});

describe('hybrid training graph gradients vs finite differences of the oracle', () => {
  const small = parseLlamaConfig({
  model_type: 'llama',
    vocab_size: 13, hidden_size: 32, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2,
    num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 16,
  });
  const ids = [[1, 7, 3, 12, 5, 0]];
  for (const variant of ['mamba1', 'mamba2'] as const) {
    it(`${variant}: every mamba.* parameter (2 random elements each)`, async () => {
      const hybrid = hybridConfigForTeacher(small, variant, [1]);
      const weights = randomHybridWeights(small, hybrid, 3);
      const g = new Graph();
      const { logits, params } = buildHybridTrainGraph(g, small, hybrid, { dtype: 'float64', chunkSize: 4 });
      const rng = createRng(17);
      const n = ids[0].length * small.vocabSize;
      const R = Float64Array.from({ length: n }, () => 2 * rng() - 1);
      const loss = reduceSum(mul(logits, g.constant(R, 'float64', [1, ids[0].length, small.vocabSize])));
      const mamba = [...params.entries()].filter(([k]) => k.includes('.mamba.'));
      const grads = gradients(loss, mamba.map(([, t]) => t));
      const outputs: Record<string, Tensor> = { loss };
      mamba.forEach(([k, t], j) => (outputs[`g${j}`] = grads.get(t)!));
      const run = await Runner.create(g.toModel({ outputs }), { threads: 1, optimization: 'basic' });
      const feeds: Record<string, { data: Float64Array | BigInt64Array; dims: number[] }> = {
        input_ids: { data: BigInt64Array.from(ids.flat().map(BigInt)), dims: [1, ids[0].length] },
        position_ids: { data: BigInt64Array.from(ids[0].map((_, t) => BigInt(t))), dims: [1, ids[0].length] },
      };
      const w64 = new Map([...weights].map(([k, v]) => [k, Float64Array.from(v)]));
      for (const [k, t] of params) feeds[k] = { data: w64.get(k)!, dims: t.shape as number[] };
      const out = await run.run(feeds);
      await run.release();
      const oracleLoss = (): number => {
        const l = hybridOracleForward(small, hybrid, (k) => w64.get(k), ids).logits;
        let s = 0;
        for (let i = 0; i < n; i++) s += l[i] * R[i];
        return s;
      };
      expect(Math.abs((out.loss.data as Float64Array)[0] - oracleLoss())).toBeLessThan(1e-9);
      let worst = 0;
      mamba.forEach(([k], j) => {
        const w = w64.get(k)!;
        const grad = out[`g${j}`].data as Float64Array;
        expect(grad.length).toBe(w.length);
        for (let e = 0; e < 2; e++) {
          const idx = Math.floor(rng() * w.length);
          const keep = w[idx];
          const eps = 1e-5 * Math.max(1, Math.abs(keep));
          w[idx] = keep + eps;
          const up = oracleLoss();
          w[idx] = keep - eps;
          const down = oracleLoss();
          w[idx] = keep;
          const numeric = (up - down) / (2 * eps);
          worst = Math.max(worst, Math.abs(numeric - grad[idx]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(grad[idx])));
        }
      });
      expect(mamba.length).toBe(variant === 'mamba1' ? 12 : 8);
      expect(worst).toBeLessThan(1e-5);
    });
  }
});
