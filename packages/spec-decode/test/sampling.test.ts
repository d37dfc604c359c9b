import { describe, expect, it } from 'vitest';
import { createRng, MilError } from '@mil/core';
import {
  acceptProbability,
  argmax,
  earliestStop,
  processedDistribution,
  residualDistribution,
  resolveSampling,
  sampleFromProbs,
  unsafeTailLength,
} from '../src/index';
import { chiSquareTest } from './helpers/chi-square';
import { oracleDistribution } from './helpers/oracle';

function randomLogits(rng: () => number, n: number, scale = 4): number[] {
  return Array.from({ length: n }, () => (2 * rng() - 1) * scale);
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MilError);
    return (e as MilError).code;
  }
  return undefined;
}

describe('processedDistribution', () => {
  it('matches hand-computed values', () => {
    const p = processedDistribution([0, Math.log(3)], { temperature: 1 });
    expect(p[0]).toBeCloseTo(0.25, 15);
    expect(p[1]).toBeCloseTo(0.75, 15);
    expect(Array.from(processedDistribution([1, 5, 2], {}))).toEqual([0, 1, 0]); // greedy: one-hot argmax
    // temperature 0.5 doubles the logit gaps
    const t = processedDistribution([0, Math.log(2)], { temperature: 0.5 });
    expect(t[1]).toBeCloseTo(0.8, 14);
    // top-k keeps every logit tied with the k-th largest
    expect(Array.from(processedDistribution([1, 3, 2, 3], { temperature: 1, topK: 1 }))).toEqual([0, 0.5, 0, 0.5]);
    // top-p 0.65 over [.4, .3, .2, .1]: .4 alone is < .65, so .3 joins; then the mass above .2 is .7 >= .65
    const n = processedDistribution([0.4, 0.3, 0.2, 0.1].map(Math.log), { temperature: 1, topP: 0.65 });
    expect(n[0]).toBeCloseTo(4 / 7, 14);
    expect(n[1]).toBeCloseTo(3 / 7, 14);
    expect(n[2]).toBe(0);
    expect(n[3]).toBe(0);
  });

  it('equals a sort-based oracle on random logits for many temperature / top-k / top-p settings', () => {
    const rng = createRng(31);
    for (let i = 0; i < 300; i++) {
      const n = 2 + Math.floor(rng() * 30);
      const logits = randomLogits(rng, n);
      const s = {
        temperature: 0.2 + rng() * 2,
        topK: i % 3 === 0 ? 0 : 1 + Math.floor(rng() * n),
        topP: i % 4 === 0 ? 1 : 0.05 + rng() * 0.9,
      };
      const got = processedDistribution(Float32Array.from(logits), s);
      const exact = oracleDistribution(Array.from(Float32Array.from(logits)), s);
      for (let v = 0; v < n; v++) expect(Math.abs(got[v] - exact[v])).toBeLessThan(1e-12);
    }
  });

  it('handles heavy ties: top-k keeps every logit tied with the k-th, top-p ranks ties by lower index', () => {
    const rng = createRng(41);
    for (let i = 0; i < 300; i++) {
      const n = 2 + Math.floor(rng() * 200);
      const logits = Array.from({ length: n }, () => Math.floor(rng() * 4));
      const k = 1 + Math.floor(rng() * n);
      const kth = [...logits].sort((a, b) => b - a)[k - 1];
      const kept = logits.map((x) => (x >= kth ? Math.exp(x) : 0));
      const z = kept.reduce((a, b) => a + b, 0);
      const got = processedDistribution(logits, { temperature: 1, topK: k });
      for (let v = 0; v < n; v++) expect(Math.abs(got[v] - kept[v] / z)).toBeLessThan(1e-12);
      const topP = 0.05 + rng() * 0.9;
      const nucleus = processedDistribution(logits, { temperature: 1, topP });
      const exact = oracleDistribution(logits, { temperature: 1, topP });
      for (let v = 0; v < n; v++) expect(Math.abs(nucleus[v] - exact[v])).toBeLessThan(1e-12);
    }
  });

  it('rejects NaN / +Infinity / all-masked logits and bad options with coded errors', () => {
    expect(codeOf(() => processedDistribution([0, NaN], { temperature: 1 }))).toBe('BAD_LOGITS');
    expect(codeOf(() => processedDistribution([0, Infinity], { temperature: 1 }))).toBe('BAD_LOGITS');
    expect(codeOf(() => processedDistribution([-Infinity, -Infinity], { temperature: 1 }))).toBe('BAD_LOGITS');
    expect(codeOf(() => argmax([1, NaN]))).toBe('BAD_LOGITS');
    expect(codeOf(() => resolveSampling({ temperature: -1 }))).toBe('BAD_OPTION');
    expect(codeOf(() => resolveSampling({ topK: 1.5 }))).toBe('BAD_OPTION');
    expect(codeOf(() => resolveSampling({ topP: 0 }))).toBe('BAD_OPTION');
    expect(codeOf(() => resolveSampling({ topP: 1.2 }))).toBe('BAD_OPTION');
    expect(resolveSampling({})).toEqual({ temperature: 0, topK: 0, topP: 1 });
    expect(argmax([0.1, 2, 2, -1])).toBe(1);
  });
});

describe('speculative sampling primitives', () => {
  it('acceptance and residual follow the definitions', () => {
    expect(acceptProbability([0.5, 0.5], [0.25, 0.75], 1)).toBeCloseTo(2 / 3, 15);
    expect(acceptProbability([0.5, 0.5], [0.25, 0.75], 0)).toBe(1);
    expect(acceptProbability([0.2, 0.8], null, 1)).toBe(0.8);
    expect(codeOf(() => acceptProbability([0.5, 0.5], [1, 0], 1))).toBe('BAD_PROPOSAL');
    expect(Array.from(residualDistribution([0.5, 0.5], [0.25, 0.75], 1))).toEqual([1, 0]);
    expect(Array.from(residualDistribution([0.2, 0.3, 0.5], null, 2))).toEqual([0.4, 0.6, 0]);
    expect(Array.from(residualDistribution([0.3, 0.7], [0.3, 0.7], 0))).toEqual([0.3, 0.7]); // p = q: p itself
  });

  it('one accept/resample step has exactly the target distribution (exact algebra on random p, q)', () => {
    const rng = createRng(77);
    for (let i = 0; i < 200; i++) {
      const n = 2 + Math.floor(rng() * 10);
      const p = processedDistribution(randomLogits(rng, n), { temperature: 1, topK: i % 2 ? 0 : Math.max(1, n - 2) });
      const deterministic = i % 5 === 0;
      const q = deterministic ? null : processedDistribution(randomLogits(rng, n), { temperature: 1.2 });
      // P(output = t) = sum over drafts d of q(d) [ accept(d) 1{t = d} + (1 - accept(d)) residual_d(t) ]
      const out = new Float64Array(n);
      const drafts = deterministic ? [Math.floor(rng() * n)] : [...Array(n).keys()];
      for (const d of drafts) {
        const qd = q === null ? 1 : q[d];
        if (qd === 0) continue;
        const a = acceptProbability(p, q, d);
        out[d] += qd * a;
        const r = residualDistribution(p, q, d);
        for (let t = 0; t < n; t++) out[t] += qd * (1 - a) * r[t];
      }
      for (let t = 0; t < n; t++) expect(Math.abs(out[t] - p[t])).toBeLessThan(1e-12);
    }
  });

  it('sampleFromProbs draws from the given distribution and never a zero entry', () => {
    const rng = createRng(3);
    const probs = [0.1, 0, 0.25, 0.4, 0.25];
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleFromProbs(probs, rng)]++;
    expect(counts[1]).toBe(0);
    expect(chiSquareTest(counts, probs).p).toBeGreaterThan(0.001);
    expect(sampleFromProbs(new Float32Array([0, 1, 0]), rng)).toBe(1);
    expect(codeOf(() => sampleFromProbs([0, 0], rng))).toBe('BAD_LOGITS');
    expect(codeOf(() => sampleFromProbs([0.5, -0.1], rng))).toBe('BAD_LOGITS');
  });
});

describe('stop strings', () => {
  it('finds the earliest stop string and holds back tails that may grow into one', () => {
    expect(earliestStop('Hello\nUser:', ['User:', '\n\n'])).toBe(6);
    expect(earliestStop('abcabc', ['ca', 'bc'])).toBe(1);
    expect(earliestStop('abc', ['', 'x'])).toBe(-1);
    expect(unsafeTailLength('Hello Us', ['User:'])).toBe(2);
    expect(unsafeTailLength('Hello', ['User:'])).toBe(0);
    expect(unsafeTailLength('ab\ufffd\ufffd', ['x'])).toBe(2);
  });
});
