/**
 * Δ (the discretisation step) from a raw dt / δ tensor, in standard ops: bias, thresholded softplus, clamp — the
 * kernels' order (oracle: `mamba2Delta` in src/oracle/mamba2.ts, and the Δ line of `mamba1Advance`).
 */
import { type Graph, type Tensor, add, maximum, minimum, softplus, softplusOnnx } from '@mil/graph';
import { SOFTPLUS_THRESHOLD } from '../oracle/activations';
import { SsmKernelError } from '../errors';
import { checkFloatDtype, checkGraph } from './common';

/** Options of {@link ssmDeltaGraph}. */
export interface SsmDeltaOptions {
  /** Apply softplus (threshold 20, identity above) after the bias. The Mamba mixers pass true. */
  softplus: boolean;
  /** [min, max] clamp after softplus (Mamba-2 `dt_limit`); omitted or [0, ∞) = none. */
  limit?: readonly [number, number];
}

/**
 * Δ = clamp(softplus(raw + bias)). `raw` has the bias's size as its LAST axis (Mamba-2 dt (b, L, h) with bias
 * (h); Mamba-1 δ (b, L, d) with bias (d)). Differentiable (the thresholded softplus has a gradient rule).
 *
 * @example
 * const delta = ssmDeltaGraph(g, dt, dtBias, { softplus: true }); // (b, L, h)
 */
export function ssmDeltaGraph(g: Graph, raw: Tensor, bias: Tensor | undefined, opts: SsmDeltaOptions): Tensor {
  return delta(g, raw, bias, opts, false);
}

/**
 * Δ for the inference graphs: the same, but with ONNX `Softplus` (one node instead of six). ORT computes it
 * stably (x + log1p(e^−x) for x > 0), which in float32 equals the thresholded form above 20 exactly and is more
 * accurate below it (e^x for very negative x, where log(1 + e^x) rounds to 0). Internal.
 */
export function ssmDeltaInference(g: Graph, raw: Tensor, bias: Tensor | undefined, opts: SsmDeltaOptions): Tensor {
  return delta(g, raw, bias, opts, true);
}

function delta(g: Graph, raw: Tensor, bias: Tensor | undefined, opts: SsmDeltaOptions, onnxSoftplus: boolean): Tensor {
  checkGraph('ssmDeltaGraph', g, { raw, bias });
  if (typeof opts.softplus !== 'boolean') {
    throw new SsmKernelError('BAD_OPTION', `ssmDeltaGraph: option 'softplus' must be true or false, got ${String(opts.softplus)}`);
  }
  let v = raw;
  if (bias) {
    const last = raw.shape[raw.rank - 1];
    if (bias.rank !== 1 || (typeof last === 'number' && bias.shape[0] !== last)) {
      throw new SsmKernelError('BAD_SHAPE', `ssmDeltaGraph: bias '${bias.name}' must have shape [${last}] (the last axis of '${raw.name}'), got [${bias.shape.join(', ')}]`);
    }
    checkFloatDtype('ssmDeltaGraph', 'bias', bias, raw);
    v = add(v, bias);
  }
  if (opts.softplus) v = onnxSoftplus ? softplusOnnx(v) : softplus(v, SOFTPLUS_THRESHOLD);
  const lim = opts.limit;
  if (lim && !(lim[0] === 0 && lim[1] === Infinity)) {
    if (!(lim[0] <= lim[1])) {
      throw new SsmKernelError('BAD_OPTION', `ssmDeltaGraph: option 'limit' must be [min, max] with min <= max, got ${JSON.stringify(lim)}`);
    }
    if (lim[0] > -Infinity) v = maximum(v, lim[0]);
    if (lim[1] < Infinity) v = minimum(v, lim[1]);
  }
  return v;
}
