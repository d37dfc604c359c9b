// AdamW over Float32Array parameters, with torch.optim.AdamW's update equations, fused into one loop per tensor.
import { DistillError } from '../errors';
import { buildEntries, checkGradNames, checkLr, entryGrad, type ParamEntry } from './param-entries';
import { collectState, restoreState, type ParamSlots } from './slot-state';
import type { GradSource, LrScale, Optimizer, OptimizerState, ParamFilter, ParamSource } from './types';

export interface AdamWOptions {
  /** Base learning rate (default 1e-3). */
  lr?: number;
  /** (β1, β2), default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to √v̂ (outside the square root, as torch), default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ: p ← p·(1 − lr·λ) before the Adam update. Default 0.01 (torch). 0 gives plain Adam. */
  weightDecay?: number;
  /** Parameters that get no weight decay. Default {@link defaultNoDecay}: 1-D tensors, biases, norms, A_log/D/dt_bias. */
  noDecay?: ParamFilter;
  /** Per-parameter lr multipliers (applied to the decay too, as a torch param group with its own lr). */
  lrScale?: LrScale;
}

interface AdamSlots extends ParamEntry {
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/**
 * AdamW (Loshchilov & Hutter) with torch semantics: per parameter, t ← t+1,
 * p ← p·(1 − lr·λ), m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε).
 * State is allocated once at construction; `step()` allocates nothing.
 *
 * @example
 * const w = new Float32Array([0.5, -0.2]);
 * const opt = new AdamW([{ name: 'w', data: w, shape: [1, 2] }], { lr: 1e-3, betas: [0.9, 0.98], weightDecay: 0 });
 * opt.step(new Map([['w', new Float32Array([0.1, -0.3])]]));
 */
export class AdamW implements Optimizer {
  readonly kind = 'adamw' as const;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly paramNames: readonly string[];
  #stepCount = 0;
  readonly #slots: AdamSlots[];
  readonly #byName: Map<string, AdamSlots>;

  constructor(params: ParamSource, options: AdamWOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01 } = options;
    checkLr(lr, 'AdamW');
    const [b1, b2] = betas;
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) {
      throw new DistillError('BAD_OPTION', `AdamW: betas must be in [0, 1), got [${b1}, ${b2}]`);
    }
    if (!(eps >= 0)) throw new DistillError('BAD_OPTION', `AdamW: eps must be >= 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw new DistillError('BAD_OPTION', `AdamW: weightDecay must be >= 0, got ${weightDecay}`);
    this.lr = lr;
    this.beta1 = b1;
    this.beta2 = b2;
    this.eps = eps;
    this.#slots = buildEntries(params, { weightDecay, noDecay: options.noDecay, lrScale: options.lrScale }, 'AdamW').map(
      (e) => ({ ...e, expAvg: new Float32Array(e.data.length), expAvgSq: new Float32Array(e.data.length) }),
    );
    this.#byName = new Map(this.#slots.map((s) => [s.name, s]));
    this.paramNames = this.#slots.map((s) => s.name);
  }

  get stepCount(): number {
    return this.#stepCount;
  }

  /** Weight decay applied to `name` after masking (0 for masked-out parameters). */
  weightDecayOf(name: string): number {
    return this.#entry(name).weightDecay;
  }

  /** Update all parameters that have a gradient, in place, with learning rate `lr` (default: the base lr). */
  step(grads: GradSource, lr: number = this.lr): void {
    checkLr(lr, 'AdamW.step');
    checkGradNames(grads, this.#byName, 'AdamW');
    const b1 = this.beta1;
    const b2 = this.beta2;
    const eps = this.eps;
    const slots = this.#slots;
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k];
      const g = entryGrad(grads, s, 'AdamW');
      if (g === undefined) continue;
      s.step[0] += 1;
      const t = s.step[0];
      const plr = lr * s.lrScale;
      // Bias corrections in double precision, as torch computes them on Python floats.
      const stepSize = plr / (1 - Math.pow(b1, t));
      const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
      const decay = 1 - plr * s.weightDecay;
      adamwKernel(s.data, g, s.expAvg, s.expAvgSq, b1, b2, eps, stepSize, bc2Sqrt, decay);
    }
    this.#stepCount++;
  }

  state(options: { copy?: boolean } = {}): OptimizerState {
    return collectState('adamw', this.#stepCount, this.#slots.map(slotsOf), options.copy === true);
  }

  loadState(state: OptimizerState): void {
    this.#stepCount = restoreState(state, 'adamw', 'AdamW', this.#slots.map(slotsOf));
  }

  #entry(name: string): AdamSlots {
    const e = this.#byName.get(name);
    if (e === undefined) throw new DistillError('UNKNOWN_TENSOR', `AdamW: no parameter named '${name}'`);
    return e;
  }
}

/** torch's AdamW state names: exp_avg, exp_avg_sq, step. */
function slotsOf(s: AdamSlots): ParamSlots {
  return { name: s.name, buffers: [['exp_avg', s.expAvg], ['exp_avg_sq', s.expAvgSq], ['step', s.step]] };
}

// One pass over the tensor: decay, both moments and the parameter update. Kept monomorphic (Float32Array only)
// so V8 compiles a tight loop; the only division left per element is the one by the denominator.
function adamwKernel(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  b1: number,
  b2: number,
  eps: number,
  stepSize: number,
  bc2Sqrt: number,
  decay: number,
): void {
  const a1 = 1 - b1;
  const a2 = 1 - b2;
  const invBc2Sqrt = 1 / bc2Sqrt;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = b1 * m[i] + a1 * gi;
    const vi = b2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
  }
}
