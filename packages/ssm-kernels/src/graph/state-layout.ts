/**
 * Mamba-2 state layouts at a graph's boundary. 'hpn' (b, h, p, n) is the oracle / reference-kernel layout
 * (`ssm_state`); 'hnp' (b, h, n, p) is what ORT's LinearAttention reads and writes, so graphs that take and
 * return it need no transposes (two fewer full passes over the state per decode step).
 */
import { type Tensor, transpose } from '@mil/graph';
import { SsmKernelError } from '../errors';

/** Layout of Mamba-2 state tensors crossing a graph boundary. */
export type Mamba2StateLayout = 'hpn' | 'hnp';

/** Validates a layout option (default 'hpn'). */
export function checkLayout(fn: string, layout: unknown): Mamba2StateLayout {
  const l = layout ?? 'hpn';
  if (l !== 'hpn' && l !== 'hnp') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option 'stateLayout' must be 'hpn' or 'hnp', got ${String(layout)}`);
  }
  return l;
}

/** State in `layout` → ORT's (b, h, n, p). */
export function toNative(state: Tensor, layout: Mamba2StateLayout): Tensor {
  return layout === 'hpn' ? transpose(state, [0, 1, 3, 2]) : state;
}

/** ORT's (b, h, n, p) → `layout`. */
export function fromNative(state: Tensor, layout: Mamba2StateLayout): Tensor {
  return layout === 'hpn' ? transpose(state, [0, 1, 3, 2]) : state;
}

/** Expected dims of a Mamba-2 state in `layout`. */
export function stateDims(layout: Mamba2StateLayout, b: number | string, h: number, p: number, n: number): (number | string)[] {
  return layout === 'hpn' ? [b, h, p, n] : [b, h, n, p];
}
