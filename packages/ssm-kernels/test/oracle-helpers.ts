// Test-only helpers for the oracle tests: a seeded RNG and array comparisons.
import { expect } from 'vitest';
import type { Mamba2ScanInput } from '../src/index';

/** mulberry32: small, fast, seeded; enough for test inputs. */
export function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Uniform in [lo, hi), never exactly zero. */
export function uniform(rng: () => number, n: number, lo: number, hi: number, ctor: Ctor = Float64Array) {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * rng();
    if (v === 0) v = 1e-3;
    a[i] = v;
  }
  return a;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst index on failure. */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol = 0): void {
  expect(a.length).toBe(b.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`index ${worst}: ${a[worst]} vs ${b[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Bitwise-equal arrays (same type and values). */
export function expectSame(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && a[i] !== b[i]) expect.fail(`index ${i}: ${a[i]} !== ${b[i]}`);
  }
}

/** Slice of a (b, L, ...rest) array: time steps [t0, t1) of every batch element. */
export function sliceTime(a: Float32Array | Float64Array, b: number, L: number, t0: number, t1: number) {
  const inner = a.length / (b * L);
  const out = new (a.constructor as Ctor)(b * (t1 - t0) * inner);
  for (let bi = 0; bi < b; bi++) {
    out.set(a.subarray((bi * L + t0) * inner, (bi * L + t1) * inner), bi * (t1 - t0) * inner);
  }
  return out;
}

/** Concatenates (b, Li, ...rest) arrays along time. */
export function concatTime(parts: (Float32Array | Float64Array)[], b: number, lens: number[]) {
  const inner = parts[0].length / (b * lens[0]);
  const L = lens.reduce((s, v) => s + v, 0);
  const out = new (parts[0].constructor as Ctor)(b * L * inner);
  for (let bi = 0; bi < b; bi++) {
    let t = 0;
    parts.forEach((p, i) => {
      out.set(p.subarray(bi * lens[i] * inner, (bi + 1) * lens[i] * inner), (bi * L + t) * inner);
      t += lens[i];
    });
  }
  return out;
}

/** Random Mamba-2 problem with every optional part present (non-zero everywhere). */
export function mamba2Problem(
  seed: number, b: number, L: number, h: number, p: number, n: number, g: number, ctor: Ctor,
): Mamba2ScanInput {
  const r = makeRng(seed);
  return {
    batch: b, seqLen: L, nHeads: h, headDim: p, dState: n, nGroups: g, dtSoftplus: true,
    x: uniform(r, b * L * h * p, -2, 2, ctor),
    dt: uniform(r, b * L * h, -3, 1, ctor),
    A: uniform(r, h, -3, -0.2, ctor),
    B: uniform(r, b * L * g * n, -1.5, 1.5, ctor),
    C: uniform(r, b * L * g * n, -1.5, 1.5, ctor),
    D: uniform(r, h, -1, 1, ctor),
    z: uniform(r, b * L * h * p, -3, 3, ctor),
    dtBias: uniform(r, h, -1, 1, ctor),
    initialState: uniform(r, b * h * p * n, -1, 1, ctor),
  };
}
