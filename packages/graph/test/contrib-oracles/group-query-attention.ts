// Oracle for com.microsoft.GroupQueryAttention as onnxruntime 1.29's CPU kernel computes it.

import { rotateHead } from './rotary-embedding';
import { check, checkLength, intAt, type FloatArray, type IntArray } from './types';

export interface GroupQueryAttentionArgs {
  batchSize: number;
  /** New tokens this call (S). */
  sequenceLength: number;
  numHeads: number;
  kvNumHeads: number;
  headSize: number;
  /**
   * (B, S, numHeads·H); or packed QKV (B, S, (numHeads + 2·kvNumHeads)·H) when key/value are omitted:
   * per token [q heads | k heads | v heads].
   */
  query: FloatArray;
  /** (B, S, kvNumHeads·H). */
  key?: FloatArray;
  value?: FloatArray;
  /** (B, kvNumHeads, P, H), BNSH; P (the past buffer length) is inferred. Both or neither. */
  pastKey?: FloatArray;
  pastValue?: FloatArray;
  /** (B) int32: total valid length − 1 per batch entry (past + new tokens − 1). */
  seqlensK: IntArray;
  /** Scalar: max total length over the batch. S == totalSequenceLength means "first prompt" (no past). */
  totalSequenceLength: number;
  /** (maxSeq, rotaryDim/2) each; required with doRotary. rotaryDim = 2·cacheHalfDim may be < headSize. */
  cosCache?: FloatArray;
  sinCache?: FloatArray;
  cacheHalfDim?: number;
  doRotary?: boolean;
  /** (B, S) int64 (input 9): rotary positions of the new tokens; default past_b + s. Cache placement is unaffected. */
  positionIds?: IntArray;
  rotaryInterleaved?: boolean;
  /** 0 / absent → 1/sqrt(headSize). */
  scale?: number;
  /** > 0: logits ← softcap·tanh(logits/softcap), applied before attentionBias is added. */
  softcap?: number;
  /** > 0: a query at position p sees keys p − localWindowSize + 1 … p (localWindowSize keys). −1 = off. */
  localWindowSize?: number;
  /** Softmax with an extra logit 0 in the denominator. */
  smoothSoftmax?: boolean;
  /** (numHeads): per-head extra logit in the denominator (attention sink). */
  headSink?: FloatArray;
  /** (B or 1, numHeads or 1, S, totalSequenceLength), added to the scaled (and soft-capped) logits. */
  attentionBias?: FloatArray;
  attentionBiasShape?: readonly [number, number, number, number];
}

export interface GroupQueryAttentionResult {
  /** (B, S, numHeads·H). Rows of padding tokens (first prompt with seqlensK[b] + 1 < S) are left 0. */
  output: Float64Array;
  /** (B, kvNumHeads, presentLength, H): past rows, then the new (rotated) keys, then zeros. */
  presentKey: Float64Array;
  presentValue: Float64Array;
  /** max(totalSequenceLength, past buffer length). */
  presentLength: number;
}

/**
 * GroupQueryAttention (causal self-attention with KV cache, GQA head sharing, optional fused RoPE).
 * Per batch entry b: total_b = seqlensK[b] + 1, past_b = 0 on the first prompt, else total_b − S;
 * new token s sits at position past_b + s and attends to cache rows 0 … past_b + s (or the local window).
 * Query head n reads KV head ⌊n / (numHeads / kvNumHeads)⌋.
 *
 * @example
 * const r = groupQueryAttention({ batchSize: 1, sequenceLength: 1, numHeads: 4, kvNumHeads: 2, headSize: 16,
 *   query: q, key: k, value: v, pastKey, pastValue, seqlensK: [5], totalSequenceLength: 6 });
 */
export function groupQueryAttention(a: GroupQueryAttentionArgs): GroupQueryAttentionResult {
  const op = 'GroupQueryAttention';
  const B = a.batchSize;
  const S = a.sequenceLength;
  const N = a.numHeads;
  const Nkv = a.kvNumHeads;
  const H = a.headSize;
  check(N % Nkv === 0, op, `numHeads ${N} must be a multiple of kvNumHeads ${Nkv}`);
  const G = N / Nkv;
  const packed = a.key === undefined;
  check(packed === (a.value === undefined), op, 'key and value must be both given or both omitted (packed QKV)');
  const qStride = packed ? (N + 2 * Nkv) * H : N * H;
  checkLength(a.query, B * S * qStride, op, 'query', packed ? `[${B}, ${S}, ${(N + 2 * Nkv) * H}]` : `[${B}, ${S}, ${N * H}]`);
  if (!packed) {
    checkLength(a.key as FloatArray, B * S * Nkv * H, op, 'key', `[${B}, ${S}, ${Nkv * H}]`);
    checkLength(a.value as FloatArray, B * S * Nkv * H, op, 'value', `[${B}, ${S}, ${Nkv * H}]`);
  }
  check((a.pastKey === undefined) === (a.pastValue === undefined), op, 'pastKey and pastValue must be both given or both omitted');
  const pastBuf = a.pastKey ? a.pastKey.length / (B * Nkv * H) : 0;
  check(Number.isInteger(pastBuf) && (!a.pastValue || a.pastValue.length === a.pastKey!.length), op,
    `pastKey/pastValue must be (B=${B}, kvNumHeads=${Nkv}, P, H=${H}) with equal shapes`);
  checkLength(a.seqlensK, B, op, 'seqlensK', `[${B}]`);
  const T = a.totalSequenceLength;
  const presentLength = Math.max(T, pastBuf);
  const firstPrompt = S === T;
  // Mirrors the CPU kernel's refusal (onnxruntime 1.29): multi-token steps on a cache need batch 1.
  check(firstPrompt || S === 1 || B === 1, op, `batch_size must be 1 when sequenceLength (${S}) > 1 and past context is given (onnxruntime CPU refuses it)`);
  const scale = a.scale && a.scale !== 0 ? a.scale : 1 / Math.sqrt(H);
  const softcap = a.softcap ?? 0;
  const W = a.localWindowSize ?? -1;

  let rotaryDim = 0;
  if (a.doRotary) {
    check(a.cosCache !== undefined && a.sinCache !== undefined && a.cacheHalfDim !== undefined, op, 'doRotary needs cosCache, sinCache and cacheHalfDim');
    rotaryDim = 2 * (a.cacheHalfDim as number);
    check(rotaryDim <= H, op, `rotary dim ${rotaryDim} exceeds headSize ${H}`);
  }
  if (a.attentionBias) {
    check(a.attentionBiasShape !== undefined, op, 'attentionBias needs attentionBiasShape');
    const [b0, b1, b2, b3] = a.attentionBiasShape as readonly number[];
    check((b0 === B || b0 === 1) && (b1 === N || b1 === 1) && b2 === S && b3 === T, op,
      `attentionBias shape [${b0}, ${b1}, ${b2}, ${b3}] must be (B or 1, numHeads or 1, S=${S}, total=${T})`);
    checkLength(a.attentionBias, b0 * b1 * b2 * b3, op, 'attentionBias', `[${b0}, ${b1}, ${b2}, ${b3}]`);
  }
  if (a.headSink) checkLength(a.headSink, N, op, 'headSink', `[${N}]`);
  if (a.positionIds) checkLength(a.positionIds, B * S, op, 'positionIds', `[${B}, ${S}]`);
  const maxRotaryPos = a.doRotary ? (a.cosCache as FloatArray).length / (a.cacheHalfDim as number) : 0;
  const rotaryPos = (b: number, s: number, cachePos: number): number => {
    const pos = a.positionIds ? intAt(a.positionIds, b * S + s) : cachePos;
    check(pos >= 0 && pos < maxRotaryPos, op, `rotary position ${pos} (batch ${b}, token ${s}) is outside the cos/sin cache of ${maxRotaryPos} rows`);
    return pos;
  };

  const presentKey = new Float64Array(B * Nkv * presentLength * H);
  const presentValue = new Float64Array(B * Nkv * presentLength * H);
  const output = new Float64Array(B * S * N * H);
  const qRot = new Float64Array(H);
  const kRot = new Float64Array(H);
  const logits = new Float64Array(presentLength);

  for (let b = 0; b < B; b++) {
    const total = intAt(a.seqlensK, b) + 1;
    const past = firstPrompt ? 0 : total - S;
    check(past >= 0 && past <= pastBuf && total <= presentLength, op,
      `batch ${b}: seqlensK ${total - 1} gives past length ${past}, which the past buffer (${pastBuf}) / present (${presentLength}) cannot hold`);
    // Present cache: past rows, then the new keys/values at past + s.
    for (let m = 0; m < Nkv; m++) {
      const pOff = (b * Nkv + m) * presentLength * H;
      const srcOff = (b * Nkv + m) * pastBuf * H;
      for (let i = 0; i < past * H; i++) {
        presentKey[pOff + i] = a.pastKey![srcOff + i];
        presentValue[pOff + i] = a.pastValue![srcOff + i];
      }
      for (let s = 0; s < S; s++) {
        const row = past + s;
        if (row >= presentLength) continue;
        const kSrc = packed ? (b * S + s) * qStride + (N + m) * H : ((b * S + s) * Nkv + m) * H;
        const vSrc = packed ? (b * S + s) * qStride + (N + Nkv + m) * H : kSrc;
        const kData = packed ? a.query : (a.key as FloatArray);
        const vData = packed ? a.query : (a.value as FloatArray);
        if (a.doRotary) {
          rotateHead(kData, kSrc, kRot, 0, H, rotaryDim, a.cosCache!, a.sinCache!, rotaryPos(b, s, row), a.rotaryInterleaved ?? false);
          for (let h = 0; h < H; h++) presentKey[pOff + row * H + h] = kRot[h];
        } else {
          for (let h = 0; h < H; h++) presentKey[pOff + row * H + h] = kData[kSrc + h];
        }
        for (let h = 0; h < H; h++) presentValue[pOff + row * H + h] = vData[vSrc + h];
      }
    }
    for (let n = 0; n < N; n++) {
      const m = Math.floor(n / G);
      const kvOff = (b * Nkv + m) * presentLength * H;
      for (let s = 0; s < S; s++) {
        const p = past + s;
        if (p >= total) continue; // padding token of a right-padded first prompt
        const qSrc = packed ? (b * S + s) * qStride + n * H : ((b * S + s) * N + n) * H;
        if (a.doRotary) rotateHead(a.query, qSrc, qRot, 0, H, rotaryDim, a.cosCache!, a.sinCache!, rotaryPos(b, s, p), a.rotaryInterleaved ?? false);
        else for (let h = 0; h < H; h++) qRot[h] = a.query[qSrc + h];
        const lo = W > 0 ? Math.max(0, p - W + 1) : 0;
        let max = -Infinity;
        for (let j = lo; j <= p; j++) {
          let dot = 0;
          for (let h = 0; h < H; h++) dot += qRot[h] * presentKey[kvOff + j * H + h];
          let x = dot * scale;
          // onnxruntime 1.29 applies the softcap to the scaled logits first, then adds the bias.
          if (softcap > 0) x = softcap * Math.tanh(x / softcap);
          if (a.attentionBias) {
            const [b0, b1] = a.attentionBiasShape as readonly number[];
            x += a.attentionBias[(((b0 === 1 ? 0 : b) * b1 + (b1 === 1 ? 0 : n)) * S + s) * T + j];
          }
          logits[j] = x;
          if (x > max) max = x;
        }
        let sink = -Infinity;
        if (a.headSink) sink = a.headSink[n];
        else if (a.smoothSoftmax) sink = 0;
        if (sink > max) max = sink;
        let denom = sink === -Infinity ? 0 : Math.exp(sink - max);
        for (let j = lo; j <= p; j++) {
          logits[j] = Math.exp(logits[j] - max);
          denom += logits[j];
        }
        const oOff = ((b * S + s) * N + n) * H;
        for (let j = lo; j <= p; j++) {
          const w = logits[j] / denom;
          for (let h = 0; h < H; h++) output[oOff + h] += w * presentValue[kvOff + j * H + h];
        }
      }
    }
  }
  return { output, presentKey, presentValue, presentLength };
}
