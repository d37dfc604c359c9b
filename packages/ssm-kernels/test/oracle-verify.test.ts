import { describe, it, expect } from 'vitest';
import {
  causalConv1d,
  causalConv1dRing,
  mamba1Scan,
  mamba1Step,
  mamba2Scan,
  multiStepVerify,
  mamba2MultiStepVerify,
  recomputeStepsAfter,
  SsmKernelError,
  type Mamba1Params,
  type Mamba2Params,
} from '../src/index';
import { uniform, expectClose, expectSame, sliceTime, concatTime } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

const F32 = Float32Array;

function mamba1Params(seed: number, d: number, n: number, g: number): Mamba1Params {
  const r = mulberry32(seed);
  return {
    dim: d, dState: n, nGroups: g, deltaSoftplus: true,
    A: uniform(r, d * n, -2, -0.1, F32), D: uniform(r, d, -1, 1, F32), deltaBias: uniform(r, d, -1, 1, F32),
  };
}

/** Per-step SSM inputs of T steps for b sequences (Mamba-1 layouts). */
function steps(rng: () => number, b: number, T: number, d: number, n: number, g: number) {
  return {
    x: uniform(rng, b * T * d, -2, 2, F32),
    delta: uniform(rng, b * T * d, -3, 1, F32),
    B: uniform(rng, b * T * g * n, -1.5, 1.5, F32),
    C: uniform(rng, b * T * g * n, -1.5, 1.5, F32),
    z: uniform(rng, b * T * d, -3, 3, F32),
  };
}

describe('multiStepVerify oracle (Mamba-1, lazy state advance)', () => {
  const b = 1, d = 6, n = 3, g = 2;
  const p = mamba1Params(1, d, n, g);

  for (const K of [3, 4]) {
    it(`for every accepted count a in 0..${K}: outputs, state and snapshot equal plain sequential steps`, () => {
      const rng = mulberry32(10 + K);
      for (let a = 0; a <= K; a++) {
        const h0 = uniform(rng, b * d * n, -1, 1, F32);
        const s1 = steps(rng, b, K + 1, d, n, g);
        const s2 = steps(rng, b, K + 1, d, n, g);
        const v1 = multiStepVerify({ ...p, batch: b, seqLen: K + 1, recomputeSteps: -1, state: h0, ...s1 });
        const v2 = multiStepVerify({
          ...p, batch: b, seqLen: K + 1, recomputeSteps: recomputeStepsAfter(a, K),
          state: v1.state, snapshot: v1.snapshot, cache: v1.cache, ...s2,
        });
        // Reference: single steps over the accepted prefix (a + 1 steps of round 1), then round 2.
        let h: Float32Array | Float64Array = h0;
        const y1: number[] = [];
        for (let t = 0; t <= K; t++) {
          const one = mamba1Step({
            ...p, batch: b, state: h, u: sliceTime(s1.x, b, K + 1, t, t + 1), delta: sliceTime(s1.delta, b, K + 1, t, t + 1),
            B: sliceTime(s1.B, b, K + 1, t, t + 1), C: sliceTime(s1.C, b, K + 1, t, t + 1), z: sliceTime(s1.z, b, K + 1, t, t + 1),
          });
          y1.push(...one.y);
          h = one.state;
          if (t === a) break;
        }
        expectSame(v1.y.subarray(0, (a + 1) * d), y1);
        expectSame(v2.snapshot, h);
        const y2: number[] = [];
        for (let t = 0; t <= K; t++) {
          const one = mamba1Step({
            ...p, batch: b, state: h, u: sliceTime(s2.x, b, K + 1, t, t + 1), delta: sliceTime(s2.delta, b, K + 1, t, t + 1),
            B: sliceTime(s2.B, b, K + 1, t, t + 1), C: sliceTime(s2.C, b, K + 1, t, t + 1), z: sliceTime(s2.z, b, K + 1, t, t + 1),
          });
          y2.push(...one.y);
          h = one.state;
        }
        expectSame(v2.y, y2);
        expectSame(v2.state, h);
        expectSame(v2.cache.x, s2.x);
        expectSame(v2.cache.delta, s2.delta);
        expectSame(v2.cache.B, s2.B);
      }
    });
  }

  it('matches a hand-computed tiny case (d = 1, n = 2, K = 1, one draft rejected)', () => {
    const F = Float64Array;
    const q = { dim: 1, dState: 2, nGroups: 1, deltaSoftplus: false, A: F.of(-1, -2), D: F.of(0.5) };
    // round 1 from state [1, -1]: Δ = 0.5 then 0.25; x = 2 then 4; B = [1, 3] then [-1, 1]; C = [1, 1] both
    const v1 = multiStepVerify({
      ...q, batch: 1, seqLen: 2, recomputeSteps: -1, state: F.of(1, -1),
      x: F.of(2, 4), delta: F.of(0.5, 0.25), B: F.of(1, 3, -1, 1), C: F.of(1, 1, 1, 1),
    });
    const h1 = [Math.exp(-0.5) * 1 + 0.5 * 1 * 2, Math.exp(-1) * -1 + 0.5 * 3 * 2];
    const h2 = [Math.exp(-0.25) * h1[0] + 0.25 * -1 * 4, Math.exp(-0.5) * h1[1] + 0.25 * 1 * 4];
    expectClose(v1.y, [h1[0] + h1[1] + 0.5 * 2, h2[0] + h2[1] + 0.5 * 4], 1e-15);
    expectSame(v1.snapshot, [1, -1]);
    expectClose(v1.state, h2, 1e-15);
    // the draft was rejected (a = 0): replay slot 0 only, then one new step Δ = 1, x = -1, B = [2, 2], C = [1, -1]
    const v2 = multiStepVerify({
      ...q, batch: 1, seqLen: 1, cacheLen: 2, recomputeSteps: recomputeStepsAfter(0, 1), state: v1.state,
      snapshot: v1.snapshot, cache: v1.cache, x: F.of(-1), delta: F.of(1), B: F.of(2, 2), C: F.of(1, -1),
    });
    expectClose(v2.snapshot, h1, 1e-15);
    const h3 = [Math.exp(-1) * h1[0] + 1 * 2 * -1, Math.exp(-2) * h1[1] + 1 * 2 * -1];
    expectClose(v2.state, h3, 1e-15);
    expectClose(v2.y, [h3[0] - h3[1] + 0.5 * -1], 1e-15);
  });

  it('replaying all K + 1 cached steps (r = K) equals continuing from the state (r = −1), bit for bit', () => {
    const K = 3;
    const rng = mulberry32(30);
    const s1 = steps(rng, b, K + 1, d, n, g);
    const s2 = steps(rng, b, K + 1, d, n, g);
    const v1 = multiStepVerify({ ...p, batch: b, seqLen: K + 1, recomputeSteps: -1, state: uniform(rng, d * n, -1, 1, F32), ...s1 });
    const base = { ...p, batch: b, seqLen: K + 1, state: v1.state, snapshot: v1.snapshot, cache: v1.cache, ...s2 };
    const all = multiStepVerify({ ...base, recomputeSteps: K });
    const none = multiStepVerify({ ...base, recomputeSteps: -1 });
    expectSame(all.y, none.y);
    expectSame(all.state, none.state);
    expectSame(all.snapshot, v1.state);
    // and a genuine rollback differs
    expect(multiStepVerify({ ...base, recomputeSteps: 1 }).y.some((v, i) => v !== none.y[i])).toBe(true);
  });

  it('end to end with the conv ring: rounds of random acceptance per sequence equal one full conv + scan', () => {
    const B2 = 2, K = 3, w = 4, S = w - 1 + K, P0 = 5, rounds = 6;
    const rng = mulberry32(40);
    const conv = { batch: B2, dim: d, width: w, activation: 'silu' as const, weight: uniform(rng, d * w, -0.5, 0.5, F32), bias: uniform(rng, d, -0.5, 0.5, F32) };
    // Per sequence, the tokens processed so far (each token: raw pre-conv x, δ, B, C, z).
    type Tok = { xr: number[]; delta: number[]; B: number[]; C: number[]; z: number[] };
    const stream: Tok[][] = [[], []];
    const newTokens = (count: number): Tok[] =>
      Array.from({ length: count }, () => ({
        xr: [...uniform(rng, d, -2, 2)], delta: [...uniform(rng, d, -3, 1)], B: [...uniform(rng, g * n, -1.5, 1.5)],
        C: [...uniform(rng, g * n, -1.5, 1.5)], z: [...uniform(rng, d, -3, 3)],
      }));
    /** Full conv + scan from zeros over a token list (one sequence). */
    const reference = (toks: Tok[]) => {
      const L = toks.length;
      const xc = causalConv1d({ ...conv, batch: 1, seqLen: L, x: F32.from(toks.flatMap((t) => t.xr)) });
      return mamba1Scan({
        ...p, batch: 1, seqLen: L, u: xc.y, delta: F32.from(toks.flatMap((t) => t.delta)),
        B: F32.from(toks.flatMap((t) => t.B)), C: F32.from(toks.flatMap((t) => t.C)), z: F32.from(toks.flatMap((t) => t.z)),
      });
    };
    // Prefill P0 tokens per sequence (the prompt minus its last token), then fill the ring and the SSM state.
    const ring = new F32(B2 * d * S).fill(777);
    const ssm = new F32(B2 * d * n);
    const counters = [P0, P0];
    for (let bi = 0; bi < B2; bi++) {
      stream[bi] = newTokens(P0);
      const xr = F32.from(stream[bi].flatMap((t) => t.xr));
      const pre = causalConv1d({ ...conv, batch: 1, seqLen: P0, x: xr });
      for (let c = 0; c < d; c++) for (let j = 0; j < w - 1; j++) ring[(bi * d + c) * S + ((P0 - (w - 1) + j) % S)] = pre.finalState[c * (w - 1) + j];
      ssm.set(reference(stream[bi]).finalState, bi * d * n);
    }
    let state: Float32Array | Float64Array = ssm;
    let ringState: Float32Array | Float64Array = ring;
    let snapshot: Float32Array | Float64Array | undefined;
    let cache: ReturnType<typeof multiStepVerify>['cache'] | undefined;
    let rs = [-1, -1];
    const seen = new Set<number>();
    for (let round = 0; round < rounds; round++) {
      const toks = [newTokens(K + 1), newTokens(K + 1)];
      const cat = (f: (t: Tok) => number[]) => F32.from(toks.flatMap((ts) => ts.flatMap(f)));
      const xc = causalConv1dRing({ ...conv, seqLen: K + 1, stateLen: S, x: cat((t) => t.xr), state: ringState, cacheSeqlens: counters });
      const v = multiStepVerify({
        ...p, batch: B2, seqLen: K + 1, recomputeSteps: rs, state, snapshot, cache,
        x: xc.y, delta: cat((t) => t.delta), B: cat((t) => t.B), C: cat((t) => t.C), z: cat((t) => t.z),
      });
      for (let bi = 0; bi < B2; bi++) {
        const ref = reference([...stream[bi], ...toks[bi]]);
        expectSame(v.y.subarray(bi * (K + 1) * d, (bi + 1) * (K + 1) * d), ref.y.subarray(stream[bi].length * d));
        // accept a drafts (the token fed first is always kept)
        const a = (round + bi * 2) % (K + 1);
        seen.add(a);
        stream[bi].push(...toks[bi].slice(0, a + 1));
        counters[bi] += a + 1;
        rs[bi] = recomputeStepsAfter(a, K);
      }
      rs = [...rs];
      state = v.state;
      snapshot = v.snapshot;
      cache = v.cache;
      ringState = xc.state;
    }
    expect(seen.size).toBe(K + 1);
  });

  it('rejects inconsistent calls', () => {
    const s = steps(mulberry32(50), 1, 3, d, n, g);
    const base = { ...p, batch: 1, seqLen: 3, state: new F32(d * n), ...s };
    expect(() => multiStepVerify({ ...base, recomputeSteps: 0 })).toThrow(/'snapshot' and 'cache' are required/);
    expect(() => multiStepVerify({ ...base, recomputeSteps: 3, snapshot: new F32(d * n), cache: s })).toThrow(/must be an integer in \[-1, 2\]/);
    expect(() => multiStepVerify({ ...base, recomputeSteps: -2 })).toThrow(SsmKernelError);
    expect(() => multiStepVerify({ ...base, recomputeSteps: 1, cacheLen: 2, snapshot: new F32(d * n), cache: s })).toThrow(/tensor 'cache.x' must hold 12 values/);
    expect(() => recomputeStepsAfter(5, 4)).toThrow(/'accepted' must be an integer in \[0, 4\]/);
    expect(recomputeStepsAfter(0, 4)).toBe(0);
    expect(recomputeStepsAfter(4, 4)).toBe(-1);
  });
});

describe('mamba2MultiStepVerify oracle', () => {
  const b = 2, h = 4, P = 2, n = 3, g = 2, K = 3;
  const r0 = mulberry32(60);
  const p: Mamba2Params = {
    nHeads: h, headDim: P, dState: n, nGroups: g, dtSoftplus: true, dtLimit: [0.01, 2],
    A: uniform(r0, h, -3, -0.2, F32), D: uniform(r0, h, -1, 1, F32), dtBias: uniform(r0, h, -1, 1, F32),
  };
  const inputs = (rng: () => number) => ({
    x: uniform(rng, b * (K + 1) * h * P, -2, 2, F32), dt: uniform(rng, b * (K + 1) * h, -3, 1, F32),
    B: uniform(rng, b * (K + 1) * g * n, -1.5, 1.5, F32), C: uniform(rng, b * (K + 1) * g * n, -1.5, 1.5, F32),
    z: uniform(rng, b * (K + 1) * h * P, -3, 3, F32),
  });

  it('for every accepted count (different per sequence) equals a scan over the accepted prefix and the new steps', () => {
    const rng = mulberry32(61);
    for (let a = 0; a <= K; a++) {
      const accepted = [a, K - a];
      const h0 = uniform(rng, b * h * P * n, -1, 1, F32);
      const s1 = inputs(rng);
      const s2 = inputs(rng);
      const v1 = mamba2MultiStepVerify({ ...p, batch: b, seqLen: K + 1, recomputeSteps: -1, state: h0, ...s1 });
      const v2 = mamba2MultiStepVerify({
        ...p, batch: b, seqLen: K + 1, recomputeSteps: accepted.map((x) => recomputeStepsAfter(x, K)),
        state: v1.state, snapshot: v1.snapshot, cache: v1.cache, ...s2,
      });
      for (let bi = 0; bi < b; bi++) {
        const keep = accepted[bi] + 1;
        const one = <T extends Float32Array | Float64Array>(arr: T, inner: number, t0: number, t1: number) =>
          sliceTime(arr.subarray(bi * (K + 1) * inner, (bi + 1) * (K + 1) * inner) as T, 1, K + 1, t0, t1);
        const cat = (arr1: Float32Array | Float64Array, arr2: Float32Array | Float64Array, inner: number) =>
          concatTime([one(arr1, inner, 0, keep), one(arr2, inner, 0, K + 1)], 1, [keep, K + 1]);
        const L = keep + K + 1;
        const ref = mamba2Scan({
          ...p, batch: 1, seqLen: L, initialState: h0.subarray(bi * h * P * n, (bi + 1) * h * P * n),
          x: cat(s1.x, s2.x, h * P), dt: cat(s1.dt, s2.dt, h), B: cat(s1.B, s2.B, g * n), C: cat(s1.C, s2.C, g * n),
          z: cat(s1.z, s2.z, h * P),
        });
        const yb = v2.y.subarray(bi * (K + 1) * h * P, (bi + 1) * (K + 1) * h * P);
        expectSame(yb, ref.y.subarray(keep * h * P));
        expectSame(v2.state.subarray(bi * h * P * n, (bi + 1) * h * P * n), ref.finalState);
        const prefix = mamba2Scan({
          ...p, batch: 1, seqLen: keep, initialState: h0.subarray(bi * h * P * n, (bi + 1) * h * P * n),
          x: one(s1.x, h * P, 0, keep), dt: one(s1.dt, h, 0, keep), B: one(s1.B, g * n, 0, keep), C: one(s1.C, g * n, 0, keep),
        });
        expectSame(v2.snapshot.subarray(bi * h * P * n, (bi + 1) * h * P * n), prefix.finalState);
      }
    }
  });
});
