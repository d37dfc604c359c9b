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

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** IEEE float32 → float16 bits, round to nearest even (handles subnormals, inf, nan). */
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** float16 bits → number. */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
