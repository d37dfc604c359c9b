import { float32ToFloat16Bits } from '@mil/core';
import type { DType } from './onnx/model-spec';
import { GraphError } from './errors';

export type { DType };

export type FloatDType = 'float32' | 'float64' | 'float16';

/** Typed array that holds values of a dtype on the JS side (float16 as raw uint16 bits, bool as uint8). */
export type TypedArrayFor<T extends DType> = T extends 'float32'
  ? Float32Array
  : T extends 'float64'
    ? Float64Array
    : T extends 'int64'
      ? BigInt64Array
      : T extends 'int32'
        ? Int32Array
        : T extends 'float16' | 'bfloat16' | 'uint16'
          ? Uint16Array
          : T extends 'bool' | 'uint8'
            ? Uint8Array
            : T extends 'int8'
              ? Int8Array
              : ArrayBufferView;

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Uint16Array
  | Int16Array
  | Uint8Array
  | Int8Array;

export function isFloat(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float64' || d === 'float16';
}

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  string: 0,
  bool: 1,
  float16: 2,
  float64: 8,
  uint32: 4,
  uint64: 8,
  bfloat16: 2,
};

/** Converts a list of numbers to the typed array used for `dtype` (float16 is converted by rounding to nearest). */
export function typedArrayFrom(dtype: DType, values: ArrayLike<number> | ArrayLike<bigint>): AnyTypedArray {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values as ArrayLike<number>);
    case 'float64':
      return Float64Array.from(values as ArrayLike<number>);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number | bigint);
      return out;
    }
    case 'int32':
      return Int32Array.from(values as ArrayLike<number>);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values as ArrayLike<number>);
    case 'int8':
      return Int8Array.from(values as ArrayLike<number>);
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = float32ToFloat16Bits(Number(values[i]));
      return out;
    }
    default:
      throw new GraphError('BAD_OPTION', `typedArrayFrom: unsupported dtype ${dtype}`);
  }
}

