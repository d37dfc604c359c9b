// Mamba-2 training form (chunked SSD in standard ops) against the sequential oracle, and its gradients
// against float64 finite differences.
import { describe, it, expect } from 'vitest';
import { exp, neg } from '@mil/graph';
import { mamba2Scan, mamba2ScanGraph, type FloatArray, type Mamba2ScanInput, type Mamba2StateLayout } from '../src/index';
import { expectClose, mamba2Problem, uniform, sliceTime } from './oracle-helpers';
import { runGraph, flatConcat, swapLast2, type Feed } from './graph-helpers';
import { mulberry32 } from '@mil/core';
import { gradCheck } from '@mil/graph/testing';

type P = Mamba2ScanInput;

/** Feeds of a Mamba-2 problem (float32), with batch / seq symbolic when `symbolic`. */
function feedsOf(q: P, symbolic: boolean): Feed[] {
  const { batch: b, seqLen: L, nHeads: h, headDim: p, dState: n, nGroups: g } = q;
  const s = (dims: number[], seqAxis = 1): (number | string)[] =>
    symbolic ? dims.map((d, i) => (i === 0 ? 'batch' : i === seqAxis ? 'seq' : d)) : dims;
  const f32 = (a: Float32Array | Float64Array) => Float32Array.from(a);
  const feeds: Feed[] = [
    { name: 'x', data: f32(q.x), dims: [b, L, h, p], declare: s([b, L, h, p]) },
    { name: 'dt', data: f32(q.dt), dims: [b, L, h], declare: s([b, L, h]) },
    { name: 'B', data: f32(q.B), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'C', data: f32(q.C), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'A', data: f32(q.A), dims: [h] },
  ];
  if (q.z) feeds.push({ name: 'z', data: f32(q.z), dims: [b, L, h, p], declare: s([b, L, h, p]) });
  if (q.D) feeds.push({ name: 'D', data: f32(q.D), dims: q.D.length === h ? [h] : [h, p] });
  if (q.dtBias) feeds.push({ name: 'dtBias', data: f32(q.dtBias), dims: [h] });
  if (q.initialState) feeds.push({ name: 'h0', data: f32(q.initialState), dims: [b, h, p, n], declare: s([b, h, p, n], -1) });
  return feeds;
}

/** Runs mamba2ScanGraph on a problem; returns y and the final state (float32). */
async function runScan(q: P, chunkSize: number, symbolic = false, stateLayout: Mamba2StateLayout = 'hpn') {
  const { headDim: p, dState: n } = q;
  const swap = (a: FloatArray, r: number, c: number) => (stateLayout === 'hnp' ? swapLast2(a, r, c) : a);
  const feeds = feedsOf(q.initialState ? { ...q, initialState: swap(q.initialState, p, n) } : q, symbolic);
  if (stateLayout === 'hnp') for (const f of feeds) if (f.name === 'h0') { f.dims = [f.dims[0], f.dims[1], n, p]; if (f.declare) f.declare = [f.declare[0], f.declare[1], n, p]; }
  const out = await runGraph(feeds, (g, t) => {
    const r = mamba2ScanGraph(g, { x: t.x, dt: t.dt, A: t.A, B: t.B, C: t.C, z: t.z, D: t.D, dtBias: t.dtBias, initialState: t.h0 }, {
      chunkSize, dtSoftplus: q.dtSoftplus, dtLimit: q.dtLimit, stateLayout,
    });
    return { y: r.y, state: r.finalState };
  });
  return { y: out.y, state: swap(out.state, n, p) };
}

/** The oracle in float64 on the float32-rounded inputs. */
function reference(q: P) {
  const r = (a?: Float32Array | Float64Array) => (a ? Float64Array.from(Float32Array.from(a)) : undefined);
  return mamba2Scan({ ...q, x: r(q.x)!, dt: r(q.dt)!, A: r(q.A)!, B: r(q.B)!, C: r(q.C)!, z: r(q.z), D: r(q.D), dtBias: r(q.dtBias), initialState: r(q.initialState) });
}

const TOL = { atol: 2e-4, rtol: 2e-4 };

describe('mamba2ScanGraph (chunked SSD, standard ops) = mamba2Scan oracle', () => {
  const cases: [number, number, boolean][] = [
    // [L, chunk, symbolic]: L = 1, L = chunk, chunk boundaries ± 1, L not a multiple, chunk > L, symbolic dims
    [1, 4, false], [4, 4, false], [5, 4, true], [3, 4, false], [13, 4, true], [16, 1, false], [23, 8, false],
  ];
  for (const [L, Q, sym] of cases) {
    it(`L=${L}, chunk=${Q}${sym ? ', symbolic batch/seq' : ''} (2 heads per group, z gate, D, dtBias, initial state)`, async () => {
      const q = mamba2Problem(1000 + L * 7 + Q, 2, L, 4, 3, 5, 2, Float32Array);
      const out = await runScan(q, Q, sym);
      const ref = reference(q);
      expectClose(out.y, ref.y, TOL.atol, TOL.rtol);
      expectClose(out.state, ref.finalState, TOL.atol, TOL.rtol);
    });
  }

  it("state in and out in the inference forms' (b, h, n, p) layout", async () => {
    const q = mamba2Problem(1500, 2, 9, 4, 3, 5, 2, Float32Array);
    const out = await runScan(q, 4, false, 'hnp');
    const ref = reference(q);
    expectClose(out.y, ref.y, TOL.atol, TOL.rtol);
    expectClose(out.state, ref.finalState, TOL.atol, TOL.rtol);
  });

  it('no z, per-(head, dim) D, dt limit clamp, one group, no initial state', async () => {
    const r = mulberry32(77);
    const b = 1, L = 11, h = 3, p = 4, n = 6, g = 1;
    const q: P = {
      batch: b, seqLen: L, nHeads: h, headDim: p, dState: n, nGroups: g, dtSoftplus: true, dtLimit: [0.05, 1.5],
      x: uniform(r, b * L * h * p, -2, 2, Float32Array), dt: uniform(r, b * L * h, -4, 3, Float32Array),
      A: uniform(r, h, -3, -0.2, Float32Array), B: uniform(r, b * L * g * n, -1, 1, Float32Array),
      C: uniform(r, b * L * g * n, -1, 1, Float32Array), D: uniform(r, h * p, -1, 1, Float32Array),
      dtBias: uniform(r, h, -1, 1, Float32Array),
    };
    const out = await runScan(q, 4);
    const ref = reference(q);
    expectClose(out.y, ref.y, TOL.atol, TOL.rtol);
    expectClose(out.state, ref.finalState, TOL.atol, TOL.rtol);
  });

  it('extreme Δ (dt in ±30 and around the softplus threshold) stays finite and exact', async () => {
    const q = mamba2Problem(4242, 1, 17, 4, 2, 3, 4, Float32Array);
    const extremes = [-30, -12, 19.9, 20.1, 25, 30, -0.5];
    for (let i = 0; i < q.dt.length; i++) q.dt[i] = extremes[i % extremes.length];
    q.A = Float32Array.of(-0.01, -1, -8, -16);
    const out = await runScan(q, 8);
    const ref = reference(q);
    for (const v of out.y) expect(Number.isFinite(v)).toBe(true);
    expectClose(out.y, ref.y, 1e-3, 1e-4);
    expectClose(out.state, ref.finalState, 1e-3, 1e-4);
  });

  it('a long sequence carried across calls in pieces (40 + 1 + 55 steps) equals one scan', async () => {
    const b = 2, L = 96;
    const q = mamba2Problem(31337, b, L, 4, 3, 4, 2, Float32Array);
    const ref = reference(q);
    let state = q.initialState!;
    let t0 = 0;
    for (const len of [40, 1, 55]) {
      const part: P = {
        ...q, seqLen: len, initialState: state,
        x: sliceTime(q.x, b, L, t0, t0 + len), dt: sliceTime(q.dt, b, L, t0, t0 + len),
        B: sliceTime(q.B, b, L, t0, t0 + len), C: sliceTime(q.C, b, L, t0, t0 + len), z: sliceTime(q.z!, b, L, t0, t0 + len),
      };
      const out = await runScan(part, 16, true);
      expectClose(out.y, sliceTime(ref.y, b, L, t0, t0 + len), TOL.atol, TOL.rtol);
      state = out.state;
      t0 += len;
    }
    expectClose(state, ref.finalState, TOL.atol, TOL.rtol);
  });
});

describe('mamba2ScanGraph gradients = float64 finite differences', () => {
  it('every input and parameter (x, dt, A_log, B, C, z, D, dtBias, initial state), L=5 over chunks of 2', async () => {
    const b = 1, L = 5, h = 2, p = 2, n = 3, g = 1;
    const r = await gradCheck(
      [
        { name: 'x', shape: [b, L, h, p] }, { name: 'dt', shape: [b, L, h] }, { name: 'Alog', shape: [h] },
        { name: 'B', shape: [b, L, g, n] }, { name: 'C', shape: [b, L, g, n] }, { name: 'z', shape: [b, L, h, p] },
        { name: 'D', shape: [h] }, { name: 'dtBias', shape: [h] }, { name: 'h0', shape: [b, h, p, n] },
      ],
      ([x, dt, Alog, B, C, z, D, dtBias, h0], gr) => {
        const res = mamba2ScanGraph(gr, { x, dt, A: neg(exp(Alog)), B, C, z, D, dtBias, initialState: h0 }, { chunkSize: 2, dtSoftplus: true });
        return flatConcat([res.y, res.finalState]);
      },
      { seed: 5 },
    );
    expect(r.checked).toBeGreaterThan(50);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});
