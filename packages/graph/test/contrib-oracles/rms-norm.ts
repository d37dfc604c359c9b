// Oracles for ORT's RMS norms: SimplifiedLayerNormalization (ONNX domain, ORT-registered) and
// com.microsoft.SkipSimplifiedLayerNormalization. Computed in double.

import { check, checkLength, type FloatArray } from './types';

export interface SimplifiedLayerNormalizationArgs {
  /** X, row-major with shape `shape`. */
  x: FloatArray;
  shape: readonly number[];
  /** Scale, numpy-broadcast against X (aligned right). Default shape: the normalized dims shape[axis:]. */
  scale: FloatArray;
  /**
   * Shape of `scale` when it is not shape[axis:]; e.g. (groups, C) against X (…, groups, C) with axis −1
   * gives per-group weights (onnxruntime 1.29 CPU accepts this; used for Mamba-2's grouped RMSNorm).
   */
  scaleShape?: readonly number[];
  /** First normalized axis (negative counts from the end). ORT default -1. */
  axis?: number;
  /** ORT default 1e-5. */
  epsilon?: number;
}

export interface SimplifiedLayerNormalizationResult {
  /** Y = X / sqrt(mean(X², over axes ≥ axis) + ε) · scale, same shape as X. */
  y: Float64Array;
  /** 1 / sqrt(mean(X²) + ε), shape = shape[:axis] followed by ones (ORT output 1, `inv_std_var`). */
  invStdVar: Float64Array;
}

/**
 * SimplifiedLayerNormalization (domain '', opset 1 as registered by onnxruntime): RMSNorm over the
 * trailing axes starting at `axis`.
 *
 * @example
 * const { y } = simplifiedLayerNormalization({ x, shape: [2, 8], scale: gamma, epsilon: 1e-6 });
 */
export function simplifiedLayerNormalization(a: SimplifiedLayerNormalizationArgs): SimplifiedLayerNormalizationResult {
  const op = 'SimplifiedLayerNormalization';
  const rank = a.shape.length;
  const axis = (a.axis ?? -1) < 0 ? (a.axis ?? -1) + rank : (a.axis as number);
  check(axis >= 0 && axis < rank, op, `axis ${a.axis} out of range for rank ${rank}`);
  const eps = a.epsilon ?? 1e-5;
  let rows = 1;
  for (let i = 0; i < axis; i++) rows *= a.shape[i];
  let cols = 1;
  for (let i = axis; i < rank; i++) cols *= a.shape[i];
  checkLength(a.x, rows * cols, op, 'x', `[${a.shape.join(', ')}]`);
  const scaleShape = a.scaleShape ?? a.shape.slice(axis);
  check(scaleShape.length <= rank, op, `scale rank ${scaleShape.length} exceeds input rank ${rank}`);
  checkLength(a.scale, scaleShape.reduce((p, d) => p * d, 1), op, 'scale', `[${scaleShape.join(', ')}]`);
  // Element strides of scale, aligned to X's trailing dims; broadcast dims (size 1) get stride 0.
  const scaleStride = new Array<number>(rank).fill(0);
  for (let i = scaleShape.length - 1, st = 1; i >= 0; i--) {
    const xi = rank - scaleShape.length + i;
    check(scaleShape[i] === a.shape[xi] || scaleShape[i] === 1, op,
      `scale shape [${scaleShape.join(', ')}] does not broadcast against input shape [${a.shape.join(', ')}]`);
    scaleStride[xi] = scaleShape[i] === 1 ? 0 : st;
    st *= scaleShape[i];
  }
  const y = new Float64Array(rows * cols);
  const invStdVar = new Float64Array(rows);
  const coord = new Array<number>(rank).fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += a.x[o + c] * a.x[o + c];
    const inv = 1 / Math.sqrt(ss / cols + eps);
    invStdVar[r] = inv;
    for (let c = 0; c < cols; c++) {
      let si = 0;
      for (let d = 0; d < rank; d++) si += coord[d] * scaleStride[d];
      y[o + c] = a.x[o + c] * inv * a.scale[si];
      for (let d = rank - 1; d >= 0 && ++coord[d] === a.shape[d]; d--) coord[d] = 0;
    }
  }
  return { y, invStdVar };
}

export interface SkipSimplifiedLayerNormalizationArgs {
  /** (batch, seq, hidden) or (tokens, hidden); only the last dim matters. */
  input: FloatArray;
  /** hidden size (last dim of input). */
  hiddenSize: number;
  /**
   * Same element count as input, or fewer: ORT reads skip at (flat offset of the row) mod skip.length,
   * so (1, seq, hidden) / (seq, hidden) skips broadcast over the batch.
   */
  skip: FloatArray;
  /** (hidden). */
  gamma: FloatArray;
  /** Optional (hidden), added to input + skip (input index 3 of the node). */
  bias?: FloatArray;
  /** ORT default 1e-12 (measured: the schema default, unlike SimplifiedLayerNormalization's 1e-5). */
  epsilon?: number;
}

export interface SkipSimplifiedLayerNormalizationResult {
  /** Output 0: RMSNorm(input + skip + bias) · gamma. */
  output: Float64Array;
  /** Output 3 (`input_skip_bias_sum`): input + skip + bias, the residual stream to carry on. */
  inputSkipBiasSum: Float64Array;
  /**
   * 1/sqrt(mean(sum²) + ε) per row. ORT declares it as output 2, but onnxruntime-node 1.29 CPU crashes
   * (SIGSEGV) when output 1 or 2 is requested, so graphs must leave both unnamed.
   */
  invStdVar: Float64Array;
}

/**
 * com.microsoft.SkipSimplifiedLayerNormalization: s = input + skip (+ bias); output = s / sqrt(mean(s²) + ε) · gamma.
 *
 * @example
 * const { output, inputSkipBiasSum } = skipSimplifiedLayerNormalization({ input, skip, gamma, hiddenSize: 64, epsilon: 1e-6 });
 */
export function skipSimplifiedLayerNormalization(a: SkipSimplifiedLayerNormalizationArgs): SkipSimplifiedLayerNormalizationResult {
  const op = 'SkipSimplifiedLayerNormalization';
  const h = a.hiddenSize;
  check(Number.isInteger(h) && h > 0 && a.input.length % h === 0, op, `input length ${a.input.length} is not a multiple of hiddenSize ${h}`);
  check(a.skip.length > 0 && a.skip.length % h === 0 && a.input.length % a.skip.length === 0, op,
    `skip length ${a.skip.length} must be a multiple of hiddenSize ${h} dividing the input length ${a.input.length}`);
  checkLength(a.gamma, h, op, 'gamma', `[${h}]`);
  if (a.bias) checkLength(a.bias, h, op, 'bias', `[${h}]`);
  const rows = a.input.length / h;
  const output = new Float64Array(a.input.length);
  const sum = new Float64Array(a.input.length);
  const invStdVar = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * h;
    const so = o % a.skip.length;
    let ss = 0;
    for (let c = 0; c < h; c++) {
      const v = a.input[o + c] + a.skip[so + c] + (a.bias ? a.bias[c] : 0);
      sum[o + c] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss / h + (a.epsilon ?? 1e-12));
    invStdVar[r] = inv;
    for (let c = 0; c < h; c++) output[o + c] = sum[o + c] * inv * a.gamma[c];
  }
  return { output, inputSkipBiasSum: sum, invStdVar };
}
