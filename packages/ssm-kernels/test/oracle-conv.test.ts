import { describe, it, expect } from 'vitest';
import { causalConv1d, causalConv1dUpdate, causalConv1dRing, SsmKernelError, type CausalConv1dParams } from '../src/index';
import { uniform, expectClose, expectSame, sliceTime, concatTime, type Ctor } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

function params(seed: number, b: number, d: number, w: number, ctor: Ctor): CausalConv1dParams {
  const r = mulberry32(seed);
  return { batch: b, dim: d, width: w, activation: 'silu', weight: uniform(r, d * w, -0.5, 0.5, ctor), bias: uniform(r, d, -0.5, 0.5, ctor) };
}

describe('causal conv1d oracles', () => {
  it('matches a hand-computed case (2 channels, width 2, bias, SiLU, given initial state)', () => {
    const F = Float64Array;
    // x (b=1, L=2, d=2) = [[1, 2], [3, -1]]; weight (d, w) = [[0.5, 2], [-1, 0.25]]; bias = [0.1, -0.2]
    const { y, finalState } = causalConv1d({
      batch: 1, seqLen: 2, dim: 2, width: 2, activation: 'silu',
      x: F.of(1, 2, 3, -1), weight: F.of(0.5, 2, -1, 0.25), bias: F.of(0.1, -0.2), initialState: F.of(4, -3),
    });
    const s = (v: number) => v / (1 + Math.exp(-v));
    expectClose(y, [s(0.1 + 0.5 * 4 + 2 * 1), s(-0.2 - 1 * -3 + 0.25 * 2), s(0.1 + 0.5 * 1 + 2 * 3), s(-0.2 - 1 * 2 + 0.25 * -1)], 1e-15);
    expectSame(finalState, [3, -1]);
    // zero padding and no activation
    const plain = causalConv1d({
      batch: 1, seqLen: 2, dim: 2, width: 2, activation: 'none', x: F.of(1, 2, 3, -1), weight: F.of(0.5, 2, -1, 0.25),
    });
    expectClose(plain.y, [2, 0.5, 0.5 + 6, -2 - 0.25], 1e-15);
  });

  it('full sequence equals an independent zero-padded formula (width 4, float64)', () => {
    const b = 2, L = 9, d = 3, w = 4;
    const p = params(1, b, d, w, Float64Array);
    const x = uniform(mulberry32(2), b * L * d, -2, 2);
    const { y } = causalConv1d({ ...p, seqLen: L, x });
    for (let bi = 0; bi < b; bi++) for (let t = 0; t < L; t++) for (let c = 0; c < d; c++) {
      let acc = p.bias![c];
      for (let k = 0; k < w; k++) {
        const tt = t - (w - 1) + k;
        if (tt >= 0) acc += p.weight[c * w + k] * x[(bi * L + tt) * d + c];
      }
      expect(Math.abs(y[(bi * L + t) * d + c] - acc / (1 + Math.exp(-acc)))).toBeLessThan(1e-14);
    }
  });

  it('full == rolling update step by step == circular buffer step by step (float32, bit for bit)', () => {
    const b = 2, L = 11, d = 5, w = 4, K = 3;
    const p = params(3, b, d, w, Float32Array);
    const x = uniform(mulberry32(4), b * L * d, -2, 2, Float32Array);
    const init = uniform(mulberry32(5), b * d * (w - 1), -1, 1, Float32Array);
    const full = causalConv1d({ ...p, seqLen: L, x, initialState: init });
    // rolling
    let state: Float32Array | Float64Array = init;
    const rollY: (Float32Array | Float64Array)[] = [];
    for (let t = 0; t < L; t++) {
      const r = causalConv1dUpdate({ ...p, seqLen: 1, stateLen: w - 1, x: sliceTime(x, b, L, t, t + 1), state });
      rollY.push(r.y);
      state = r.state;
    }
    expectSame(concatTime(rollY, b, new Array(L).fill(1)), full.y);
    expectSame(state, full.finalState);
    // ring of S = w − 1 + K slots, counters starting at different offsets per batch element
    const S = w - 1 + K;
    const counters = [7, 2];
    let ring: Float32Array | Float64Array = new Float32Array(b * d * S).fill(123); // junk outside the history
    for (let bi = 0; bi < b; bi++) for (let c = 0; c < d; c++) for (let j = 0; j < w - 1; j++) {
      ring[(bi * d + c) * S + ((counters[bi] - (w - 1) + j) % S + S) % S] = init[(bi * d + c) * (w - 1) + j];
    }
    const ringY: (Float32Array | Float64Array)[] = [];
    for (let t = 0; t < L; t++) {
      const r = causalConv1dRing({
        ...p, seqLen: 1, stateLen: S, x: sliceTime(x, b, L, t, t + 1), state: ring, cacheSeqlens: Int32Array.from(counters),
      });
      ringY.push(r.y);
      ring = r.state;
      for (let bi = 0; bi < b; bi++) counters[bi]++;
    }
    expectSame(concatTime(ringY, b, new Array(L).fill(1)), full.y);
  });

  it('multi-token update and longer rolling state equal the full conv; pieces carry the final state', () => {
    const b = 1, L = 10, d = 2, w = 3;
    const p = params(6, b, d, w, Float64Array);
    const x = uniform(mulberry32(7), b * L * d, -2, 2);
    const full = causalConv1d({ ...p, seqLen: L, x });
    const a = causalConv1d({ ...p, seqLen: 1, x: sliceTime(x, b, L, 0, 1) }); // L < w − 1: state reaches into zeros
    expectSame(a.finalState, [0, x[0], 0, x[1]]);
    const mid = causalConv1dUpdate({ ...p, seqLen: 4, stateLen: w - 1, x: sliceTime(x, b, L, 1, 5), state: a.finalState });
    // a longer state (stateLen 6 > w − 1) keeps more history but convolves the same
    const longState = new Float64Array(b * d * 6).fill(0);
    for (let c = 0; c < d; c++) for (let j = 0; j < 2; j++) longState[c * 6 + 4 + j] = mid.state[c * 2 + j];
    const rest = causalConv1dUpdate({ ...p, seqLen: 5, stateLen: 6, x: sliceTime(x, b, L, 5, 10), state: longState });
    expectSame(concatTime([a.y, mid.y, rest.y], b, [1, 4, 5]), full.y);
    // the long state now holds the last 6 raw inputs, oldest first
    for (let c = 0; c < d; c++) for (let j = 0; j < 6; j++) expect(rest.state[c * 6 + j]).toBe(x[(4 + j) * d + c]);
    const tail = causalConv1d({ ...p, seqLen: 5, x: sliceTime(x, b, L, 5, 10), initialState: mid.state });
    expectSame(tail.y, rest.y);
    expectSame(tail.finalState, full.finalState);
  });

  it('ring rollback by counter restores exactly: after accepting a of K, the next call equals the full conv', () => {
    const b = 1, d = 3, w = 4, K = 4, S = w - 1 + K, P0 = 6;
    const p = params(8, b, d, w, Float32Array);
    const rng = mulberry32(9);
    for (let a = 0; a <= K; a++) {
      // prefill P0 tokens, then put the conv state into the ring before counter P0
      const prompt = uniform(rng, P0 * d, -2, 2, Float32Array);
      const pre = causalConv1d({ ...p, seqLen: P0, x: prompt });
      const ring = new Float32Array(d * S).fill(-99);
      for (let c = 0; c < d; c++) for (let j = 0; j < w - 1; j++) ring[c * S + ((P0 - (w - 1) + j) % S)] = pre.finalState[c * (w - 1) + j];
      const round1 = uniform(rng, (K + 1) * d, -2, 2, Float32Array);
      const r1 = causalConv1dRing({ ...p, seqLen: K + 1, stateLen: S, x: round1, state: ring, cacheSeqlens: [P0] });
      // accept a drafts: a + 1 inputs of round 1 are kept; roll back by moving the counter
      const round2 = uniform(rng, (K + 1) * d, -2, 2, Float32Array);
      const r2 = causalConv1dRing({ ...p, seqLen: K + 1, stateLen: S, x: round2, state: r1.state, cacheSeqlens: [P0 + a + 1] });
      const stream = new Float32Array([...prompt, ...round1.subarray(0, (a + 1) * d), ...round2]);
      const ref = causalConv1d({ ...p, seqLen: P0 + a + 1 + K + 1, x: stream });
      expectSame(r1.y, causalConv1d({ ...p, seqLen: P0 + K + 1, x: new Float32Array([...prompt, ...round1]) }).y.subarray(P0 * d));
      expectSame(r2.y, ref.y.subarray((P0 + a + 1) * d));
    }
  });

  it('ring with the minimum S = w − 1 reads its whole history before overwriting it (== rolling update)', () => {
    const b = 2, d = 3, w = 4, S = w - 1;
    const p = params(11, b, d, w, Float32Array);
    const rng = mulberry32(12);
    const state = uniform(rng, b * d * S, -1, 1, Float32Array);
    for (const L of [1, 2, 3]) {
      const x = uniform(rng, b * L * d, -2, 2, Float32Array);
      const roll = causalConv1dUpdate({ ...p, seqLen: L, stateLen: S, x, state });
      // counter 0 (or any multiple of S) makes the ring's slot order the rolling state's order
      const ring = causalConv1dRing({ ...p, seqLen: L, stateLen: S, x, state, cacheSeqlens: [0, 2 * S] });
      expectSame(ring.y, roll.y);
      if (L === S) expectSame(ring.state, roll.state);
    }
  });

  it('rejects bad shapes and options', () => {
    const p = params(10, 1, 2, 4, Float32Array);
    const x = new Float32Array(2).fill(1);
    expect(() => causalConv1dUpdate({ ...p, seqLen: 1, stateLen: 2, x, state: new Float32Array(4) })).toThrow(/'stateLen' \(2\) must be >= width - 1 \(3\)/);
    expect(() => causalConv1dRing({ ...p, seqLen: 4, stateLen: 3, x: new Float32Array(8), state: new Float32Array(6), cacheSeqlens: [0] })).toThrow(/must not exceed 'stateLen'/);
    expect(() => causalConv1dRing({ ...p, seqLen: 1, stateLen: 3, x, state: new Float32Array(6), cacheSeqlens: [0, 1] })).toThrow(/cacheSeqlens/);
    expect(() => causalConv1d({ ...p, seqLen: 1, x, activation: 'relu' as 'silu' })).toThrow(SsmKernelError);
    expect(() => causalConv1d({ ...p, seqLen: 1, x, initialState: new Float32Array(2) })).toThrow(/tensor 'initialState' must hold 6 values/);
  });
});
