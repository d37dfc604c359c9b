// The hybrid oracle itself: continuing from a state equals recomputing, the reference's repeat maps, the
// embedded teacher's student sizes, and the linear-attention view of an attention-initialised Mamba-2 layer.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { causalConv1dUpdate, mamba2Scan } from '@mil/ssm-kernels';
import { hybridConfigForTeacher, resolveHybridDims } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { mamba1RepeatSource, mamba2Expand, mamba2Project, readMambaWeights } from '../src/hybrid/oracle-mixers';
import { hybridParamCount, randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { createRng } from '@mil/core';
import { randomLlamaWeights } from '../src/oracle';
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';

const teacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

describe('hybrid oracle', () => {
  for (const variant of ['mamba1', 'mamba2'] as const) {
    it(`${variant}: prefill + state + decode steps equals one pass (batch 2)`, () => {
      const hybrid = hybridConfigForTeacher(teacher, variant, [1]);
      const w = randomHybridWeights(teacher, hybrid, 3);
      const src = (n: string) => w.get(n);
      const ids = [[3, 8, 1, 40, 22, 9, 0], [17, 2, 2, 5, 39, 11, 30]];
      const full = hybridOracleForward(teacher, hybrid, src, ids);
      const a = hybridOracleForward(teacher, hybrid, src, ids.map((r) => r.slice(0, 4)));
      const b = hybridOracleForward(teacher, hybrid, src, ids.map((r) => r.slice(4, 6)), { state: a.state });
      const c = hybridOracleForward(teacher, hybrid, src, ids.map((r) => [r[6]]), { state: b.state });
      const V = teacher.vocabSize;
      for (let bi = 0; bi < 2; bi++) {
        expect(maxAbs(a.logits.subarray(bi * 4 * V, (bi + 1) * 4 * V), full.logits.subarray(bi * 7 * V, (bi * 7 + 4) * V))).toBeLessThan(1e-12);
        expect(maxAbs(b.logits.subarray(bi * 2 * V, (bi + 1) * 2 * V), full.logits.subarray((bi * 7 + 4) * V, (bi * 7 + 6) * V))).toBeLessThan(1e-12);
        expect(maxAbs(c.logits.subarray(bi * V, (bi + 1) * V), full.logits.subarray((bi * 7 + 6) * V, (bi * 7 + 7) * V))).toBeLessThan(1e-12);
      }
      expect(c.state.length).toBe(7);
      // the input state is untouched (immutable states allow rollback by keeping the old object)
      const again = hybridOracleForward(teacher, hybrid, src, ids.map((r) => r.slice(4, 6)), { state: a.state });
      expect(maxAbs(again.logits, b.logits)).toBe(0);
    });
  }

  it('Mamba-1 repeat map: in the 8B student query head h reads V channels [128⌊h/4⌋ + 32(h mod 4), +32), each 4×', () => {
    for (let h = 0; h < 32; h++) {
      const src = Array.from({ length: 128 }, (_, e) => mamba1RepeatSource(128 * h + e, 16, 4));
      const distinct = [...new Set(src)].sort((x, y) => x - y);
      const lo = 128 * Math.floor(h / 4) + 32 * (h % 4);
      expect(distinct).toEqual(Array.from({ length: 32 }, (_, k) => lo + k));
      for (const v of distinct) expect(src.filter((s) => s === v).length).toBe(4);
    }
  });

  it('the embedded teacher (models/sotu-tiny) gets the documented student sizes', () => {
    const cfg = parseLlamaConfig(JSON.parse(readFileSync(new URL('../../../models/sotu-tiny/config.json', import.meta.url), 'utf8')));
    const odd = [1, 3, 5, 7];
    const m2 = resolveHybridDims(cfg, hybridConfigForTeacher(cfg, 'mamba2', odd));
    expect({ dInner: m2.dInner, dXb: m2.dXb, nGroups: m2.nGroups, nHeads: m2.nHeads, dState: m2.dState, headDim: m2.headDim }).toEqual({
      dInner: 256, dXb: 128, nGroups: 4, nHeads: 4, dState: 64, headDim: 64,
    });
    const m1 = resolveHybridDims(cfg, hybridConfigForTeacher(cfg, 'mamba1', odd));
    expect({ dInner: m1.dInner, dXb: m1.dXb, dState: m1.dState, dtRank: m1.dtRank, rep: m1.rep }).toEqual({ dInner: 256, dXb: 128, dState: 16, dtRank: 16, rep: 2 });
    expect(hybridParamCount(cfg, hybridConfigForTeacher(cfg, 'mamba2', odd)).mambaLayers).toBe(4);
  });

  it('Mamba-2 initialised from attention with A = 0, Δ = 1, D = 0 and conv, gate and norm bypassed is unnormalised causal linear attention of the teacher Q, K, V', () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1, 2, 3]);
    const dims = resolveHybridDims(teacher, hybrid);
    const tw = randomLlamaWeights(teacher, 12);
    const D = 64, di = 64, dxb = 32, H = 4, hd = 16, L = 6;
    const att = (n: string) => tw.get(`model.layers.0.self_attn.${n}_proj.weight`)!;
    // Weight transfer by hand: in_proj rows [z, x ← V, B ← K, C ← Q, dt], out_proj ← O.
    const inProj = new Float32Array(dims.inProjRows * D);
    inProj.set(att('v'), di * D);
    inProj.set(att('k'), (di + dxb) * D);
    inProj.set(att('q'), (di + 2 * dxb) * D);
    const conv = new Float32Array(dims.convChannels * 4);
    for (let c = 0; c < dims.convChannels; c++) conv[c * 4 + 3] = 1; // identity tap on the current step
    const p = 'model.layers.0.mamba';
    const m = new Map<string, Float32Array>([
      [`${p}.in_proj.weight`, inProj],
      [`${p}.conv1d.weight`, conv],
      [`${p}.conv1d.bias`, new Float32Array(dims.convChannels)],
      [`${p}.dt_bias`, new Float32Array(H).fill(Math.log(Math.E - 1))], // softplus(0 + b) = 1
      [`${p}.A_log`, new Float32Array(H).fill(-Infinity)], // A = −exp(−∞) = 0: decay exp(ΔA) = 1
      [`${p}.D`, new Float32Array(H)],
      [`${p}.norm.weight`, new Float32Array(di).fill(1)],
      [`${p}.out_proj.weight`, att('o')],
    ]);
    const mw = readMambaWeights(dims, (n) => m.get(n), 0);
    const rng = createRng(5);
    const u = Float64Array.from({ length: L * D }, () => 2 * rng() - 1);
    // The student's own projection, conv (identity taps, no SiLU), head/group repeat and SSD scan.
    const { xbc, dt } = mamba2Project(dims, mw, u, L);
    const cv = causalConv1dUpdate({ batch: 1, seqLen: L, dim: dims.convChannels, width: 4, stateLen: 3, activation: 'none', x: xbc, state: new Float64Array(dims.convChannels * 3), weight: mw.convWeight, bias: mw.convBias });
    expect(maxAbs(cv.y, xbc)).toBe(0);
    const { x, B, C } = mamba2Expand(dims, cv.y as Float64Array, L);
    const scan = mamba2Scan({ batch: 1, seqLen: L, nHeads: H, headDim: hd, dState: hd, nGroups: H, A: mw.A, D: mw.D, dtBias: mw.dtBias, dtSoftplus: true, x, dt, B, C });
    const student = new Float64Array(L * D);
    for (let t = 0; t < L; t++) for (let o = 0; o < D; o++) {
      let s = 0;
      for (let c = 0; c < di; c++) s += scan.y[t * di + c] * mw.out[o * di + c];
      student[t * D + o] = s;
    }
    // Linear attention straight from the teacher's weights: o_t,h = Σ_{s≤t} (q_t,h · k_s,kv(h)) v_s,kv(h), kv(h) = ⌊h/2⌋.
    const proj = (W: Float32Array, rows: number) => {
      const y = new Float64Array(L * rows);
      for (let t = 0; t < L; t++) for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += u[t * D + k] * W[r * D + k];
        y[t * rows + r] = s;
      }
      return y;
    };
    const q = proj(att('q'), H * hd);
    const k = proj(att('k'), dxb);
    const v = proj(att('v'), dxb);
    const attnOut = new Float64Array(L * H * hd);
    for (let t = 0; t < L; t++) for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / 2);
      for (let s = 0; s <= t; s++) {
        let score = 0;
        for (let e = 0; e < hd; e++) score += q[(t * H + h) * hd + e] * k[s * dxb + kv * hd + e];
        for (let e = 0; e < hd; e++) attnOut[(t * H + h) * hd + e] += score * v[s * dxb + kv * hd + e];
      }
    }
    const wo = att('o');
    const reference = new Float64Array(L * D);
    for (let t = 0; t < L; t++) for (let o = 0; o < D; o++) {
      let s = 0;
      for (let c = 0; c < H * hd; c++) s += attnOut[t * H * hd + c] * wo[o * H * hd + c];
      reference[t * D + o] = s;
    }
    // Δ is softplus of the float32-rounded ln(e − 1): 1 to about 1e-8; scale by the exact value.
    const delta = Math.log1p(Math.exp(mw.dtBias[0]));
    expect(Math.abs(delta - 1)).toBeLessThan(1e-7);
    for (let i = 0; i < reference.length; i++) reference[i] *= delta;
    let scale = 0;
    for (const r of reference) scale = Math.max(scale, Math.abs(r));
    expect(scale).toBeGreaterThan(0.1);
    expect(maxAbs(student, reference) / scale).toBeLessThan(1e-12);
    // With decay (A < 0) it is no longer plain linear attention.
    const decayed = mamba2Scan({ batch: 1, seqLen: L, nHeads: H, headDim: hd, dState: hd, nGroups: H, A: new Float64Array(H).fill(-1), D: mw.D, dtBias: mw.dtBias, dtSoftplus: true, x, dt, B, C });
    expect(maxAbs(decayed.y, scan.y)).toBeGreaterThan(1e-3);
  });
});
