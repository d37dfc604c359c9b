import { describe, it, expect } from 'vitest';
import { Graph, Runner, GraphError, add, providerAvailable } from '../src/index';

function tiny() {
  const g = new Graph();
  const x = g.input('x', 'float32', [2]);
  return g.toModel({ outputs: { y: add(x, 1) } });
}

describe('Runner', () => {
  it('names a missing feed and an unknown one', async () => {
    const r = await Runner.create(tiny(), { threads: 1 });
    await expect(r.run({})).rejects.toThrow(/missing feed "x"/);
    await expect(r.run({ x: { data: new Float32Array(2), dims: [2] }, z: { data: new Float32Array(1), dims: [1] } })).rejects.toThrow(/unknown feed "z"/);
    const out = await r.run({ x: { data: Float32Array.from([1, 2]), dims: [2] } });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 3]);
  });

  it('refuses an unavailable provider with a coded error that says what to install', async () => {
    if (providerAvailable('cuda')) return; // a machine with the CUDA provider installed has nothing to refuse
    const e = await Runner.create(tiny(), { ep: 'cuda' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GraphError);
    expect((e as GraphError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((e as Error).message).toMatch(/libonnxruntime_providers_cuda\.so/);
  });

  it('keeps persistent feeds by reference: in-place updates are seen by the next run', async () => {
    const r = await Runner.create(tiny(), { threads: 1, spinning: false });
    const x = Float32Array.from([1, 1]);
    r.setPersistent({ x: { data: x, dims: [2] } });
    expect(Array.from((await r.run({})).y.data as Float32Array)).toEqual([2, 2]);
    x[0] = 5;
    expect(Array.from((await r.run({})).y.data as Float32Array)).toEqual([6, 2]);
  });
});
