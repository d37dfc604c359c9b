// AdamW against a float64 transcription of torch.optim.AdamW's documented algorithm, on seeded random tensors.
import { describe, expect, it } from 'vitest';
import { DistillError } from '../src/errors';
import { AdamW, type NamedParam } from '../src/optim/index';
import { mulberry32 } from '@mil/core';

// --- seeded test data -------------------------------------------------------------------------------------
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
/** Gradients spanning five orders of magnitude, so eps placement (inside/outside the sqrt) matters. */
function randomGrad(rand: () => number, n: number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = normal(rand) * 10 ** (-5 * rand());
  return g;
}
function randomParams(rand: () => number): NamedParam[] {
  const specs: [string, number[]][] = [
    ['model.layers.0.self_attn.q_proj.weight', [12, 9]],
    ['model.layers.0.self_attn.q_proj.bias', [12]],
    ['model.layers.0.input_layernorm.weight', [9]],
    ['model.embed_tokens.weight', [7, 9]],
  ];
  return specs.map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = normal(rand);
    return { name, data, shape };
  });
}

// --- float64 reference: torch.optim.AdamW docs, line by line -------------------------------------------------
interface RefParam { p: Float64Array; m: Float64Array; v: Float64Array; t: number; wd: number; lrScale: number }
function refAdamWStep(r: RefParam, g: Float32Array, lr: number, b1: number, b2: number, eps: number): void {
  r.t += 1;
  const gamma = lr * r.lrScale;
  for (let i = 0; i < r.p.length; i++) {
    r.p[i] = r.p[i] - gamma * r.wd * r.p[i]; // θ ← θ − γλθ
    r.m[i] = b1 * r.m[i] + (1 - b1) * g[i];
    r.v[i] = b2 * r.v[i] + (1 - b2) * g[i] * g[i];
    const mHat = r.m[i] / (1 - b1 ** r.t);
    const vHat = r.v[i] / (1 - b2 ** r.t);
    r.p[i] = r.p[i] - (gamma * mHat) / (Math.sqrt(vHat) + eps);
  }
}
function refOf(p: NamedParam, wd: number, lrScale = 1): RefParam {
  const n = p.data.length;
  return { p: Float64Array.from(p.data), m: new Float64Array(n), v: new Float64Array(n), t: 0, wd, lrScale };
}
function expectClose(actual: Float32Array, expected: Float64Array, atol: number, rtol: number): void {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - rtol * Math.abs(expected[i]);
    worst = Math.max(worst, err);
  }
  expect(worst).toBeLessThanOrEqual(atol);
}

describe('AdamW', () => {
  it('matches a hand-computed first step', () => {
    // t=1: m̂ = g, v̂ = g², so p ← p(1 − lr·λ) − lr·g/(|g| + ε) = 1·(1 − 0.01) − 0.1·0.5/0.50000001
    const w = new Float32Array([1]);
    const opt = new AdamW([{ name: 'w', data: w, shape: [1, 1] }], { lr: 0.1, weightDecay: 0.1, eps: 1e-8 });
    opt.step({ w: new Float32Array([0.5]) });
    expect(w[0]).toBeCloseTo(0.99 - 0.05 / 0.50000001, 6);
    expect(opt.stepCount).toBe(1);
  });

  it('follows the torch equations for 12 steps with decay masks, lr scaling and a changing lr', () => {
    const rand = mulberry32(1234);
    const params = randomParams(rand);
    const [b1, b2, eps, wd] = [0.9, 0.98, 1e-4, 0.1];
    const lrScale = { 'model.embed_tokens.weight': 0.25 };
    const opt = new AdamW(params, { lr: 3e-2, betas: [b1, b2], eps, weightDecay: wd, lrScale });
    // Default mask: the bias and the norm weight (1-D / named) get no decay; the 2-D matrices do.
    const expectedWd = [wd, 0, 0, wd];
    params.forEach((p, i) => expect(opt.weightDecayOf(p.name)).toBe(expectedWd[i]));
    const refs = params.map((p, i) => refOf(p, expectedWd[i], i === 3 ? 0.25 : 1));
    for (let step = 0; step < 12; step++) {
      const lr = 3e-2 * (1 - step / 20);
      const grads = new Map(params.map((p) => [p.name, randomGrad(rand, p.data.length)]));
      opt.step(grads, lr);
      params.forEach((p, i) => refAdamWStep(refs[i], grads.get(p.name)!, lr, b1, b2, eps));
    }
    params.forEach((p, i) => expectClose(p.data, refs[i].p, 2e-6, 2e-6));
    // The run moved the params far more than the tolerance, so the comparison is meaningful.
    const moved = Math.abs(params[0].data[0] - randomParams(mulberry32(1234))[0].data[0]);
    expect(moved).toBeGreaterThan(1e-2);
  });

  it('is plain Adam with weightDecay 0 and honours a custom no-decay filter', () => {
    const rand = mulberry32(7);
    const params = randomParams(rand);
    const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0.5, noDecay: ['embed_tokens', /q_proj\.bias$/] });
    expect(params.map((p) => opt.weightDecayOf(p.name))).toEqual([0.5, 0, 0.5, 0]);
    const plain = randomParams(mulberry32(7));
    const adam = new AdamW(plain, { lr: 1e-2, weightDecay: 0 });
    const refs = plain.map((p) => refOf(p, 0));
    const refsMasked = params.map((p, i) => refOf(p, [0.5, 0, 0.5, 0][i]));
    for (let step = 0; step < 4; step++) {
      const grads = Object.fromEntries(params.map((p) => [p.name, randomGrad(rand, p.data.length)]));
      opt.step(grads);
      adam.step(grads);
      params.forEach((p, i) => refAdamWStep(refsMasked[i], grads[p.name], 1e-2, 0.9, 0.999, 1e-8));
      plain.forEach((p, i) => refAdamWStep(refs[i], grads[p.name], 1e-2, 0.9, 0.999, 1e-8));
    }
    params.forEach((p, i) => expectClose(p.data, refsMasked[i].p, 2e-6, 2e-6));
    plain.forEach((p, i) => expectClose(p.data, refs[i].p, 2e-6, 2e-6));
  });

  it('skips parameters without a gradient and keeps their own bias-correction step', () => {
    const rand = mulberry32(99);
    const params = randomParams(rand);
    const opt = new AdamW(params, { lr: 1e-2, eps: 1e-4 });
    const refs = params.map((p) => refOf(p, opt.weightDecayOf(p.name)));
    const before = params[1].data.slice();
    for (let step = 0; step < 5; step++) {
      const grads = new Map<string, Float32Array>();
      params.forEach((p, i) => {
        if (i === 1 && step < 3) return; // the bias gets gradients only from step 3 on
        grads.set(p.name, randomGrad(rand, p.data.length));
      });
      opt.step(grads);
      params.forEach((p, i) => {
        const g = grads.get(p.name);
        if (g) refAdamWStep(refs[i], g, 1e-2, 0.9, 0.999, 1e-4);
      });
      if (step < 3) expect(params[1].data).toEqual(before);
    }
    expect(opt.state().tensors.get(`${params[1].name}.step`)![0]).toBe(2);
    expect(opt.state().tensors.get(`${params[0].name}.step`)![0]).toBe(5);
    params.forEach((p, i) => expectClose(p.data, refs[i].p, 2e-6, 2e-6));
  });

  it('continues bit-identically after state() / loadState() into a fresh optimizer', () => {
    const rand = mulberry32(5);
    const a = randomParams(rand);
    const gradsSeq = Array.from({ length: 10 }, () => new Map(a.map((p) => [p.name, randomGrad(rand, p.data.length)])));
    const b = a.map((p) => ({ ...p, data: p.data.slice() }));
    const optA = new AdamW(a, { lr: 1e-2, betas: [0.9, 0.98], weightDecay: 0.05 });
    const optB = new AdamW(b, { lr: 1e-2, betas: [0.9, 0.98], weightDecay: 0.05 });
    for (let s = 0; s < 4; s++) {
      optA.step(gradsSeq[s]);
      optB.step(gradsSeq[s]);
    }
    const saved = optB.state({ copy: true });
    const savedParams = b.map((p) => ({ ...p, data: p.data.slice() }));
    const optC = new AdamW(savedParams, { lr: 1e-2, betas: [0.9, 0.98], weightDecay: 0.05 });
    optC.loadState(saved);
    expect(optC.stepCount).toBe(4);
    for (let s = 4; s < 10; s++) {
      optA.step(gradsSeq[s]);
      optC.step(gradsSeq[s]);
    }
    a.forEach((p, i) => expect(savedParams[i].data).toEqual(p.data));
    for (const [k, v] of optA.state().tensors) expect(optC.state().tensors.get(k)).toEqual(v);
  });

  it('rejects bad state and bad gradients with coded errors, leaving the state untouched', () => {
    const params = randomParams(mulberry32(3));
    const opt = new AdamW(params, { lr: 1e-2 });
    opt.step(new Map(params.map((p) => [p.name, randomGrad(mulberry32(4), p.data.length)])));
    const good = opt.state({ copy: true });
    const missing = { ...good, tensors: new Map(good.tensors) };
    missing.tensors.delete(`${params[2].name}.exp_avg_sq`);
    const short = { ...good, tensors: new Map(good.tensors) };
    short.tensors.set(`${params[0].name}.exp_avg`, new Float32Array(3));
    short.tensors.set(`${params[3].name}.exp_avg`, new Float32Array(params[3].data.length).fill(7));
    const extra = { ...good, tensors: new Map(good.tensors).set('nope.exp_avg', new Float32Array(1)) };
    for (const bad of [missing, short, extra, { ...good, kind: 'sgd' as const }]) {
      expect(() => opt.loadState(bad)).toThrow(DistillError);
    }
    expect(() => opt.loadState(short)).toThrow(/exp_avg/);
    // The failed loads changed nothing (the 7-filled tensor of `short` was not copied in).
    for (const [k, v] of good.tensors) expect(opt.state().tensors.get(k)).toEqual(v);
    expect(() => opt.step({ 'model.typo.weight': new Float32Array(1) })).toThrow(/typo/);
    expect(() => opt.step({ [params[0].name]: new Float32Array(2) })).toThrow(/elements/);
    try {
      opt.step({ [params[0].name]: new Float32Array(2) });
    } catch (e) {
      expect((e as DistillError).code).toBe('SHAPE_MISMATCH');
    }
  });
});
