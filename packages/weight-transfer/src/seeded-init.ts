// The reference's initialisers for the new Mamba parameters (mamba_ssm defaults and PyTorch layer defaults),
// driven by one seeded stream per tensor so a tensor's values depend only on (seed, tensor name).
import { WeightTransferError } from './errors';
import { Xoshiro128StarStar } from '@mil/core';

/** Δ range of the reference's init: dt log-uniform in [DT_MIN, DT_MAX], floored at DT_FLOOR. */
export const DT_MIN = 1e-3;
export const DT_MAX = 0.1;
export const DT_FLOOR = 1e-4;
/** Mamba-2's A is drawn uniformly from this range (A_log = ln A). */
export const A_INIT_RANGE: readonly [number, number] = [1, 16];

/**
 * How the Δ bias is stored. 'reference': softplus⁻¹(dt), exactly as the reference initialises it. Its Mamba-1 forward
 * adds that bias twice (dossier §1.3.3), so the bias part of the initial Δ is softplus(2·b) ≈ [1e-6, 0.011].
 * 'effective' (Mamba-1 only): softplus⁻¹(dt) / 2, so that twice the bias gives Δ = dt ∈ [1e-3, 0.1] as intended.
 * Mamba-2 adds its bias once; both modes give softplus⁻¹(dt) there.
 */
export type DtBiasMode = 'reference' | 'effective';

// cyrb53 (public-domain string hash, 53 bits): turns "seed + tensor name" into a safe-integer seed.
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Throws BAD_OPTION unless `seed` is a non-negative safe integer. @internal */
export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new WeightTransferError('BAD_OPTION', `seed: expected a non-negative safe integer, got ${JSON.stringify(seed)}`);
  }
  return seed;
}

/** A seeded stream of uniform draws (xoshiro128** from @mil/models). */
export interface TensorRng {
  /** Uniform in [0, 1) with 53 random bits, for draws that go through exp/log. */
  float(): number;
  /** Uniform in (0, 1) with 32 random bits: plenty for values stored as float32, at half the cost. */
  float32(): number;
}

/**
 * The seeded stream for one tensor: independent of every other tensor and of the order tensors are made in,
 * so the same (seed, name) gives the same values in a fresh init and in a progressive re-init.
 */
export function tensorRng(seed: number, name: string): TensorRng {
  const g = new Xoshiro128StarStar(hash53(`${checkSeed(seed)}\u0000${name}`));
  return { float: () => g.nextFloat(), float32: () => (g.nextUint32() + 0.5) / 4294967296 };
}

/** `n` values from U(−bound, bound). */
export function uniform(rng: TensorRng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = bound * (2 * rng.float32() - 1);
  return out;
}

/** PyTorch's nn.Linear / nn.Conv1d default (kaiming-uniform with a = √5) reduces to U(±1/√fan_in). */
export function torchDefault(rng: TensorRng, n: number, fanIn: number): Float32Array {
  return uniform(rng, n, 1 / Math.sqrt(fanIn));
}

/** softplus⁻¹(y) = y + ln(1 − e^(−y)), computed stably. */
export function inverseSoftplus(y: number): number {
  return y + Math.log(-Math.expm1(-y));
}

/** `n` Δ biases: softplus⁻¹(dt) with dt = exp(U[ln DT_MIN, ln DT_MAX]) floored at DT_FLOOR (halved in 'effective' mode). */
export function dtBias(rng: TensorRng, n: number, halve: boolean): Float32Array {
  const lo = Math.log(DT_MIN);
  const hi = Math.log(DT_MAX);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const dt = Math.max(Math.exp(lo + rng.float() * (hi - lo)), DT_FLOOR);
    const b = inverseSoftplus(dt);
    out[i] = halve ? b / 2 : b;
  }
  return out;
}

/** Mamba-1 (S4D-real): A_log[d, n] = ln(n + 1) for every channel d. */
export function s4dRealALog(channels: number, dState: number): Float32Array {
  const out = new Float32Array(channels * dState);
  for (let d = 0; d < channels; d++) for (let n = 0; n < dState; n++) out[d * dState + n] = Math.log(n + 1);
  return out;
}

/** Mamba-2: A_log[h] = ln(A), A ~ U[A_INIT_RANGE]. */
export function mamba2ALog(rng: TensorRng, heads: number): Float32Array {
  const [lo, hi] = A_INIT_RANGE;
  const out = new Float32Array(heads);
  for (let h = 0; h < heads; h++) out[h] = Math.log(lo + rng.float() * (hi - lo));
  return out;
}
