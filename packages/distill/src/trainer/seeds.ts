// Deterministic seed derivation: every random choice of a run is a pure function of (seed, epoch, step, micro-batch),
// so a resumed run needs no generator state beyond its position.
import { mulberry32 } from '@mil/core';

/**
 * A seeded permutation of 0..n-1 (Fisher–Yates over mulberry32).
 *
 * @example
 * seededPermutation(5, 42); // e.g. Uint32Array [3, 0, 4, 1, 2], the same for the same seed
 */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
