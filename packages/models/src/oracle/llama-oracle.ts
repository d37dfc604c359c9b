import type { LlamaConfig } from '@mil/checkpoint';
import { appendSeq, emptyKvCache, type KvCache, type KvCacheLayer } from './kv-cache';
import { loadLlamaWeights, type LayerWeights, type WeightSource } from './llama-weights';
import { ModelsError } from '../errors';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@mil/core';
import { rmsNormRows } from './rms-norm';
import { applyRopeInPlace, ropeInvFreq } from './rope';

/** Options of `llamaOracleForward`. */
export interface LlamaOracleOptions {
  /** Keys/values of earlier positions; the new tokens continue after `cache.length`. */
  cache?: KvCache;
  /** RoPE positions `[batch][L]`; default `cache.length + t`. Masking always uses cache index, as HF does. */
  positions?: number[][];
  /**
   * How cached keys / values are held: exact (default) or rounded to float16 (through float32) as soon as they are
   * computed, as the sessions' `kvDtype: 'float16'` stores them — this call's tokens then attend to rounded rows too.
   */
  kvDtype?: 'float32' | 'float16';
}

/** What `llamaOracleForward` returns. */
export interface LlamaOracleOutput {
  /** Row-major `[batch, L, vocab]`, float64. */
  logits: Float64Array;
  dims: [batch: number, length: number, vocab: number];
  /** A new cache holding the old positions and these L (the input cache is not changed). */
  cache: KvCache;
}

/**
 * A plain TypeScript forward of a Hugging Face Llama / Mistral decoder (float64), the oracle the ONNX graphs are
 * checked against: embeddings → per layer [RMSNorm → GQA attention with rotate-half RoPE (optional llama3
 * scaling), causal and optionally sliding-window masked, scale 1/sqrt(head_dim) → residual → RMSNorm →
 * SwiGLU `down(silu(gate(x)) * up(x))` → residual] → RMSNorm → lm_head (or tied embeddings).
 * Linears use HF's `[out, in]` layout, `y = x Wᵀ`. Decoding with `opts.cache` equals recomputing from scratch.
 *
 * @example
 * const w = randomLlamaWeights(cfg, 1);
 * const full = llamaOracleForward(cfg, (n) => w.get(n), [[5, 6, 7]]);
 * const step = llamaOracleForward(cfg, (n) => w.get(n), [[8]], { cache: full.cache });
 * // step.logits equals the last row of llamaOracleForward(cfg, src, [[5, 6, 7, 8]]).logits
 */
export function llamaOracleForward(
  config: LlamaConfig,
  weights: WeightSource,
  inputIds: number[][],
  opts: LlamaOracleOptions = {},
): LlamaOracleOutput {
  const r = config;
  const batch = inputIds.length;
  if (batch === 0) throw new ModelsError('BAD_INPUT', 'inputIds: expected at least one sequence');
  const len = inputIds[0].length;
  if (len === 0) throw new ModelsError('BAD_INPUT', 'inputIds: expected at least one token per sequence');
  for (let b = 0; b < batch; b++) {
    const row = inputIds[b];
    if (row.length !== len) {
      throw new ModelsError('BAD_INPUT', `inputIds[${b}]: expected ${len} tokens like inputIds[0], got ${row.length}`);
    }
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= r.vocabSize) {
        throw new ModelsError('BAD_INPUT', `inputIds[${b}]: token ${id} is not in [0, ${r.vocabSize})`);
      }
    }
  }
  const cache = opts.cache ?? emptyKvCache(r.numHiddenLayers, batch, r.numKeyValueHeads, r.headDim);
  checkCache(cache, r, batch);
  const positions = resolvePositions(opts.positions, batch, len, cache.length);
  const w = loadLlamaWeights(r, weights);
  const invFreq = ropeInvFreq(r.headDim, r.ropeTheta, r.ropeScaling);

  const d = r.hiddenSize;
  const h = embedTokens(w.embed, d, inputIds);
  const newLayers: KvCacheLayer[] = [];
  for (let l = 0; l < r.numHiddenLayers; l++) {
    newLayers.push(decoderLayer(r, w.layers[l], h, batch, len, positions, invFreq, cache.layers[l], cache.length, opts.kvDtype));
  }
  const rows = batch * len;
  const logits = linear(rmsNormRows(h, rows, w.norm, r.rmsNormEps), rows, d, w.lmHead, r.vocabSize, null);
  return {
    logits,
    dims: [batch, len, r.vocabSize],
    cache: { batch, numKvHeads: r.numKeyValueHeads, headDim: r.headDim, length: cache.length + len, layers: newLayers },
  };
}

function checkCache(cache: KvCache, r: LlamaConfig, batch: number): void {
  if (cache.batch !== batch || cache.numKvHeads !== r.numKeyValueHeads || cache.headDim !== r.headDim) {
    throw new ModelsError(
      'BAD_CACHE',
      `cache: expected batch ${batch}, ${r.numKeyValueHeads} kv heads, head_dim ${r.headDim}; ` +
        `got batch ${cache.batch}, ${cache.numKvHeads} kv heads, head_dim ${cache.headDim}`,
    );
  }
  if (cache.layers.length !== r.numHiddenLayers) {
    throw new ModelsError('BAD_CACHE', `cache: expected ${r.numHiddenLayers} layers, got ${cache.layers.length}`);
  }
  const size = batch * r.numKeyValueHeads * cache.length * r.headDim;
  cache.layers.forEach((layer, i) => {
    if (layer.key.length !== size || layer.value.length !== size) {
      throw new ModelsError('BAD_CACHE', `cache.layers[${i}]: expected ${size} elements for key and value`);
    }
  });
}

function resolvePositions(positions: number[][] | undefined, batch: number, len: number, start: number): number[][] {
  if (positions === undefined) {
    const row = Array.from({ length: len }, (_, t) => start + t);
    return Array.from({ length: batch }, () => row);
  }
  if (positions.length !== batch || positions.some((p) => p.length !== len || p.some((x) => !Number.isFinite(x)))) {
    throw new ModelsError('BAD_INPUT', `positions: expected ${batch} rows of ${len} finite numbers`);
  }
  return positions;
}

/** Rounds every value to the nearest float16 (via float32, as a float32 graph's Cast to float16 does), in place. */
function roundToFloat16(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = float16BitsToFloat32(float32ToFloat16Bits(x[i]));
}

/**
 * One decoder layer, updating `h` [batch, L, d] in place; returns the layer's cache after this call: keys
 * (after RoPE) and values of the past and these L positions, each `[batch, kvHeads, past + L, headDim]`.
 * @internal (also runs the attention layers of the hybrid oracle)
 */
export function decoderLayer(
  r: LlamaConfig,
  w: LayerWeights,
  h: Float64Array,
  batch: number,
  len: number,
  positions: number[][],
  invFreq: Float64Array,
  past: KvCacheLayer,
  pastLen: number,
  kvDtype: 'float32' | 'float16' = 'float32',
): KvCacheLayer {
  const d = r.hiddenSize;
  const hd = r.headDim;
  const nH = r.numAttentionHeads;
  const nKv = r.numKeyValueHeads;
  const nRep = nH / nKv;
  const rows = batch * len;
  const total = pastLen + len;
  const scale = 1 / Math.sqrt(hd);

  const x = rmsNormRows(h, rows, w.inputNorm, r.rmsNormEps);
  const q = linear(x, rows, d, w.q, nH * hd, w.qBias); // [b, L, nH*hd]
  const k = linear(x, rows, d, w.k, nKv * hd, w.kBias);
  const v = linear(x, rows, d, w.v, nKv * hd, w.vBias);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < len; t++) {
      const row = b * len + t;
      const pos = positions[b][t];
      for (let hh = 0; hh < nH; hh++) applyRopeInPlace(q, (row * nH + hh) * hd, invFreq, pos);
      for (let hh = 0; hh < nKv; hh++) applyRopeInPlace(k, (row * nKv + hh) * hd, invFreq, pos);
    }
  }
  // This call's keys/values as [b, nKv, L, hd] (the cache layout).
  const key = new Float64Array(batch * nKv * len * hd);
  const value = new Float64Array(batch * nKv * len * hd);
  for (let b = 0; b < batch; b++) {
    for (let hh = 0; hh < nKv; hh++) {
      for (let t = 0; t < len; t++) {
        const src = ((b * len + t) * nKv + hh) * hd;
        const dst = ((b * nKv + hh) * len + t) * hd;
        key.set(k.subarray(src, src + hd), dst);
        value.set(v.subarray(src, src + hd), dst);
      }
    }
  }
  if (kvDtype === 'float16') {
    roundToFloat16(key);
    roundToFloat16(value);
  }
  const kvRows = batch * nKv;
  const fullKey = appendSeq(past.key, key, kvRows, pastLen, len, hd); // [b, nKv, total, hd]
  const fullValue = appendSeq(past.value, value, kvRows, pastLen, len, hd);
  const attn = new Float64Array(rows * nH * hd);
  const scores = new Float64Array(total);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < len; t++) {
      const i = pastLen + t; // the query's index in the cache
      const lo = r.slidingWindow === null ? 0 : Math.max(0, i - r.slidingWindow + 1); // keep i - j < window
      for (let hh = 0; hh < nH; hh++) {
        const kh = Math.floor(hh / nRep); // HF repeat_kv: query head hh reads kv head hh // n_rep
        const qOff = ((b * len + t) * nH + hh) * hd;
        const kvBase = (b * nKv + kh) * total * hd;
        let max = -Infinity;
        for (let j = lo; j <= i; j++) {
          const off = kvBase + j * hd;
          let s = 0;
          for (let e = 0; e < hd; e++) s += q[qOff + e] * fullKey[off + e];
          s *= scale;
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = lo; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (let j = lo; j <= i; j++) {
          const p = scores[j] / sum;
          const off = kvBase + j * hd;
          for (let e = 0; e < hd; e++) attn[qOff + e] += p * fullValue[off + e];
        }
      }
    }
  }
  const o = linear(attn, rows, nH * hd, w.o, d, w.oBias);
  for (let i = 0; i < h.length; i++) h[i] += o[i];
  mlpResidual(r, w, h, rows);
  return { key: fullKey, value: fullValue };
}

/** Hidden states [batch, L, d] of `inputIds`: rows of the embedding matrix. @internal (also the hybrid oracle's) */
export function embedTokens(embed: Float64Array, d: number, inputIds: number[][]): Float64Array {
  const batch = inputIds.length;
  const len = inputIds[0].length;
  const h = new Float64Array(batch * len * d);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < len; t++) {
      const id = inputIds[b][t];
      h.set(embed.subarray(id * d, (id + 1) * d), (b * len + t) * d);
    }
  }
  return h;
}

/**
 * The second half of a decoder layer on h [rows, d], in place: h += down(silu(gate(x)) ⊙ up(x)), x = RMSNorm(h)
 * with `post_attention_layernorm`. @internal (also the hybrid oracle's Mamba layers)
 */
export function mlpResidual(r: LlamaConfig, w: LayerWeights, h: Float64Array, rows: number): void {
  const d = r.hiddenSize;
  const x2 = rmsNormRows(h, rows, w.postNorm, r.rmsNormEps);
  const f = r.intermediateSize;
  const gate = linear(x2, rows, d, w.gate, f, w.gateBias);
  const up = linear(x2, rows, d, w.up, f, w.upBias);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    gate[i] = (g / (1 + Math.exp(-g))) * up[i]; // silu(gate) * up
  }
  const down = linear(gate, rows, f, w.down, d, w.downBias);
  for (let i = 0; i < h.length; i++) h[i] += down[i];
}

/** `y = x Wᵀ + bias` with HF Linear layout `W [out, in]`; x is `[rows, in]`. @internal */
export function linear(
  x: Float64Array,
  rows: number,
  inDim: number,
  weight: Float64Array,
  outDim: number,
  bias: Float64Array | null,
): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const xOff = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const wOff = o * inDim;
      let s = bias === null ? 0 : bias[o];
      for (let i = 0; i < inDim; i++) s += x[xOff + i] * weight[wOff + i];
      y[r * outDim + o] = s;
    }
  }
  return y;
}
