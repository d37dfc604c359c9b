import { describe, it, expect } from 'vitest';
import {
  causalConvWithState,
  linearAttention,
  type LinearAttentionUpdateRule,
} from './contrib-oracles';
import { expectClose, randomFloats, runSingleNode, type Feed } from './contrib-oracles-harness';
import { mulberry32 } from '@mil/core';

const f32 = (name: string, dims: number[], data: Float32Array): Feed => ({ name, dtype: 'float32', dims, data });
const softplus = (v: number): number => (v > 20 ? v : Math.log1p(Math.exp(v)));

interface LaCase {
  B: number;
  T: number;
  hq: number;
  hkv: number;
  /** key heads */
  hk: number;
  dk: number;
  dv: number;
  rule: LinearAttentionUpdateRule;
  perKeyDecay?: boolean;
  betaShared?: boolean;
  past?: boolean;
  scale?: number;
  /** Passed as the chunk_size attribute (a tuning hint that must not change results). */
  chunkSize?: number;
}

async function runLinearAttention(c: LaCase, q: Float32Array, k: Float32Array, v: Float32Array, past?: Float32Array, decay?: Float32Array, beta?: Float32Array) {
  const inputs: (Feed | null)[] = [
    f32('query', [c.B, c.T, c.hq * c.dk], q),
    f32('key', [c.B, c.T, c.hk * c.dk], k),
    f32('value', [c.B, c.T, c.hkv * c.dv], v),
    past ? f32('past_state', [c.B, c.hkv, c.dk, c.dv], past) : null,
    decay ? f32('decay', [c.B, c.T, decay.length / (c.B * c.T)], decay) : null,
    beta ? f32('beta', [c.B, c.T, beta.length / (c.B * c.T)], beta) : null,
  ];
  while (inputs[inputs.length - 1] === null) inputs.pop();
  const attrs: Record<string, { type: 'int'; value: number } | { type: 'string'; value: string } | { type: 'float'; value: number }> = {
    q_num_heads: { type: 'int', value: c.hq },
    kv_num_heads: { type: 'int', value: c.hkv },
    update_rule: { type: 'string', value: c.rule },
  };
  if (c.scale !== undefined) attrs.scale = { type: 'float', value: c.scale };
  if (c.chunkSize !== undefined) attrs.chunk_size = { type: 'int', value: c.chunkSize };
  return runSingleNode('LinearAttention', 'com.microsoft', inputs, [['output', 3], ['present_state', 4]], attrs);
}

describe('LinearAttention oracle = onnxruntime CPU', () => {
  const cases: [string, LaCase][] = [
    ['linear', { B: 2, T: 5, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'linear' }],
    ['gated, per-head decay, past state', { B: 2, T: 5, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'gated', past: true }],
    ['gated, per-key-dim decay (GLA), past state', { B: 2, T: 5, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'gated', perKeyDecay: true, past: true }],
    ['delta', { B: 1, T: 6, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'delta', past: true }],
    ['gated with chunk_size=2 (hint only)', { B: 1, T: 7, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'gated', past: true, chunkSize: 2 }],
    ['gated_delta (default rule), beta (B,T,1)', { B: 1, T: 6, hq: 2, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'gated_delta', betaShared: true, past: true }],
    ['GQA: 4 query heads share 2 states', { B: 1, T: 5, hq: 4, hkv: 2, hk: 2, dk: 4, dv: 3, rule: 'gated' }],
    ['inverse GQA: 2 query heads for 4 states, 2 key heads', { B: 1, T: 5, hq: 2, hkv: 4, hk: 2, dk: 4, dv: 3, rule: 'gated', past: true }],
    ['grouped keys: 4 states read 1 key head, scale=1', { B: 1, T: 5, hq: 4, hkv: 4, hk: 1, dk: 4, dv: 3, rule: 'gated', scale: 1 }],
    ['larger heads (MLAS path d_k·d_v ≥ 4096), T=40', { B: 1, T: 40, hq: 2, hkv: 2, hk: 1, dk: 64, dv: 64, rule: 'gated', past: true, scale: 1 }],
  ];
  cases.forEach(([label, c], idx) => {
    it(label, async () => {
      const rng = mulberry32(200 + idx);
      const bt = c.B * c.T;
      const kScale = c.dk >= 64 ? 0.3 : 1;
      const q = randomFloats(rng, bt * c.hq * c.dk, -kScale, kScale);
      const k = randomFloats(rng, bt * c.hk * c.dk, -kScale, kScale);
      const v = randomFloats(rng, bt * c.hkv * c.dv);
      const past = c.past ? randomFloats(rng, c.B * c.hkv * c.dk * c.dv) : undefined;
      const decay = c.rule.startsWith('gated') ? randomFloats(rng, bt * (c.perKeyDecay ? c.hkv * c.dk : c.hkv), -0.6, -0.01) : undefined;
      const beta = c.rule.endsWith('delta') ? randomFloats(rng, bt * (c.betaShared ? 1 : c.hkv), 0.1, 0.9) : undefined;
      const r = await runLinearAttention(c, q, k, v, past, decay, beta);
      const ref = linearAttention({
        batchSize: c.B, seqLen: c.T, qNumHeads: c.hq, kvNumHeads: c.hkv, updateRule: c.rule,
        query: q, key: k, value: v, pastState: past, decay, beta, scale: c.scale,
      });
      expect(r.output.dims).toEqual([c.B, c.T, Math.max(c.hq, c.hkv) * c.dv]);
      expect(r.present_state.dims).toEqual([c.B, c.hkv, c.dk, c.dv]);
      expectClose('output', r.output.data as Float32Array, ref.output);
      expectClose('present_state', r.present_state.data as Float32Array, ref.presentState);
    });
  });
});

describe('CausalConvWithState oracle = onnxruntime CPU', () => {
  const cases: [string, { B: number; C: number; L: number; K: number; bias?: boolean; past?: boolean; act?: 'none' | 'silu' | 'swish' }][] = [
    ['prefill with bias, past state, SiLU', { B: 2, C: 6, L: 7, K: 4, bias: true, past: true, act: 'silu' }],
    ['decode (L=1) with bias, past state, SiLU', { B: 2, C: 6, L: 1, K: 4, bias: true, past: true, act: 'silu' }],
    ['L=2 < k−1 (state keeps old entries), swish', { B: 1, C: 6, L: 2, K: 4, bias: true, past: true, act: 'swish' }],
    ['no bias, no past (zero padding), no activation', { B: 2, C: 6, L: 5, K: 4 }],
    ['kernel 7 (generic path)', { B: 1, C: 6, L: 3, K: 7, bias: true, past: true, act: 'silu' }],
  ];
  cases.forEach(([label, c], idx) => {
    it(label, async () => {
      const rng = mulberry32(300 + idx);
      const x = randomFloats(rng, c.B * c.C * c.L);
      const w = randomFloats(rng, c.C * c.K);
      const bias = c.bias ? randomFloats(rng, c.C) : undefined;
      const past = c.past ? randomFloats(rng, c.B * c.C * (c.K - 1)) : undefined;
      const inputs: (Feed | null)[] = [f32('input', [c.B, c.C, c.L], x), f32('weight', [c.C, 1, c.K], w),
        bias ? f32('bias', [c.C], bias) : null, past ? f32('past_state', [c.B, c.C, c.K - 1], past) : null];
      while (inputs[inputs.length - 1] === null) inputs.pop();
      const r = await runSingleNode('CausalConvWithState', 'com.microsoft', inputs, [['output', 3], ['present_state', 3]],
        c.act ? { activation: { type: 'string', value: c.act } } : {});
      const ref = causalConvWithState({ batchSize: c.B, channels: c.C, length: c.L, kernelSize: c.K, input: x, weight: w, bias, pastState: past, activation: c.act });
      expectClose('output', r.output.data as Float32Array, ref.output);
      expectClose('present_state', r.present_state.data as Float32Array, ref.presentState, { rtol: 0, atol: 0 });
    });
  });
});

// The Mamba math of docs/contrib-ops.md, written independently of the oracles (mamba-in-llama.md §1.3, §1.4, §7).
describe('Mamba layers expressed with the contrib ops (ORT CPU vs a sequential selective scan)', () => {
  it('Mamba-2 SSD step = LinearAttention(gated): k=B (grouped), v=Δ·x, q=C, decay=Δ·A, scale=1, then + D·x', async () => {
    const rng = mulberry32(401);
    const Bsz = 1;
    const nheads = 4; // SSM heads (= attention heads)
    const G = 2; // KV heads: x and B groups, head h uses group ⌊h / (nheads/G)⌋
    const P = 3; // headdim
    const N = 5; // d_state
    const T = 6;
    const x = randomFloats(rng, Bsz * (T + 1) * G * P);
    const Bm = randomFloats(rng, Bsz * (T + 1) * G * N);
    const Cm = randomFloats(rng, Bsz * (T + 1) * nheads * N);
    const dt = randomFloats(rng, Bsz * (T + 1) * nheads, -2, 1);
    const dtBias = randomFloats(rng, nheads, -1, 1);
    const Alog = randomFloats(rng, nheads, 0, 2.7);
    const D = randomFloats(rng, nheads);

    // Reference: H_t = exp(Δ·A)·H + Δ·x_t B_tᵀ (P×N); y_t = H_t C_t + D·x_t.
    const Hs = new Float64Array(nheads * P * N);
    const yRef: number[] = [];
    let stateAfterPrefill = new Float64Array(0);
    for (let t = 0; t <= T; t++) {
      for (let h = 0; h < nheads; h++) {
        const g = Math.floor(h / (nheads / G));
        const delta = softplus(dt[t * nheads + h] + dtBias[h]);
        const a = Math.exp(delta * -Math.exp(Alog[h]));
        for (let p = 0; p < P; p++)
          for (let n = 0; n < N; n++)
            Hs[(h * P + p) * N + n] = a * Hs[(h * P + p) * N + n] + delta * x[(t * G + g) * P + p] * Bm[(t * G + g) * N + n];
        for (let p = 0; p < P; p++) {
          let acc = D[h] * x[(t * G + g) * P + p];
          for (let n = 0; n < N; n++) acc += Hs[(h * P + p) * N + n] * Cm[(t * nheads + h) * N + n];
          yRef.push(acc);
        }
      }
      if (t === T - 1) stateAfterPrefill = Float64Array.from(Hs);
    }

    // Graph-side preprocessing (standard ops in the real graph): Δ, decay, v = Δ·x expanded to heads.
    const prep = (t0: number, t1: number) => {
      const len = t1 - t0;
      const v = new Float32Array(len * nheads * P);
      const decay = new Float32Array(len * nheads);
      for (let t = t0; t < t1; t++)
        for (let h = 0; h < nheads; h++) {
          const g = Math.floor(h / (nheads / G));
          const delta = softplus(dt[t * nheads + h] + dtBias[h]);
          decay[(t - t0) * nheads + h] = delta * -Math.exp(Alog[h]);
          for (let p = 0; p < P; p++) v[((t - t0) * nheads + h) * P + p] = delta * x[(t * G + g) * P + p];
        }
      return { v, decay, q: Cm.slice(t0 * nheads * N, t1 * nheads * N), k: Bm.slice(t0 * G * N, t1 * G * N) };
    };
    const c = { B: 1, hq: nheads, hkv: nheads, hk: G, dk: N, dv: P, rule: 'gated' as const, scale: 1 };
    const pre = prep(0, T);
    const r1 = await runLinearAttention({ ...c, T }, pre.q, pre.k, pre.v, undefined, pre.decay);
    const dec = prep(T, T + 1);
    const r2 = await runLinearAttention({ ...c, T: 1 }, dec.q, dec.k, dec.v, r1.present_state.data as Float32Array, dec.decay);
    const y = [...(r1.output.data as Float32Array), ...(r2.output.data as Float32Array)];
    for (let t = 0; t <= T; t++)
      for (let h = 0; h < nheads; h++)
        for (let p = 0; p < P; p++) y[(t * nheads + h) * P + p] += D[h] * x[(t * G + Math.floor(h / (nheads / G))) * P + p];
    expectClose('y (prefill + decode)', y, yRef);
    // ORT's state is (b, h, N, P): the transpose of Mamba's ssm_state (b, h, P, N).
    const s1 = r1.present_state.data as Float32Array;
    const transposed = new Float64Array(nheads * P * N);
    for (let h = 0; h < nheads; h++) for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) transposed[(h * P + p) * N + n] = s1[(h * N + n) * P + p];
    expectClose('state after prefill', transposed, stateAfterPrefill);
  });

  it('Mamba-1 selective scan = LinearAttention(gated): one state head per channel (d_v=1), per-key-dim decay Δ·A[d,n], inverse GQA for C', async () => {
    const rng = mulberry32(402);
    const dInner = 16;
    const N = 4; // d_state; C groups = dInner/N = 4
    const rB = 2; // repeat factor: B has dInner/(N·rB) = 2 raw groups; channel d reads raw group ⌊d/(N·rB)⌋
    const nB = dInner / (N * rB);
    const nC = dInner / N;
    const T = 5;
    const x = randomFloats(rng, T * dInner);
    const Bm = randomFloats(rng, T * nB * N);
    const Cm = randomFloats(rng, T * nC * N);
    const dt = randomFloats(rng, T * dInner, -2, 1);
    const A = randomFloats(rng, dInner * N, -3, -0.1);
    const D = randomFloats(rng, dInner);
    const h = new Float64Array(dInner * N);
    const yRef: number[] = [];
    for (let t = 0; t < T; t++)
      for (let d = 0; d < dInner; d++) {
        const delta = softplus(dt[t * dInner + d]);
        const gB = Math.floor(d / (N * rB));
        const gC = Math.floor(d / N);
        let acc = D[d] * x[t * dInner + d];
        for (let n = 0; n < N; n++) {
          h[d * N + n] = Math.exp(delta * A[d * N + n]) * h[d * N + n] + delta * Bm[(t * nB + gB) * N + n] * x[t * dInner + d];
          acc += h[d * N + n] * Cm[(t * nC + gC) * N + n];
        }
        yRef.push(acc);
      }
    const v = new Float32Array(T * dInner);
    const decay = new Float32Array(T * dInner * N);
    for (let t = 0; t < T; t++)
      for (let d = 0; d < dInner; d++) {
        const delta = softplus(dt[t * dInner + d]);
        v[t * dInner + d] = delta * x[t * dInner + d];
        for (let n = 0; n < N; n++) decay[(t * dInner + d) * N + n] = delta * A[d * N + n];
      }
    const r = await runLinearAttention({ B: 1, T, hq: nC, hkv: dInner, hk: nB, dk: N, dv: 1, rule: 'gated', perKeyDecay: true, scale: 1 }, Cm, Bm, v, undefined, decay);
    const y = Array.from(r.output.data as Float32Array, (o, i) => o + D[i % dInner] * x[i]);
    expectClose('y', y, yRef);
    expectClose('state (b, d, N, 1) = Mamba ssm_state (b, d, N)', r.present_state.data as Float32Array, h);
  });

  it('causal_conv1d_update with a d_conv-wide state = CausalConvWithState with past = state[..., 1:]', async () => {
    const rng = mulberry32(403);
    const C = 5;
    const K = 4;
    const w = randomFloats(rng, C * K);
    const bias = randomFloats(rng, C);
    const mambaState = randomFloats(rng, C * K); // (1, C, d_conv): last d_conv pre-conv inputs
    const xNew = randomFloats(rng, C);
    // Reference (Mamba step): state = roll(state, −1); state[:, −1] = x; out = silu(Σ state·w + b).
    const next = new Float64Array(C * K);
    const out = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < K - 1; j++) next[c * K + j] = mambaState[c * K + j + 1];
      next[c * K + K - 1] = xNew[c];
      let s = bias[c];
      for (let j = 0; j < K; j++) s += w[c * K + j] * next[c * K + j];
      out[c] = s / (1 + Math.exp(-s));
    }
    const past = new Float32Array(C * (K - 1));
    for (let c = 0; c < C; c++) for (let j = 0; j < K - 1; j++) past[c * (K - 1) + j] = mambaState[c * K + j + 1];
    const r = await runSingleNode('CausalConvWithState', 'com.microsoft',
      [f32('input', [1, C, 1], xNew), f32('weight', [C, 1, K], w), f32('bias', [C], bias), f32('past_state', [1, C, K - 1], past)],
      [['output', 3], ['present_state', 3]], { activation: { type: 'string', value: 'silu' } });
    expectClose('output', r.output.data as Float32Array, out);
    const present = r.present_state.data as Float32Array;
    for (let c = 0; c < C; c++) for (let j = 0; j < K - 1; j++) expect(present[c * (K - 1) + j]).toBe(Math.fround(next[c * K + j + 1]));
  });
});
