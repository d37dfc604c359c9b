import { describe, expect, it } from 'vitest';
import { applyRopeInPlace, ModelsError, rmsNormRow, ropeInvFreq } from '../src/oracle/index';

describe('rmsNormRow', () => {
  it('matches a hand-computed row: x / sqrt(mean(x²) + eps) * w', () => {
    // mean(x²) = (1 + 4 + 9 + 16) / 4 = 7.5; + eps 0.5 = 8; 1/sqrt(8) = 1/(2√2)
    const out = new Float64Array(4);
    rmsNormRow(new Float64Array([1, 2, 3, 4]), 0, new Float64Array([0.5, 1, 2, -1]), 0.5, out, 0);
    const expected = [Math.SQRT2 / 8, 1 / Math.SQRT2, 3 / Math.SQRT2, -Math.SQRT2];
    expected.forEach((e, i) => expect(out[i]).toBeCloseTo(e, 14));
  });

  it('reads and writes at offsets', () => {
    const x = new Float64Array([9, 9, 3, 4, 9]);
    const out = new Float64Array(4);
    rmsNormRow(x, 2, new Float64Array([1, 1]), 0, out, 1);
    // mean(9 + 16) = 12.5 → 3/sqrt(12.5), 4/sqrt(12.5)
    expect(Array.from(out)).toEqual([0, 3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5), 0]);
  });
});

describe('ropeInvFreq', () => {
  it('default: 1 / theta^(2i/d)', () => {
    const f = ropeInvFreq(8, 10000);
    [1, 0.1, 0.01, 0.001].forEach((e, i) => expect(f[i]).toBeCloseTo(e, 15));
    expect(Array.from(ropeInvFreq(8, 10000, null))).toEqual(Array.from(f));
  });

  it('linear: divided by factor', () => {
    const f = ropeInvFreq(4, 100, { type: 'linear', factor: 4 });
    expect(f[0]).toBeCloseTo(0.25, 15);
    expect(f[1]).toBeCloseTo(0.025, 15);
  });

  it('llama3: the three regimes of HF _compute_llama3_parameters, derived by hand', () => {
    // head_dim 8, theta 1e4: inv_freq = [1, 0.1, 0.01, 0.001], wavelen = 2π/f = [6.28, 62.8, 628.3, 6283].
    // old_context 1000, low 1, high 4 → low_freq_wavelen 1000, high_freq_wavelen 250, factor 8.
    //  f=1, 0.1:  wavelen < 250 → unchanged.
    //  f=0.001:   wavelen 6283 > 1000 → 0.001 / 8 = 0.000125.
    //  f=0.01:    medium; smooth = (1000 / (2π/0.01) − 1) / (4 − 1) = (10/(2π) − 1)/3 = 0.19718314363965117
    //             → (1 − s)·0.01/8 + s·0.01 = 0.00125 + 0.00875·s = 0.0029753525068469477
    const f = ropeInvFreq(8, 10000, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 1000 });
    expect(f[0]).toBeCloseTo(1, 15);
    expect(f[1]).toBeCloseTo(0.1, 15);
    expect(f[2]).toBeCloseTo(0.0029753525068469477, 15);
    expect(f[3]).toBeCloseTo(0.000125, 15);
  });

  it('llama3 with Llama-3.1 settings: indices 0..28 kept, 35..63 divided by 8, 29..34 strictly between', () => {
    // f_i = 500000^(-i/64); kept while 2π/f_i < 8192/4 (i ≤ 28), divided while 2π/f_i > 8192 (i ≥ 35).
    const base = ropeInvFreq(128, 500000);
    const f = ropeInvFreq(128, 500000, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(f.length).toBe(64);
    for (let i = 0; i < 64; i++) {
      if (i <= 28) expect(f[i]).toBe(base[i]);
      else if (i >= 35) expect(f[i]).toBeCloseTo(base[i] / 8, 18);
      else {
        expect(f[i]).toBeLessThan(base[i]);
        expect(f[i]).toBeGreaterThan(base[i] / 8);
      }
    }
  });

  it('refuses an odd head_dim and llama3 parameters that divide by zero', () => {
    expect(() => ropeInvFreq(7, 1e4)).toThrow(ModelsError);
    expect(() => ropeInvFreq(8, 1e4, { type: 'llama3', factor: 8, lowFreqFactor: 2, highFreqFactor: 2, originalMaxPositionEmbeddings: 64 })).toThrow(/low_freq_factor/);
  });
});

describe('applyRopeInPlace', () => {
  it('rotates (x[i], x[i + d/2]) pairs by position·inv_freq (rotate-half layout)', () => {
    // head_dim 4, theta 100: inv_freq = [1, 0.1]; position 2 → angles 2 and 0.2.
    const x = new Float64Array([7, 1, 2, 3, 4]);
    applyRopeInPlace(x, 1, ropeInvFreq(4, 100), 2);
    const [c0, s0, c1, s1] = [Math.cos(2), Math.sin(2), Math.cos(0.2), Math.sin(0.2)];
    expect(x[0]).toBe(7);
    expect(x[1]).toBeCloseTo(1 * c0 - 3 * s0, 14);
    expect(x[3]).toBeCloseTo(3 * c0 + 1 * s0, 14);
    expect(x[2]).toBeCloseTo(2 * c1 - 4 * s1, 14);
    expect(x[4]).toBeCloseTo(4 * c1 + 2 * s1, 14);
  });

  it('position 0 is the identity and rotations preserve the norm', () => {
    const x = new Float64Array([0.3, -1.2, 2.5, 0.7, 1.1, -0.4]);
    const y = Float64Array.from(x);
    applyRopeInPlace(y, 0, ropeInvFreq(6, 10000), 0);
    expect(Array.from(y)).toEqual(Array.from(x));
    applyRopeInPlace(y, 0, ropeInvFreq(6, 10000), 13.5);
    const norm = (a: Float64Array) => Math.hypot(...a);
    expect(norm(y)).toBeCloseTo(norm(x), 13);
  });
});
