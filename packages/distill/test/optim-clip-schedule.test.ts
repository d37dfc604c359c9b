// Global-norm clipping (torch clip_grad_norm_) and lr schedules (HF get_*_schedule_with_warmup).
import { describe, expect, it } from 'vitest';
import { DistillError } from '../src/errors';
import { clipGradNorm, globalGradNorm, lrSchedule, scheduleFactor, validateSchedule } from '../src/optim/index';
import { mulberry32 } from '@mil/core';

function randomGrads(seed: number, scale: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const m = new Map<string, Float32Array>();
  for (const [name, n] of [['a', 100], ['b', 7], ['c', 1000]] as const) {
    m.set(name, Float32Array.from({ length: n }, () => (rand() - 0.5) * scale));
  }
  return m;
}

describe('clipGradNorm', () => {
  it('returns the pre-clip global L2 norm and scales by maxNorm / (norm + 1e-6)', () => {
    const grads = randomGrads(1, 2);
    const orig = new Map([...grads].map(([k, v]) => [k, Float64Array.from(v)]));
    let sq = 0;
    for (const v of orig.values()) for (const x of v) sq += x * x;
    const norm = Math.sqrt(sq);
    expect(norm).toBeGreaterThan(1);
    const returned = clipGradNorm(grads, 0.5);
    expect(returned).toBeCloseTo(norm, 9);
    const coef = 0.5 / (norm + 1e-6);
    for (const [k, v] of grads) v.forEach((x, i) => expect(x).toBeCloseTo(orig.get(k)![i] * coef, 7));
    expect(globalGradNorm(grads)).toBeCloseTo(0.5, 5);
  });

  it('leaves gradients untouched when the norm is below maxNorm, and accepts arrays and records', () => {
    const grads = randomGrads(2, 0.01);
    const copy = [...grads.values()].map((v) => v.slice());
    const n = clipGradNorm([...grads.values()], 100);
    expect(n).toBeGreaterThan(0);
    [...grads.values()].forEach((v, i) => expect(v).toEqual(copy[i]));
    expect(clipGradNorm({ x: new Float32Array([3, 4]) }, 10)).toBe(5);
  });

  it('supports the inf norm and NaN handling as torch', () => {
    const g = { x: new Float32Array([1, -6, 2]), y: new Float32Array([-3]) };
    expect(clipGradNorm(g, 3, { normType: 'inf' })).toBe(6);
    expect(g.x[1]).toBeCloseTo(-3, 5);
    const bad = { x: new Float32Array([1, NaN]) };
    expect(() => clipGradNorm(bad, 1, { errorIfNonfinite: true })).toThrow(DistillError);
    expect(Number.isNaN(clipGradNorm(bad, 1))).toBe(true);
    expect(Number.isNaN(bad.x[0])).toBe(true);
    expect(() => clipGradNorm(bad, 0)).toThrow(/maxNorm/);
  });
});

describe('lr schedules (HF semantics, step = optimizer steps already taken)', () => {
  it('cosine with warmup', () => {
    const s = { kind: 'cosine', warmupSteps: 10, totalSteps: 110 } as const;
    const expected: [number, number][] = [
      [0, 0], [5, 0.5], [10, 1], [35, 0.5 * (1 + Math.cos(Math.PI * 0.25))], [60, 0.5], [110, 0],
    ];
    for (const [step, f] of expected) expect(scheduleFactor(s, step)).toBeCloseTo(f, 12);
    const lr = lrSchedule(8e-5, s);
    expect(lr(60)).toBeCloseTo(4e-5, 15);
  });

  it('cosine with a minimum lr ratio', () => {
    const s = { kind: 'cosine', warmupSteps: 0, totalSteps: 100, minLrRatio: 0.1 } as const;
    expect(scheduleFactor(s, 0)).toBeCloseTo(1, 12);
    expect(scheduleFactor(s, 50)).toBeCloseTo(0.55, 12);
    expect(scheduleFactor(s, 100)).toBeCloseTo(0.1, 12);
  });

  it('linear and constant', () => {
    const lin = { kind: 'linear', warmupSteps: 4, totalSteps: 104 } as const;
    expect(scheduleFactor(lin, 2)).toBeCloseTo(0.5, 12);
    expect(scheduleFactor(lin, 54)).toBeCloseTo(0.5, 12);
    expect(scheduleFactor(lin, 200)).toBe(0);
    expect(scheduleFactor({ kind: 'constant', warmupSteps: 3 }, 1)).toBeCloseTo(1 / 3, 12);
    expect(scheduleFactor({ kind: 'constant' }, 0)).toBe(1);
  });

  it('rejects bad specs naming the field', () => {
    expect(() => validateSchedule({ kind: 'cosine', totalSteps: 0 })).toThrow(/totalSteps/);
    expect(() => validateSchedule({ kind: 'cosine', totalSteps: 10, minLrRatio: 2 })).toThrow(/minLrRatio/);
    expect(() => validateSchedule({ kind: 'linear', totalSteps: 10, warmupSteps: -1 })).toThrow(/warmupSteps/);
    expect(() => lrSchedule(NaN, { kind: 'constant' })).toThrow(DistillError);
  });
});
