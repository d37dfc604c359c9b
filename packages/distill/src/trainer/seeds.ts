// Deterministic seed derivation: every random choice of a run is a pure function of (seed, epoch, step, micro-batch),
// so a resumed run needs no generator state beyond its position.
import { mulberry32 } from '@mil/graph';

// MurmurHash3's 32-bit finaliser: good avalanche, cheap, integer-only.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combine integers into one well-mixed 32-bit seed.
 *
 * @example
 * const epochSeed = mixSeeds(runSeed, epoch);
 */
export function mixSeeds(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = fmix32((h ^ fmix32((p >>> 0) + 0x7f4a7c15)) + 0x165667b1);
  return h;
}

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
