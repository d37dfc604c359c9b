/**
 * HF `LlamaRMSNorm` on one row: `out = x / sqrt(mean(x²) + eps) * weight`, in float64.
 *
 * @example
 * const out = new Float64Array(4);
 * rmsNormRow(new Float64Array([1, 2, 3, 4]), 0, new Float64Array([1, 1, 1, 1]), 1e-6, out, 0); // x / sqrt(7.5 + 1e-6)
 */
export function rmsNormRow(
  x: Float64Array,
  xOffset: number,
  weight: Float64Array,
  eps: number,
  out: Float64Array,
  outOffset: number,
): void {
  const n = weight.length;
  let sumSq = 0;
  for (let i = 0; i < n; i++) sumSq += x[xOffset + i] * x[xOffset + i];
  const inv = 1 / Math.sqrt(sumSq / n + eps);
  for (let i = 0; i < n; i++) out[outOffset + i] = x[xOffset + i] * inv * weight[i];
}

/**
 * `rmsNormRow` on every row of x `[rows, weight.length]`, into a new array.
 *
 * @example
 * const normed = rmsNormRows(h, batch * len, w.norm, 1e-5); // [batch·len, hidden]
 */
export function rmsNormRows(x: Float64Array, rows: number, weight: Float64Array, eps: number): Float64Array {
  const d = weight.length;
  const out = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) rmsNormRow(x, i * d, weight, eps, out, i * d);
  return out;
}
