// Gradient checking against central finite differences, run through onnxruntime in float64.
import { Graph } from '../graph';
import { Tensor } from '../tensor';
import { gradients } from '../autodiff/gradients';
import { mul, reduceSum } from '../ops';
import { Runner } from '../runner';
import { staticSize } from '../shape';
import { mulberry32 } from '@mil/core';

export interface GradCheckInput {
  name: string;
  shape: number[];
  /** Values (float64); random N(0,1)-ish when omitted. */
  data?: Float64Array;
  /** Integer inputs (e.g. indices) are fed but not differentiated. */
  int64?: BigInt64Array;
  /** Keep random values away from zero / positive only (for log, sqrt, pow bases). */
  positive?: boolean;
}

export interface GradCheckResult {
  /** Worst relative error |analytic − numeric| / max(|analytic| + |numeric|, floor) over checked elements. */
  maxRelError: number;
  checked: number;
}

/**
 * Builds `fn` in float64 over the given inputs, takes loss = Σ out ⊙ R (R random), and compares the autodiff
 * gradient of every float input with central differences of the loss.
 *
 * @example
 * const r = await gradCheck([{ name: 'x', shape: [2, 3] }], ([x]) => exp(x));
 * expect(r.maxRelError).toBeLessThan(1e-6);
 */
export async function gradCheck(
  inputs: GradCheckInput[],
  fn: (xs: Tensor[], g: Graph) => Tensor,
  opts: { seed?: number; eps?: number; maxPerInput?: number; dtype?: 'float64' | 'float32' } = {},
): Promise<GradCheckResult> {
  const rand = mulberry32(opts.seed ?? 1);
  const g = new Graph('gradcheck');
  // float32 mode is for ops onnxruntime's CPU provider implements only in float32 (Conv, ConvTranspose).
  const dtype = opts.dtype ?? 'float64';
  const xs = inputs.map((i) => g.input(i.name, i.int64 ? 'int64' : dtype, i.shape));
  const out = fn(xs, g);
  const outSize = staticSize(out.shape);
  if (outSize === undefined) throw new Error('gradCheck: output shape must be static');
  const r = new Float64Array(outSize).map(() => rand() * 2 - 1);
  const loss = reduceSum(mul(out, g.constant(dtype === 'float64' ? r : Float32Array.from(r), dtype, out.shape as number[])));
  const wrt = xs.filter((_, i) => !inputs[i].int64);
  const grads = gradients(loss, wrt);
  const outputs: Record<string, Tensor> = { loss };
  wrt.forEach((t) => (outputs[`grad_${t.name}`] = grads.get(t)!));
  // 'basic': the extended fusions (e.g. x·sigmoid(x) → QuickGelu) have float32-only kernels.
  const runGrad = await Runner.create(g.toModel({ outputs }), { threads: 1, optimization: 'basic' });
  const runLoss = await Runner.create(g.toModel({ outputs: { loss } }), { threads: 1, optimization: 'basic' });
  const data = inputs.map((i) => {
    if (i.int64) return i.int64;
    if (i.data) return i.data;
    const n = staticSize(i.shape)!;
    const v = new Float64Array(n).map(() => (i.positive ? 0.5 + rand() * 1.5 : (rand() * 2 - 1) * 1.5));
    return dtype === 'float64' ? v : Float32Array.from(v);
  });
  const feeds = () => Object.fromEntries(inputs.map((i, k) => [i.name, { data: data[k], dims: i.shape }]));
  const analytic = await runGrad.run(feeds());
  const eps = opts.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  let worst = 0;
  let checked = 0;
  for (let k = 0; k < inputs.length; k++) {
    if (inputs[k].int64) continue;
    const x = data[k] as Float64Array | Float32Array;
    const ga = analytic[`grad_${inputs[k].name}`].data as Float64Array | Float32Array;
    const picks = x.length <= (opts.maxPerInput ?? 40) ? [...x.keys()] : Array.from({ length: opts.maxPerInput ?? 40 }, () => Math.floor(rand() * x.length));
    for (const j of picks) {
      const orig = x[j];
      x[j] = orig + eps;
      const xp = x[j];
      const lp = (await runLoss.run(feeds())).loss.data[0] as number;
      x[j] = orig - eps;
      const xm = x[j];
      const lm = (await runLoss.run(feeds())).loss.data[0] as number;
      x[j] = orig;
      // Divide by the step actually taken (float32 rounds x ± eps).
      const num = (lp - lm) / (xp - xm);
      const err = Math.abs(ga[j] - num) / Math.max(Math.abs(ga[j]) + Math.abs(num), 1e-6);
      worst = Math.max(worst, err);
      checked++;
    }
  }
  await runGrad.release();
  await runLoss.release();
  return { maxRelError: worst, checked };
}
