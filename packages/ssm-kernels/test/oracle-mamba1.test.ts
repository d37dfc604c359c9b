import { describe, it, expect } from 'vitest';
import { mamba1Scan, mamba1Step, SsmKernelError, softplus, silu, type Mamba1ScanInput } from '../src/index';
import { uniform, expectClose, expectSame, sliceTime, type Ctor } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

/** Random Mamba-1 problem with every optional part present (non-zero everywhere). */
function problem(seed: number, b: number, L: number, d: number, n: number, g: number, ctor: Ctor): Mamba1ScanInput {
  const r = mulberry32(seed);
  return {
    batch: b, seqLen: L, dim: d, dState: n, nGroups: g, deltaSoftplus: true,
    u: uniform(r, b * L * d, -2, 2, ctor),
    delta: uniform(r, b * L * d, -3, 1, ctor),
    A: uniform(r, d * n, -2, -0.1, ctor),
    B: uniform(r, b * L * g * n, -1.5, 1.5, ctor),
    C: uniform(r, b * L * g * n, -1.5, 1.5, ctor),
    D: uniform(r, d, -1, 1, ctor),
    z: uniform(r, b * L * d, -3, 3, ctor),
    deltaBias: uniform(r, d, -1, 1, ctor),
    initialState: uniform(r, b * d * n, -1, 1, ctor),
  };
}

/** Independent closed form: h_t = e^{A Σ_{k≤t} Δ_k} h_0 + Σ_{s≤t} e^{A Σ_{s<k≤t} Δ_k} Δ_s B_s u_s (float64, O(L²)). */
function closedForm(p: Mamba1ScanInput, deltaOf: (raw: number) => number = (v) => (v > 20 ? v : Math.log(1 + Math.exp(v)))) {
  const { batch: b, seqLen: L, dim: d, dState: n, nGroups: g } = p;
  const y = new Float64Array(b * L * d);
  const hT = new Float64Array(b * d * n);
  for (let bi = 0; bi < b; bi++) {
    for (let c = 0; c < d; c++) {
      const grp = Math.floor((c * g) / d);
      const dt = Array.from({ length: L }, (_, t) => deltaOf(p.delta[(bi * L + t) * d + c] + (p.deltaBias?.[c] ?? 0)));
      for (let t = 0; t < L; t++) {
        let yt = 0;
        for (let k = 0; k < n; k++) {
          const a = p.A[c * n + k];
          let sumAll = 0;
          for (let q = 0; q <= t; q++) sumAll += dt[q];
          let h = Math.exp(a * sumAll) * (p.initialState?.[(bi * d + c) * n + k] ?? 0);
          for (let s = 0; s <= t; s++) {
            let sum = 0;
            for (let q = s + 1; q <= t; q++) sum += dt[q];
            h += Math.exp(a * sum) * dt[s] * p.B[((bi * L + s) * g + grp) * n + k] * p.u[(bi * L + s) * d + c];
          }
          yt += h * p.C[((bi * L + t) * g + grp) * n + k];
          if (t === L - 1) hT[(bi * d + c) * n + k] = h;
        }
        const ut = p.u[(bi * L + t) * d + c];
        yt += (p.D?.[c] ?? 0) * ut;
        if (p.z) {
          const zt = p.z[(bi * L + t) * d + c];
          yt *= zt / (1 + Math.exp(-zt));
        }
        y[(bi * L + t) * d + c] = yt;
      }
    }
  }
  return { y, hT };
}

describe('mamba1Scan / mamba1Step oracle', () => {
  it('matches a hand-computed 2-step, 2-channel, 2-state case', () => {
    const F = Float64Array;
    const res = mamba1Scan({
      batch: 1, seqLen: 2, dim: 2, dState: 2, nGroups: 1, deltaSoftplus: true,
      u: F.of(1, 2, -1, 0.5),
      delta: F.of(0.1, 0.2, 0.3, 0.4),
      deltaBias: F.of(0.05, -0.05),
      A: F.of(-1, -2, -0.5, -3),
      B: F.of(0.5, -1, 2, 1),
      C: F.of(1, 2, -1, 0.5),
      D: F.of(0.5, 2),
      z: F.of(1, -2, 0.5, 3),
    });
    const sp = (v: number) => Math.log(1 + Math.exp(v));
    const sg = (v: number) => v / (1 + Math.exp(-v));
    // t = 0: Δ = sp(0.15) for both channels.
    const d00 = sp(0.15), d01 = sp(0.15);
    const h0 = [d00 * 0.5 * 1, d00 * -1 * 1]; // channel 0
    const h1 = [d01 * 0.5 * 2, d01 * -1 * 2]; // channel 1
    const y00 = (h0[0] * 1 + h0[1] * 2 + 0.5 * 1) * sg(1);
    const y01 = (h1[0] * 1 + h1[1] * 2 + 2 * 2) * sg(-2);
    // t = 1: Δ = sp(0.35) for both.
    const d10 = sp(0.35), d11 = sp(0.35);
    const g0 = [Math.exp(-1 * d10) * h0[0] + d10 * 2 * -1, Math.exp(-2 * d10) * h0[1] + d10 * 1 * -1];
    const g1 = [Math.exp(-0.5 * d11) * h1[0] + d11 * 2 * 0.5, Math.exp(-3 * d11) * h1[1] + d11 * 1 * 0.5];
    const y10 = (g0[0] * -1 + g0[1] * 0.5 + 0.5 * -1) * sg(0.5);
    const y11 = (g1[0] * -1 + g1[1] * 0.5 + 2 * 0.5) * sg(3);
    expectClose(res.y, [y00, y01, y10, y11], 1e-14);
    expectClose(res.finalState, [...g0, ...g1], 1e-14);
  });

  it('groups: channel d reads group floor(d / (dim / nGroups)) (hand case, no softplus)', () => {
    const F = Float64Array;
    // 4 channels, 2 groups, n = 1, one step, zero state: y[d] = Δ[d]·B[g]·u[d]·C[g]
    const res = mamba1Scan({
      batch: 1, seqLen: 1, dim: 4, dState: 1, nGroups: 2, deltaSoftplus: false,
      u: F.of(1, 2, 3, 4), delta: F.of(0.5, 0.25, 2, 1), A: F.of(-1, -1, -1, -1),
      B: F.of(3, 5), C: F.of(7, 11),
    });
    expectClose(res.y, [0.5 * 3 * 1 * 7, 0.25 * 3 * 2 * 7, 2 * 5 * 3 * 11, 1 * 5 * 4 * 11], 1e-12);
  });

  it('equals an independent closed form on random inputs (float64, groups, batch, initial state)', () => {
    const p = problem(11, 2, 7, 6, 3, 3, Float64Array);
    const res = mamba1Scan(p);
    const ref = closedForm(p);
    expectClose(res.y, ref.y, 1e-11, 1e-11);
    expectClose(res.finalState, ref.hT, 1e-11, 1e-11);
  });

  it('scan equals a loop of single steps, bit for bit (float32)', () => {
    const b = 2, L = 9, d = 8, n = 4, g = 2;
    const p = problem(12, b, L, d, n, g, Float32Array);
    const scan = mamba1Scan(p);
    let state = p.initialState as Float32Array;
    const ys: number[] = new Array(b * L * d);
    for (let t = 0; t < L; t++) {
      const step = mamba1Step({
        ...p, batch: b, state,
        u: sliceTime(p.u, b, L, t, t + 1), delta: sliceTime(p.delta, b, L, t, t + 1),
        B: sliceTime(p.B, b, L, t, t + 1), C: sliceTime(p.C, b, L, t, t + 1), z: sliceTime(p.z!, b, L, t, t + 1),
      });
      expect(step.y).toBeInstanceOf(Float32Array);
      for (let bi = 0; bi < b; bi++) for (let c = 0; c < d; c++) ys[(bi * L + t) * d + c] = step.y[bi * d + c];
      state = step.state as Float32Array;
    }
    expectSame(scan.y, ys);
    expectSame(scan.finalState, state);
    expect(scan.finalState).toBeInstanceOf(Float32Array);
  });

  it('scan in pieces with carried state equals the whole scan (float32, bit for bit)', () => {
    const b = 2, L = 13, d = 4, n = 5, g = 1;
    const p = problem(13, b, L, d, n, g, Float32Array);
    const whole = mamba1Scan(p);
    let state = p.initialState!;
    let t0 = 0;
    for (const len of [1, 5, 0, 4, 3]) {
      const t1 = t0 + len;
      const part = mamba1Scan({
        ...p, seqLen: len, initialState: state,
        u: sliceTime(p.u, b, L, t0, t1), delta: sliceTime(p.delta, b, L, t0, t1),
        B: sliceTime(p.B, b, L, t0, t1), C: sliceTime(p.C, b, L, t0, t1), z: sliceTime(p.z!, b, L, t0, t1),
      });
      expectSame(part.y, sliceTime(whole.y, b, L, t0, t1));
      state = part.finalState;
      t0 = t1;
    }
    expect(t0).toBe(L);
    expectSame(state, whole.finalState);
  });

  it('float32 mode stays close to float64 mode, and keeps the precision of u', () => {
    const p64 = problem(14, 1, 20, 4, 4, 2, Float64Array);
    const p32 = problem(14, 1, 20, 4, 4, 2, Float32Array);
    const r64 = mamba1Scan(p64);
    const r32 = mamba1Scan(p32);
    expect(r64.y).toBeInstanceOf(Float64Array);
    expect(r32.y).toBeInstanceOf(Float32Array);
    expectClose(r32.y, r64.y, 1e-5, 1e-4);
    expectClose(r32.finalState, r64.finalState, 1e-5, 1e-4);
    // float32 results are not the float64 ones merely stored: the state is rounded at every step.
    expect(r32.y.some((v, i) => v !== Math.fround(r64.y[i]))).toBe(true);
  });

  it('extreme Δ: above the softplus threshold Δ = δ + bias exactly; at 20 softplus still applies', () => {
    const p = problem(15, 1, 6, 4, 3, 1, Float64Array);
    const r = mulberry32(99);
    p.delta = uniform(r, 6 * 4, 21, 60);
    p.A = uniform(r, 4 * 3, -0.05, -0.001); // keep e^{ΔA} non-negligible so old state still matters
    const res = mamba1Scan(p);
    const ref = closedForm(p, (v) => v); // identity above 20
    expectClose(res.y, ref.y, 1e-9, 1e-11);
    expectClose(res.finalState, ref.hT, 1e-9, 1e-11);
    expect(softplus(20)).toBe(Math.log1p(Math.exp(20)));
    expect(softplus(20)).not.toBe(20);
    expect(softplus(20.000001)).toBe(20.000001);
  });

  it('extreme Δ: very negative δ makes Δ ≈ 0, so the state is carried unchanged and y = C·h + D·u', () => {
    const b = 1, L = 4, d = 3, n = 2, g = 1;
    const p = problem(16, b, L, d, n, g, Float64Array);
    p.delta = new Float64Array(b * L * d).fill(-400);
    const res = mamba1Scan(p);
    expectSame(res.finalState, p.initialState!);
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += p.initialState![c * n + k] * p.C[t * n + k];
        const i = t * d + c;
        const expected = (acc + p.D![c] * p.u[i]) * silu(p.z![i]);
        expect(Math.abs(res.y[i] - expected)).toBeLessThan(1e-14);
      }
    }
    // float32: state still finite and unchanged
    const p32 = problem(16, b, L, d, n, g, Float32Array);
    p32.delta = new Float32Array(b * L * d).fill(-400);
    expectSame(mamba1Scan(p32).finalState, p32.initialState!);
  });

  it('optional parts are optional: no D, z, bias or initial state equals passing zeros / identity', () => {
    const p = problem(17, 1, 5, 4, 2, 2, Float64Array);
    const bare = mamba1Scan({ ...p, D: undefined, z: undefined, deltaBias: undefined, initialState: undefined });
    const zeros = mamba1Scan({
      ...p, D: new Float64Array(4), deltaBias: new Float64Array(4), initialState: new Float64Array(8), z: undefined,
    });
    expectSame(bare.y, zeros.y);
    // and deltaSoftplus=false uses delta + bias as Δ directly
    const raw = mamba1Scan({ ...p, deltaSoftplus: false, delta: p.delta.map((v) => Math.abs(v)) });
    const ref = closedForm({ ...p, delta: p.delta.map((v) => Math.abs(v)) }, (v) => v);
    expectClose(raw.y, ref.y, 1e-11, 1e-11);
  });

  it('rejects wrong shapes and options with named SsmKernelErrors', () => {
    const p = problem(18, 1, 3, 4, 2, 2, Float32Array);
    const bad = (over: Partial<Mamba1ScanInput>) => () => mamba1Scan({ ...p, ...over });
    expect(bad({ B: new Float32Array(5) })).toThrow(/mamba1Scan: tensor 'B' must hold 12 values/);
    expect(bad({ nGroups: 3 })).toThrow(SsmKernelError);
    expect(bad({ nGroups: 3 })).toThrow(/'nGroups' \(3\) must divide 'dim' \(4\)/);
    expect(bad({ deltaSoftplus: undefined as unknown as boolean })).toThrow(/deltaSoftplus/);
    expect(bad({ u: [1, 2] as unknown as Float32Array })).toThrow(/Float32Array or Float64Array/);
    try {
      bad({ A: new Float32Array(3) })();
      expect.fail('no throw');
    } catch (e) {
      expect((e as SsmKernelError).code).toBe('BAD_SHAPE');
    }
  });
});
