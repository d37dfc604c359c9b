// Test-only helpers for the graph-form tests: build a graph, run it on onnxruntime (CPU), read results back.
import { concat, Graph, reshape, Runner, type Dim, type Tensor, type HostTensor } from '@mil/graph';
import type { FloatArray, Mamba1ScanInput } from '../src/index';
import { uniform, type Ctor } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

/** A graph input to declare and feed: name, dims (symbolic allowed), fed data and its run-time dims. */
export interface Feed {
  name: string;
  data: FloatArray | BigInt64Array | Int32Array;
  /** Run-time dims. */
  dims: number[];
  /** Declared dims (default: `dims`); strings make axes symbolic. */
  declare?: Dim[];
}

/**
 * Declares the feeds as inputs of a fresh graph, lets `build` emit outputs, runs the model once on CPU and
 * returns the outputs' data (float32 / float64 as declared) by name.
 */
export async function runGraph(
  feeds: Feed[],
  build: (g: Graph, t: Record<string, Tensor>) => Record<string, Tensor>,
): Promise<Record<string, FloatArray>> {
  const g = new Graph('ssm_test');
  const t: Record<string, Tensor> = {};
  for (const f of feeds) {
    const dtype = f.data instanceof Float64Array ? 'float64' : f.data instanceof Float32Array ? 'float32' : f.data instanceof BigInt64Array ? 'int64' : 'int32';
    t[f.name] = g.input(f.name, dtype, f.declare ?? f.dims);
  }
  const outs = build(g, t);
  const model = g.toModel({ outputs: outs, weights: 'inputs' });
  const run = await Runner.create(model, { threads: 1 });
  try {
    const feedMap: Record<string, HostTensor> = {};
    for (const f of feeds) if (model.inputNames.includes(f.name)) feedMap[f.name] = { data: f.data, dims: f.dims };
    const res = await run.run(feedMap);
    const out: Record<string, FloatArray> = {};
    for (const [k, v] of Object.entries(res)) out[k] = v.data as FloatArray;
    return out;
  } finally {
    await run.release();
  }
}

/** Row-major transpose of the last two axes of a (..., r, c) array. */
export function swapLast2<T extends FloatArray>(a: T, r: number, c: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  const m = r * c;
  for (let o = 0; o < a.length; o += m) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[o + j * r + i] = a[o + i * c + j];
  return out;
}

/** Flattens tensors into one vector (gradCheck takes one output). */
export function flatConcat(ts: Tensor[]): Tensor {
  return concat(ts.map((t) => reshape(t, [-1])), 0);
}

/** Random Mamba-1 problem with every optional part present (non-zero everywhere). */
export function mamba1Problem(seed: number, b: number, L: number, d: number, n: number, g: number, ctor: Ctor = Float32Array): Mamba1ScanInput {
  const r = mulberry32(seed);
  return {
    batch: b, seqLen: L, dim: d, dState: n, nGroups: g, deltaSoftplus: true,
    u: uniform(r, b * L * d, -2, 2, ctor), delta: uniform(r, b * L * d, -3, 1, ctor),
    A: uniform(r, d * n, -4, -0.1, ctor), B: uniform(r, b * L * g * n, -1.5, 1.5, ctor),
    C: uniform(r, b * L * g * n, -1.5, 1.5, ctor), D: uniform(r, d, -1, 1, ctor),
    z: uniform(r, b * L * d, -3, 3, ctor), deltaBias: uniform(r, d, -1, 1, ctor),
    initialState: uniform(r, b * d * n, -1, 1, ctor),
  };
}

