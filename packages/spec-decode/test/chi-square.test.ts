import { describe, expect, it } from 'vitest';
import { createRng } from '@mil/core';
import { chiSquareSurvival, chiSquareTest, lnGamma } from './helpers/chi-square';

describe('chi-square survival function (the statistics the distribution tests rely on)', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    let f = 1;
    for (let n = 1; n <= 20; n++) {
      expect(lnGamma(n)).toBeCloseTo(Math.log(f), 10);
      f *= n;
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  it('equals the closed form for even degrees of freedom', () => {
    for (const m of [1, 2, 3, 5, 10, 40]) {
      for (const x of [0.1, 1, 3.7, 10, 25, 80, 150]) {
        let sum = 0;
        let term = 1;
        for (let i = 0; i < m; i++) {
          sum += term;
          term *= x / 2 / (i + 1);
        }
        const exact = Math.exp(-x / 2) * sum;
        expect(Math.abs(chiSquareSurvival(x, 2 * m) - exact)).toBeLessThan(1e-12 + 1e-9 * exact);
      }
    }
  });

  it('matches tabulated quantiles for odd and large degrees of freedom', () => {
    const table: [x: number, df: number, p: number][] = [
      [2, 1, 0.15729920705028513], // erfc(1)
      [3.841458820694124, 1, 0.05],
      [6.6348966010212145, 1, 0.01],
      [10.827566170662733, 1, 0.001],
      [7.814727903251178, 3, 0.05],
      [18.307038053275146, 10, 0.05],
      [124.34211340400407, 100, 0.05],
    ];
    for (const [x, df, p] of table) expect(chiSquareSurvival(x, df)).toBeCloseTo(p, 9);
  });

  it('accepts samples of the right distribution and rejects a slightly wrong one', () => {
    const rng = createRng(5);
    const probs = [0.05, 0.1, 0.2, 0.3, 0.35];
    const wrong = [0.06, 0.09, 0.2, 0.3, 0.35];
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) {
      let u = rng();
      let j = 0;
      while (j < 4 && u >= probs[j]) u -= probs[j++];
      counts[j]++;
    }
    expect(chiSquareTest(counts, probs).p).toBeGreaterThan(0.001);
    expect(chiSquareTest(counts, wrong).p).toBeLessThan(1e-6);
    expect(chiSquareTest([1, ...counts.slice(1)], [0, 0.1, 0.2, 0.3, 0.4]).p).toBe(0);
  });
});
