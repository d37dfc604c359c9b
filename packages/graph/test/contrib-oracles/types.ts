// Shared input types and argument checks of the contrib-op oracles.

import { GraphError } from '../../src/errors';

/** Float data accepted by the oracles (row-major, shapes passed explicitly). */
export type FloatArray = Float32Array | Float64Array;

/** Integer data accepted for ids / lengths. */
export type IntArray = Int32Array | BigInt64Array | readonly number[] | readonly bigint[];

/** Throws a GraphError('BAD_OPTION') naming the oracle and the offending argument. */
export function check(cond: boolean, op: string, message: string): asserts cond {
  if (!cond) throw new GraphError('BAD_OPTION', `${op} oracle: ${message}`);
}

/** Checks that `data` holds exactly `expected` elements. */
export function checkLength(data: ArrayLike<unknown>, expected: number, op: string, name: string, shape: string): void {
  check(data.length === expected, op, `'${name}' has ${data.length} elements, expected ${expected} for shape ${shape}`);
}

/** Reads an id / length as a JS number. */
export function intAt(a: IntArray, i: number): number {
  return Number(a[i]);
}

/** SiLU (x·sigmoid(x)), computed in double. */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}
