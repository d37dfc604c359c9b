// Oracle for com.microsoft.RotaryEmbedding (and the rotary step inside GroupQueryAttention).

import { check, checkLength, intAt, type FloatArray, type IntArray } from './types';

/**
 * Rotates one head vector in place semantics (reads `src[so..]`, writes `dst[do..]`) with the cos/sin
 * row `cacheRow` of a (maxSeq, rotaryDim/2) cache. Dims at or above rotaryDim are copied unchanged.
 * Non-interleaved (Llama "rotate half"): pairs (i, i + rotaryDim/2). Interleaved (GPT-J): pairs (2i, 2i+1).
 */
export function rotateHead(
  src: ArrayLike<number>,
  so: number,
  dst: Float64Array,
  dOff: number,
  headSize: number,
  rotaryDim: number,
  cos: FloatArray,
  sin: FloatArray,
  cacheRow: number,
  interleaved: boolean,
): void {
  const half = rotaryDim / 2;
  const c0 = cacheRow * half;
  for (let i = 0; i < rotaryDim; i++) {
    let cacheIdx: number;
    let sign: number;
    let j: number;
    if (interleaved) {
      cacheIdx = i >> 1;
      sign = i % 2 === 0 ? -1 : 1;
      j = i % 2 === 0 ? i + 1 : i - 1;
    } else {
      cacheIdx = i % half;
      sign = i < half ? -1 : 1;
      j = (i + half) % rotaryDim;
    }
    dst[dOff + i] = src[so + i] * cos[c0 + cacheIdx] + sign * src[so + j] * sin[c0 + cacheIdx];
  }
  for (let i = rotaryDim; i < headSize; i++) dst[dOff + i] = src[so + i];
}

export interface RotaryEmbeddingArgs {
  input: FloatArray;
  /** (batch, seq, hidden) or (batch, numHeads, seq, headSize). */
  shape: readonly number[];
  /** (batch, seq) int64 positions, or a single element: positions are that offset + s. */
  positionIds: IntArray;
  /** (maxSeq, rotaryDim/2) each. */
  cosCache: FloatArray;
  sinCache: FloatArray;
  /** Second dim of the caches (= rotaryDim/2). */
  cacheHalfDim: number;
  interleaved?: boolean;
  /** Needed when rotaryEmbeddingDim is set (and for 3-D input it sets the head split). */
  numHeads?: number;
  /** 0 / absent: rotaryDim = headSize = 2·cacheHalfDim (then num_heads = hidden / headSize). */
  rotaryEmbeddingDim?: number;
}

/**
 * com.microsoft.RotaryEmbedding as onnxruntime's CPU kernel computes it: for each (b, s, head) the first
 * rotaryDim dims are rotated by the cache row at the token's position, the rest pass through.
 * Head size: 2·cacheHalfDim when rotary_embedding_dim is 0, else hidden / num_heads.
 *
 * @example
 * const y = rotaryEmbedding({ input: x, shape: [1, 5, 64], positionIds: [0], cosCache, sinCache,
 *   cacheHalfDim: 8, interleaved: false }); // 4 heads of 16
 */
export function rotaryEmbedding(a: RotaryEmbeddingArgs): Float64Array {
  const op = 'RotaryEmbedding';
  check(a.shape.length === 3 || a.shape.length === 4, op, `input must be 3-D or 4-D, got shape [${a.shape.join(', ')}]`);
  const transposed = a.shape.length === 4;
  const batch = a.shape[0];
  const seq = transposed ? a.shape[2] : a.shape[1];
  const hidden = transposed ? a.shape[1] * a.shape[3] : a.shape[2];
  const rotAttr = a.rotaryEmbeddingDim ?? 0;
  check(rotAttr === 0 || (a.numHeads ?? 0) > 0, op, 'numHeads must be given when rotaryEmbeddingDim is set');
  const headSize = rotAttr === 0 ? a.cacheHalfDim * 2 : hidden / (a.numHeads as number);
  const numHeads = (a.numHeads ?? 0) > 0 ? (a.numHeads as number) : hidden / headSize;
  const rotaryDim = rotAttr > 0 ? rotAttr : headSize;
  check(Number.isInteger(headSize) && Number.isInteger(numHeads) && numHeads * headSize === hidden, op,
    `hidden ${hidden} does not split into heads (headSize ${headSize}, numHeads ${numHeads})`);
  check(rotaryDim <= headSize && rotaryDim / 2 === a.cacheHalfDim, op,
    `cos/sin cache dim 1 (${a.cacheHalfDim}) must equal rotaryDim/2 (${rotaryDim / 2}), rotaryDim <= headSize ${headSize}`);
  if (transposed) check(a.shape[1] === numHeads && a.shape[3] === headSize, op, `4-D input must be (batch, numHeads=${numHeads}, seq, headSize=${headSize})`);
  checkLength(a.input, batch * seq * hidden, op, 'input', `[${a.shape.join(', ')}]`);
  check(a.cosCache.length === a.sinCache.length && a.cosCache.length % a.cacheHalfDim === 0, op, 'cos/sin caches must have equal (maxSeq, cacheHalfDim) shapes');
  const maxSeq = a.cosCache.length / a.cacheHalfDim;
  const scalarPos = a.positionIds.length === 1;
  check(scalarPos || a.positionIds.length === batch * seq, op, `positionIds must have 1 or batch*seq = ${batch * seq} elements`);

  const out = new Float64Array(a.input.length);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const pos = scalarPos ? intAt(a.positionIds, 0) + s : intAt(a.positionIds, b * seq + s);
      check(pos >= 0 && pos < maxSeq, op, `position ${pos} (batch ${b}, token ${s}) is outside the cos/sin cache of ${maxSeq} rows`);
      for (let n = 0; n < numHeads; n++) {
        const off = transposed ? ((b * numHeads + n) * seq + s) * headSize : ((b * seq + s) * numHeads + n) * headSize;
        rotateHead(a.input, off, out, off, headSize, rotaryDim, a.cosCache, a.sinCache, pos, a.interleaved ?? false);
      }
    }
  }
  return out;
}
