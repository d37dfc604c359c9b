// safetensors dtypes, their sizes and typed-array views, and the float16 / bfloat16 bit conversions.
// Float16 and bfloat16 values travel as Uint16Array of raw bits: Node 20 has no Float16Array.

import { f16ToF32Table, f32BitsToF16 } from '@mil/core';
import { CheckpointError } from './errors';

/** The safetensors dtypes this package reads and writes. */
export type StDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** All supported dtypes, in the order the Rust `safetensors` writer places them (largest alignment first). */
export const ST_DTYPES: readonly StDtype[] = ['I64', 'F64', 'F32', 'I32', 'BF16', 'F16', 'I16', 'I8', 'U8', 'BOOL'];

const BYTES: Record<StDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The typed array that holds a dtype's raw values (F16/BF16 as bits, BOOL as 0/1 bytes). */
export interface RawArrayOf {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}
export type RawTypedArray = RawArrayOf[StDtype];

type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => RawTypedArray;
const VIEW: Record<StDtype, ViewCtor> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

/**
 * True when `x` names a dtype this package supports.
 * @example isStDtype('BF16') // true; isStDtype('F8_E4M3') // false
 */
export function isStDtype(x: unknown): x is StDtype {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(BYTES, x);
}

/**
 * Bytes per element of a dtype.
 * @example dtypeByteSize('BF16') // 2
 */
export function dtypeByteSize(dtype: StDtype): number {
  return BYTES[dtype];
}

/**
 * A typed-array view of `length` elements of `dtype` over `buffer` (no copy; `byteOffset` must be aligned).
 * @example const w = rawView('BF16', buf, 0, 8) as Uint16Array;
 */
export function rawView<D extends StDtype>(dtype: D, buffer: ArrayBufferLike, byteOffset: number, length: number): RawArrayOf[D] {
  return new VIEW[dtype](buffer, byteOffset, length) as RawArrayOf[D];
}

function checkOut<T extends { length: number }>(out: T | undefined, n: number, make: (n: number) => T, fn: string): T {
  if (out === undefined) return make(n);
  if (out.length !== n) throw new CheckpointError('BAD_OPTION', `${fn}: out has ${out.length} elements, expected ${n}`);
  return out;
}

/**
 * bfloat16 bits → float32 (exact: a bf16 is the top half of a float32).
 * @example bf16ToF32(new Uint16Array([0x3f80, 0xc000])) // Float32Array [1, -2]
 */
export function bf16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Float32Array(k), 'bf16ToF32');
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, n);
  for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
  return dst;
}

/**
 * float32 → bfloat16 bits, rounding to nearest even (as PyTorch does); every NaN becomes 0x7fc0.
 * @example f32ToBf16(new Float32Array([1, 3.14159])) // Uint16Array [0x3f80, 0x4049]
 */
export function f32ToBf16(src: Float32Array, out?: Uint16Array): Uint16Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Uint16Array(k), 'f32ToBf16');
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const u = bits[i];
    // (u + 0x7fff + lsb) >>> 16 is round-half-to-even on the dropped 16 bits; overflow carries into Inf.
    dst[i] = (u & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return dst;
}

/**
 * IEEE float16 bits → float32 (exact).
 * @example f16ToF32(new Uint16Array([0x3c00, 0x0001])) // Float32Array [1, 5.96e-8]
 */
export function f16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Float32Array(k), 'f16ToF32');
  const table = f16ToF32Table();
  for (let i = 0; i < n; i++) dst[i] = table[src[i]];
  return dst;
}

/**
 * float32 → IEEE float16 bits, rounding to nearest even; overflow gives ±Inf, subnormals are kept.
 * @example f32ToF16(new Float32Array([1, 65520])) // Uint16Array [0x3c00, 0x7c00]
 */
export function f32ToF16(src: Float32Array, out?: Uint16Array): Uint16Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Uint16Array(k), 'f32ToF16');
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) dst[i] = f32BitsToF16(bits[i]);
  return dst;
}

/**
 * Any raw tensor array → float32 (integers and BOOL by value, F64 rounded, I64 via Number).
 * @example toFloat32('BF16', new Uint16Array([0x3f80])) // Float32Array [1]
 */
export function toFloat32(dtype: StDtype, raw: RawTypedArray, out?: Float32Array): Float32Array {
  switch (dtype) {
    case 'BF16':
      return bf16ToF32(raw as Uint16Array, out);
    case 'F16':
      return f16ToF32(raw as Uint16Array, out);
    case 'I64': {
      const src = raw as BigInt64Array;
      const dst = checkOut(out, src.length, (k) => new Float32Array(k), 'toFloat32');
      for (let i = 0; i < src.length; i++) dst[i] = Number(src[i]);
      return dst;
    }
    default: {
      const src = raw as Exclude<RawTypedArray, BigInt64Array>;
      const dst = checkOut(out, src.length, (k) => new Float32Array(k), 'toFloat32');
      dst.set(src);
      return dst;
    }
  }
}

/**
 * Any raw tensor array → float16 bits (BF16/F32/F64 rounded to nearest even; F16 copied).
 * @example toFloat16('F32', new Float32Array([0.5])) // Uint16Array [0x3800]
 */
export function toFloat16(dtype: StDtype, raw: RawTypedArray, out?: Uint16Array): Uint16Array {
  if (dtype === 'F16') {
    const dst = checkOut(out, raw.length, (k) => new Uint16Array(k), 'toFloat16');
    dst.set(raw as Uint16Array);
    return dst;
  }
  if (dtype === 'F32') return f32ToF16(raw as Float32Array, out);
  // Everything else goes through float32 in bounded pieces; F64 → F32 → F16 can double-round, which only
  // matters for values within 2^-29 relative of an f16 rounding boundary.
  const n = raw.length;
  const dst = checkOut(out, n, (k) => new Uint16Array(k), 'toFloat16');
  const piece = 1 << 16;
  const tmp = new Float32Array(Math.min(piece, n));
  for (let start = 0; start < n; start += piece) {
    const end = Math.min(n, start + piece);
    const part = tmp.subarray(0, end - start);
    toFloat32(dtype, raw.subarray(start, end) as RawTypedArray, part);
    f32ToF16(part, dst.subarray(start, end));
  }
  return dst;
}
