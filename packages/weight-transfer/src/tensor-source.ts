// Reading named tensors out of a weight map, with errors that say which tensor and which checkpoint.
import { WeightTransferError } from './errors';

/** Number of values of a shape. */
function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameters by their Hugging Face names (float32, row-major, flat). */
export type WeightMap = ReadonlyMap<string, Float32Array>;

/** The tensor `name` of `weights`, checked to hold `shape`'s number of values. @internal */
export function requireTensor(weights: WeightMap, name: string, shape: readonly number[], owner: string): Float32Array {
  const w = weights.get(name);
  const expected = numel(shape);
  if (w === undefined) {
    throw new WeightTransferError('MISSING_TENSOR', `${owner} tensor ${name} is missing (expected shape [${shape.join(', ')}])`, { tensor: name });
  }
  if (!(w instanceof Float32Array)) {
    throw new WeightTransferError('BAD_TENSOR_SHAPE', `${owner} tensor ${name}: expected a Float32Array, got ${Object.prototype.toString.call(w)}`, { tensor: name });
  }
  if (w.length !== expected) {
    throw new WeightTransferError(
      'BAD_TENSOR_SHAPE',
      `${owner} tensor ${name}: expected shape [${shape.join(', ')}] (${expected} values), got ${w.length} values`,
      { tensor: name },
    );
  }
  return w;
}

/** A bit-exact copy of `w`, or `w` itself when the caller asked to share unchanged tensors. @internal */
export function copyOrShare(w: Float32Array, share: boolean): Float32Array {
  return share ? w : w.slice();
}
