// Inference forms on ORT's LinearAttention (prefill, decode step, multi-step verify) against the oracles.
import { describe, it, expect } from 'vitest';
import {
  mamba1DecodeStepGraph,
  mamba1MultiStepVerifyGraph,
  mamba1PrefillGraph,
  mamba1Scan,
  mamba2DecodeStepGraph,
  mamba2MultiStepVerifyGraph,
  mamba2PrefillGraph,
  mamba2Scan,
  mamba2MultiStepVerify,
  multiStepVerify,
  recomputeStepsAfter,
  type Mamba1ScanInput,
  type Mamba2ScanInput,
  type Mamba2StateLayout,
  type FloatArray,
} from '../src/index';
import { expectClose, mamba2Problem, sliceTime, uniform } from './oracle-helpers';
import { mamba1Problem, runGraph, swapLast2, type Feed } from './graph-helpers';
import { mulberry32 } from '@mil/core';

const TOL = { atol: 2e-4, rtol: 2e-4 };
const f64 = (a?: Float32Array | Float64Array) => (a ? Float64Array.from(Float32Array.from(a)) : undefined);
const f32 = (a: Float32Array | Float64Array) => Float32Array.from(a);

/** Mamba-2 oracle in float64 on float32-rounded inputs. */
function ref2(q: Mamba2ScanInput) {
  return mamba2Scan({ ...q, x: f64(q.x)!, dt: f64(q.dt)!, A: f64(q.A)!, B: f64(q.B)!, C: f64(q.C)!, z: f64(q.z), D: f64(q.D), dtBias: f64(q.dtBias), initialState: f64(q.initialState) });
}
function ref1(q: Mamba1ScanInput) {
  return mamba1Scan({ ...q, u: f64(q.u)!, delta: f64(q.delta)!, A: f64(q.A)!, B: f64(q.B)!, C: f64(q.C)!, z: f64(q.z), D: f64(q.D), deltaBias: f64(q.deltaBias), initialState: f64(q.initialState) });
}

/** (b, h, p, n) ↔ (b, h, n, p) for the 'hnp' layout. */
const toLayout = (s: Float32Array | Float64Array, layout: Mamba2StateLayout, p: number, n: number) => (layout === 'hpn' ? s : swapLast2(s, p, n));
const fromLayout = (s: Float32Array | Float64Array, layout: Mamba2StateLayout, p: number, n: number) => (layout === 'hpn' ? s : swapLast2(s, n, p));

async function prefill2(q: Mamba2ScanInput, layout: Mamba2StateLayout, symbolic: boolean) {
  const { batch: b, seqLen: L, nHeads: h, headDim: p, dState: n, nGroups: g } = q;
  const s = (dims: number[]) => (symbolic ? dims.map((v, i) => (i === 0 ? 'batch' : i === 1 ? 'seq' : v)) : dims);
  const feeds: Feed[] = [
    { name: 'x', data: f32(q.x), dims: [b, L, h, p], declare: s([b, L, h, p]) },
    { name: 'dt', data: f32(q.dt), dims: [b, L, h], declare: s([b, L, h]) },
    { name: 'B', data: f32(q.B), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'C', data: f32(q.C), dims: [b, L, g, n], declare: s([b, L, g, n]) },
    { name: 'z', data: f32(q.z!), dims: [b, L, h, p], declare: s([b, L, h, p]) },
    { name: 'A', data: f32(q.A), dims: [h] }, { name: 'D', data: f32(q.D!), dims: [h] }, { name: 'dtBias', data: f32(q.dtBias!), dims: [h] },
  ];
  if (q.initialState) {
    const sd = layout === 'hpn' ? [b, h, p, n] : [b, h, n, p];
    feeds.push({ name: 'h0', data: f32(toLayout(q.initialState, layout, p, n)), dims: sd, declare: symbolic ? ['batch', ...sd.slice(1)] : sd });
  }
  const out = await runGraph(feeds, (gr, t) => {
    const r = mamba2PrefillGraph(gr, { x: t.x, dt: t.dt, A: t.A, B: t.B, C: t.C, z: t.z, D: t.D, dtBias: t.dtBias, initialState: t.h0 }, { dtSoftplus: true, dtLimit: q.dtLimit, stateLayout: layout });
    return { y: r.y, state: r.finalState };
  });
  return { y: out.y, state: fromLayout(out.state, layout, p, n) };
}

describe('Mamba-2 on LinearAttention (gated) = mamba2Scan / mamba2Step oracles', () => {
  const cases: [string, number, number, number, Mamba2StateLayout, boolean][] = [
    // label, L, heads, groups, layout, symbolic
    ['L=1, 2 heads per group (inverse GQA)', 1, 4, 2, 'hpn', false],
    ['L=9, one group per head', 9, 4, 4, 'hpn', true],
    ['L=6, one shared group, ORT-native state layout', 6, 4, 1, 'hnp', true],
  ];
  for (const [label, L, h, g, layout, sym] of cases) {
    it(`prefill: ${label}`, async () => {
      const q = mamba2Problem(3000 + L + h * 10 + g, 2, L, h, 3, 5, g, Float32Array);
      const out = await prefill2(q, layout, sym);
      const r = ref2(q);
      expectClose(out.y, r.y, TOL.atol, TOL.rtol);
      expectClose(out.state, r.finalState, TOL.atol, TOL.rtol);
    });
  }

  it('prefill without initial state, extreme Δ and a dt clamp', async () => {
    const q = mamba2Problem(3100, 1, 12, 4, 2, 3, 2, Float32Array);
    delete q.initialState;
    const extremes = [-30, -12, 19.9, 20.1, 25, 30, -0.5];
    for (let i = 0; i < q.dt.length; i++) q.dt[i] = extremes[i % extremes.length];
    q.dtLimit = [0.001, 12];
    const out = await prefill2(q, 'hpn', false);
    const r = ref2(q);
    expectClose(out.y, r.y, 1e-3, 1e-4);
    expectClose(out.state, r.finalState, 1e-3, 1e-4);
  });

  it('a long sequence prefilled in pieces (50 + 1 + 29 steps, ORT-native layout) equals one scan', async () => {
    const b = 2, L = 80, h = 4, p = 3, n = 5, g = 2;
    const q = mamba2Problem(3150, b, L, h, p, n, g, Float32Array);
    const r = ref2(q);
    let state: FloatArray = q.initialState!;
    let t0 = 0;
    for (const len of [50, 1, 29]) {
      const cut = (a: FloatArray) => sliceTime(a, b, L, t0, t0 + len);
      const out = await prefill2({ ...q, seqLen: len, initialState: state, x: cut(q.x), dt: cut(q.dt), B: cut(q.B), C: cut(q.C), z: cut(q.z!) }, 'hnp', true);
      expectClose(out.y, cut(r.y), TOL.atol, TOL.rtol);
      state = out.state;
      t0 += len;
    }
    expectClose(state, r.finalState, TOL.atol, TOL.rtol);
  });

  for (const layout of ['hpn', 'hnp'] as const) {
    it(`prefill 7 steps then 3 decode steps carrying the state (${layout}) = one scan over 10`, async () => {
      const b = 2, L = 10, h = 4, p = 3, n = 5, g = 2;
      const q = mamba2Problem(3200, b, L, h, p, n, g, Float32Array);
      const r = ref2(q);
      const head = await prefill2({ ...q, seqLen: 7, x: sliceTime(q.x, b, L, 0, 7), dt: sliceTime(q.dt, b, L, 0, 7), B: sliceTime(q.B, b, L, 0, 7), C: sliceTime(q.C, b, L, 0, 7), z: sliceTime(q.z!, b, L, 0, 7) }, layout, false);
      expectClose(head.y, sliceTime(r.y, b, L, 0, 7), TOL.atol, TOL.rtol);
      let state = toLayout(head.state, layout, p, n);
      const sd = layout === 'hpn' ? [b, h, p, n] : [b, h, n, p];
      for (let t = 7; t < L; t++) {
        const at = (a: Float32Array | Float64Array) => f32(sliceTime(a, b, L, t, t + 1));
        const out = await runGraph(
          [
            { name: 'x', data: at(q.x), dims: [b, h, p] }, { name: 'dt', data: at(q.dt), dims: [b, h] },
            { name: 'B', data: at(q.B), dims: [b, g, n] }, { name: 'C', data: at(q.C), dims: [b, g, n] },
            { name: 'z', data: at(q.z!), dims: [b, h, p] }, { name: 's', data: f32(state), dims: sd },
            { name: 'A', data: f32(q.A), dims: [h] }, { name: 'D', data: f32(q.D!), dims: [h] }, { name: 'dtBias', data: f32(q.dtBias!), dims: [h] },
          ],
          (gr, tt) => {
            const res = mamba2DecodeStepGraph(gr, { x: tt.x, dt: tt.dt, A: tt.A, B: tt.B, C: tt.C, z: tt.z, D: tt.D, dtBias: tt.dtBias, state: tt.s }, { dtSoftplus: true, stateLayout: layout });
            return { y: res.y, state: res.state };
          },
        );
        expectClose(out.y, sliceTime(r.y, b, L, t, t + 1), TOL.atol, TOL.rtol);
        state = out.state;
      }
      expectClose(fromLayout(state, layout, p, n), r.finalState, TOL.atol, TOL.rtol);
    });
  }
});

describe('Mamba-1 on LinearAttention (gated, per-key-dim decay, d_v = 1) = mamba1Scan / mamba1Step oracles', () => {
  async function prefill1(q: Mamba1ScanInput, symbolic: boolean) {
    const { batch: b, seqLen: L, dim: d, dState: n, nGroups: g } = q;
    const s = (dims: number[]) => (symbolic ? dims.map((v, i) => (i === 0 ? 'batch' : i === 1 ? 'seq' : v)) : dims);
    const feeds: Feed[] = [
      { name: 'u', data: f32(q.u), dims: [b, L, d], declare: s([b, L, d]) },
      { name: 'delta', data: f32(q.delta), dims: [b, L, d], declare: s([b, L, d]) },
      { name: 'B', data: f32(q.B), dims: [b, L, g, n], declare: s([b, L, g, n]) },
      { name: 'C', data: f32(q.C), dims: [b, L, g, n], declare: s([b, L, g, n]) },
      { name: 'z', data: f32(q.z!), dims: [b, L, d], declare: s([b, L, d]) },
      { name: 'A', data: f32(q.A), dims: [d, n] }, { name: 'D', data: f32(q.D!), dims: [d] }, { name: 'bias', data: f32(q.deltaBias!), dims: [d] },
    ];
    if (q.initialState) feeds.push({ name: 'h0', data: f32(q.initialState), dims: [b, d, n], declare: symbolic ? ['batch', d, n] : [b, d, n] });
    return runGraph(feeds, (gr, t) => {
      const r = mamba1PrefillGraph(gr, { u: t.u, delta: t.delta, A: t.A, B: t.B, C: t.C, z: t.z, D: t.D, deltaBias: t.bias, initialState: t.h0 }, { deltaSoftplus: true });
      return { y: r.y, state: r.finalState };
    });
  }

  for (const [L, g, sym] of [[1, 2, false], [8, 1, true], [5, 8, false]] as [number, number, boolean][]) {
    it(`prefill L=${L}, ${g} group(s) of B / C${sym ? ', symbolic batch/seq' : ''}`, async () => {
      const q = mamba1Problem(4000 + L * 3 + g, 2, L, 8, 4, g);
      const out = await prefill1(q, sym);
      const r = ref1(q);
      expectClose(out.y, r.y, TOL.atol, TOL.rtol);
      expectClose(out.state, r.finalState, TOL.atol, TOL.rtol);
    });
  }

  it('extreme Δ, no initial state', async () => {
    const q = mamba1Problem(4100, 1, 14, 4, 16, 1);
    delete q.initialState;
    const extremes = [-30, -12, 19.9, 20.1, 25, 30, -0.5];
    for (let i = 0; i < q.delta.length; i++) q.delta[i] = extremes[i % extremes.length];
    const out = await prefill1(q, false);
    const r = ref1(q);
    expectClose(out.y, r.y, 1e-3, 1e-4);
    expectClose(out.state, r.finalState, 1e-3, 1e-4);
  });

  for (const impl of ['linear-attention', 'standard'] as const) it(`prefill 6 steps then 2 decode steps (${impl} step) = one scan over 8`, async () => {
    const b = 2, L = 8, d = 8, n = 4, g = 2;
    const q = mamba1Problem(4200, b, L, d, n, g);
    const r = ref1(q);
    const cut = (a: Float32Array | Float64Array, t0: number, t1: number) => sliceTime(a, b, L, t0, t1);
    const head = await prefill1({ ...q, seqLen: 6, u: cut(q.u, 0, 6), delta: cut(q.delta, 0, 6), B: cut(q.B, 0, 6), C: cut(q.C, 0, 6), z: cut(q.z!, 0, 6) }, false);
    let state = head.state;
    for (let t = 6; t < L; t++) {
      const at = (a: Float32Array | Float64Array) => f32(cut(a, t, t + 1));
      const out = await runGraph(
        [
          { name: 'u', data: at(q.u), dims: [b, d] }, { name: 'delta', data: at(q.delta), dims: [b, d] },
          { name: 'B', data: at(q.B), dims: [b, g, n] }, { name: 'C', data: at(q.C), dims: [b, g, n] },
          { name: 'z', data: at(q.z!), dims: [b, d] }, { name: 's', data: f32(state), dims: [b, d, n] },
          { name: 'A', data: f32(q.A), dims: [d, n] }, { name: 'D', data: f32(q.D!), dims: [d] }, { name: 'bias', data: f32(q.deltaBias!), dims: [d] },
        ],
        (gr, tt) => {
          const res = mamba1DecodeStepGraph(gr, { u: tt.u, delta: tt.delta, A: tt.A, B: tt.B, C: tt.C, z: tt.z, D: tt.D, deltaBias: tt.bias, state: tt.s }, { deltaSoftplus: true, impl });
          return { y: res.y, state: res.state };
        },
      );
      expectClose(out.y, cut(r.y, t, t + 1), TOL.atol, TOL.rtol);
      state = out.state;
    }
    expectClose(state, r.finalState, TOL.atol, TOL.rtol);
  });
});

describe('multi-step verify as one graph = the verify oracles', () => {
  const K = 3;
  const T = K + 1;

  it('Mamba-2: three rounds with per-batch recompute steps (−1, 0, 2 / 3, −1, 1 …), both state layouts', async () => {
    const b = 3, h = 4, p = 3, n = 5, g = 2;
    for (const layout of ['hpn', 'hnp'] as const) {
      const rng = mulberry32(5000);
      const base = mamba2Problem(5001, b, 1, h, p, n, g, Float32Array);
      const params = { nHeads: h, headDim: p, dState: n, nGroups: g, dtSoftplus: true, A: f64(base.A)!, D: f64(base.D), dtBias: f64(base.dtBias) };
      let state: FloatArray = f64(uniform(rng, b * h * p * n, -1, 1, Float32Array))!;
      let snapshot: FloatArray = f64(uniform(rng, b * h * p * n, -1, 1, Float32Array))!;
      let cache: { x: FloatArray; dt: FloatArray; B: FloatArray } = { x: f64(uniform(rng, b * T * h * p, -2, 2, Float32Array))!, dt: f64(uniform(rng, b * T * h, -3, 1, Float32Array))!, B: f64(uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array))! };
      let gState = f32(state), gSnap = f32(snapshot), gCache = { x: f32(cache.x), dt: f32(cache.dt), B: f32(cache.B) };
      const sd = layout === 'hpn' ? [b, h, p, n] : [b, h, n, p];
      for (const rs of [[-1, 0, 2], [3, -1, 1], [0, 2, -1]]) {
        const x = f32(uniform(rng, b * T * h * p, -2, 2, Float32Array)), dt = f32(uniform(rng, b * T * h, -3, 1, Float32Array));
        const B = f32(uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array)), C = f32(uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array));
        const z = f32(uniform(rng, b * T * h * p, -3, 3, Float32Array));
        const want = mamba2MultiStepVerify({ ...params, batch: b, seqLen: T, recomputeSteps: rs, state, snapshot, cache, x: f64(x)!, dt: f64(dt)!, B: f64(B)!, C: f64(C)!, z: f64(z) });
        const out = await runGraph(
          [
            { name: 'x', data: x, dims: [b, T, h, p] }, { name: 'dt', data: dt, dims: [b, T, h] }, { name: 'B', data: B, dims: [b, T, g, n] },
            { name: 'C', data: C, dims: [b, T, g, n] }, { name: 'z', data: z, dims: [b, T, h, p] },
            { name: 'st', data: f32(toLayout(gState, layout, p, n)), dims: sd }, { name: 'snap', data: f32(toLayout(gSnap, layout, p, n)), dims: sd },
            { name: 'cx', data: gCache.x, dims: [b, T, h, p] }, { name: 'cdt', data: gCache.dt, dims: [b, T, h] }, { name: 'cB', data: gCache.B, dims: [b, T, g, n] },
            { name: 'r', data: BigInt64Array.from(rs.map(BigInt)), dims: [b] },
            { name: 'A', data: f32(base.A), dims: [h] }, { name: 'D', data: f32(base.D!), dims: [h] }, { name: 'dtBias', data: f32(base.dtBias!), dims: [h] },
          ],
          (gr, t) => {
            const res = mamba2MultiStepVerifyGraph(gr, {
              x: t.x, dt: t.dt, B: t.B, C: t.C, z: t.z, A: t.A, D: t.D, dtBias: t.dtBias,
              state: t.st, snapshot: t.snap, cache: { x: t.cx, dt: t.cdt, B: t.cB }, recomputeSteps: t.r,
            }, { dtSoftplus: true, stateLayout: layout });
            return { y: res.y, state: res.state, snapshot: res.snapshot };
          },
        );
        expectClose(out.y, want.y, TOL.atol, TOL.rtol);
        expectClose(fromLayout(out.state, layout, p, n), want.state, TOL.atol, TOL.rtol);
        expectClose(fromLayout(out.snapshot, layout, p, n), want.snapshot, TOL.atol, TOL.rtol);
        // Next round: the oracle continues from its own results, the graph from its own.
        state = want.state; snapshot = want.snapshot; cache = want.cache;
        gState = f32(fromLayout(out.state, layout, p, n)); gSnap = f32(fromLayout(out.snapshot, layout, p, n)); gCache = { x, dt, B };
      }
    }
  });

  it('Mamba-2 snapshot-only protocol (replaySteps, no state input) = the oracle protocol over a speculative loop', async () => {
    const b = 2, h = 4, p = 3, n = 5, g = 1;
    const rng = mulberry32(5500);
    const base = mamba2Problem(5501, b, 1, h, p, n, g, Float32Array);
    const params = { nHeads: h, headDim: p, dState: n, nGroups: g, dtSoftplus: true, A: f64(base.A)!, D: f64(base.D), dtBias: f64(base.dtBias) };
    const prefill = f32(uniform(rng, b * h * p * n, -1, 1, Float32Array));
    // Oracle protocol state.
    let oState: FloatArray = f64(prefill)!, oSnap: FloatArray | undefined, oCache: { x: FloatArray; dt: FloatArray; B: FloatArray } | undefined;
    let rs = [-1, -1];
    // Graph (snapshot-only) state: the prefill state as the snapshot, an all-zero cache, replay nothing.
    let gSnap: FloatArray = prefill;
    let gCache: { x: FloatArray; dt: FloatArray; B: FloatArray } = { x: new Float32Array(b * T * h * p), dt: new Float32Array(b * T * h), B: new Float32Array(b * T * g * n) };
    let replay = [0, 0];
    for (const acceptedPerBatch of [[1, K], [K, 0], [2, 2]]) {
      const x = f32(uniform(rng, b * T * h * p, -2, 2, Float32Array)), dt = f32(uniform(rng, b * T * h, -3, 1, Float32Array));
      const B = f32(uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array)), C = f32(uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array));
      const want = mamba2MultiStepVerify({ ...params, batch: b, seqLen: T, recomputeSteps: rs, state: oState, snapshot: oSnap, cache: oCache, x: f64(x)!, dt: f64(dt)!, B: f64(B)!, C: f64(C)! });
      const out = await runGraph(
        [
          { name: 'x', data: x, dims: [b, T, h, p] }, { name: 'dt', data: dt, dims: [b, T, h] }, { name: 'B', data: B, dims: [b, T, g, n] },
          { name: 'C', data: C, dims: [b, T, g, n] }, { name: 'snap', data: f32(gSnap), dims: [b, h, p, n] },
          { name: 'cx', data: gCache.x, dims: [b, T, h, p] }, { name: 'cdt', data: gCache.dt, dims: [b, T, h] }, { name: 'cB', data: gCache.B, dims: [b, T, g, n] },
          { name: 'replay', data: Int32Array.from(replay), dims: [b] },
          { name: 'A', data: f32(base.A), dims: [h] }, { name: 'D', data: f32(base.D!), dims: [h] }, { name: 'dtBias', data: f32(base.dtBias!), dims: [h] },
        ],
        (gr, t) => {
          const res = mamba2MultiStepVerifyGraph(gr, {
            x: t.x, dt: t.dt, B: t.B, C: t.C, A: t.A, D: t.D, dtBias: t.dtBias,
            snapshot: t.snap, cache: { x: t.cx, dt: t.cdt, B: t.cB }, replaySteps: t.replay,
          }, { dtSoftplus: true });
          return { y: res.y, state: res.state, snapshot: res.snapshot };
        },
      );
      expectClose(out.y, want.y, TOL.atol, TOL.rtol);
      expectClose(out.state, want.state, TOL.atol, TOL.rtol);
      expectClose(out.snapshot, want.snapshot, TOL.atol, TOL.rtol);
      oState = want.state; oSnap = want.snapshot; oCache = want.cache;
      rs = acceptedPerBatch.map((a) => recomputeStepsAfter(a, K));
      gSnap = out.snapshot; gCache = { x, dt, B };
      replay = rs.map((r) => (r >= 0 ? r + 1 : T));
    }
  });

  for (const impl of ['linear-attention', 'standard'] as const) it(`Mamba-1 (${impl}): a speculative loop (accept 1 of 3, accept all, accept 0) equals sequential steps over the accepted tokens`, async () => {
    const b = 1, d = 8, n = 4, g = 2;
    const q = mamba1Problem(6000, b, 1, d, n, g);
    const params = { dim: d, dState: n, nGroups: g, deltaSoftplus: true, A: f64(q.A)!, D: f64(q.D), deltaBias: f64(q.deltaBias) };
    const rng = mulberry32(6001);
    const prefillState = f32(uniform(rng, b * d * n, -1, 1, Float32Array));
    let state: FloatArray = prefillState, snapshot: FloatArray = prefillState;
    let cache: { x: FloatArray; delta: FloatArray; B: FloatArray } = { x: new Float32Array(b * T * d), delta: new Float32Array(b * T * d), B: new Float32Array(b * T * g * n) };
    let r = -1;
    let lastY: FloatArray = new Float32Array(0);
    // Inputs of every accepted step, to replay sequentially with the plain scan at the end.
    const accepted: { u: number[]; delta: number[]; B: number[]; C: number[]; z: number[] } = { u: [], delta: [], B: [], C: [], z: [] };
    for (const acceptedDrafts of [1, K, 0]) {
      const x = uniform(rng, b * T * d, -2, 2, Float32Array), delta = uniform(rng, b * T * d, -3, 1, Float32Array);
      const B = uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array), C = uniform(rng, b * T * g * n, -1.5, 1.5, Float32Array);
      const z = uniform(rng, b * T * d, -3, 3, Float32Array);
      const want = multiStepVerify({ ...params, batch: b, seqLen: T, recomputeSteps: r, state: f64(state)!, snapshot: f64(snapshot), cache: { x: f64(cache.x)!, delta: f64(cache.delta)!, B: f64(cache.B)! }, x: f64(x)!, delta: f64(delta)!, B: f64(B)!, C: f64(C)!, z: f64(z) });
      const out = await runGraph(
        [
          { name: 'x', data: x, dims: [b, T, d] }, { name: 'delta', data: delta, dims: [b, T, d] }, { name: 'B', data: B, dims: [b, T, g, n] },
          { name: 'C', data: C, dims: [b, T, g, n] }, { name: 'z', data: z, dims: [b, T, d] },
          { name: 'st', data: state, dims: [b, d, n] }, { name: 'snap', data: snapshot, dims: [b, d, n] },
          { name: 'cx', data: cache.x, dims: [b, T, d] }, { name: 'cdelta', data: cache.delta, dims: [b, T, d] }, { name: 'cB', data: cache.B, dims: [b, T, g, n] },
          { name: 'r', data: Int32Array.of(r), dims: [b] },
          { name: 'A', data: f32(q.A), dims: [d, n] }, { name: 'D', data: f32(q.D!), dims: [d] }, { name: 'bias', data: f32(q.deltaBias!), dims: [d] },
        ],
        (gr, t) => {
          const res = mamba1MultiStepVerifyGraph(gr, {
            x: t.x, delta: t.delta, B: t.B, C: t.C, z: t.z, A: t.A, D: t.D, deltaBias: t.bias,
            state: t.st, snapshot: t.snap, cache: { x: t.cx, delta: t.cdelta, B: t.cB }, recomputeSteps: t.r,
          }, { deltaSoftplus: true, impl });
          return { y: res.y, state: res.state, snapshot: res.snapshot };
        },
      );
      expectClose(out.y, want.y, TOL.atol, TOL.rtol);
      expectClose(out.state, want.state, TOL.atol, TOL.rtol);
      expectClose(out.snapshot, want.snapshot, TOL.atol, TOL.rtol);
      // The verified token and the accepted drafts become part of the sequence.
      for (let t = 0; t <= acceptedDrafts && t < T; t++) {
        accepted.u.push(...x.subarray(t * d, (t + 1) * d)); accepted.delta.push(...delta.subarray(t * d, (t + 1) * d));
        accepted.B.push(...B.subarray(t * g * n, (t + 1) * g * n)); accepted.C.push(...C.subarray(t * g * n, (t + 1) * g * n));
        accepted.z.push(...z.subarray(t * d, (t + 1) * d));
      }
      state = out.state; snapshot = out.snapshot; cache = { x, delta, B };
      lastY = out.y;
      r = recomputeStepsAfter(acceptedDrafts, K);
    }
    // Lazy state: rounds accepted 2 tokens (verified + 1 draft), then 4, then 1. The last call started from the
    // state after 2 + 4 accepted tokens (r = −1), so its snapshot is that state, and its first output is the
    // output of accepted token 7 in a plain sequential scan over the accepted tokens.
    const Lacc = accepted.u.length / d;
    expect(Lacc).toBe(7);
    const seq = mamba1Scan({ ...params, batch: 1, seqLen: Lacc, initialState: f64(prefillState), u: Float64Array.from(accepted.u), delta: Float64Array.from(accepted.delta), B: Float64Array.from(accepted.B), C: Float64Array.from(accepted.C), z: Float64Array.from(accepted.z) });
    expectClose(lastY.subarray(0, d), seq.y.subarray(6 * d, 7 * d), TOL.atol, TOL.rtol);
    const head = mamba1Scan({ ...params, batch: 1, seqLen: 6, initialState: f64(prefillState), u: Float64Array.from(accepted.u.slice(0, 6 * d)), delta: Float64Array.from(accepted.delta.slice(0, 6 * d)), B: Float64Array.from(accepted.B.slice(0, 6 * g * n)), C: Float64Array.from(accepted.C.slice(0, 6 * g * n)) });
    expectClose(snapshot, head.finalState, TOL.atol, TOL.rtol);
  });
});
