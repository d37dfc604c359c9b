import { describe, it, expect } from 'vitest';
import { Graph, matmul, add, reduceSum, mul, gradients, Runner } from '../src/index';

describe('smoke', () => {
  it('builds, runs and differentiates a tiny graph', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.param('w', 'float32', [3, 2]);
    const y = add(matmul(x, w), 1);
    const loss = reduceSum(mul(y, y));
    const grads = gradients(loss, [w]);
    const model = g.toModel({ outputs: { y, loss, gw: grads.get(w)! } });
    const run = await Runner.create(model, { threads: 1 });
    const xd = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const wd = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const out = await run.run({ x: { data: xd, dims: [2, 3] }, w: { data: wd, dims: [3, 2] } });
    // y = x w + 1
    const y00 = 1 * 0.1 + 2 * 0.3 + 3 * 0.5 + 1;
    expect(out.y.data[0]).toBeCloseTo(y00, 5);
    // dL/dw = 2 xᵀ y
    const yv = out.y.data as Float32Array;
    let gw00 = 0;
    for (let b = 0; b < 2; b++) gw00 += 2 * xd[b * 3] * yv[b * 2];
    expect((out.gw.data as Float32Array)[0]).toBeCloseTo(gw00, 3);
  });
});
