import { describe, it, expect } from 'vitest';
import { mamba1Scan, mamba2Scan, mamba2Step, SsmKernelError, softplus, type Mamba2ScanInput } from '../src/index';
import { uniform, expectClose, expectSame, sliceTime, mamba2Problem, handMamba2Case } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

/** The same problem as a Mamba-1 scan: channel c = hh·p + i, A / δ / bias / D broadcast from the head. */
function asMamba1(q: Mamba2ScanInput) {
  const { batch: b, seqLen: L, nHeads: h, headDim: p, dState: n } = q;
  const d = h * p;
  const delta = new Float64Array(b * L * d);
  for (let bt = 0; bt < b * L; bt++) for (let c = 0; c < d; c++) delta[bt * d + c] = q.dt[bt * h + Math.floor(c / p)];
  const A = new Float64Array(d * n);
  for (let c = 0; c < d; c++) for (let k = 0; k < n; k++) A[c * n + k] = q.A[Math.floor(c / p)];
  const per = (v: Float32Array | Float64Array | undefined) =>
    v && Float64Array.from({ length: d }, (_, c) => (v.length === h ? v[Math.floor(c / p)] : v[c]));
  return mamba1Scan({
    batch: b, seqLen: L, dim: d, dState: n, nGroups: q.nGroups, deltaSoftplus: q.dtSoftplus,
    u: q.x, delta, A, B: q.B, C: q.C, D: per(q.D), z: q.z, deltaBias: per(q.dtBias), initialState: q.initialState,
  });
}

describe('mamba2Scan / mamba2Step oracle', () => {
  it('matches a hand-computed case (1 head, p = 2, n = 2, 2 steps)', () => {
    const hand = handMamba2Case();
    const res = mamba2Scan(hand.input);
    expectClose(res.y, hand.y, 1e-14);
    expectClose(res.finalState, hand.finalState, 1e-14);
  });

  it('is Mamba-1 with A, δ, bias and D broadcast over the head (float64; D per head and per (head, row))', () => {
    const q = mamba2Problem(21, 2, 6, 4, 3, 5, 2, Float64Array);
    const r2 = mamba2Scan(q);
    const r1 = asMamba1(q);
    expectClose(r2.y, r1.y, 1e-12, 1e-12);
    expectClose(r2.finalState, r1.finalState, 1e-12, 1e-12);
    const qd = { ...q, D: uniform(mulberry32(5), 4 * 3, -1, 1) };
    expectClose(mamba2Scan(qd).y, asMamba1(qd).y, 1e-12, 1e-12);
    expect(maxDiff(mamba2Scan(qd).y, r2.y)).toBeGreaterThan(1e-3); // the per-row D really is used
  });

  it('head hh reads group floor(hh / (nHeads / nGroups))', () => {
    const q = mamba2Problem(22, 1, 3, 4, 2, 3, 2, Float64Array);
    const r = mamba2Scan(q);
    // Swap the two groups of B and C and the head blocks 0,1 <-> 2,3 of everything per-head: output heads swap.
    const swapG = (a: Float64Array, inner: number) => {
      const o = a.slice();
      for (let t = 0; t < 3; t++) for (let j = 0; j < inner; j++) {
        o[(t * 2 + 0) * inner + j] = a[(t * 2 + 1) * inner + j];
        o[(t * 2 + 1) * inner + j] = a[(t * 2 + 0) * inner + j];
      }
      return o;
    };
    const perm = [2, 3, 0, 1];
    const permHeads = (a: Float64Array, rows: number, inner: number) => {
      const o = a.slice();
      for (let r0 = 0; r0 < rows; r0++) for (let hh = 0; hh < 4; hh++) for (let j = 0; j < inner; j++) {
        o[(r0 * 4 + hh) * inner + j] = a[(r0 * 4 + perm[hh]) * inner + j];
      }
      return o;
    };
    const f = (a: unknown) => a as Float64Array;
    const swapped = mamba2Scan({
      ...q, B: swapG(f(q.B), 3), C: swapG(f(q.C), 3),
      x: permHeads(f(q.x), 3, 2), z: permHeads(f(q.z), 3, 2), dt: permHeads(f(q.dt), 3, 1),
      A: permHeads(f(q.A), 1, 1), D: permHeads(f(q.D), 1, 1), dtBias: permHeads(f(q.dtBias), 1, 1),
      initialState: permHeads(f(q.initialState), 1, 2 * 3),
    });
    expectSame(swapped.y, permHeads(f(r.y), 3, 2));
  });

  it('scan equals a loop of single steps and a scan in pieces, bit for bit (float32)', () => {
    const b = 2, L = 8, h = 4, p = 2, n = 3, g = 2;
    const q = mamba2Problem(23, b, L, h, p, n, g, Float32Array);
    const whole = mamba2Scan(q);
    let state = q.initialState!;
    for (let t = 0; t < L; t++) {
      const s = mamba2Step({
        ...q, state, x: sliceTime(q.x, b, L, t, t + 1), dt: sliceTime(q.dt, b, L, t, t + 1),
        B: sliceTime(q.B, b, L, t, t + 1), C: sliceTime(q.C, b, L, t, t + 1), z: sliceTime(q.z!, b, L, t, t + 1),
      });
      expectSame(s.y, sliceTime(whole.y, b, L, t, t + 1));
      state = s.state;
    }
    expectSame(state, whole.finalState);
    expect(state).toBeInstanceOf(Float32Array);
    let carried = q.initialState!;
    let t0 = 0;
    for (const len of [3, 0, 1, 4]) {
      const t1 = t0 + len;
      const part = mamba2Scan({
        ...q, seqLen: len, initialState: carried, x: sliceTime(q.x, b, L, t0, t1), dt: sliceTime(q.dt, b, L, t0, t1),
        B: sliceTime(q.B, b, L, t0, t1), C: sliceTime(q.C, b, L, t0, t1), z: sliceTime(q.z!, b, L, t0, t1),
      });
      expectSame(part.y, sliceTime(whole.y, b, L, t0, t1));
      carried = part.finalState;
      t0 = t1;
    }
    expectSame(carried, whole.finalState);
  });

  it('dtLimit clamps Δ after bias and softplus; [0, ∞) means no clamp', () => {
    const q = mamba2Problem(24, 1, 10, 3, 2, 2, 1, Float64Array);
    q.dt = uniform(mulberry32(7), 10 * 3, -8, 8);
    const lim: [number, number] = [0.05, 0.4];
    const clamped = mamba2Scan({ ...q, dtLimit: lim });
    const pre = q.dt.map((v, i) => Math.min(Math.max(softplus(v + q.dtBias![i % 3]), lim[0]), lim[1]));
    const ref = mamba2Scan({ ...q, dtLimit: undefined, dtBias: undefined, dtSoftplus: false, dt: pre });
    expectSame(clamped.y, ref.y);
    expect(maxDiff(clamped.y, mamba2Scan(q).y)).toBeGreaterThan(1e-3);
    // Without softplus a negative Δ passes through [0, ∞) untouched (the kernel skips the clamp), but not [0, 1e9].
    const raw = { ...q, dtSoftplus: false, dtBias: undefined, A: q.A.map((v) => v * 0.1) };
    expectSame(mamba2Scan({ ...raw, dtLimit: [0, Infinity] }).y, mamba2Scan(raw).y);
    expect(maxDiff(mamba2Scan({ ...raw, dtLimit: [0, 1e9] }).y, mamba2Scan(raw).y)).toBeGreaterThan(1e-3);
  });

  it('extreme Δ: large dt passes softplus unchanged, very negative dt carries the state', () => {
    const q = mamba2Problem(25, 1, 5, 2, 2, 2, 1, Float64Array);
    const big = mamba2Scan({ ...q, dt: q.dt.map((v) => 30 + v), A: Float64Array.of(-0.01, -0.02) });
    const ref = mamba2Scan({
      ...q, dtSoftplus: false, dt: q.dt.map((v, i) => 30 + v + q.dtBias![i % 2]), dtBias: undefined,
      A: Float64Array.of(-0.01, -0.02),
    });
    expectSame(big.y, ref.y);
    const frozen = mamba2Scan({ ...q, dt: new Float64Array(10).fill(-500) });
    expectSame(frozen.finalState, q.initialState!);
  });

  it('rejects wrong shapes and options', () => {
    const q = mamba2Problem(26, 1, 2, 4, 2, 3, 2, Float32Array);
    expect(() => mamba2Scan({ ...q, nGroups: 3 })).toThrow(/'nGroups' \(3\) must divide 'nHeads' \(4\)/);
    expect(() => mamba2Scan({ ...q, dt: new Float32Array(3) })).toThrow(/tensor 'dt' must hold 8 values/);
    expect(() => mamba2Scan({ ...q, D: new Float32Array(5) })).toThrow(SsmKernelError);
    expect(() => mamba2Scan({ ...q, dtLimit: [1, 0] })).toThrow(/dtLimit/);
    expect(() => mamba2Step({ ...q, state: new Float32Array(4) })).toThrow(/tensor 'x' must hold 8 values/);
  });
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
