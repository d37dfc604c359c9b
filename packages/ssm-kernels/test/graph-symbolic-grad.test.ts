// Training graphs are built with symbolic batch / sequence sizes. Their backward graphs (run-time padding,
// Split-based slicing, run-time masks) must give the same gradients as the static-shape graphs that
// gradCheck verified against finite differences.
import { describe, it } from 'vitest';
import { exp, gradients, Graph, mul, neg, reduceSum, Runner, type Dim, type Tensor } from '@mil/graph';
import { causalConv1dGraph, mamba1ScanGraph, mamba2ScanGraph } from '../src/index';
import { expectClose, uniform } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

interface In {
  name: string;
  dims: number[];
  /** which axes are batch / seq when symbolic */
  sym?: Record<number, string>;
}

/** Runs loss = Σ f(inputs) ⊙ R and its input gradients, with static or symbolic declarations. */
async function grads(ins: In[], R: In, f: (g: Graph, t: Tensor[]) => Tensor[], symbolic: boolean, dtype: 'float32' | 'float64', seed: number) {
  const g = new Graph();
  const decl = (i: In): Dim[] => i.dims.map((d, k) => (symbolic && i.sym?.[k] ? i.sym[k] : d));
  const xs = ins.map((i) => g.input(i.name, dtype, decl(i)));
  const outs = f(g, xs);
  const rs = outs.map((o, k) => g.input(`${R.name}${k}`, dtype, o.shape as Dim[]));
  const loss = outs.map((o, k) => reduceSum(mul(o, rs[k]))).reduce((a, b) => g.addNode('Add', [a, b], [{ dtype, shape: [] }])[0]);
  const gr = gradients(loss, xs);
  const model = g.toModel({ outputs: Object.fromEntries(xs.map((x) => [`grad_${x.name}`, gr.get(x)!])) });
  const run = await Runner.create(model, { threads: 1, optimization: 'basic' });
  const rng = mulberry32(seed);
  const ctor = dtype === 'float64' ? Float64Array : Float32Array;
  const feeds: Record<string, { data: Float32Array | Float64Array; dims: number[] }> = {};
  for (const i of ins) feeds[i.name] = { data: uniform(rng, i.dims.reduce((a, b) => a * b, 1), -1, 1, ctor), dims: i.dims };
  // Output sizes are only known statically: evaluate them from a static build of the same function.
  const gs = new Graph();
  const outsStatic = f(gs, ins.map((i) => gs.input(i.name, dtype, i.dims)));
  outsStatic.forEach((o, k) => {
    const dims = o.shape as number[];
    feeds[`${R.name}${k}`] = { data: uniform(rng, dims.reduce((a, b) => a * b, 1), -1, 1, ctor), dims };
  });
  const res = await run.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => model.inputNames.includes(k))));
  await run.release();
  return Object.fromEntries(ins.map((i) => [i.name, res[`grad_${i.name}`].data as Float32Array | Float64Array]));
}

async function compare(ins: In[], f: (g: Graph, t: Tensor[]) => Tensor[], dtype: 'float32' | 'float64', tol: number) {
  const a = await grads(ins, { name: 'R', dims: [] }, f, false, dtype, 7);
  const b = await grads(ins, { name: 'R', dims: [] }, f, true, dtype, 7);
  for (const i of ins) expectClose(b[i.name], a[i.name], tol, tol);
}

const BL = { 0: 'batch', 1: 'seq' };

describe('gradients of the training forms with symbolic batch / seq = with static shapes', () => {
  it('mamba2ScanGraph (L = 7, chunk 3: run-time padding and chunk-level masks)', async () => {
    const b = 2, L = 7, h = 2, p = 2, n = 3, g = 1;
    await compare(
      [
        { name: 'x', dims: [b, L, h, p], sym: BL }, { name: 'dt', dims: [b, L, h], sym: BL }, { name: 'Alog', dims: [h] },
        { name: 'B', dims: [b, L, g, n], sym: BL }, { name: 'C', dims: [b, L, g, n], sym: BL }, { name: 'h0', dims: [b, h, p, n], sym: { 0: 'batch' } },
      ],
      (gr, [x, dt, Alog, B, C, h0]) => {
        const r = mamba2ScanGraph(gr, { x, dt, A: neg(exp(Alog)), B, C, initialState: h0 }, { chunkSize: 3, dtSoftplus: true });
        return [r.y, r.finalState];
      },
      'float64', 1e-12,
    );
  });

  it('mamba1ScanGraph (L = 7, chunk 3)', async () => {
    const b = 2, L = 7, d = 4, n = 3, g = 2;
    await compare(
      [
        { name: 'u', dims: [b, L, d], sym: BL }, { name: 'delta', dims: [b, L, d], sym: BL }, { name: 'Alog', dims: [d, n] },
        { name: 'B', dims: [b, L, g, n], sym: BL }, { name: 'C', dims: [b, L, g, n], sym: BL }, { name: 'h0', dims: [b, d, n], sym: { 0: 'batch' } },
      ],
      (gr, [u, delta, Alog, B, C, h0]) => {
        const r = mamba1ScanGraph(gr, { u, delta, A: neg(exp(Alog)), B, C, initialState: h0 }, { chunkSize: 3, deltaSoftplus: true });
        return [r.y, r.finalState];
      },
      'float64', 1e-12,
    );
  });

  it('causalConv1dGraph with and without an initial state (float32: ORT CPU Conv)', async () => {
    const b = 2, L = 6, d = 3, w = 4;
    await compare(
      [{ name: 'x', dims: [b, L, d], sym: BL }, { name: 'w', dims: [d, w] }, { name: 'bias', dims: [d] }, { name: 'h0', dims: [b, d, w - 1], sym: { 0: 'batch' } }],
      (gr, [x, weight, bias, h0]) => {
        const a = causalConv1dGraph(gr, { x, weight, bias, initialState: h0 }, { activation: 'silu' });
        const z = causalConv1dGraph(gr, { x, weight, bias }, { activation: 'none' });
        return [a.y, a.state, z.y, z.state];
      },
      'float32', 1e-6,
    );
  });
});
