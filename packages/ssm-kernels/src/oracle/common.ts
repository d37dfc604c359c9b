/**
 * Shared plumbing of the oracles: the float array type, the precision rule and argument validation.
 *
 * Precision rule (all oracles): the *primary* input (the one named in each function's doc, e.g. `u` for the Mamba-1
 * scan, `x` for Mamba-2 / conv) decides the mode.
 * - Float64Array → "float64 mode": everything is computed and stored in float64 (use this for gradient checks).
 * - Float32Array → "float32 mode": arithmetic is done in JS doubles, but every *stored* value — outputs and, above all,
 *   the recurrent state after each step — is rounded to float32 by storing it in a Float32Array, as the reference CUDA /
 *   Triton kernels keep an fp32 state. The next step reads the rounded state back.
 * Other float inputs may be either type; they are only read.
 */
import { SsmKernelError } from '../errors';

/** A flat, row-major tensor of 32- or 64-bit floats. */
export type FloatArray = Float32Array | Float64Array;

/** Integer index arrays accepted for counters such as `cacheSeqlens`. */
export type IndexArray = Int32Array | ArrayLike<number>;

/** True when `a` is a Float64Array (float64 mode). */
export function isFloat64(a: FloatArray): a is Float64Array {
  return a instanceof Float64Array;
}

/** A zero-filled array of the same precision as `like`. */
export function allocLike(like: FloatArray, length: number): FloatArray {
  return isFloat64(like) ? new Float64Array(length) : new Float32Array(length);
}

/** A copy of `src` in the precision of `like` (rounding to float32 in float32 mode). */
export function copyLike(like: FloatArray, src: ArrayLike<number>): FloatArray {
  return isFloat64(like) ? Float64Array.from(src) : Float32Array.from(src);
}

/** Checks that a dimension is an integer ≥ `min`. */
export function checkDim(fn: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SsmKernelError(
      'BAD_OPTION',
      `${fn}: option '${name}' must be an integer >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/** Checks that `value` divides `whole` (used for group counts). */
export function checkDivides(fn: string, name: string, value: number, wholeName: string, whole: number): void {
  if (whole % value !== 0) {
    throw new SsmKernelError(
      'BAD_OPTION',
      `${fn}: option '${name}' (${value}) must divide '${wholeName}' (${whole})`,
    );
  }
}

function describeShape(shape: Record<string, number>): string {
  return '(' + Object.entries(shape).map(([k, v]) => `${k}=${v}`).join(', ') + ')';
}

/**
 * Checks that `arr` is a float array holding exactly the product of `shape`'s sizes.
 * `shape` lists the axes in layout order, e.g. `{ b: 2, L: 5, d: 8 }`.
 */
export function checkFloat(fn: string, name: string, arr: unknown, shape: Record<string, number>): FloatArray {
  if (!(arr instanceof Float32Array) && !(arr instanceof Float64Array)) {
    throw new SsmKernelError(
      'BAD_DTYPE',
      `${fn}: tensor '${name}' must be a Float32Array or Float64Array of shape ${describeShape(shape)}`,
    );
  }
  let expected = 1;
  for (const v of Object.values(shape)) expected *= v;
  if (arr.length !== expected) {
    throw new SsmKernelError(
      'BAD_SHAPE',
      `${fn}: tensor '${name}' must hold ${expected} values for shape ${describeShape(shape)}, got ${arr.length}`,
    );
  }
  return arr;
}

/** Like {@link checkFloat} but `undefined` passes through. */
export function checkOptionalFloat(
  fn: string,
  name: string,
  arr: unknown,
  shape: Record<string, number>,
): FloatArray | undefined {
  return arr === undefined ? undefined : checkFloat(fn, name, arr, shape);
}

/** Checks an integer array of length `length` (e.g. `cacheSeqlens`), returning it as plain numbers. */
export function checkIndexArray(fn: string, name: string, arr: unknown, length: number): number[] {
  const ok =
    arr !== null &&
    typeof arr === 'object' &&
    typeof (arr as ArrayLike<number>).length === 'number';
  if (!ok) {
    throw new SsmKernelError('BAD_DTYPE', `${fn}: '${name}' must be an Int32Array or number[] of length ${length}`);
  }
  const a = arr as ArrayLike<number>;
  if (a.length !== length) {
    throw new SsmKernelError('BAD_SHAPE', `${fn}: '${name}' must have length ${length} (batch), got ${a.length}`);
  }
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new SsmKernelError('BAD_DTYPE', `${fn}: '${name}'[${i}] must be an integer, got ${String(v)}`);
    }
    out.push(v);
  }
  return out;
}

/** Checks a boolean option that has no default (a semantic switch the caller must state). */
export function checkBool(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new SsmKernelError('BAD_OPTION', `${fn}: option '${name}' must be true or false, got ${String(value)}`);
  }
  return value;
}
