import { describe, it, expect } from 'vitest';
import { gatedRmsNorm, softplus, silu, SOFTPLUS_THRESHOLD, SsmKernelError } from '../src/index';
import { uniform, expectClose } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

describe('softplus / silu', () => {
  it('softplus: log(1 + e^v), identity above 20, no overflow or negative values', () => {
    expect(SOFTPLUS_THRESHOLD).toBe(20);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(1)).toBeCloseTo(Math.log(1 + Math.E), 15);
    expect(softplus(-3)).toBeCloseTo(Math.log(1 + Math.exp(-3)), 15);
    expect(softplus(20)).toBe(Math.log1p(Math.exp(20)));
    expect(softplus(20.5)).toBe(20.5);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-50)).toBeGreaterThan(0);
    expect(softplus(-50)).toBeCloseTo(Math.exp(-50), 30);
    expect(softplus(-1e4)).toBe(0);
  });

  it('silu: v·sigmoid(v), finite at the extremes', () => {
    expect(silu(0)).toBe(0);
    expect(silu(1)).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(silu(-2)).toBeCloseTo(-2 / (1 + Math.exp(2)), 15);
    expect(silu(800)).toBe(800);
    expect(Object.is(silu(-800), -0) || silu(-800) === 0).toBe(true);
  });
});

describe('gatedRmsNorm oracle', () => {
  it('matches hand-computed 2-channel cases (gate before norm, gate after norm, no gate, bias)', () => {
    const F = Float64Array;
    const s = (v: number) => v / (1 + Math.exp(-v));
    const base = { rows: 1, dim: 2, x: F.of(3, 4), weight: F.of(1, 2), eps: 0, normBeforeGate: false };
    const plain = gatedRmsNorm(base);
    const r = Math.sqrt((9 + 16) / 2);
    expectClose(plain, [3 / r, 8 / r], 1e-15);
    const before = gatedRmsNorm({ ...base, z: F.of(1, -1) });
    const v = [3 * s(1), 4 * s(-1)];
    const rv = Math.sqrt((v[0] ** 2 + v[1] ** 2) / 2);
    expectClose(before, [v[0] / rv, (2 * v[1]) / rv], 1e-15);
    const after = gatedRmsNorm({ ...base, z: F.of(1, -1), normBeforeGate: true, bias: F.of(0.5, -0.5) });
    expectClose(after, [(3 / r + 0.5) * s(1), (8 / r - 0.5) * s(-1)], 1e-15);
  });

  it('matches the formula on random rows with groups and eps (float64), and float32 is close', () => {
    const rng = mulberry32(5);
    const rows = 7, dim = 12, gs = 4, eps = 1e-5;
    const x = uniform(rng, rows * dim, -2, 2);
    const z = uniform(rng, rows * dim, -3, 3);
    const weight = uniform(rng, dim, 0.5, 1.5);
    const y = gatedRmsNorm({ rows, dim, groupSize: gs, eps, normBeforeGate: false, x, z, weight });
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < dim / gs; g++) {
        const idx = Array.from({ length: gs }, (_, j) => r * dim + g * gs + j);
        const gated = idx.map((i) => x[i] * (z[i] / (1 + Math.exp(-z[i]))));
        const ms = gated.reduce((acc, v) => acc + v * v, 0) / gs;
        idx.forEach((i, j) => {
          const expected = (gated[j] / Math.sqrt(ms + eps)) * weight[g * gs + j];
          expect(Math.abs(y[i] - expected)).toBeLessThan(1e-13);
        });
      }
    }
    const y32 = gatedRmsNorm({
      rows, dim, groupSize: gs, eps, normBeforeGate: false,
      x: Float32Array.from(x), z: Float32Array.from(z), weight: Float32Array.from(weight),
    });
    expect(y32).toBeInstanceOf(Float32Array);
    expectClose(y32, y, 1e-5, 1e-5);
    // grouping matters: one group over the whole row gives different values
    const whole = gatedRmsNorm({ rows, dim, eps, normBeforeGate: false, x, z, weight });
    expect(whole.some((v, i) => Math.abs(v - y[i]) > 1e-3)).toBe(true);
  });

  it('rejects bad options', () => {
    const x = new Float32Array(8).fill(1);
    const w = new Float32Array(4).fill(1);
    expect(() => gatedRmsNorm({ rows: 2, dim: 4, groupSize: 3, eps: 1e-5, normBeforeGate: false, x, weight: w })).toThrow(/'groupSize' \(3\) must divide 'dim' \(4\)/);
    expect(() => gatedRmsNorm({ rows: 2, dim: 4, eps: -1, normBeforeGate: false, x, weight: w })).toThrow(SsmKernelError);
    expect(() => gatedRmsNorm({ rows: 3, dim: 4, eps: 1e-5, normBeforeGate: false, x, weight: w })).toThrow(/tensor 'x' must hold 12 values/);
  });
});
