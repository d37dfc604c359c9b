/**
 * Gated, grouped RMSNorm in standard ops (graph form of src/oracle/gated-rms-norm.ts; differentiable).
 * Mamba-2 mixer: gate BEFORE the norm (`normBeforeGate: false`), groups of headdim channels, eps 1e-5.
 */
import { type Graph, type Tensor, add, mul, reduceMean, reciprocal, reshape, silu, sqrt } from '@mil/graph';
import { SsmKernelError } from '../errors';
import { checkFloatDtype, checkGraph, checkIntOption, checkTensor, staticDim } from './common';

/** Tensors of {@link gatedRmsNormGraph}. */
export interface GatedRmsNormGraphInput {
  /** (..., dim) primary input. */
  x: Tensor;
  /** (..., dim) gate; omitted = plain grouped RMSNorm. */
  z?: Tensor;
  /** (dim) */
  weight: Tensor;
  /** (dim); omitted = none. */
  bias?: Tensor;
}

/** Options of {@link gatedRmsNormGraph}. */
export interface GatedRmsNormGraphOptions {
  eps: number;
  /** Channels per group; must divide dim. Default dim. */
  groupSize?: number;
  /** Gate after the norm instead of before (the Mamba-2 mixer uses false). Required. */
  normBeforeGate: boolean;
}

/**
 * y = RMSNorm_group(x ⊙ silu(z)) ⊙ weight (+ bias)   (normBeforeGate false), or RMSNorm_group(x) ⊙ weight ⊙ silu(z).
 *
 * @example
 * const y = gatedRmsNormGraph(g, { x: yScan, z, weight: normWeight }, { eps: 1e-5, groupSize: 128, normBeforeGate: false });
 */
export function gatedRmsNormGraph(g: Graph, input: GatedRmsNormGraphInput, opts: GatedRmsNormGraphOptions): Tensor {
  const fn = 'gatedRmsNormGraph';
  checkGraph(fn, g, { ...input });
  const { x, z, weight, bias } = input;
  if (x.rank < 1) throw new SsmKernelError('BAD_SHAPE', `${fn}: tensor 'x' (${x.name}) must have rank >= 1`);
  const dim = staticDim(fn, 'x', x, x.rank - 1, 'channels');
  const gs = checkIntOption(fn, 'groupSize', opts.groupSize ?? dim, 1);
  if (dim % gs !== 0) throw new SsmKernelError('BAD_OPTION', `${fn}: option 'groupSize' (${gs}) must divide the channel count (${dim})`);
  if (typeof opts.normBeforeGate !== 'boolean') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'normBeforeGate' must be true or false, got ${String(opts.normBeforeGate)}`);
  }
  if (typeof opts.eps !== 'number' || !(opts.eps >= 0)) {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'eps' must be a finite number >= 0, got ${String(opts.eps)}`);
  }
  checkTensor(fn, 'weight', weight, [dim]);
  checkFloatDtype(fn, 'weight', weight, x);
  if (z) {
    checkTensor(fn, 'z', z, x.shape.map((d) => (typeof d === 'number' ? d : undefined)));
    checkFloatDtype(fn, 'z', z, x);
  }
  if (bias) {
    checkTensor(fn, 'bias', bias, [dim]);
    checkFloatDtype(fn, 'bias', bias, x);
  }
  let v = z && !opts.normBeforeGate ? mul(x, silu(z)) : x;
  const lead = x.shape.slice(0, -1).map(() => 0);
  const grouped = reshape(v, [...lead, dim / gs, gs]);
  const rstd = reciprocal(sqrt(add(reduceMean(mul(grouped, grouped), [-1], true), opts.eps)));
  v = reshape(mul(grouped, rstd), [...lead, dim]);
  v = mul(v, weight);
  if (bias) v = add(v, bias);
  if (z && opts.normBeforeGate) v = mul(v, silu(z));
  return v;
}
