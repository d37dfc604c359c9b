// Validation of the tensors handed to the writer, and the one convenience conversion it offers
// (Float32Array values written as BF16 / F16).
import { CheckpointError } from './errors';
import { dtypeByteSize, f32ToBf16, f32ToF16, isStDtype, type StDtype } from './dtypes';

/** Tensor data, or a function that produces it just before it is written (keeps memory to one tensor). */
export type TensorData = ArrayBufferView | (() => ArrayBufferView | Promise<ArrayBufferView>);

/** One tensor to write. For BF16 / F16, a Float32Array of values is rounded (nearest even) on the way. */
export interface TensorToWrite {
  dtype: StDtype;
  shape: readonly number[];
  data: TensorData;
}

export type TensorsToWrite = Record<string, TensorToWrite> | Map<string, TensorToWrite> | Iterable<readonly [string, TensorToWrite]>;

/** A validated tensor with its stored size known before its data is produced. */
export interface PlannedTensor {
  readonly name: string;
  readonly dtype: StDtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly data: TensorData;
}

function isIterable(x: unknown): x is Iterable<readonly [string, TensorToWrite]> {
  return typeof (x as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] === 'function';
}

/** Checks names, dtypes and shapes; keeps the caller's order. */
export function planTensors(tensors: TensorsToWrite, target: string): PlannedTensor[] {
  const pairs: Iterable<readonly [string, TensorToWrite]> =
    tensors instanceof Map || isIterable(tensors) ? (tensors as Iterable<readonly [string, TensorToWrite]>) : Object.entries(tensors);
  const out: PlannedTensor[] = [];
  const seen = new Set<string>();
  for (const [name, t] of pairs) {
    const q = JSON.stringify(name);
    const bad = (msg: string): never => {
      throw new CheckpointError('BAD_TENSOR', `writing ${target}: tensor ${q}: ${msg}`, { path: target });
    };
    if (typeof name !== 'string') bad('tensor names must be strings');
    if (name === '__metadata__') bad('"__metadata__" is reserved for the metadata block');
    if (seen.has(name)) throw new CheckpointError('DUPLICATE_TENSOR', `writing ${target}: tensor ${q} given twice`, { path: target });
    seen.add(name);
    if (typeof t !== 'object' || t === null) bad('expected {dtype, shape, data}');
    if (!isStDtype(t.dtype)) {
      throw new CheckpointError('UNKNOWN_DTYPE', `writing ${target}: tensor ${q} has dtype ${JSON.stringify(t.dtype)}; expected one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL`, { path: target });
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad('shape must be an array of non-negative integers');
    let elements = 1;
    for (const d of t.shape) elements *= d;
    const byteLength = elements * dtypeByteSize(t.dtype);
    if (!Number.isSafeInteger(byteLength)) bad(`shape [${t.shape.join(', ')}] is too large`);
    if (typeof t.data !== 'function' && !ArrayBuffer.isView(t.data)) bad('data must be a typed array, a DataView, or a function returning one');
    if (typeof t.data !== 'function') checkData(name, t.dtype, t.shape, byteLength, t.data, target);
    out.push({ name, dtype: t.dtype, shape: [...t.shape], byteLength, data: t.data });
  }
  return out;
}

/** The bytes to store for `data`, after the Float32Array → BF16/F16 conversion where it applies. */
export function checkData(name: string, dtype: StDtype, shape: readonly number[], byteLength: number, data: ArrayBufferView, target: string): Uint8Array {
  if (!ArrayBuffer.isView(data)) {
    throw new CheckpointError('BAD_TENSOR', `writing ${target}: tensor ${JSON.stringify(name)}: data must be a typed array or DataView`, { path: target });
  }
  let bytes: Uint8Array;
  if ((dtype === 'BF16' || dtype === 'F16') && data instanceof Float32Array) {
    if (data.length !== byteLength / 2) {
      throw new CheckpointError('SIZE_MISMATCH', `writing ${target}: tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] has ${byteLength / 2} elements but the Float32Array to convert to ${dtype} has ${data.length}`, { path: target });
    }
    const half = dtype === 'BF16' ? f32ToBf16(data) : f32ToF16(data);
    bytes = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
  } else {
    bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (bytes.length !== byteLength) {
    throw new CheckpointError('SIZE_MISMATCH', `writing ${target}: tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] × ${dtype} needs ${byteLength} bytes but data has ${bytes.length}`, { path: target });
  }
  return bytes;
}
