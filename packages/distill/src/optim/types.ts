// Shared types of the typed-array optimizers: how parameters, gradients, filters and state are passed around.

/** A trainable tensor: its HF name, its float32 storage (updated in place) and, when known, its shape. */
export interface NamedParam {
  name: string;
  data: Float32Array;
  /** Used by shape-based rules (e.g. no weight decay on 1-D tensors). Unknown when omitted. */
  shape?: readonly number[];
}

/** Parameters as a name → data map (shapes unknown) or a list of {@link NamedParam}. */
export type ParamSource = ReadonlyMap<string, Float32Array> | Iterable<NamedParam>;

/** Gradients by parameter name. A parameter without a gradient is skipped for that step (as in torch). */
export type GradSource = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;

/**
 * Selects parameters by name (and shape when known).
 * - a RegExp, or a list of RegExps / strings (strings are compiled with `new RegExp(s)`, so a filter can live in JSON);
 * - or a predicate `(name, shape) => boolean`.
 */
export type ParamFilter =
  | RegExp
  | readonly (RegExp | string)[]
  | ((name: string, shape: readonly number[] | undefined) => boolean);

/** Per-parameter learning-rate multipliers: by exact name (missing names get 1) or by a function. */
export type LrScale = Readonly<Record<string, number>> | ((name: string, shape: readonly number[] | undefined) => number);

/**
 * Optimizer state for checkpointing. Tensor keys are `${param}.${slot}`, with torch's slot names:
 * `exp_avg`, `exp_avg_sq`, `step` (AdamW) or `momentum_buffer`, `step` (SGD). `step` is a 1-element
 * float32 tensor, as torch stores it.
 */
export interface OptimizerState {
  kind: 'adamw' | 'sgd';
  /** Number of `step()` calls made so far. */
  step: number;
  tensors: Map<string, Float32Array>;
}

/** What the trainer needs from an optimizer. */
export interface Optimizer {
  readonly kind: OptimizerState['kind'];
  /** Number of `step()` calls made so far. */
  readonly stepCount: number;
  /** Names of the parameters this optimizer updates, in construction order. */
  readonly paramNames: readonly string[];
  /** Base learning rate used when `step()` is called without one. */
  readonly lr: number;
  /** Update every parameter that has a gradient, in place. */
  step(grads: GradSource, lr?: number): void;
  /** State tensors (live views unless `copy` is set: write them out before the next `step()`). */
  state(options?: { copy?: boolean }): OptimizerState;
  /** Restore state produced by `state()`; every expected tensor must be present with the right length. */
  loadState(state: OptimizerState): void;
}
