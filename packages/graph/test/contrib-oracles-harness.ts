// Test support for the proto and contrib-oracle tests: seeded inputs, a one-node onnxruntime runner built
// on our own encoder, and a closeness check with a readable failure message.

import { InferenceSession, Tensor } from 'onnxruntime-node';
import { expect } from 'vitest';
import { encodeModel } from '../src/onnx/proto-encode';
import { singleNodeModel } from './single-node-model';
import type { AttributeValue, DType } from '../src/onnx/model-spec';

/** n uniform values in [lo, hi) as float32 (never exactly 0 in practice). */
export function randomFloats(rng: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng();
  return a;
}

export interface Feed {
  name: string;
  dtype: DType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Float64Array;
}

/**
 * Runs one node in onnxruntime-node (CPU). `outputs` gives each output's name and rank (null skips an
 * optional output); returns the fetched tensors by name.
 */
export async function runSingleNode(
  opType: string,
  domain: string,
  inputs: (Feed | null)[],
  outputs: ([name: string, rank: number] | null)[],
  attributes: Record<string, AttributeValue> = {},
  outputDtype: DType = 'float32',
): Promise<Record<string, Tensor>> {
  const spec = singleNodeModel({
    opType,
    domain,
    attributes,
    inputs: inputs.map((f) => (f ? { name: f.name, dtype: f.dtype, shape: f.dims.map((_, i) => `${f.name}_${i}`) } : null)),
    outputs: outputs.map((o) =>
      o ? { name: o[0], dtype: outputDtype, shape: Array.from({ length: o[1] }, (_, i) => `${o[0]}_${i}`) } : null,
    ),
  });
  const session = await InferenceSession.create(encodeModel(spec));
  try {
    const feeds: Record<string, Tensor> = {};
    for (const f of inputs) if (f) feeds[f.name] = new Tensor(f.dtype as 'float32', f.data as Float32Array, f.dims);
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * Expects |got − ref| ≤ rtol·|ref| + atol·max|ref| elementwise (float32 kernels vs double oracles).
 * `mask` (optional) restricts the check to the flagged elements.
 */
export function expectClose(
  label: string,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-5, mask }: { rtol?: number; atol?: number; mask?: (i: number) => boolean } = {},
): void {
  expect(got.length, `${label}: length`).toBe(ref.length);
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  expect(maxRef, `${label}: reference is all zeros, the check would be vacuous`).toBeGreaterThan(0);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < ref.length; i++) {
    if (mask && !mask(i)) continue;
    const excess = Math.abs(got[i] - ref[i]) - (rtol * Math.abs(ref[i]) + atol * maxRef);
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${label}: element ${worst} is ${got[worst]}, expected ${ref[worst]} (max |ref| ${maxRef}, rtol ${rtol}, atol ${atol})`);
  }
}
