// Speculative sampling must leave the target's distribution unchanged: chi-square tests of 20k sampled runs against
// exact distributions enumerated from a fresh target. Cases 0–1 here, 2–3 in distribution-filtered.test.ts.
import { describe, expect, it } from 'vitest';
import { createRng } from '@mil/core';
import { chiSquareTest } from './helpers/chi-square';
import { cases, checkCase, exactDistributions, N, P_MIN, prompt, targetSpec, V } from './helpers/distribution';
import { lastLogits, NgramLm } from './helpers/ngram-lm';
import { oracleDistribution } from './helpers/oracle';

describe('speculative sampling preserves the target distribution (chi-square, 20k runs, p > 0.001)', () => {
  for (const i of [0, 1]) {
    it(`${cases[i].name}: first token, (first, second), second after a rejected / accepted round, third; plain too`, () =>
      checkCase(cases[i], i));
  }

  it('the test has power: the draft distribution itself is rejected against the target', async () => {
    const s = { temperature: 1 };
    const exact = await exactDistributions(s);
    const draftLogits = await lastLogits(() => new NgramLm({ ...targetSpec, noise: { seed: 3, scale: 1.5 } }), prompt);
    const q = oracleDistribution(draftLogits, s);
    const rng = createRng(9);
    const counts = new Array(V).fill(0);
    for (let i = 0; i < N; i++) {
      let u = rng();
      let t = 0;
      while (t < V - 1 && u >= q[t]) u -= q[t++];
      counts[t]++;
    }
    expect(chiSquareTest(counts, q).p).toBeGreaterThan(P_MIN);
    expect(chiSquareTest(counts, exact.first).p).toBeLessThan(1e-6);
  });
});
