// Saving and restoring an optimizer's per-parameter buffers (`{param}.{slot}` tensors, torch's state_dict names).
import { DistillError } from '../errors';
import type { OptimizerState } from './types';

/** One parameter's state buffers, by slot name, in the order they are saved (e.g. exp_avg, exp_avg_sq, step). */
export interface ParamSlots {
  name: string;
  buffers: readonly (readonly [slot: string, buffer: Float32Array])[];
}

/**
 * `Optimizer.state()`: every buffer as `{param}.{slot}`, live views unless `copy`.
 *
 * @example
 * collectState('sgd', 3, [{ name: 'w', buffers: [['step', step]] }], true).tensors.get('w.step');
 */
export function collectState(kind: OptimizerState['kind'], step: number, params: readonly ParamSlots[], copy: boolean): OptimizerState {
  const tensors = new Map<string, Float32Array>();
  for (const p of params) for (const [slot, b] of p.buffers) tensors.set(`${p.name}.${slot}`, copy ? b.slice() : b);
  return { kind, step, tensors };
}

/**
 * `Optimizer.loadState()`: checks the kind, the step count and every tensor (no extra, none missing, right length)
 * before writing any buffer, so a bad state leaves the optimizer untouched. Returns the step count.
 *
 * @example
 * this.#stepCount = restoreState(state, 'sgd', 'SGD', this.#slots.map((s) => ({ name: s.name, buffers: [['step', s.step]] })));
 */
export function restoreState(state: OptimizerState, kind: OptimizerState['kind'], who: string, params: readonly ParamSlots[]): number {
  if (state.kind !== kind) {
    throw new DistillError('BAD_OPTION', `${who}.loadState: state is for optimizer '${state.kind}', expected '${kind}'`);
  }
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new DistillError('BAD_OPTION', `${who}.loadState: step must be an integer >= 0, got ${state.step}`);
  }
  const expected = new Set<string>();
  for (const p of params) for (const [slot] of p.buffers) expected.add(`${p.name}.${slot}`);
  checkNoExtraSlots(state.tensors, expected, who);
  const scratch = params.map((p) => p.buffers.map(([, b]) => new Float32Array(b.length)));
  params.forEach((p, i) => p.buffers.forEach(([slot], j) => loadSlot(state.tensors, `${p.name}.${slot}`, scratch[i][j], who)));
  params.forEach((p, i) => p.buffers.forEach(([, b], j) => b.set(scratch[i][j])));
  return state.step;
}

/** Copy `src` into `dst` after checking the state tensor exists and has the right length. */
function loadSlot(tensors: ReadonlyMap<string, Float32Array>, key: string, dst: Float32Array, who: string): void {
  const src = tensors.get(key);
  if (src === undefined) throw new DistillError('BAD_OPTION', `${who}.loadState: state tensor '${key}' is missing`);
  if (!(src instanceof Float32Array) || src.length !== dst.length) {
    throw new DistillError(
      'BAD_OPTION',
      `${who}.loadState: state tensor '${key}' should be a Float32Array of ${dst.length} elements, got ${describe(src)}`,
    );
  }
  dst.set(src);
}

/** Reject state tensors nobody asked for (state from a different parameter set). */
function checkNoExtraSlots(tensors: ReadonlyMap<string, Float32Array>, expected: ReadonlySet<string>, who: string): void {
  for (const key of tensors.keys()) {
    if (!expected.has(key)) {
      throw new DistillError('BAD_OPTION', `${who}.loadState: state tensor '${key}' matches no parameter of this optimizer`);
    }
  }
}

function describe(x: unknown): string {
  if (ArrayBuffer.isView(x)) return `${x.constructor.name} of ${(x as Float32Array).length} elements`;
  return typeof x;
}
