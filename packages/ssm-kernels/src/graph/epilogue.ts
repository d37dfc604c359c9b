/** The end of every scan: y + D ⊙ x, then ⊙ silu(z). Shared by the training and inference forms. */
import { type Tensor, add, mul, reshape, silu } from '@mil/graph';

/**
 * y + D·x (D broadcast over x's trailing axes: Mamba-2 D (h) or (h, p) on (…, h, p) with `headAxes` true;
 * Mamba-1 D (d) on (…, d)), then gated by silu(z) when z is given.
 */
export function skipAndGate(y: Tensor, x: Tensor, D: Tensor | undefined, z: Tensor | undefined, headAxes: boolean): Tensor {
  let out = y;
  if (D) {
    // Mamba-2 per-head D (h) against (…, h, p): make it (h, 1).
    const d = headAxes && D.rank === 1 ? reshape(D, [-1, 1]) : D;
    out = add(out, mul(x, d));
  }
  if (z) out = mul(out, silu(z));
  return out;
}
