// Per-parameter bookkeeping shared by the optimizers: resolved decay and lr scale, grad validation.
import { DistillError } from '../errors';
import { compileParamFilter, defaultNoDecay, gradNames, gradOf, lrScaleOf, toNamedParams } from './param-filter';
import type { GradSource, LrScale, ParamFilter, ParamSource } from './types';

export interface ParamEntry {
  name: string;
  data: Float32Array;
  shape: readonly number[] | undefined;
  /** Weight decay actually applied to this parameter (0 when masked out). */
  weightDecay: number;
  lrScale: number;
  /** Torch keeps the step as a float32 tensor per parameter; so do we (exact up to 2^24 steps). */
  step: Float32Array;
}

export interface EntryOptions {
  weightDecay: number;
  noDecay?: ParamFilter;
  lrScale?: LrScale;
}

/** Resolve masks and scales once, so `step()` does no lookups beyond the gradient itself. */
export function buildEntries(params: ParamSource, opts: EntryOptions, who: string): ParamEntry[] {
  const noDecay = opts.noDecay === undefined ? defaultNoDecay : compileParamFilter(opts.noDecay);
  const seen = new Set<string>();
  return toNamedParams(params).map(({ name, data, shape }) => {
    if (seen.has(name)) throw new DistillError('BAD_OPTION', `${who}: parameter '${name}' is listed twice`);
    seen.add(name);
    if (!(data instanceof Float32Array)) {
      throw new DistillError('BAD_OPTION', `${who}: parameter '${name}' must be a Float32Array`);
    }
    if (shape !== undefined && shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new DistillError(
        'SHAPE_MISMATCH',
        `${who}: parameter '${name}' has shape [${shape.join(', ')}] but ${data.length} elements`,
      );
    }
    const lrScale = lrScaleOf(opts.lrScale, name, shape);
    if (!Number.isFinite(lrScale) || lrScale < 0) {
      throw new DistillError('BAD_OPTION', `${who}: lr scale of '${name}' must be a finite number >= 0, got ${lrScale}`);
    }
    return {
      name,
      data,
      shape,
      weightDecay: noDecay(name, shape) ? 0 : opts.weightDecay,
      lrScale,
      step: new Float32Array(1),
    };
  });
}

/** Reject gradients for parameters the optimizer does not own (a typo would otherwise silently train nothing). */
export function checkGradNames(grads: GradSource, known: ReadonlyMap<string, ParamEntry>, who: string): void {
  for (const name of gradNames(grads)) {
    if (!known.has(name)) {
      throw new DistillError('UNKNOWN_TENSOR', `${who}.step: gradient '${name}' matches no parameter of this optimizer`);
    }
  }
}

/** The gradient of `e`, length-checked, or undefined when absent. */
export function entryGrad(grads: GradSource, e: ParamEntry, who: string): Float32Array | undefined {
  const g = gradOf(grads, e.name);
  if (g === undefined) return undefined;
  if (g.length !== e.data.length) {
    throw new DistillError(
      'SHAPE_MISMATCH',
      `${who}.step: gradient '${e.name}' has ${g.length} elements, parameter has ${e.data.length}`,
    );
  }
  return g;
}

export function checkLr(lr: number, who: string): void {
  if (!Number.isFinite(lr) || lr < 0) throw new DistillError('BAD_OPTION', `${who}: lr must be a finite number >= 0, got ${lr}`);
}
