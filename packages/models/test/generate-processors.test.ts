import { describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty,
  applyTemperature,
  argmax,
  processLogits,
  sampleFromLogits,
  sampleFromProbs,
  softmax,
  topK,
  topP,
} from '../src/generate/index';
import { ModelsError } from '../src/oracle/index';
import { MilError, createRng, Xoshiro128StarStar } from '@mil/core';

const kept = (logits: Float64Array) => Array.from(logits).flatMap((x, i) => (x === -Infinity ? [] : [i]));

describe('xoshiro128**', () => {
  it('reproduces the reference C implementation from state (1, 2, 3, 4)', () => {
    // Published outputs of xoshiro128starstar.c 1.1 (also the rand_xoshiro crate's test vector).
    const g = Xoshiro128StarStar.fromState(1, 2, 3, 4);
    const out = Array.from({ length: 10 }, () => g.nextUint32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
  });

  it('same seed, same stream; different seeds differ; floats are uniform in [0, 1)', () => {
    const a = createRng(2024);
    const b = createRng(2024);
    const c = createRng(2025);
    const xs = Array.from({ length: 20000 }, () => a());
    expect(Array.from({ length: 20000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs.slice(0, 5));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // sd of the mean ≈ 0.002
    const big = createRng(2 ** 40 + 3);
    expect(big()).not.toBe(createRng(3)());
    expect(() => createRng(-1)).toThrow(MilError);
  });
});

describe('logits processors', () => {
  it('repetition penalty: positive logits divided, negative multiplied, each seen token once', () => {
    const out = applyRepetitionPenalty([2, -2, 1, 0.5], [0, 1, 1, 0], 2);
    expect(Array.from(out)).toEqual([1, -4, 1, 0.5]);
    expect(Array.from(applyRepetitionPenalty([2, -2], [0, 1], 0.5))).toEqual([4, -1]);
    expect(() => applyRepetitionPenalty([1], [3], 2)).toThrow(/outside the vocabulary/);
  });

  it('temperature divides', () => {
    expect(Array.from(applyTemperature([1, -2], 0.5))).toEqual([2, -4]);
    expect(() => applyTemperature([1], 0)).toThrow(ModelsError);
  });

  it('top-k keeps exactly the k largest, ties with the k-th included', () => {
    const l = [1, 3, 2, 3, 0];
    expect(kept(topK(l, 1))).toEqual([1, 3]); // both 3s tie
    expect(kept(topK(l, 2))).toEqual([1, 3]);
    expect(kept(topK(l, 3))).toEqual([1, 2, 3]);
    expect(kept(topK(l, 9))).toEqual([0, 1, 2, 3, 4]);
    expect(kept(topK([5, 4, 3, 2], 1, 3))).toEqual([0, 1, 2]); // min_tokens_to_keep
    expect(topK(l, 2)[1]).toBe(3); // kept values unchanged
  });

  it('top-p keeps exactly the nucleus on a hand-made distribution', () => {
    // probs [0.4, 0.3, 0.2, 0.1]: cumulative from the bottom 0.1, 0.3, 0.6, 1.0; removed where <= 1 - p.
    const l = [0.4, 0.3, 0.2, 0.1].map(Math.log);
    expect(kept(topP(l, 0.75))).toEqual([0, 1, 2]); // 1-p = 0.25: removes only 0.1
    expect(kept(topP(l, 0.65))).toEqual([0, 1]); // 0.35: removes 0.1 and 0.2
    expect(kept(topP(l, 0.3))).toEqual([0]); // 0.7: removes all but the top
    expect(kept(topP(l, 1))).toEqual([0, 1, 2, 3]);
    expect(kept(topP(l, 0.3, 2))).toEqual([0, 1]); // min_tokens_to_keep
    // Shuffled order: the set follows the probabilities, not the indices.
    expect(kept(topP([0.1, 0.4, 0.2, 0.3].map(Math.log), 0.65))).toEqual([1, 3]);
    // Already-filtered tokens have no mass.
    expect(kept(topP([Math.log(0.5), -Infinity, Math.log(0.3), Math.log(0.2)], 0.75))).toEqual([0, 2]);
    expect(() => topP(l, 0)).toThrow(ModelsError);
  });

  it('processLogits applies penalty → temperature → top-k → top-p (hand-checked set)', () => {
    // penalty 1.3 on seen {0, 3}: l0 = 2/1.3, l3 = -0.5·1.3; / T=0.8; top-k 5 drops 5 and 3;
    // probs over {0,1,2,4,6} ≈ {0.325, 0.310, 0.069, 0.166, 0.129}; top-p 0.75 removes 2 (0.069) and 6 (0.198 <= 0.25).
    const logits = [2.0, 1.5, 0.3, -0.5, 1.0, -2.0, 0.8];
    const opts = { doSample: true, temperature: 0.8, topK: 5, topP: 0.75, repetitionPenalty: 1.3 };
    const out = processLogits(logits, opts, [0, 3, 3]);
    expect(kept(out)).toEqual([0, 1, 4]);
    expect(out[0]).toBeCloseTo(2 / 1.3 / 0.8, 14);
    expect(out[1]).toBeCloseTo(1.5 / 0.8, 14);
    // Greedy ignores the warpers but keeps the penalty, as HF does.
    const greedy = processLogits(logits, { ...opts, doSample: false });
    expect(Array.from(greedy)).toEqual(Array.from(applyRepetitionPenalty(logits, [], 1.3)));
    expect(argmax(processLogits(logits, { repetitionPenalty: 1.5 }, [0]))).toBe(1); // 2/1.5 < 1.5
  });
});

describe('sampling', () => {
  function chiSquare(counts: number[], probs: number[], n: number): number {
    return counts.reduce((s, c, i) => (probs[i] > 0 ? s + (c - n * probs[i]) ** 2 / (n * probs[i]) : s), 0);
  }

  it('frequencies match softmax of the logits (chi-square, 6 classes)', () => {
    const logits = [0.5, -1, 2, 0, 1.2, -0.3];
    const z = logits.reduce((s, x) => s + Math.exp(x), 0);
    const probs = logits.map((x) => Math.exp(x) / z);
    const rng = createRng(77);
    const n = 30000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[sampleFromLogits(logits, rng)]++;
    expect(chiSquare(counts, probs, n)).toBeLessThan(20.5); // df 5, p = 0.001
  });

  it('frequencies match the processed distribution; filtered tokens are never drawn', () => {
    const logits = [2.0, 1.5, 0.3, -0.5, 1.0, -2.0, 0.8];
    const processed = processLogits(logits, { doSample: true, temperature: 0.8, topK: 5, topP: 0.75, repetitionPenalty: 1.3 }, [0, 3]);
    // Independent expectation over the hand-checked set {0, 1, 4}.
    const l = [2 / 1.3 / 0.8, 1.5 / 0.8, 1.0 / 0.8];
    const z = l.reduce((s, x) => s + Math.exp(x), 0);
    const expected = [Math.exp(l[0]) / z, Math.exp(l[1]) / z, 0, 0, Math.exp(l[2]) / z, 0, 0];
    const p = softmax(processed);
    expected.forEach((e, i) => expect(p[i]).toBeCloseTo(e, 12));
    const rng = createRng(5);
    const n = 30000;
    const counts = new Array(7).fill(0);
    for (let i = 0; i < n; i++) counts[sampleFromLogits(processed, rng)]++;
    expect(counts[2] + counts[3] + counts[5] + counts[6]).toBe(0);
    expect(chiSquare(counts, expected, n)).toBeLessThan(13.8); // df 2, p = 0.001
  });

  it('sampleFromProbs never draws zero-probability entries; bad inputs throw', () => {
    const rng = createRng(9);
    for (let i = 0; i < 2000; i++) expect([1, 3]).toContain(sampleFromProbs([0, 0.5, 0, 0.5, 0], rng));
    expect(() => softmax([-Infinity, -Infinity])).toThrow(ModelsError);
    expect(() => argmax([0, NaN])).toThrow(ModelsError);
    expect(argmax([1, 5, 5, 2])).toBe(1);
  });
});
