// ggml encodings of float32 weights: F32, F16 and Q8_0 (blocks of 32: one f16 scale, 32 int8), as ggml's reference
// quantize_row_q8_0 computes them (scale amax/127 in float32, round half away from zero).
import { float32ToFloat16Bits, float16BitsToFloat32 } from '@mil/core';
import { ModelsError } from '../errors';
import type { GgmlType } from './gguf-writer';

/** Q8_0 block: 32 values per block, 34 bytes (f16 scale + 32 × int8). */
export const QK8_0 = 32;

/**
 * Quantizes rows of float32 values to Q8_0 blocks (little-endian). `x.length` must be a multiple of 32.
 *
 * @example
 * const q = quantizeQ8_0(new Float32Array(64).map((_, i) => Math.sin(i))); // 68 bytes
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % QK8_0 !== 0) throw new ModelsError('BAD_INPUT', `quantizeQ8_0: ${x.length} values is not a multiple of ${QK8_0}`);
  const nb = x.length / QK8_0;
  const out = new Uint8Array(nb * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(x[b * QK8_0 + j]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, float32ToFloat16Bits(d), true);
    for (let j = 0; j < QK8_0; j++) {
      const v = Math.fround(x[b * QK8_0 + j] * id);
      view.setInt8(b * 34 + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

/**
 * Q8_0 blocks back to float32 (value = f16 scale × int8), as ggml's dequantize_row_q8_0.
 *
 * @example
 * dequantizeQ8_0(quantizeQ8_0(x)); // within scale/2 of x
 */
export function dequantizeQ8_0(q: Uint8Array): Float32Array {
  if (q.byteLength % 34 !== 0) throw new ModelsError('BAD_INPUT', `dequantizeQ8_0: ${q.byteLength} bytes is not a whole number of 34-byte blocks`);
  const nb = q.byteLength / 34;
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const out = new Float32Array(nb * QK8_0);
  for (let b = 0; b < nb; b++) {
    const d = float16BitsToFloat32(view.getUint16(b * 34, true));
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = d * view.getInt8(b * 34 + 2 + j);
  }
  return out;
}

/**
 * Encodes float32 values as a ggml tensor of `type`.
 *
 * @example
 * encodeGgml(weights, 'F16'); // 2 bytes per value
 */
export function encodeGgml(x: Float32Array, type: GgmlType): Uint8Array {
  if (type === 'F32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  if (type === 'F16') {
    const h = new Uint16Array(x.length);
    for (let i = 0; i < x.length; i++) h[i] = float32ToFloat16Bits(x[i]);
    return new Uint8Array(h.buffer);
  }
  return quantizeQ8_0(x);
}
