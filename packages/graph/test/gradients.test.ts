// Every differentiable op's gradient rule against float64 central finite differences (through onnxruntime).
import { describe, it, expect } from 'vitest';
import * as G from '../src/index';
import type { Tensor } from '../src/index';
import { mulberry32 } from '@mil/core';
import { gradCheck, type GradCheckInput } from '@mil/graph/testing';

const TOL = 1e-6; // float64: central differences with eps 1e-6 agree to ~1e-8 on smooth ops

type Case = [string, GradCheckInput[], (xs: Tensor[], g: G.Graph) => Tensor];
const I = (name: string, shape: number[], extra: Partial<GradCheckInput> = {}): GradCheckInput => ({ name, shape, ...extra });

const cases: Case[] = [
  ['Add broadcast', [I('a', [2, 3, 4]), I('b', [3, 1])], ([a, b]) => G.add(a, b)],
  ['Sub broadcast', [I('a', [2, 1, 4]), I('b', [3, 4])], ([a, b]) => G.sub(a, b)],
  ['Mul broadcast', [I('a', [2, 3]), I('b', [1, 3])], ([a, b]) => G.mul(a, b)],
  ['Div broadcast', [I('a', [2, 3]), I('b', [3], { positive: true })], ([a, b]) => G.div(a, b)],
  ['Pow both inputs', [I('a', [2, 3], { positive: true }), I('b', [2, 3])], ([a, b]) => G.pow(a, b)],
  ['Pow by scalar', [I('a', [4], { positive: true })], ([a]) => G.pow(a, 3)],
  ['Max/Min', [I('a', [3, 4]), I('b', [4])], ([a, b]) => G.add(G.maximum(a, b), G.mul(G.minimum(a, b), 2))],
  ['Neg', [I('a', [5])], ([a]) => G.neg(a)],
  ['Exp', [I('a', [2, 3])], ([a]) => G.exp(a)],
  ['Log', [I('a', [2, 3], { positive: true })], ([a]) => G.log(a)],
  ['Sqrt', [I('a', [2, 3], { positive: true })], ([a]) => G.sqrt(a)],
  ['Reciprocal', [I('a', [2, 3], { positive: true })], ([a]) => G.reciprocal(a)],
  ['Sigmoid', [I('a', [2, 3])], ([a]) => G.sigmoid(a)],
  ['Tanh', [I('a', [2, 3])], ([a]) => G.tanh(a)],
  ['Softplus (thresholded)', [I('a', [6], { data: Float64Array.from([-3, -0.5, 0.2, 1.7, 19.5, 25]) })], ([a]) => G.softplus(a)],
  ['SiLU', [I('a', [2, 3])], ([a]) => G.silu(a)],
  ['Relu/Abs', [I('a', [8], { data: Float64Array.from([-2, -1.1, -0.3, 0.4, 0.9, 1.3, -0.7, 2.2]) })], ([a]) => G.add(G.relu(a), G.abs(a))],
  ['MatMul 2D', [I('a', [3, 4]), I('b', [4, 5])], ([a, b]) => G.matmul(a, b)],
  ['MatMul batched broadcast', [I('a', [2, 1, 3, 4]), I('b', [3, 4, 2])], ([a, b]) => G.matmul(a, b)],
  ['MatMul rank-3 × rank-2 weight', [I('a', [2, 3, 4]), I('b', [4, 5])], ([a, b]) => G.matmul(a, b)],
  ['Gemm transA transB bias', [I('a', [4, 3]), I('b', [5, 4]), I('c', [5])], ([a, b, c]) => G.gemm(a, b, c, { transA: true, transB: true, alpha: 0.7, beta: 1.3 })],
  ['Gemm plain', [I('a', [3, 4]), I('b', [4, 5]), I('c', [3, 5])], ([a, b, c]) => G.gemm(a, b, c)],
  ['ReduceSum keepdims', [I('a', [2, 3, 4])], ([a]) => G.reduceSum(a, [1], true)],
  ['ReduceSum all', [I('a', [2, 3])], ([a]) => G.reshape(G.reduceSum(a), [1])],
  ['ReduceMean', [I('a', [2, 3, 4])], ([a]) => G.reduceMean(a, [0, 2])],
  ['ReduceMax', [I('a', [3, 5])], ([a]) => G.reduceMax(a, [1], false)],
  ['Softmax', [I('a', [2, 5])], ([a]) => G.softmax(a, -1)],
  ['Softmax axis 0', [I('a', [3, 4])], ([a]) => G.softmax(a, 0)],
  ['LogSoftmax', [I('a', [2, 5])], ([a]) => G.logSoftmax(a, 1)],
  ['CumSum', [I('a', [2, 5])], ([a]) => G.cumsum(a, 1)],
  ['CumSum exclusive reverse', [I('a', [3, 4])], ([a]) => G.cumsum(a, 0, { exclusive: true, reverse: true })],
  ['Reshape', [I('a', [2, 6])], ([a]) => G.reshape(a, [3, -1, 2])],
  ['Transpose', [I('a', [2, 3, 4])], ([a]) => G.transpose(a, [2, 0, 1])],
  ['Concat', [I('a', [2, 3]), I('b', [2, 2])], ([a, b]) => G.concat([a, b, a], 1)],
  ['Slice', [I('a', [4, 6])], ([a]) => G.slice(a, [1, -4], [3, G.END], [0, 1])],
  ['Split (one output unused)', [I('a', [2, 7])], ([a]) => { const [p, , r] = G.split(a, [2, 3, 2], 1); return G.mul(p, r); }],
  ['Gather (embedding)', [I('e', [5, 3]), I('ids', [2, 3], { int64: BigInt64Array.from([0n, 4n, 2n, 2n, 1n, 4n]) })], ([e, ids]) => G.gather(e, ids, 0)],
  ['Expand', [I('a', [3, 1])], ([a]) => G.expand(a, [2, 3, 4])],
  ['GatherElements (repeated indices)', [I('a', [2, 5]), I('ix', [2, 3], { int64: BigInt64Array.from([4n, 0n, 4n, 1n, 1n, 3n]) })], ([a, ix]) => G.gatherElements(a, ix, 1)],
  ['Unsqueeze/Squeeze', [I('a', [3, 4])], ([a]) => G.squeeze(G.mul(G.unsqueeze(a, [0, 2]), 2), [0])],
  ['Where', [I('a', [2, 3]), I('b', [3])], ([a, b]) => G.where(G.greater(a, 0), a, b)],
  ['Trilu lower', [I('a', [2, 4, 4])], ([a]) => G.trilu(a, false, 0)],
  ['Trilu upper k=1', [I('a', [3, 4])], ([a]) => G.trilu(a, true, 1)],
  ['Pad', [I('a', [2, 3])], ([a]) => G.pad(a, [1, 0, 0, 2], 0.5)],
  ['Cast f64→f32→f64', [I('a', [4])], ([a]) => G.cast(G.mul(G.cast(a, 'float32'), 1), 'float64')],
  ['Composite: RMSNorm-like', [I('x', [2, 4]), I('w', [4])], ([x, w]) => G.mul(G.div(x, G.sqrt(G.add(G.reduceMean(G.mul(x, x), [-1], true), 1e-5))), w)],
];

describe('gradient rules vs float64 finite differences', () => {
  for (const [name, inputs, fn] of cases) {
    it(name, async () => {
      const r = await gradCheck(inputs, fn, { seed: name.length * 7919, eps: name.startsWith('Cast') ? 1e-2 : undefined });
      expect(r.checked).toBeGreaterThan(0);
      // Cast through float32 loses precision, so its check is looser.
      expect(r.maxRelError).toBeLessThan(name.startsWith('Cast') ? 1e-3 : TOL);
    });
  }

  // onnxruntime's CPU Conv/ConvTranspose exist only in float32, so these run in float32; conv is linear in each
  // input, so central differences are exact up to float32 rounding.
  it('Depthwise causal Conv1d (float32)', async () => {
    const r = await gradCheck([I('x', [2, 3, 7]), I('w', [3, 1, 4]), I('b', [3])], ([x, w, b]) => G.conv1d(x, w, b, { group: 3, pads: [3, 0] }), { dtype: 'float32' });
    expect(r.maxRelError).toBeLessThan(2e-3);
  });
  it('Softplus, the ONNX op (float32: no double kernel on CPU)', async () => {
    const r = await gradCheck([I('a', [2, 3])], ([a]) => G.softplusOnnx(a), { dtype: 'float32' });
    expect(r.maxRelError).toBeLessThan(2e-3);
  });
  it('Conv1d group 1 (float32)', async () => {
    const r = await gradCheck([I('x', [2, 3, 6]), I('w', [4, 3, 3]), I('b', [4])], ([x, w, b]) => G.conv1d(x, w, b, { pads: [1, 1] }), { dtype: 'float32' });
    expect(r.maxRelError).toBeLessThan(2e-3);
  });

  it('a path with no dependence gives zero gradients', () => {
    const g = new G.Graph();
    const a = g.input('a', 'float64', [2]);
    const b = g.input('b', 'float64', [2]);
    const grads = G.gradients(G.reduceSum(G.exp(a)), [b]);
    expect(grads.get(b)!.shape).toEqual([2]);
  });

  it('contrib ops on the path raise no_gradient', () => {
    const g = new G.Graph();
    const a = g.input('a', 'float32', [2, 4]);
    const [y] = g.addNode('SkipSimplifiedLayerNormalization', [a, a, g.constant(new Float32Array(4).fill(1), 'float32', [4])], [{ dtype: 'float32', shape: [2, 4] }], {}, 'com.microsoft');
    expect(() => G.gradients(G.reduceSum(y), [a])).toThrowError(/no gradient rule for com.microsoft.SkipSimplifiedLayerNormalization/);
  });
});

describe('Conv weight gradient with a symbolic sequence length', () => {
  for (const [name, group, wShape] of [['depthwise', 3, [3, 1, 4]], ['group 1', 1, [2, 3, 3]]] as const) {
    it(`${name}: equals the static-length gradient`, async () => {
      const build = (len: number | string) => {
        const g = new G.Graph();
        const x = g.input('x', 'float32', ['batch', 3, len]);
        const w = g.input('w', 'float32', [...wShape]);
        const y = G.conv1d(x, w, null, { group, pads: [wShape[2] - 1, 0] });
        const r = g.input('r', 'float32', ['batch', wShape[0], len]);
        const grads = G.gradients(G.reduceSum(G.mul(y, r)), [w]);
        return g.toModel({ outputs: { gw: grads.get(w)! } });
      };
      const rand = mulberry32(5);
      const xs = Float32Array.from({ length: 2 * 3 * 6 }, () => rand() - 0.5);
      const ws = Float32Array.from({ length: wShape[0] * wShape[1] * wShape[2] }, () => rand() - 0.5);
      const rs = Float32Array.from({ length: 2 * wShape[0] * 6 }, () => rand() - 0.5);
      const feeds = { x: { data: xs, dims: [2, 3, 6] }, w: { data: ws, dims: [...wShape] }, r: { data: rs, dims: [2, wShape[0], 6] } };
      const a = (await (await G.Runner.create(build(6), { threads: 1 })).run(feeds)).gw.data as Float32Array;
      const b = (await (await G.Runner.create(build('seq'), { threads: 1 })).run(feeds)).gw.data as Float32Array;
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    });
  }
});
