// Test-only helpers for the oracle tests: seeded inputs (from @mil/graph's mulberry32) and array comparisons.
import { expect } from 'vitest';
import type { Mamba2ScanInput } from '../src/index';
import { mulberry32 } from '@mil/core';

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
  const r = mulberry32(seed);
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

/**
 * A hand-computed Mamba-2 case (1 head, p = 2, n = 2, 2 steps, softplus + bias, D, initial state): the input and
 * the y and final state worked out step by step below, independently of the oracles.
 */
export function handMamba2Case(): { input: Mamba2ScanInput; y: number[]; finalState: number[] } {
  const F = Float64Array;
  const input: Mamba2ScanInput = {
    batch: 1, seqLen: 2, nHeads: 1, headDim: 2, dState: 2, nGroups: 1, dtSoftplus: true,
    x: F.of(1, -2, 0.5, 3), dt: F.of(0.2, -0.4), dtBias: F.of(0.1), A: F.of(-2),
    B: F.of(1, -1, 0.5, 2), C: F.of(2, 1, -1, 0.25), D: F.of(0.5),
    initialState: F.of(0.1, 0.2, -0.3, 0.4),
  };
  const sp = (v: number) => Math.log(1 + Math.exp(v));
  const D0 = sp(0.3), D1 = sp(-0.3);
  const e0 = Math.exp(-2 * D0), e1 = Math.exp(-2 * D1);
  // t = 0: H[i][k] = e0·H0[i][k] + D0·x_i·B_k
  const H = [
    [e0 * 0.1 + D0 * 1 * 1, e0 * 0.2 + D0 * 1 * -1],
    [e0 * -0.3 + D0 * -2 * 1, e0 * 0.4 + D0 * -2 * -1],
  ];
  const y0 = [H[0][0] * 2 + H[0][1] * 1 + 0.5 * 1, H[1][0] * 2 + H[1][1] * 1 + 0.5 * -2];
  const G = [
    [e1 * H[0][0] + D1 * 0.5 * 0.5, e1 * H[0][1] + D1 * 0.5 * 2],
    [e1 * H[1][0] + D1 * 3 * 0.5, e1 * H[1][1] + D1 * 3 * 2],
  ];
  const y1 = [G[0][0] * -1 + G[0][1] * 0.25 + 0.5 * 0.5, G[1][0] * -1 + G[1][1] * 0.25 + 0.5 * 3];
  return { input, y: [...y0, ...y1], finalState: [...G[0], ...G[1]] };
}
