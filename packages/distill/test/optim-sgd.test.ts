// SGD against a float64 transcription of torch.optim.SGD's documented algorithm, on seeded random tensors.
import { describe, expect, it } from 'vitest';
import { DistillError } from '../src/errors';
import { SGD, type NamedParam, type SgdOptions } from '../src/optim/index';
import { mulberry32 } from '@mil/core';

const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
function randomArray(rand: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => normal(rand));
}
function makeParams(seed: number): NamedParam[] {
  const rand = mulberry32(seed);
  return [
    { name: 'lm_head.weight', data: randomArray(rand, 40), shape: [5, 8] },
    { name: 'model.norm.weight', data: randomArray(rand, 8), shape: [8] },
  ];
}

// torch.optim.SGD docs: g ← g + λθ; if μ≠0: b ← (t>1 ? μb + (1−τ)g : g); g ← nesterov ? g + μb : b; θ ← θ − γg
function refSgd(p: Float64Array, buf: Float64Array, t: number, g: Float32Array, lr: number, o: Required<SgdOptions>, wd: number) {
  for (let i = 0; i < p.length; i++) {
    let d = g[i] + wd * p[i];
    if (o.momentum !== 0) {
      buf[i] = t > 1 ? o.momentum * buf[i] + (1 - o.dampening) * d : d;
      d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

const CASES: Array<Omit<Required<SgdOptions>, 'noDecay' | 'lrScale' | 'lr'>> = [
  { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
  { momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
  { momentum: 0.8, dampening: 0.3, weightDecay: 0.05, nesterov: false },
  { momentum: 0.9, dampening: 0, weightDecay: 0.05, nesterov: true },
];

describe('SGD', () => {
  for (const c of CASES) {
    it(`follows torch for 8 steps: ${JSON.stringify(c)}`, () => {
      const params = makeParams(11);
      const o = { ...c, lr: 0.05 } as Required<SgdOptions>;
      const opt = new SGD(params, { ...c, lr: 0.05 });
      // Default mask: the 1-D norm weight gets no L2 term.
      const wds = [c.weightDecay, 0];
      const ref = params.map((p) => ({ p: Float64Array.from(p.data), b: new Float64Array(p.data.length) }));
      const rand = mulberry32(12);
      for (let t = 1; t <= 8; t++) {
        const grads = new Map(params.map((p) => [p.name, randomArray(rand, p.data.length)]));
        const lr = 0.05 / t;
        opt.step(grads, lr);
        params.forEach((p, i) => refSgd(ref[i].p, ref[i].b, t, grads.get(p.name)!, lr, o, wds[i]));
      }
      params.forEach((p, i) => {
        for (let j = 0; j < p.data.length; j++) expect(Math.abs(p.data[j] - ref[i].p[j])).toBeLessThan(2e-6);
      });
    });
  }

  it('continues bit-identically after a state round-trip', () => {
    const a = makeParams(1);
    const b = makeParams(1);
    const opts = { lr: 0.1, momentum: 0.9, dampening: 0.1 };
    const optA = new SGD(a, opts);
    const optB = new SGD(b, opts);
    const rand = mulberry32(2);
    const seq = Array.from({ length: 6 }, () => new Map(a.map((p) => [p.name, randomArray(rand, p.data.length)])));
    for (let s = 0; s < 3; s++) {
      optA.step(seq[s]);
      optB.step(seq[s]);
    }
    const c = b.map((p) => ({ ...p, data: p.data.slice() }));
    const optC = new SGD(c, opts);
    optC.loadState(optB.state({ copy: true }));
    for (let s = 3; s < 6; s++) {
      optA.step(seq[s]);
      optC.step(seq[s]);
    }
    a.forEach((p, i) => expect(c[i].data).toEqual(p.data));
    expect([...optC.state().tensors.keys()].sort()).toEqual(
      ['lm_head.weight.momentum_buffer', 'lm_head.weight.step', 'model.norm.weight.momentum_buffer', 'model.norm.weight.step'],
    );
  });

  it('rejects nesterov without momentum or with dampening, as torch', () => {
    expect(() => new SGD(makeParams(1), { nesterov: true })).toThrow(DistillError);
    expect(() => new SGD(makeParams(1), { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov/);
  });
});
