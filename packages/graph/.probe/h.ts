import { InferenceSession, Tensor } from 'onnxruntime-node';
import { encodeModel } from '../src/onnx/proto-encode';
import { singleNodeModel } from '../src/onnx/single-node-model';
import type { AttributeValue, DType } from '../src/onnx/model-spec';
export type Feed = { name: string; dtype: DType; dims: number[]; data: any } | null;
let seed = 12345;
export function rnd(n: number, scale = 1): Float32Array { const a = new Float32Array(n); for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; a[i] = ((seed / 2 ** 32) * 2 - 1) * scale; } return a; }
export async function runOp(opType: string, domain: string, feeds: Feed[], outs: ([string, number]|null)[], attributes: Record<string, AttributeValue> = {}, opset = 21) {
  const spec = singleNodeModel({ opType, domain, attributes, opset,
    inputs: feeds.map(f => f ? { name: f.name, dtype: f.dtype, shape: f.dims.map((_, i) => `${f.name}_d${i}`) } : null),
    outputs: outs.map(o => o ? { name: o[0], dtype: 'float32', shape: Array.from({length: o[1]}, (_, i) => `${o[0]}_o${i}`) } : null) });
  // outputs: unknown shape -> use no shape info: give rank-less? use symbolic dims not known; simplest: drop shape
  const s = await InferenceSession.create(encodeModel(spec as any));
  const f: Record<string, Tensor> = {};
  for (const x of feeds) if (x) f[x.name] = new Tensor(x.dtype as any, x.data, x.dims);
  return await s.run(f);
}
export function cmp(label: string, got: ArrayLike<number>, ref: ArrayLike<number>) {
  let maxAbs = 0, maxRef = 0, worst = 0;
  if (got.length !== ref.length) { console.log(label, 'LENGTH', got.length, ref.length); return; }
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  for (let i = 0; i < ref.length; i++) { const d = Math.abs(got[i] - ref[i]); maxAbs = Math.max(maxAbs, d); worst = Math.max(worst, d / (Math.abs(ref[i]) + 1e-3 * maxRef)); }
  console.log(label.padEnd(40), 'maxAbs', maxAbs.toExponential(2), 'maxRef', maxRef.toExponential(2), 'worstRel', worst.toExponential(2), worst < 1e-4 ? 'OK' : 'MISMATCH');
}
