import { MilError } from './errors';

/** A source of uniform floats in [0, 1). */
export type Rng = () => number;

/** One step of splitmix32 on `state`; used only to expand a seed into xoshiro's four state words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [next, (z ^ (z >>> 15)) >>> 0];
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna): a small, fast, seedable 32-bit PRNG with period 2^128 − 1.
 * Seeding from a number runs splitmix32 over the seed's low and high 32-bit words.
 *
 * @example
 * const rng = new Xoshiro128StarStar(42);
 * const u = rng.nextFloat(); // in [0, 1), 53 random bits
 */
export class Xoshiro128StarStar {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** @param seed a non-negative safe integer; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new MilError('BAD_OPTION', `seed: expected a non-negative safe integer, got ${seed}`);
    }
    let st = (seed % 0x100000000) ^ Math.imul(Math.floor(seed / 0x100000000), 0x85ebca6b);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    this.setState(words[0], words[1], words[2], words[3]);
  }

  /**
   * A generator with the given raw state (not all zero), e.g. to check against the reference C code.
   *
   * @example
   * Xoshiro128StarStar.fromState(1, 2, 3, 4).nextUint32(); // 11520
   */
  static fromState(a: number, b: number, c: number, d: number): Xoshiro128StarStar {
    const g = new Xoshiro128StarStar(0);
    g.setState(a, b, c, d);
    return g;
  }

  private setState(a: number, b: number, c: number, d: number): void {
    if (((a | b | c | d) >>> 0) === 0) throw new MilError('BAD_OPTION', 'xoshiro128** state must not be all zero');
    this.s0 = a >>> 0;
    this.s1 = b >>> 0;
    this.s2 = c >>> 0;
    this.s3 = d >>> 0;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const x = Math.imul(this.s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** The next uniform float in [0, 1) with 53 random bits (two 32-bit draws). */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

/**
 * A seeded `Rng` (xoshiro128**): a function returning uniform floats in [0, 1).
 *
 * @example
 * const rng = createRng(1234);
 * const x = rng(); // same value on every run with seed 1234
 */
export function createRng(seed: number): Rng {
  const g = new Xoshiro128StarStar(seed);
  return () => g.nextFloat();
}

/**
 * mulberry32: a tiny seeded 32-bit PRNG, uniform floats in [0, 1). Kept next to xoshiro128** because the trainer's
 * data order (and so every figure of the main job) is defined by its stream; new code should use `createRng`.
 *
 * @example
 * const rand = mulberry32(7);
 * rand(); // the same value on every run with seed 7
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` standard normal samples times `scale` from a seeded uniform source (Box–Muller, two samples per pair of draws).
 *
 * @example
 * const w = randn(createRng(0), 16, 0.02); // Float32Array of 16 N(0, 0.02²) samples
 */
export function randn(rand: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

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
 * Combines integers into one well-mixed 32-bit seed (e.g. run seed, epoch, step), so every random choice of a run is
 * a pure function of its position and a resumed run needs no generator state.
 *
 * @example
 * const epochSeed = mixSeeds(runSeed, epoch);
 */
export function mixSeeds(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = fmix32((h ^ fmix32((p >>> 0) + 0x7f4a7c15)) + 0x165667b1);
  return h;
}
