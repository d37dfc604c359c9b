import { describe, it, expect } from 'vitest';
import {
  rotaryEmbedding,
  simplifiedLayerNormalization,
  skipSimplifiedLayerNormalization,
} from './contrib-oracles';
import { expectClose, randomFloats, runSingleNode, type Feed } from './contrib-oracles-harness';
import { mulberry32 } from '@mil/core';

const f32 = (name: string, dims: number[], data: Float32Array): Feed => ({ name, dtype: 'float32', dims, data });

describe('SimplifiedLayerNormalization oracle = onnxruntime CPU', () => {
  const rng = mulberry32(11);

  it('normalizes the last axis, returns inv_std_var, default epsilon 1e-5', async () => {
    const x = randomFloats(rng, 3 * 5 * 32, -2, 2);
    const scale = randomFloats(rng, 32);
    const r = await runSingleNode('SimplifiedLayerNormalization', '', [f32('x', [3, 5, 32], x), f32('g', [32], scale)], [['y', 3], ['inv', 3]]);
    const ref = simplifiedLayerNormalization({ x, shape: [3, 5, 32], scale });
    expect(r.inv.dims).toEqual([3, 5, 1]);
    expectClose('y', r.y.data as Float32Array, ref.y);
    expectClose('inv_std_var', r.inv.data as Float32Array, ref.invStdVar);
  });

  it('normalizes from axis 1 with epsilon set (tiny inputs, where epsilon matters)', async () => {
    const x = randomFloats(rng, 2 * 4 * 8, -1e-3, 1e-3);
    const scale = randomFloats(rng, 4 * 8);
    const r = await runSingleNode('SimplifiedLayerNormalization', '', [f32('x', [2, 4, 8], x), f32('g', [4, 8], scale)], [['y', 3]], {
      axis: { type: 'int', value: 1 },
      epsilon: { type: 'float', value: 1e-6 },
    });
    expectClose('y', r.y.data as Float32Array, simplifiedLayerNormalization({ x, shape: [2, 4, 8], scale, axis: 1, epsilon: 1e-6 }).y);
  });
});

describe('SimplifiedLayerNormalization with per-group scale (Mamba-2 grouped RMSNorm)', () => {
  it('scale (groups, C) broadcasts over X (B, T, groups, C) with axis −1', async () => {
    const rng = mulberry32(14);
    const x = randomFloats(rng, 2 * 3 * 4 * 8, -2, 2);
    const scale = randomFloats(rng, 4 * 8);
    const r = await runSingleNode('SimplifiedLayerNormalization', '', [f32('x', [2, 3, 4, 8], x), f32('g', [4, 8], scale)], [['y', 4]]);
    const ref = simplifiedLayerNormalization({ x, shape: [2, 3, 4, 8], scale, scaleShape: [4, 8] });
    expectClose('y', r.y.data as Float32Array, ref.y);
    // Independent check of one element: row (b=1, t=2, group=3), channel 5.
    const row = ((1 * 3 + 2) * 4 + 3) * 8;
    let ss = 0;
    for (let c = 0; c < 8; c++) ss += x[row + c] ** 2;
    expect(ref.y[row + 5]).toBeCloseTo((x[row + 5] / Math.sqrt(ss / 8 + 1e-5)) * scale[3 * 8 + 5], 12);
  });
});

describe('SkipSimplifiedLayerNormalization oracle = onnxruntime CPU', () => {
  const rng = mulberry32(12);
  const B = 2;
  const S = 3;
  const H = 32;

  for (const variant of ['same-shape skip + bias', '(S, H) skip broadcast', '(1, S, H) skip, default epsilon'] as const) {
    it(`output and input_skip_bias_sum: ${variant}`, async () => {
      const input = randomFloats(rng, B * S * H, -2, 2);
      const gamma = randomFloats(rng, H);
      const bias = variant.includes('bias') ? randomFloats(rng, H) : undefined;
      const skipDims = variant.startsWith('(S, H)') ? [S, H] : variant.startsWith('(1, S, H)') ? [1, S, H] : [B, S, H];
      const skip = randomFloats(rng, skipDims.reduce((a, b) => a * b), -2, 2);
      const epsilon = variant.includes('default') ? undefined : 1e-5;
      const inputs: (Feed | null)[] = [f32('x', [B, S, H], input), f32('skip', skipDims, skip), f32('gamma', [H], gamma)];
      if (bias) inputs.push(f32('bias', [H], bias));
      // Outputs 1 (mean) and 2 (inv_std_var) stay unnamed: requesting them crashes ORT 1.29 (see docs/contrib-ops.md).
      const r = await runSingleNode('SkipSimplifiedLayerNormalization', 'com.microsoft', inputs, [['y', 3], null, null, ['sum', 3]],
        epsilon === undefined ? {} : { epsilon: { type: 'float', value: epsilon } });
      const ref = skipSimplifiedLayerNormalization({ input, skip, gamma, bias, hiddenSize: H, epsilon });
      expectClose('output', r.y.data as Float32Array, ref.output);
      expectClose('input_skip_bias_sum', r.sum.data as Float32Array, ref.inputSkipBiasSum);
    });
  }

  it('default epsilon is 1e-12 (visible on inputs with mean square ~1e-13)', async () => {
    const input = randomFloats(rng, 8, -1e-6, 1e-6);
    const zeros = new Float32Array(8);
    const ones = new Float32Array(8).fill(1);
    const r = await runSingleNode('SkipSimplifiedLayerNormalization', 'com.microsoft',
      [f32('x', [1, 1, 8], input), f32('skip', [1, 1, 8], zeros), f32('gamma', [8], ones)], [['y', 3]]);
    expectClose('y', r.y.data as Float32Array, skipSimplifiedLayerNormalization({ input, skip: zeros, gamma: ones, hiddenSize: 8 }).output, { rtol: 1e-4, atol: 1e-6 });
    const with1e5 = skipSimplifiedLayerNormalization({ input, skip: zeros, gamma: ones, hiddenSize: 8, epsilon: 1e-5 }).output;
    expect(Math.abs((r.y.data as Float32Array)[0] - with1e5[0])).toBeGreaterThan(0.1 * Math.abs(with1e5[0]));
  });
});

describe('RotaryEmbedding oracle = onnxruntime CPU', () => {
  const rng = mulberry32(13);
  const maxSeq = 32;

  const cases: { label: string; shape: number[]; half: number; interleaved?: boolean; numHeads?: number; rotaryDim?: number; scalarPos?: number }[] = [
    { label: '3-D (B,S,hidden) rotate-half (Llama)', shape: [2, 5, 64], half: 8 },
    { label: '3-D interleaved', shape: [2, 5, 64], half: 8, interleaved: true },
    { label: '4-D (B,N,S,H) rotate-half', shape: [2, 4, 5, 16], half: 8 },
    { label: '4-D interleaved', shape: [2, 4, 5, 16], half: 8, interleaved: true },
    { label: 'scalar position offset', shape: [2, 5, 64], half: 8, scalarPos: 7 },
    { label: 'partial rotary_embedding_dim=8 of 16, num_heads=4', shape: [2, 5, 64], half: 4, numHeads: 4, rotaryDim: 8 },
    { label: 'partial rotary, interleaved, 4-D', shape: [1, 4, 5, 16], half: 4, numHeads: 4, rotaryDim: 8, interleaved: true },
  ];
  for (const c of cases) {
    it(c.label, async () => {
      const n = c.shape.reduce((a, b) => a * b);
      const x = randomFloats(rng, n);
      const cos = randomFloats(rng, maxSeq * c.half);
      const sin = randomFloats(rng, maxSeq * c.half);
      const B = c.shape[0];
      const S = c.shape.length === 4 ? c.shape[2] : c.shape[1];
      const pos = c.scalarPos !== undefined
        ? new BigInt64Array([BigInt(c.scalarPos)])
        : BigInt64Array.from({ length: B * S }, () => BigInt(Math.floor(rng() * maxSeq)));
      const attrs: Record<string, { type: 'int'; value: number }> = {};
      if (c.interleaved) attrs.interleaved = { type: 'int', value: 1 };
      if (c.numHeads) attrs.num_heads = { type: 'int', value: c.numHeads };
      if (c.rotaryDim) attrs.rotary_embedding_dim = { type: 'int', value: c.rotaryDim };
      const r = await runSingleNode('RotaryEmbedding', 'com.microsoft', [
        f32('x', c.shape, x),
        { name: 'pos', dtype: 'int64', dims: c.scalarPos !== undefined ? [1] : [B, S], data: pos },
        f32('cos', [maxSeq, c.half], cos),
        f32('sin', [maxSeq, c.half], sin),
      ], [['y', c.shape.length]], attrs);
      const ref = rotaryEmbedding({
        input: x, shape: c.shape, positionIds: pos, cosCache: cos, sinCache: sin, cacheHalfDim: c.half,
        interleaved: c.interleaved, numHeads: c.numHeads, rotaryEmbeddingDim: c.rotaryDim,
      });
      expectClose('y', r.y.data as Float32Array, ref);
    });
  }

  it('matches the Llama rotate-half formula written out independently', () => {
    // q' = q·cos(pθ) + rotate_half(q)·sin(pθ), rotate_half([a, b]) = [−b, a], θ_i = base^(−2i/d).
    const H = 8;
    const half = H / 2;
    const q = randomFloats(rng, H);
    const p = 5;
    const cos = new Float64Array(16 * half);
    const sin = new Float64Array(16 * half);
    for (let t = 0; t < 16; t++)
      for (let i = 0; i < half; i++) {
        cos[t * half + i] = Math.cos(t * 10000 ** (-2 * i / H));
        sin[t * half + i] = Math.sin(t * 10000 ** (-2 * i / H));
      }
    const got = rotaryEmbedding({ input: q, shape: [1, 1, H], positionIds: [p], cosCache: cos, sinCache: sin, cacheHalfDim: half });
    for (let i = 0; i < H; i++) {
      const th = p * 10000 ** (-2 * (i % half) / H);
      const rot = i < half ? -q[i + half] : q[i - half];
      expect(got[i]).toBeCloseTo(q[i] * Math.cos(th) + rot * Math.sin(th), 12);
    }
  });
});
