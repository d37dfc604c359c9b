// Causal attention of the sessions' 'buffer' KV mode in standard ops: the past keys / values of each KV head are
// read where they lie (a view of the caller's buffer, fed without a copy) and never concatenated with the new ones —
// scores against the past and against the new tokens are computed apart and share one softmax. ORT's
// GroupQueryAttention copies the past into its present output on every call, which at long contexts costs as much
// as the attention itself (see the package README).
import { type DType, type Graph, type Tensor, add, cast, concat, greater, matmul, mul, reshape, rotaryEmbedding, softmax, transpose, unsqueeze, where } from '@mil/graph';
import { kvHeadNames } from './inference-graph';

/** What the attention needs from the decoder builder. */
export interface BufferAttentionContext {
  g: Graph;
  dtype: DType;
  /**
   * How the cache stores keys / values (default `dtype`). With float16 under a float32 graph the past is read as
   * float16 (half the bytes per step) and cast to float32 inside the graph, and the new rows are rounded to float16
   * before this step uses them too, so a token sees the same keys / values whether it came in one run or several.
   */
  kvDtype?: DType;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** RoPE tables [maxPositions, headDim/2]. */
  cos: Tensor;
  sin: Tensor;
  /** [1, seq] int64: positions of the new tokens. */
  positions: Tensor;
  /** [1] int64: valid past rows. */
  pastLen: Tensor;
}

/**
 * Attention of layer `i` on q [1, seq, heads·hd], k / v [1, seq, kvHeads·hd] (before RoPE), batch 1. Declares the
 * past inputs `kvHeadNames(i, j)` [1, 1, past, hd]. Returns the attention output [1, seq, heads·hd] and the new
 * rows [1, kvHeads, seq, hd] (keys after RoPE, in `kvDtype`) for the caller's buffer.
 *
 * @example
 * const { out, keyRows, valueRows } = bufferAttention(ctx, 3, q, k, v);
 */
export function bufferAttention(c: BufferAttentionContext, i: number, q: Tensor, k: Tensor, v: Tensor): { out: Tensor; keyRows: Tensor; valueRows: Tensor } {
  const { g, dtype, numHeads: H, numKvHeads: kvH, headDim: hd } = c;
  const store = c.kvDtype ?? dtype;
  const stored = (t: Tensor) => (store === dtype ? t : cast(t, store));
  const computed = (t: Tensor) => (store === dtype ? t : cast(t, dtype));
  const rep = H / kvH;
  const qr = rotaryEmbedding(q, c.positions, c.cos, c.sin, { numHeads: H });
  const kr = rotaryEmbedding(k, c.positions, c.cos, c.sin, { numHeads: kvH });
  // [heads, seq, hd], queries pre-scaled.
  const qh = mul(transpose(reshape(qr, [-1, H, hd]), [1, 0, 2]), g.scalar(1 / Math.sqrt(hd), dtype));
  // [kvH, seq, hd] as the cache stores them, and as this step computes with them (the same values).
  const khStored = stored(transpose(reshape(kr, [-1, kvH, hd]), [1, 0, 2]));
  const vhStored = stored(transpose(reshape(v, [-1, kvH, hd]), [1, 0, 2]));
  const kh = computed(khStored);
  const vh = computed(vhStored);
  // Causal mask among the new tokens: key t' after query t.
  const steps = g.addNode('Range', [g.scalar(0, 'int64'), reshape(g.dimTensor('seq'), []), g.scalar(1, 'int64')], [{ dtype: 'int64', shape: ['seq'] }])[0];
  // [seq, seq], repeated for the `rep` query heads of a KV head (rows ordered head-major, as below).
  const future1 = greater(unsqueeze(steps, [0]), unsqueeze(steps, [1]));
  const future = rep === 1 ? future1 : concat(new Array<Tensor>(rep).fill(future1), 0);
  const pastEnd = c.pastLen;
  const outs: Tensor[] = [];
  for (let j = 0; j < kvH; j++) {
    const n = kvHeadNames(i, j);
    const pk = computed(reshape(g.input(n.pastKey, store, [1, 1, 'past', hd]), [1, -1, hd]));
    const pv = computed(reshape(g.input(n.pastValue, store, [1, 1, 'past', hd]), [1, -1, hd]));
    // The rep query heads of KV head j as the rows of one matrix: one GEMM against the past per KV head.
    const qj = reshape(sliceAxis(g, qh, j * rep, (j + 1) * rep, 0), [1, -1, hd]); // [1, rep·seq, hd]
    const kj = sliceAxis(g, kh, j, j + 1, 0); // [1, seq, hd]
    const vj = sliceAxis(g, vh, j, j + 1, 0);
    const sPast = matmul(qj, transpose(pk, [0, 2, 1])); // [1, rep·seq, past]
    const sNew = where(future, g.scalar(-Infinity, dtype), matmul(qj, transpose(kj, [0, 2, 1]))); // [1, rep·seq, seq]
    const p = softmax(concat([sPast, sNew], -1), -1);
    const pPast = dynSlice(g, p, g.ints([0]), pastEnd, 2);
    const pNew = dynSlice(g, p, pastEnd, g.ints([Number.MAX_SAFE_INTEGER]), 2);
    outs.push(reshape(add(matmul(pPast, pv), matmul(pNew, vj)), [rep, -1, hd]));
  }
  const o = kvH === 1 ? outs[0] : concat(outs, 0); // [heads, seq, hd]
  const out = reshape(transpose(o, [1, 0, 2]), [1, -1, H * hd]);
  return { out, keyRows: unsqueeze(khStored, [0]), valueRows: unsqueeze(vhStored, [0]) };
}

function sliceAxis(g: Graph, x: Tensor, start: number, end: number, axis: number): Tensor {
  const shape = [...x.shape];
  shape[axis] = end - start;
  return g.addNode('Slice', [x, g.ints([start]), g.ints([end]), g.ints([axis])], [{ dtype: x.dtype, shape }])[0];
}

function dynSlice(g: Graph, x: Tensor, start: Tensor, end: Tensor, axis: number): Tensor {
  const shape = [...x.shape];
  shape[axis] = g.uniqueName('sliced');
  return g.addNode('Slice', [x, start, end, g.ints([axis])], [{ dtype: x.dtype, shape }])[0];
}
