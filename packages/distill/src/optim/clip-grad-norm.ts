// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics.
import { DistillError } from '../errors';

/** Gradients: a name → data map, a record, or any iterable of arrays. */
export type GradTensors = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>> | Iterable<Float32Array>;

export interface ClipGradNormOptions {
  /** 2 (default) or 'inf' (max absolute value). */
  normType?: 2 | 'inf';
  /** Throw a DistillError ('BAD_OPTION') instead of scaling when the norm is NaN or infinite (torch's error_if_nonfinite). */
  errorIfNonfinite?: boolean;
}

/**
 * Global norm of all gradients taken together (as if concatenated), accumulated in float64.
 *
 * @example
 * globalGradNorm([new Float32Array([3]), new Float32Array([4])]); // 5
 */
export function globalGradNorm(grads: GradTensors, normType: 2 | 'inf' = 2): number {
  let acc = 0;
  for (const g of tensorsOf(grads)) {
    const n = g.length;
    if (normType === 'inf') {
      for (let i = 0; i < n; i++) {
        const a = Math.abs(g[i]);
        // `!(a <= acc)` also lets NaN through, so a NaN gradient gives a NaN norm (as torch).
        if (!(a <= acc)) acc = a;
      }
    } else {
      let s = 0;
      for (let i = 0; i < n; i++) s += g[i] * g[i];
      acc += s;
    }
  }
  return normType === 'inf' ? acc : Math.sqrt(acc);
}

/**
 * Scale all gradients in place so their global norm is at most `maxNorm`; returns the norm before clipping.
 * As torch: coef = maxNorm / (norm + 1e-6), applied only when coef < 1.
 *
 * @example
 * const g = new Map([['w', new Float32Array([3, 4])]]);
 * clipGradNorm(g, 1); // returns 5; g.get('w') ≈ [0.6, 0.8]
 */
export function clipGradNorm(grads: GradTensors, maxNorm: number, options: ClipGradNormOptions = {}): number {
  if (!(maxNorm > 0)) throw new DistillError('BAD_OPTION', `clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalGradNorm(grads, options.normType ?? 2);
  if (!Number.isFinite(norm)) {
    if (options.errorIfNonfinite) {
      throw new DistillError('BAD_OPTION', `clipGradNorm: the total gradient norm is ${norm}`);
    }
  }
  const coef = maxNorm / (norm + 1e-6);
  // NaN coef (NaN norm) propagates into the gradients as in torch; coef ≥ 1 leaves them untouched.
  if (coef < 1 || Number.isNaN(coef)) {
    for (const g of tensorsOf(grads)) {
      const n = g.length;
      for (let i = 0; i < n; i++) g[i] *= coef;
    }
  }
  return norm;
}

function tensorsOf(grads: GradTensors): Iterable<Float32Array> {
  if (grads instanceof Map) return (grads as ReadonlyMap<string, Float32Array>).values();
  if (Symbol.iterator in (grads as object)) return grads as Iterable<Float32Array>;
  return Object.values(grads as Readonly<Record<string, Float32Array>>);
}
