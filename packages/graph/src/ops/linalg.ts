import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { broadcastShapes, formatShape } from '../shape';
import { floatAttr } from '../graph';
import { requireRank, sameDtype } from './common';

function dimsAgree(a: number | string, b: number | string): boolean {
  return a === b || typeof a !== 'number' || typeof b !== 'number';
}

/** Batched matrix product (numpy matmul semantics for rank ≥ 2; batch dims broadcast). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireRank('MatMul', a, 2);
  requireRank('MatMul', b, 2);
  const dtype = sameDtype('MatMul', a, b);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (!dimsAgree(k1, k2))
    throw new GraphError('SHAPE_MISMATCH', `MatMul(${a.name}, ${b.name}): inner dims differ, ${formatShape(a.shape)} × ${formatShape(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), `MatMul(${a.name}, ${b.name})`);
  return a.graph.addNode('MatMul', [a, b], [{ dtype, shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]] }])[0];
}

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/** Y = alpha·op(A)·op(B) + beta·C for 2-D A, B (C broadcasts to [M, N]). */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null = null, opts: GemmOptions = {}): Tensor {
  requireRank('Gemm', a, 2, 2);
  requireRank('Gemm', b, 2, 2);
  const dtype = sameDtype('Gemm', a, b, ...(c ? [c] : []));
  const [m, ka] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!dimsAgree(ka, kb))
    throw new GraphError('SHAPE_MISMATCH', `Gemm(${a.name}, ${b.name}): inner dims differ (${ka} vs ${kb})`);
  if (c) broadcastShapes([m, n], c.shape, `Gemm bias ${c.name}`);
  return a.graph.addNode('Gemm', [a, b, c], [{ dtype, shape: [m, n] }], {
    alpha: floatAttr(opts.alpha ?? 1),
    beta: floatAttr(opts.beta ?? 1),
    transA: opts.transA ? 1 : 0,
    transB: opts.transB ? 1 : 0,
  })[0];
}
