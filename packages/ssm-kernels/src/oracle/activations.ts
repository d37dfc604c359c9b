/** Scalar activations with the exact conventions of the reference kernels. */

/** Above this input softplus returns its input unchanged (PyTorch `F.softplus` default, Triton `softplus` in mamba_ssm). */
export const SOFTPLUS_THRESHOLD = 20;

/**
 * softplus(v) = log(1 + e^v), and exactly `v` for v > 20 (the reference kernels' threshold).
 *
 * @example
 * softplus(0); // ln 2 ≈ 0.6931
 * softplus(25); // 25
 */
export function softplus(v: number): number {
  return v > SOFTPLUS_THRESHOLD ? v : Math.log1p(Math.exp(v));
}

/**
 * silu(v) = v · sigmoid(v) = v / (1 + e^{-v}); finite for all finite v (→ -0 for very negative v).
 *
 * @example
 * silu(1); // ≈ 0.7311
 */
export function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}
