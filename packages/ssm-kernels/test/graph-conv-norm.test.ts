// Causal conv graph forms (standard Conv, CausalConvWithState, ring buffer) and the gated RMSNorm graph against
// their oracles; gradients against finite differences.
import { describe, it, expect } from 'vitest';
import { causalConvWithState, reshape, transpose } from '@mil/graph';
import {
  causalConv1d,
  causalConv1dGraph,
  causalConv1dRing,
  causalConv1dRingGraph,
  causalConv1dUpdate,
  causalConv1dUpdateGraph,
  gatedRmsNorm,
  gatedRmsNormGraph,
  type ConvActivation,
  type FloatArray,
} from '../src/index';
import { expectClose, uniform, sliceTime } from './oracle-helpers';
import { flatConcat, runGraph } from './graph-helpers';
import { mulberry32 } from '@mil/core';
import { gradCheck } from '@mil/graph/testing';

const F = Float32Array;
const TOL = 2e-5;

describe('causalConv1dGraph (standard Conv, differentiable) = causalConv1d oracle', () => {
  const cases: [number, boolean, ConvActivation, boolean][] = [
    // L, initial state, activation, symbolic
    [1, true, 'silu', false], [2, true, 'silu', true], [2, false, 'none', false], [9, false, 'silu', true], [9, true, 'none', false],
  ];
  for (const [L, init, act, sym] of cases) {
    it(`L=${L}, ${init ? 'initial state' : 'zero history'}, ${act}${sym ? ', symbolic batch/seq' : ''}`, async () => {
      const r = mulberry32(100 + L * 3 + (init ? 1 : 0));
      const b = 2, d = 5, w = 4;
      const x = uniform(r, b * L * d, -2, 2, F), weight = uniform(r, d * w, -1, 1, F), bias = uniform(r, d, -1, 1, F);
      const h0 = uniform(r, b * d * (w - 1), -2, 2, F);
      const want = causalConv1d({ batch: b, seqLen: L, dim: d, width: w, activation: act, x, weight, bias, initialState: init ? h0 : undefined });
      const out = await runGraph(
        [
          { name: 'x', data: x, dims: [b, L, d], declare: sym ? ['batch', 'seq', d] : undefined },
          { name: 'w', data: weight, dims: [d, w] }, { name: 'bias', data: bias, dims: [d] },
          ...(init ? [{ name: 'h0', data: h0, dims: [b, d, w - 1], declare: sym ? ['batch', d, w - 1] : undefined }] : []),
        ],
        (g, t) => {
          const res = causalConv1dGraph(g, { x: t.x, weight: t.w, bias: t.bias, initialState: t.h0 }, { activation: act });
          return { y: res.y, state: res.state };
        },
      );
      expectClose(out.y, want.y, TOL, TOL);
      expectClose(out.state, want.finalState, 0, 0);
    });
  }

  it('gradients of x, weight, bias and the initial state (float32: ORT CPU Conv is float32-only)', async () => {
    const r = await gradCheck(
      [{ name: 'x', shape: [2, 6, 3] }, { name: 'w', shape: [3, 4] }, { name: 'bias', shape: [3] }, { name: 'h0', shape: [2, 3, 3] }],
      ([x, w, bias, h0], g) => {
        const res = causalConv1dGraph(g, { x, weight: w, bias, initialState: h0 }, { activation: 'silu' });
        return flatConcat([res.y, res.state]);
      },
      { dtype: 'float32', seed: 11 },
    );
    expect(r.checked).toBeGreaterThan(40);
    expect(r.maxRelError).toBeLessThan(3e-3);
  });
});

describe('causalConv1dUpdateGraph = causalConv1dUpdate oracle', () => {
  for (const [label, S, L, contrib] of [
    ['CausalConvWithState, decode L=1', 3, 1, true], ['CausalConvWithState, L=2 < w−1', 3, 2, true],
    ['CausalConvWithState, verify L=5', 3, 5, true], ['standard ops (contrib off), L=3', 3, 3, false],
    ['standard ops, longer state S=6 (no contrib op for it), L=2', 6, 2, true],
  ] as [string, number, number, boolean][]) {
    it(label, async () => {
      const r = mulberry32(200 + S * 7 + L);
      const b = 2, d = 6, w = 4;
      const x = uniform(r, b * L * d, -2, 2, F), weight = uniform(r, d * w, -1, 1, F), bias = uniform(r, d, -1, 1, F);
      const state = uniform(r, b * d * S, -2, 2, F);
      const want = causalConv1dUpdate({ batch: b, seqLen: L, dim: d, width: w, stateLen: S, activation: 'silu', x, weight, bias, state });
      const out = await runGraph(
        [{ name: 'x', data: x, dims: [b, L, d] }, { name: 'w', data: weight, dims: [d, w] }, { name: 'bias', data: bias, dims: [d] }, { name: 's', data: state, dims: [b, d, S] }],
        (g, t) => {
          const res = causalConv1dUpdateGraph(g, { x: t.x, weight: t.w, bias: t.bias, state: t.s }, { activation: 'silu', contrib });
          return { y: res.y, state: res.state };
        },
      );
      expectClose(out.y, want.y, TOL, TOL);
      expectClose(out.state, want.state, 0, 0);
    });
  }

  it('prefill with causalConv1dGraph, then 3 decode steps with CausalConvWithState = one conv over the sequence', async () => {
    const r = mulberry32(300);
    const b = 1, d = 4, w = 4, L = 10;
    const x = uniform(r, b * L * d, -2, 2, F), weight = uniform(r, d * w, -1, 1, F), bias = uniform(r, d, -1, 1, F);
    const want = causalConv1d({ batch: b, seqLen: L, dim: d, width: w, activation: 'silu', x, weight, bias });
    const head = await runGraph(
      [{ name: 'x', data: sliceTime(x, b, L, 0, 7), dims: [b, 7, d] }, { name: 'w', data: weight, dims: [d, w] }, { name: 'bias', data: bias, dims: [d] }],
      (g, t) => {
        const res = causalConv1dGraph(g, { x: t.x, weight: t.w, bias: t.bias }, { activation: 'silu' });
        return { y: res.y, state: res.state };
      },
    );
    expectClose(head.y, sliceTime(want.y, b, L, 0, 7), TOL, TOL);
    let state = head.state;
    for (let t0 = 7; t0 < L; t0++) {
      const out = await runGraph(
        [{ name: 'x', data: sliceTime(x, b, L, t0, t0 + 1), dims: [b, 1, d] }, { name: 'w', data: weight, dims: [d, w] }, { name: 'bias', data: bias, dims: [d] }, { name: 's', data: state, dims: [b, d, w - 1] }],
        (g, t) => {
          const res = causalConv1dUpdateGraph(g, { x: t.x, weight: t.w, bias: t.bias, state: t.s }, { activation: 'silu' });
          return { y: res.y, state: res.state };
        },
      );
      expectClose(out.y, sliceTime(want.y, b, L, t0, t0 + 1), TOL, TOL);
      state = out.state;
    }
    expectClose(state, want.finalState, 0, 0);
  });

  it('the @mil/graph CausalConvWithState builder with no bias and no past state (zero history)', async () => {
    const r = mulberry32(301);
    const b = 2, d = 3, w = 4, L = 5;
    const x = uniform(r, b * L * d, -2, 2, F), weight = uniform(r, d * w, -1, 1, F);
    const want = causalConv1d({ batch: b, seqLen: L, dim: d, width: w, activation: 'none', x, weight });
    const out = await runGraph([{ name: 'x', data: x, dims: [b, L, d] }, { name: 'w', data: weight, dims: [d, w] }], (_g, t) => {
      const [y, s] = causalConvWithState(transpose(t.x, [0, 2, 1]), reshape(t.w, [d, 1, w]), null, null);
      return { y: transpose(y, [0, 2, 1]), state: s };
    });
    expectClose(out.y, want.y, TOL, TOL);
    expectClose(out.state, want.finalState, 0, 0);
  });
});

describe('causalConv1dRingGraph = causalConv1dRing oracle (speculative-decoding circular buffer)', () => {
  it('per-batch counters, wrapping writes, a round trip of two calls with a rollback', async () => {
    const r = mulberry32(400);
    const b = 2, d = 3, w = 4, K = 3, L = K + 1, S = w - 1 + K;
    const weight = uniform(r, d * w, -1, 1, F), bias = uniform(r, d, -1, 1, F);
    let ring: FloatArray = uniform(r, b * d * S, -2, 2, F);
    let counters = [4, 9];
    for (let round = 0; round < 3; round++) {
      const x = uniform(r, b * L * d, -2, 2, F);
      const want = causalConv1dRing({ batch: b, seqLen: L, dim: d, width: w, stateLen: S, activation: 'silu', x, weight, bias, state: ring, cacheSeqlens: counters });
      const out = await runGraph(
        [
          { name: 'x', data: x, dims: [b, L, d] }, { name: 'w', data: weight, dims: [d, w] }, { name: 'bias', data: bias, dims: [d] },
          { name: 's', data: ring, dims: [b, d, S] }, { name: 'c', data: Int32Array.from(counters), dims: [b] },
        ],
        (g, t) => {
          const res = causalConv1dRingGraph(g, { x: t.x, weight: t.w, bias: t.bias, state: t.s, cacheSeqlens: t.c }, { activation: 'silu' });
          return { y: res.y, state: res.state };
        },
      );
      expectClose(out.y, want.y, TOL, TOL);
      expectClose(out.state, want.state, 0, 0);
      ring = out.state;
      // Accepted 1 and 3 drafts: counters advance by accepted + 1 (rollback = not advancing past the rejects).
      counters = [counters[0] + 2, counters[1] + 4];
    }
  });
});

describe('gatedRmsNormGraph = gatedRmsNorm oracle', () => {
  for (const [label, normBeforeGate, gs, withZ, withBias] of [
    ['gate before norm, groups of 4 (Mamba-2 mixer)', false, 4, true, false],
    ['gate after norm, one group, bias', true, 8, true, true],
    ['no gate (plain grouped RMSNorm)', false, 2, false, false],
  ] as [string, boolean, number, boolean, boolean][]) {
    it(label, async () => {
      const r = mulberry32(500 + gs);
      const b = 2, L = 3, dim = 8;
      const x = uniform(r, b * L * dim, -2, 2, F), z = uniform(r, b * L * dim, -3, 3, F);
      const weight = uniform(r, dim, 0.5, 1.5, F), bias = uniform(r, dim, -1, 1, F);
      const want = gatedRmsNorm({ rows: b * L, dim, x, z: withZ ? z : undefined, weight, bias: withBias ? bias : undefined, eps: 1e-5, groupSize: gs, normBeforeGate });
      const out = await runGraph(
        [{ name: 'x', data: x, dims: [b, L, dim], declare: ['batch', 'seq', dim] }, { name: 'z', data: z, dims: [b, L, dim], declare: ['batch', 'seq', dim] }, { name: 'w', data: weight, dims: [dim] }, { name: 'bias', data: bias, dims: [dim] }],
        (g, t) => ({ y: gatedRmsNormGraph(g, { x: t.x, z: withZ ? t.z : undefined, weight: t.w, bias: withBias ? t.bias : undefined }, { eps: 1e-5, groupSize: gs, normBeforeGate }) }),
      );
      expectClose(out.y, want, 1e-5, 1e-5);
    });
  }

  it('gradients of x, z and weight (float64)', async () => {
    const r = await gradCheck(
      [{ name: 'x', shape: [2, 3, 8] }, { name: 'z', shape: [2, 3, 8] }, { name: 'w', shape: [8] }],
      ([x, z, w], g) => gatedRmsNormGraph(g, { x, z, weight: w }, { eps: 1e-5, groupSize: 4, normBeforeGate: false }),
      { seed: 12 },
    );
    expect(r.checked).toBeGreaterThan(40);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});
