/**
 * Gated RMSNorm of the Mamba-2 mixer (oracle of mamba_ssm `layernorm_gated.rms_norm_ref`).
 *
 * LAYOUT: x, z, y (rows, dim) — any leading shape flattened into rows, e.g. (b, L, h·p); weight, bias (dim).
 * Math per row, with groups of `groupSize` consecutive channels (default: one group = the whole row):
 *   if z and !normBeforeGate:  x ← x ⊙ silu(z)                  (the Mamba-2 mixer: gate BEFORE the norm)
 *   y = x · rsqrt(mean_group(x²) + eps) ⊙ weight (+ bias)
 *   if z and normBeforeGate:   y ← y ⊙ silu(z)
 * Precision: `x` is the primary input; arithmetic in float64, output stored in x's precision.
 */
import { silu } from './activations';
import {
  type FloatArray,
  allocLike,
  checkBool,
  checkDim,
  checkDivides,
  checkFloat,
  checkOptionalFloat,
} from './common';
import { SsmKernelError } from '../errors';

/** Input of {@link gatedRmsNorm}. */
export interface GatedRmsNormInput {
  /** Number of rows (product of the leading dims). */
  rows: number;
  /** Channels per row (the normalised last dim). */
  dim: number;
  /** (rows, dim) primary input. */
  x: FloatArray;
  /** (rows, dim) gate; omitted = plain (grouped) RMSNorm. */
  z?: FloatArray;
  /** (dim) */
  weight: FloatArray;
  /** (dim); omitted = none (the Mamba-2 mixer has none). */
  bias?: FloatArray;
  /** Added to the mean square; the Mamba-2 mixer uses 1e-5. */
  eps: number;
  /** Channels per normalisation group; must divide `dim`. Default `dim`. Mamba-2 mixer: headdim (128). */
  groupSize?: number;
  /** Gate after the norm instead of before. Required: the Mamba-2 mixer uses false, the upstream default is true. */
  normBeforeGate: boolean;
}

/**
 * Gated, grouped RMSNorm.
 *
 * @example
 * const y = gatedRmsNorm({
 *   rows: 1, dim: 4, groupSize: 2, eps: 1e-5, normBeforeGate: false,
 *   x: Float32Array.of(1, 2, 3, 4), z: Float32Array.of(1, 1, 1, 1), weight: new Float32Array(4).fill(1),
 * }); // (1, 4)
 */
export function gatedRmsNorm(input: GatedRmsNormInput): FloatArray {
  const fn = 'gatedRmsNorm';
  const rows = checkDim(fn, 'rows', input.rows, 0);
  const dim = checkDim(fn, 'dim', input.dim);
  const gs = checkDim(fn, 'groupSize', input.groupSize ?? dim);
  checkDivides(fn, 'groupSize', gs, 'dim', dim);
  const x = checkFloat(fn, 'x', input.x, { rows, dim });
  const z = checkOptionalFloat(fn, 'z', input.z, { rows, dim });
  const weight = checkFloat(fn, 'weight', input.weight, { dim });
  const bias = checkOptionalFloat(fn, 'bias', input.bias, { dim });
  const normBeforeGate = checkBool(fn, 'normBeforeGate', input.normBeforeGate);
  const eps = input.eps;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'eps' must be a finite number >= 0, got ${String(eps)}`);
  }

  const y = allocLike(x, rows * dim);
  const v = new Float64Array(gs);
  for (let r = 0; r < rows; r++) {
    for (let g0 = 0; g0 < dim; g0 += gs) {
      let sq = 0;
      for (let j = 0; j < gs; j++) {
        const i = r * dim + g0 + j;
        v[j] = z && !normBeforeGate ? x[i] * silu(z[i]) : x[i];
        sq += v[j] * v[j];
      }
      const rstd = 1 / Math.sqrt(sq / gs + eps);
      for (let j = 0; j < gs; j++) {
        const i = r * dim + g0 + j;
        let out = v[j] * rstd * weight[g0 + j] + (bias ? bias[g0 + j] : 0);
        if (z && normBeforeGate) out *= silu(z[i]);
        y[i] = out;
      }
    }
  }
  return y;
}
