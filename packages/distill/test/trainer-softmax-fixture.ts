// Test fixture for the trainer tests: a tiny two-layer linear softmax classifier on seeded synthetic data, with
// analytic gradients and seeded dropout (so per-micro-batch randomness is exercised by resumption).
import type { LossAndGrads, MicroBatchContext } from '../src/index';
import { mulberry32, randn } from '@mil/core';

export const D_IN = 6;
export const D_HID = 5;
export const CLASSES = 4;
export const DROPOUT = 0.2;

export interface Example {
  x: Float64Array;
  y: number;
}

/** Parameter names, shapes and seeded initial values (a fresh copy per call). */
export function initParams(seed = 1): { params: Map<string, Float32Array>; shapes: Map<string, number[]> } {
  const rand = mulberry32(seed);
  const shapes = new Map<string, number[]>([
    ['model.proj.weight', [D_HID, D_IN]],
    ['model.head.weight', [CLASSES, D_HID]],
    ['model.head.bias', [CLASSES]],
  ]);
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) params.set(name, randn(rand, shape.reduce((a, b) => a * b, 1), 0.5));
  return { params, shapes };
}

/** Labels from a fixed random teacher with 10% label noise. */
export function makeExamples(n: number, seed = 2): Example[] {
  const rand = mulberry32(seed);
  const teacher = randn(rand, CLASSES * D_IN);
  return Array.from({ length: n }, () => {
    const x = Float64Array.from(randn(rand, D_IN));
    let y = 0;
    let best = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = 0;
      for (let j = 0; j < D_IN; j++) s += teacher[c * D_IN + j] * x[j];
      if (s > best) [best, y] = [s, c];
    }
    if (rand() < 0.1) y = Math.floor(rand() * CLASSES);
    return { x, y };
  });
}

/**
 * Mean cross-entropy of softmax(W·drop(P·x) + b) and its gradients, computed in float64.
 * Dropout masks come from `ctx.seed` (none when ctx is omitted).
 */
export function softmaxLossAndGrads(params: ReadonlyMap<string, Float32Array>, batch: Example[], ctx?: MicroBatchContext): LossAndGrads {
  const P = params.get('model.proj.weight')!;
  const W = params.get('model.head.weight')!;
  const b = params.get('model.head.bias')!;
  const gP = new Float64Array(P.length);
  const gW = new Float64Array(W.length);
  const gb = new Float64Array(b.length);
  const rand = ctx ? mulberry32(ctx.seed) : null;
  let loss = 0;
  const inv = 1 / batch.length;
  for (const { x, y } of batch) {
    const h = new Float64Array(D_HID);
    const mask = new Float64Array(D_HID);
    for (let i = 0; i < D_HID; i++) {
      let s = 0;
      for (let j = 0; j < D_IN; j++) s += P[i * D_IN + j] * x[j];
      mask[i] = rand === null ? 1 : rand() < DROPOUT ? 0 : 1 / (1 - DROPOUT);
      h[i] = s * mask[i];
    }
    const logits = new Float64Array(CLASSES);
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = b[c];
      for (let i = 0; i < D_HID; i++) s += W[c * D_HID + i] * h[i];
      logits[c] = s;
      max = Math.max(max, s);
    }
    let z = 0;
    for (let c = 0; c < CLASSES; c++) z += Math.exp(logits[c] - max);
    loss += (Math.log(z) + max - logits[y]) * inv;
    const dh = new Float64Array(D_HID);
    for (let c = 0; c < CLASSES; c++) {
      const dl = (Math.exp(logits[c] - max) / z - (c === y ? 1 : 0)) * inv;
      gb[c] += dl;
      for (let i = 0; i < D_HID; i++) {
        gW[c * D_HID + i] += dl * h[i];
        dh[i] += dl * W[c * D_HID + i];
      }
    }
    for (let i = 0; i < D_HID; i++) for (let j = 0; j < D_IN; j++) gP[i * D_IN + j] += dh[i] * mask[i] * x[j];
  }
  return {
    loss,
    tokens: batch.length,
    grads: new Map([
      ['model.proj.weight', Float32Array.from(gP)],
      ['model.head.weight', Float32Array.from(gW)],
      ['model.head.bias', Float32Array.from(gb)],
    ]),
  };
}

/** Byte-exact copy of a parameter map, for bit-identity comparisons. */
export function snapshot(params: ReadonlyMap<string, Float32Array>): Map<string, Buffer> {
  return new Map([...params].map(([k, v]) => [k, Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))]));
}
