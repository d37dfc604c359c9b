// The cached inference graph of both students (GroupQueryAttention + CausalConvWithState + LinearAttention) equals
// the hybrid oracle for prefill, decode, multi-token verify, lazy rollback and snapshots.
import { describe, it, expect } from 'vitest';
import { parseLlamaConfig, type HybridConfig } from '@mil/checkpoint';
import { HybridSession } from '../src/hybrid/hybrid-session';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import type { LlamaConfig } from '@mil/checkpoint';

const teacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});

function maxRel(got: Float32Array, ref: Float64Array, offset = 0): number {
  let w = 0;
  for (let i = 0; i < got.length; i++) w = Math.max(w, Math.abs(got[i] - ref[offset + i]) / (1 + Math.abs(ref[offset + i])));
  return w;
}

async function check(hybrid: HybridConfig, tol = 1e-4) {
  const w = randomHybridWeights(teacher, hybrid, 5);
  const s = await HybridSession.create(teacher, hybrid, w, { threads: 1 });
  const ids = [5, 9, 2, 33, 17, 8, 1, 40, 12, 3];
  const V = teacher.vocabSize;
  const ref = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [ids]).logits;
  const a = await s.forward(ids.slice(0, 4));
  const worst: number[] = [maxRel(a, ref, 0)];
  for (let t = 4; t < 6; t++) worst.push(maxRel(await s.decode(ids[t]), ref, t * V));
  const snap = s.snapshot();
  worst.push(maxRel(await s.forward(ids.slice(6, 9)), ref, 6 * V));
  s.truncate(7); // keep one of the three: replayed lazily
  expect(s.length).toBe(7);
  worst.push(maxRel(await s.forward(ids.slice(7, 10)), ref, 7 * V));
  s.restore(snap);
  expect(s.length).toBe(6);
  worst.push(maxRel(await s.forward(ids.slice(6, 10)), ref, 6 * V));
  for (const x of worst) expect(x).toBeLessThan(tol);
  await s.release();
}

describe('hybrid inference session vs oracle', () => {
  it('Mamba-1, 50% attention', () => check(hybridConfigForTeacher(teacher, 'mamba1', [1, 3])));
  it('Mamba-2, 50% attention', () => check(hybridConfigForTeacher(teacher, 'mamba2', [1, 3])));
});

describe('hybrid inference graph: state tensors equal the oracle state (layouts), batch 2', () => {
  for (const variant of ['mamba1', 'mamba2'] as const) {
    it(`${variant}: present_conv / present_ssm / present.key equal the oracle's, then 3 decode steps`, async () => {
      const { Graph, Runner } = await import('@mil/graph');
      const { buildHybridInferenceGraph, mambaStateNames } = await import('../src/hybrid/hybrid-graphs');
      const { kvNames } = await import('../src/llama/inference-graph');
      const { toMamba1Layout } = await import('../src/hybrid/hybrid-weights');
      const { resolveHybridDims } = await import('../src/hybrid/hybrid-dims');
      const hybrid = hybridConfigForTeacher(teacher, variant, [0, 3]); // attention first and last, Mamba in between
      const dims = resolveHybridDims(teacher, hybrid);
      const w = toMamba1Layout(teacher, hybrid, randomHybridWeights(teacher, hybrid, 8), 'fused');
      const g = new Graph();
      const m = buildHybridInferenceGraph(g, teacher, hybrid);
      const run = await Runner.create(g.toModel({ outputs: m.outputs, weights: 'initializers', weightData: (n) => w.get(n) }), { threads: 1 });
      const ids = [[5, 9, 2, 33, 17, 8, 1], [4, 0, 40, 3, 3, 21, 6]];
      const ssmDims = variant === 'mamba1' ? [dims.dInner, dims.dState] : [dims.nHeads, dims.headDim, dims.dState];
      const zeros = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), dims: shape });
      const feed = (tokens: number[][], total: number, past: Record<string, { data: Float32Array; dims: readonly number[] }> | null) => {
        const f: Record<string, { data: Float32Array | BigInt64Array; dims: readonly number[] }> = {
          input_ids: { data: BigInt64Array.from(tokens.flat().map(BigInt)), dims: [2, tokens[0].length] },
          attention_mask: { data: new BigInt64Array(2 * total).fill(1n), dims: [2, total] },
        };
        for (const i of dims.attnLayers) {
          const n = kvNames(i);
          f[n.pastKey] = past ? past[n.presentKey] : zeros([2, 2, 0, 16]);
          f[n.pastValue] = past ? past[n.presentValue] : zeros([2, 2, 0, 16]);
        }
        for (const i of dims.ssmLayers) {
          const n = mambaStateNames(i);
          f[n.pastConv] = past ? past[n.presentConv] : zeros([2, dims.convChannels, dims.dConv - 1]);
          f[n.pastSsm] = past ? past[n.presentSsm] : zeros([2, ...ssmDims]);
        }
        return f;
      };
      const first = await run.run(feed(ids.map((r) => r.slice(0, 4)), 4, null));
      const ref = hybridOracleForward(teacher, hybrid, (n) => w.get(n), ids.map((r) => r.slice(0, 4)));
      expect(maxRel(first.logits.data as Float32Array, ref.logits)).toBeLessThan(1e-4);
      for (const i of dims.ssmLayers) {
        const n = mambaStateNames(i);
        const s = ref.state.layers[i];
        if (s.kind !== 'mamba') throw new Error('expected a Mamba state');
        expect(first[n.presentConv].dims).toEqual([2, dims.convChannels, dims.dConv - 1]);
        expect(first[n.presentSsm].dims).toEqual([2, ...ssmDims]);
        expect(maxRel(first[n.presentConv].data as Float32Array, s.conv)).toBeLessThan(1e-5);
        expect(maxRel(first[n.presentSsm].data as Float32Array, s.ssm)).toBeLessThan(1e-4);
      }
      for (const i of dims.attnLayers) {
        const s = ref.state.layers[i];
        if (s.kind !== 'attention') throw new Error('expected a KV cache');
        expect(maxRel(first[kvNames(i).presentKey].data as Float32Array, s.key)).toBeLessThan(1e-4);
      }
      // ORT's GroupQueryAttention takes several new tokens after a past only at batch 1: continue by decode steps.
      const full = hybridOracleForward(teacher, hybrid, (n) => w.get(n), ids).logits;
      const V = teacher.vocabSize;
      let past = first;
      for (let t = 4; t < 7; t++) {
        past = await run.run(feed(ids.map((r) => [r[t]]), t + 1, past as never));
        const want = new Float64Array(2 * V);
        for (let b = 0; b < 2; b++) want.set(full.subarray((b * 7 + t) * V, (b * 7 + t + 1) * V), b * V);
        expect(maxRel(past.logits.data as Float32Array, want)).toBeLessThan(1e-4);
      }
      await run.release();
    });
  }
});

describe('hybrid session: layer patterns, Δ bias, rollback limits', () => {
  it('Mamba-2, 0% attention (no KV cache at all), tied embeddings', async () => {
    const tied = parseLlamaConfig({ ...teacher.raw, tie_word_embeddings: true });
    const hybrid = hybridConfigForTeacher(tied, 'mamba2', []);
    const w = randomHybridWeights(tied, hybrid, 2);
    const s = await HybridSession.create(tied, hybrid, w, { threads: 1 });
    const ids = [7, 7, 3, 19, 2, 28];
    const ref = hybridOracleForward(tied, hybrid, (n) => w.get(n), [ids]).logits;
    expect(maxRel(await s.forward(ids.slice(0, 3)), ref, 0)).toBeLessThan(1e-4);
    expect(maxRel(await s.forward(ids.slice(3)), ref, 3 * tied.vocabSize)).toBeLessThan(1e-4);
    await s.release();
  });
  it('Mamba-1 single Δ bias: session equals the single-bias oracle, not the double one', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba1', [3]);
    const w = randomHybridWeights(teacher, hybrid, 6);
    const s = await HybridSession.create(teacher, hybrid, w, { threads: 1, mamba1DtBias: 'single' });
    const ids = [1, 2, 3, 4, 5];
    const got = await s.forward(ids);
    const single = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [ids], { mamba1DtBias: 'single' }).logits;
    const double = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [ids]).logits;
    expect(maxRel(got, single)).toBeLessThan(1e-4);
    expect(maxRel(got, double)).toBeGreaterThan(1e-3);
    await s.release();
  });
  it('truncate: within the last call (lazy replay), into pending tokens, and refuses to cut further back', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1, 3]);
    const w = randomHybridWeights(teacher, hybrid, 7);
    const s = await HybridSession.create(teacher, hybrid, w, { threads: 1 });
    const ids = [5, 9, 2, 33, 17, 8, 1, 40];
    const V = teacher.vocabSize;
    const ref = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [ids]).logits;
    await s.prefill(ids.slice(0, 3));
    await s.forward([ids[3], 0, 0, 0]); // one good token, three rejected drafts
    s.truncate(5);
    s.truncate(4); // a second cut, inside the tokens still to replay
    expect(s.length).toBe(4);
    expect(() => s.truncate(2)).toThrow(/cannot be cut/);
    expect(maxRel(await s.forward(ids.slice(4)), ref, 4 * V)).toBeLessThan(1e-4);
    expect(s.length).toBe(8);
    await s.release();
  });
});
