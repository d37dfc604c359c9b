import { ModelsError } from '../errors';
import type { RopeScaling, LlamaConfig } from '@mil/checkpoint';

/**
 * RoPE inverse frequencies exactly as Hugging Face's `ROPE_INIT_FUNCTIONS` compute them (in float64 here):
 * `default` is `1 / theta^(2i/headDim)`; `linear` divides them by `factor`; `llama3` is
 * `_compute_llama3_parameters` (long wavelengths divided by `factor`, short ones kept, a smooth blend between).
 * `scaling` is `LlamaConfig.ropeScaling` as @mil/checkpoint parsed it (other rope types are refused there).
 *
 * @example
 * ropeInvFreq(4, 10000); // Float64Array [1, 0.01]
 * ropeInvFreq(128, 500000, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
 */
export function ropeInvFreq(headDim: number, ropeTheta: number, scaling?: RopeScaling | null): Float64Array {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new ModelsError('BAD_CONFIG', `head_dim must be a positive even number for RoPE, got ${headDim}`);
  const half = headDim / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(ropeTheta, (2 * i) / headDim);
  if (scaling == null) return invFreq;
  const factor = scaling.factor;
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) invFreq[i] /= factor;
    return invFreq;
  }
  const { lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldContextLen } = scaling;
  if (highFreqFactor === lowFreqFactor) {
    throw new ModelsError('BAD_CONFIG', 'config.rope_scaling: llama3 needs high_freq_factor != low_freq_factor');
  }
  const lowFreqWavelen = oldContextLen / lowFreqFactor;
  const highFreqWavelen = oldContextLen / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = invFreq[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue; // high frequency: untouched
    if (wavelen > lowFreqWavelen) {
      invFreq[i] = f / factor; // low frequency: interpolated by factor
      continue;
    }
    const smooth = (oldContextLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    invFreq[i] = ((1 - smooth) * f) / factor + smooth * f;
  }
  return invFreq;
}

/**
 * Rotates one head vector in place by RoPE at `position`, HF "rotate-half" (non-interleaved) layout:
 * pairs are (x[i], x[i + headDim/2]), i.e. `x*cos + rotate_half(x)*sin` with `rotate_half(x) = [-x2, x1]`.
 *
 * @example
 * const q = new Float64Array([1, 0, 0, 0]); applyRopeInPlace(q, 0, ropeInvFreq(4, 10000), 1); // q[0]=cos 1, q[2]=sin 1
 */
export function applyRopeInPlace(x: Float64Array, offset: number, invFreq: Float64Array, position: number): void {
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    const angle = position * invFreq[i];
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const x1 = x[offset + i];
    const x2 = x[offset + i + half];
    x[offset + i] = x1 * c - x2 * s;
    x[offset + i + half] = x2 * c + x1 * s;
  }
}
