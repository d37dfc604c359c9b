// Name/shape predicates over parameters: weight-decay masks, freezing, per-parameter lr scaling.
import type { GradSource, LrScale, NamedParam, ParamFilter, ParamSource } from './types';

/**
 * Names that conventionally get no weight decay: biases, norm weights (`*norm*`, `*ln_*`), and the
 * Mamba parameters the reference marks `_no_weight_decay` (`A_log`, `D`, `dt_bias`).
 */
const NO_DECAY_NAMES = /(^|\.)bias$|norm|(^|\.)ln_|(^|\.)A_log$|(^|\.)D$|(^|\.)dt_bias$/i;

/**
 * Default weight-decay exclusion: 1-D tensors (when the shape is known) and the names above.
 *
 * @example
 * defaultNoDecay('model.layers.0.input_layernorm.weight', [64]); // true
 * defaultNoDecay('model.layers.0.self_attn.q_proj.weight', [64, 64]); // false
 */
export function defaultNoDecay(name: string, shape: readonly number[] | undefined): boolean {
  if (shape !== undefined && shape.length <= 1) return true;
  return NO_DECAY_NAMES.test(name);
}

/**
 * Turn a {@link ParamFilter} into a predicate.
 *
 * @example
 * const frozen = compileParamFilter(['embed_tokens', /\.mlp\./]);
 * frozen('model.embed_tokens.weight', undefined); // true
 */
export function compileParamFilter(filter: ParamFilter): (name: string, shape: readonly number[] | undefined) => boolean {
  if (typeof filter === 'function') return filter;
  if (filter instanceof RegExp) return (name) => testRegExp(filter, name);
  const regexps = filter.map((f) => (typeof f === 'string' ? new RegExp(f) : f));
  return (name) => regexps.some((r) => testRegExp(r, name));
}

// A global/sticky RegExp keeps lastIndex between calls; reset it so the answer does not depend on call order.
function testRegExp(r: RegExp, name: string): boolean {
  r.lastIndex = 0;
  return r.test(name);
}

/** Look up the lr multiplier of one parameter. */
export function lrScaleOf(scale: LrScale | undefined, name: string, shape: readonly number[] | undefined): number {
  if (scale === undefined) return 1;
  if (typeof scale === 'function') return scale(name, shape);
  return Object.prototype.hasOwnProperty.call(scale, name) ? scale[name] : 1;
}

/** Normalise a {@link ParamSource} to a list of named params (no copies of the data). */
export function toNamedParams(params: ParamSource): NamedParam[] {
  if (params instanceof Map) {
    return [...(params as ReadonlyMap<string, Float32Array>).entries()].map(([name, data]) => ({ name, data }));
  }
  return [...(params as Iterable<NamedParam>)];
}

/** Gradient of one parameter from a map or a record, or undefined. */
export function gradOf(grads: GradSource, name: string): Float32Array | undefined {
  if (grads instanceof Map) return (grads as ReadonlyMap<string, Float32Array>).get(name);
  const rec = grads as Readonly<Record<string, Float32Array>>;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}

/** Names present in a gradient source. */
export function gradNames(grads: GradSource): Iterable<string> {
  return grads instanceof Map ? (grads as ReadonlyMap<string, Float32Array>).keys() : Object.keys(grads);
}
