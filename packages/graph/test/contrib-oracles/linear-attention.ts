// Oracle for com.microsoft.LinearAttention as onnxruntime 1.29's CPU kernel computes it (sequential
// recurrence over tokens, state per (batch, KV head) of shape d_k × d_v).

import { check, checkLength, type FloatArray } from './types';

export type LinearAttentionUpdateRule = 'linear' | 'gated' | 'delta' | 'gated_delta';

export interface LinearAttentionArgs {
  batchSize: number;
  seqLen: number;
  qNumHeads: number;
  kvNumHeads: number;
  /** ORT default 'gated_delta'. */
  updateRule?: LinearAttentionUpdateRule;
  /** (B, T, qNumHeads·d_k); d_k is inferred. */
  query: FloatArray;
  /** (B, T, nK·d_k): nK key heads, nK must divide kvNumHeads (KV head h reads key head ⌊h / (kvNumHeads/nK)⌋). */
  key: FloatArray;
  /** (B, T, kvNumHeads·d_v); d_v is inferred. */
  value: FloatArray;
  /** (B, kvNumHeads, d_k, d_v); zeros when omitted. */
  pastState?: FloatArray;
  /** Log-space decay g: (B, T, kvNumHeads) per head, or (B, T, kvNumHeads·d_k) per key dim (row i of S). */
  decay?: FloatArray;
  /** (B, T, kvNumHeads) or (B, T, 1). */
  beta?: FloatArray;
  /** 0 / absent → 1/sqrt(d_k). */
  scale?: number;
}

export interface LinearAttentionResult {
  /** (B, T, max(qNumHeads, kvNumHeads)·d_v). */
  output: Float64Array;
  /** (B, kvNumHeads, d_k, d_v). */
  presentState: Float64Array;
  dK: number;
  dV: number;
  outputHeads: number;
}

/**
 * LinearAttention, per token t and KV head h (S is d_k × d_v):
 *   decay:  S ← exp(g_t) ⊙ S (scalar per head, or per row i for per-key-dim decay)       [gated, gated_delta]
 *   linear/gated: S ← S + k_t v_tᵀ
 *   delta/gated_delta: S ← S + k_t (β_t (v_t − Sᵀ k_t))ᵀ  (Sᵀk_t read after the decay)
 *   o_t = scale · q_tᵀ S  (read after the update).
 * Heads: qNumHeads ≥ kvNumHeads: query head n uses state ⌊n / (qNumHeads/kvNumHeads)⌋, output slot n;
 * qNumHeads < kvNumHeads ("inverse GQA"): state h uses query head ⌊h·qNumHeads/kvNumHeads⌋, output slot h.
 *
 * @example
 * const { output, presentState } = linearAttention({ batchSize: 1, seqLen: 8, qNumHeads: 4, kvNumHeads: 4,
 *   updateRule: 'gated', query: C, key: B, value: xdt, decay: dtA, scale: 1 });
 */
export function linearAttention(a: LinearAttentionArgs): LinearAttentionResult {
  const op = 'LinearAttention';
  const rule = a.updateRule ?? 'gated_delta';
  const B = a.batchSize;
  const T = a.seqLen;
  const Hq = a.qNumHeads;
  const Hkv = a.kvNumHeads;
  const bt = B * T;
  check(bt > 0 && a.query.length % (bt * Hq) === 0, op, `query length ${a.query.length} is not B·T·qNumHeads·d_k`);
  const dK = a.query.length / (bt * Hq);
  check(a.key.length % (bt * dK) === 0, op, `key length ${a.key.length} is not a multiple of B·T·d_k = ${bt * dK}`);
  const nK = a.key.length / (bt * dK);
  check(a.value.length % (bt * Hkv) === 0, op, `value length ${a.value.length} is not B·T·kvNumHeads·d_v`);
  const dV = a.value.length / (bt * Hkv);
  check(nK > 0 && Hkv % nK === 0, op, `kvNumHeads ${Hkv} must be a multiple of the key head count ${nK}`);
  check(Hq >= Hkv ? Hq % Hkv === 0 : Hkv % Hq === 0, op, `qNumHeads ${Hq} and kvNumHeads ${Hkv} must divide one another`);
  const needsDecay = rule === 'gated' || rule === 'gated_delta';
  const needsBeta = rule === 'delta' || rule === 'gated_delta';
  check(!needsDecay || a.decay !== undefined, op, `update rule '${rule}' needs decay`);
  check(!needsBeta || a.beta !== undefined, op, `update rule '${rule}' needs beta`);
  let decayPerKey = false;
  if (a.decay) {
    decayPerKey = a.decay.length === bt * Hkv * dK;
    check(decayPerKey || a.decay.length === bt * Hkv, op, `decay must be (B, T, kvNumHeads) or (B, T, kvNumHeads·d_k), got ${a.decay.length} elements`);
  }
  let betaPerHead = false;
  if (a.beta) {
    betaPerHead = a.beta.length === bt * Hkv;
    check(betaPerHead || a.beta.length === bt, op, `beta must be (B, T, kvNumHeads) or (B, T, 1), got ${a.beta.length} elements`);
  }
  if (a.pastState) checkLength(a.pastState, B * Hkv * dK * dV, op, 'pastState', `[${B}, ${Hkv}, ${dK}, ${dV}]`);
  const scale = a.scale && a.scale !== 0 ? a.scale : 1 / Math.sqrt(dK);
  const outputHeads = Math.max(Hq, Hkv);
  const outHidden = outputHeads * dV;
  const output = new Float64Array(bt * outHidden);
  const state = a.pastState ? Float64Array.from(a.pastState) : new Float64Array(B * Hkv * dK * dV);
  const retrieved = new Float64Array(dV);
  const kvPerK = Hkv / nK;
  const group = Hq >= Hkv ? Hq / Hkv : 0;

  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hkv; h++) {
      const sOff = (b * Hkv + h) * dK * dV;
      const hk = Math.floor(h / kvPerK);
      for (let t = 0; t < T; t++) {
        const row = b * T + t;
        const kOff = row * nK * dK + hk * dK;
        const vOff = row * Hkv * dV + h * dV;
        if (needsDecay) {
          const d = a.decay as FloatArray;
          for (let i = 0; i < dK; i++) {
            const e = Math.exp(decayPerKey ? d[row * Hkv * dK + h * dK + i] : d[row * Hkv + h]);
            for (let j = 0; j < dV; j++) state[sOff + i * dV + j] *= e;
          }
        }
        if (needsBeta) {
          const beta = betaPerHead ? (a.beta as FloatArray)[row * Hkv + h] : (a.beta as FloatArray)[row];
          for (let j = 0; j < dV; j++) {
            let acc = 0;
            for (let i = 0; i < dK; i++) acc += state[sOff + i * dV + j] * a.key[kOff + i];
            retrieved[j] = beta * (a.value[vOff + j] - acc);
          }
          for (let i = 0; i < dK; i++) for (let j = 0; j < dV; j++) state[sOff + i * dV + j] += a.key[kOff + i] * retrieved[j];
        } else {
          for (let i = 0; i < dK; i++) for (let j = 0; j < dV; j++) state[sOff + i * dV + j] += a.key[kOff + i] * a.value[vOff + j];
        }
        const readouts: [qHead: number, outSlot: number][] = [];
        if (group > 0) for (let g = 0; g < group; g++) readouts.push([h * group + g, h * group + g]);
        else readouts.push([Math.floor((h * Hq) / Hkv), h]);
        for (const [qh, slot] of readouts) {
          const qOff = row * Hq * dK + qh * dK;
          const oOff = row * outHidden + slot * dV;
          for (let j = 0; j < dV; j++) {
            let acc = 0;
            for (let i = 0; i < dK; i++) acc += a.query[qOff + i] * state[sOff + i * dV + j];
            output[oOff + j] = scale * acc;
          }
        }
      }
    }
  }
  return { output, presentState: state, dK, dV, outputHeads };
}
