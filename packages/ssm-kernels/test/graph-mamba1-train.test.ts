// Mamba-1 training form (chunked scan with per-(channel, state) decay, standard ops) against the sequential
// oracle, and its gradients against float64 finite differences.
import { describe, it, expect } from 'vitest';
import { exp, neg } from '@mil/graph';
import { mamba1Scan, mamba1ScanGraph, type Mamba1ScanInput } from '../src/index';
import { expectClose, uniform, sliceTime } from './oracle-helpers';
import { runGraph, flatConcat, mamba1Problem, type Feed } from './graph-helpers';
import { mulberry32 } from '@mil/core';
import { gradCheck } from '@mil/graph/testing';

type P = Mamba1ScanInput;

function feedsOf(q: P, symbolic: boolean): Feed[] {
  const { batch: b, seqLen: L, dim: d, dState: n, nGroups: g } = q;
  const s = (dims: number[], seqAxis = 1): (number | string)[] =>
    symbolic ? dims.map((v, i) => (i === 0 ? 'batch' : i === seqAxis ? 'seq' : v)) : dims;
  const f32 = (a: Float32Array | Float64Array) => Float32Array.from(a);
  const feeds: Feed[] = [
    { name: 'u', data: f32(q.u), dims: [b, L, d], declare: s([b, L, d]) },
    { name: 'delta', data: f32(q.delta), dims: [b, L, d], declare: s([b, L, d]) },
    { name: 'B', data: f32(q.B), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'C', data: f32(q.C), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'A', data: f32(q.A), dims: [d, n] },
  ];
  if (q.z) feeds.push({ name: 'z', data: f32(q.z), dims: [b, L, d], declare: s([b, L, d]) });
  if (q.D) feeds.push({ name: 'D', data: f32(q.D), dims: [d] });
  if (q.deltaBias) feeds.push({ name: 'deltaBias', data: f32(q.deltaBias), dims: [d] });
  if (q.initialState) feeds.push({ name: 'h0', data: f32(q.initialState), dims: [b, d, n], declare: s([b, d, n], -1) });
  return feeds;
}

async function runScan(q: P, chunkSize: number, symbolic = false) {
  return runGraph(feedsOf(q, symbolic), (g, t) => {
    const r = mamba1ScanGraph(g, { u: t.u, delta: t.delta, A: t.A, B: t.B, C: t.C, z: t.z, D: t.D, deltaBias: t.deltaBias, initialState: t.h0 }, {
      chunkSize, deltaSoftplus: q.deltaSoftplus,
    });
    return { y: r.y, state: r.finalState };
  });
}

function reference(q: P) {
  const r = (a?: Float32Array | Float64Array) => (a ? Float64Array.from(Float32Array.from(a)) : undefined);
  return mamba1Scan({ ...q, u: r(q.u)!, delta: r(q.delta)!, A: r(q.A)!, B: r(q.B)!, C: r(q.C)!, z: r(q.z), D: r(q.D), deltaBias: r(q.deltaBias), initialState: r(q.initialState) });
}

const TOL = { atol: 2e-4, rtol: 2e-4 };

describe('mamba1ScanGraph (chunked, per-(d, n) decay) = mamba1Scan oracle', () => {
  const cases: [number, number, boolean][] = [[1, 4, false], [4, 4, false], [5, 4, true], [3, 8, false], [14, 4, true], [9, 1, false], [21, 6, false]];
  for (const [L, Q, sym] of cases) {
    it(`L=${L}, chunk=${Q}${sym ? ', symbolic batch/seq' : ''} (groups of 4 channels, z gate, D, deltaBias, initial state)`, async () => {
      const q = mamba1Problem(2000 + L * 13 + Q, 2, L, 8, 3, 2);
      const out = await runScan(q, Q, sym);
      const ref = reference(q);
      expectClose(out.y, ref.y, TOL.atol, TOL.rtol);
      expectClose(out.state, ref.finalState, TOL.atol, TOL.rtol);
    });
  }

  it('no options: no z, no D, no bias, no initial state, shared B / C (g = 1), softplus off', async () => {
    const q = mamba1Problem(99, 1, 10, 6, 4, 1);
    delete q.z; delete q.D; delete q.deltaBias; delete q.initialState;
    q.deltaSoftplus = false;
    const r = mulberry32(5);
    q.delta = uniform(r, q.delta.length, 0.01, 1.5, Float32Array); // raw Δ must be positive without softplus
    const out = await runScan(q, 3);
    const ref = reference(q);
    expectClose(out.y, ref.y, TOL.atol, TOL.rtol);
    expectClose(out.state, ref.finalState, TOL.atol, TOL.rtol);
  });

  it('extreme Δ (δ in ±30, around the softplus threshold; A down to −16)', async () => {
    const q = mamba1Problem(4243, 1, 15, 4, 16, 1);
    const extremes = [-30, -12, 19.9, 20.1, 25, 30, -0.5];
    for (let i = 0; i < q.delta.length; i++) q.delta[i] = extremes[i % extremes.length];
    for (let i = 0; i < q.A.length; i++) q.A[i] = -(1 + (i % 16)); // S4D-real init: A = −(n + 1)
    const out = await runScan(q, 4);
    const ref = reference(q);
    for (const v of out.y) expect(Number.isFinite(v)).toBe(true);
    expectClose(out.y, ref.y, 1e-3, 1e-4);
    expectClose(out.state, ref.finalState, 1e-3, 1e-4);
  });

  it('a long sequence carried across calls in pieces (33 + 1 + 50 steps) equals one scan', async () => {
    const b = 2, L = 84;
    const q = mamba1Problem(777, b, L, 8, 4, 2);
    const ref = reference(q);
    let state = q.initialState!;
    let t0 = 0;
    for (const len of [33, 1, 50]) {
      const cut = (a: Float32Array | Float64Array) => sliceTime(a, b, L, t0, t0 + len);
      const part: P = { ...q, seqLen: len, initialState: state, u: cut(q.u), delta: cut(q.delta), B: cut(q.B), C: cut(q.C), z: cut(q.z!) };
      const out = await runScan(part, 8, true);
      expectClose(out.y, sliceTime(ref.y, b, L, t0, t0 + len), TOL.atol, TOL.rtol);
      state = out.state;
      t0 += len;
    }
    expectClose(state, ref.finalState, TOL.atol, TOL.rtol);
  });
});

describe('mamba1ScanGraph gradients = float64 finite differences', () => {
  it('every input and parameter (u, δ, A_log, B, C, z, D, deltaBias, initial state), L=5 over chunks of 2', async () => {
    const b = 1, L = 5, d = 4, n = 3, g = 2;
    const r = await gradCheck(
      [
        { name: 'u', shape: [b, L, d] }, { name: 'delta', shape: [b, L, d] }, { name: 'Alog', shape: [d, n] },
        { name: 'B', shape: [b, L, g, n] }, { name: 'C', shape: [b, L, g, n] }, { name: 'z', shape: [b, L, d] },
        { name: 'D', shape: [d] }, { name: 'deltaBias', shape: [d] }, { name: 'h0', shape: [b, d, n] },
      ],
      ([u, delta, Alog, B, C, z, D, deltaBias, h0], gr) => {
        const res = mamba1ScanGraph(gr, { u, delta, A: neg(exp(Alog)), B, C, z, D, deltaBias, initialState: h0 }, { chunkSize: 2, deltaSoftplus: true });
        return flatConcat([res.y, res.finalState]);
      },
      { seed: 6 },
    );
    expect(r.checked).toBeGreaterThan(50);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});
