// Reading one tensor's bytes into a freshly allocated typed array, converting on the way. Memory stays at
// the size of the result: half-precision → float32 reads the source into the upper half of the output
// buffer and widens it in place, chunk by chunk, while the next chunk is being read.
import type { ByteSource } from './byte-source';
import { CheckpointError } from './errors';
import {
  f16ToF32Table,
  f32BitsToF16,
  f32ToF16,
  rawView,
  toFloat16,
  toFloat32,
  dtypeByteSize,
  type RawTypedArray,
  type StDtype,
} from './dtypes';

/** What `read` returns: the stored values ('raw'), float32, or float16 bits (Uint16Array). */
export type ReadAs = 'raw' | 'float32' | 'float16';

export interface ReadOptions {
  /** Output type; default 'raw' (the stored dtype's typed array). */
  as?: ReadAs;
  /** Throw NON_FINITE when a value (after conversion) is NaN or ±Inf. Floating dtypes only. */
  checkFinite?: boolean;
}

/** Elements per pipelined chunk: 4 Mi half-precision values = 8 MiB read per step. */
const CHUNK_ELEMENTS = 1 << 22;

async function readHalfAsF32(src: ByteSource, position: number, n: number, bf16: boolean): Promise<Float32Array> {
  const out = new Float32Array(n);
  const bytes = new Uint8Array(out.buffer);
  const half = new Uint16Array(out.buffer);
  const bits = new Uint32Array(out.buffer);
  // Source element i sits at half[n + i] (bytes 2n + 2i). Widening element i writes bytes 4i..4i+3, which is
  // below every source element not yet widened, so in place is safe, and so is the read running ahead.
  let pending = src.read(position, bytes.subarray(2 * n, 2 * n + 2 * Math.min(CHUNK_ELEMENTS, n)));
  const table = bf16 ? undefined : f16ToF32Table();
  for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
    const end = Math.min(n, start + CHUNK_ELEMENTS);
    await pending;
    if (end < n) {
      const next = Math.min(n, end + CHUNK_ELEMENTS);
      pending = src.read(position + 2 * end, bytes.subarray(2 * n + 2 * end, 2 * n + 2 * next));
    }
    if (table === undefined) {
      for (let i = start; i < end; i++) bits[i] = half[n + i] << 16;
    } else {
      for (let i = start; i < end; i++) out[i] = table[half[n + i]];
    }
  }
  return out;
}

async function readRaw(src: ByteSource, dtype: StDtype, position: number, n: number): Promise<RawTypedArray> {
  const buffer = new ArrayBuffer(n * dtypeByteSize(dtype));
  await src.read(position, new Uint8Array(buffer));
  return rawView(dtype, buffer, 0, n);
}

/** Reads a tensor in bounded chunks into a scratch buffer and converts each chunk into `out`. */
async function readConverted<T extends Float32Array | Uint16Array>(
  src: ByteSource,
  dtype: StDtype,
  position: number,
  n: number,
  out: T,
  convert: (dtype: StDtype, raw: RawTypedArray, out: T) => unknown,
): Promise<T> {
  const size = dtypeByteSize(dtype);
  const chunk = Math.max(1, Math.min(n, Math.floor((8 << 20) / size)));
  const scratch = new ArrayBuffer(chunk * size);
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    await src.read(position + start * size, new Uint8Array(scratch, 0, count * size));
    convert(dtype, rawView(dtype, scratch, 0, count), out.subarray(start, start + count) as T);
  }
  return out;
}

function firstNonFinite(values: RawTypedArray, kind: 'float' | 'f16' | 'bf16'): number {
  if (kind === 'float') {
    const v = values as Float32Array | Float64Array;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== x || x === Infinity || x === -Infinity) return i;
    }
    return -1;
  }
  const v = values as Uint16Array;
  const mask = kind === 'f16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < v.length; i++) if ((v[i] & mask) === mask) return i;
  return -1;
}

/** Reads one tensor (`n` elements of `dtype` at absolute `position`) and converts it as asked. */
export async function readTensor(
  src: ByteSource,
  name: string,
  dtype: StDtype,
  position: number,
  n: number,
  opts: ReadOptions = {},
): Promise<RawTypedArray> {
  const as = opts.as ?? 'raw';
  let result: RawTypedArray;
  let kind: 'float' | 'f16' | 'bf16' | 'int';
  if (as === 'raw') {
    result = await readRaw(src, dtype, position, n);
    kind = dtype === 'F32' || dtype === 'F64' ? 'float' : dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'int';
  } else if (as === 'float32') {
    if (dtype === 'F32') result = await readRaw(src, dtype, position, n);
    else if (dtype === 'BF16' || dtype === 'F16') result = await readHalfAsF32(src, position, n, dtype === 'BF16');
    else result = await readConverted(src, dtype, position, n, new Float32Array(n), toFloat32);
    kind = 'float';
  } else if (as === 'float16') {
    if (dtype === 'F16') result = await readRaw(src, dtype, position, n);
    else if (dtype === 'BF16') {
      const out = (await readRaw(src, dtype, position, n)) as Uint16Array;
      for (let i = 0; i < n; i++) out[i] = f32BitsToF16(out[i] << 16);
      result = out;
    } else if (dtype === 'F32') {
      result = await readConverted(src, dtype, position, n, new Uint16Array(n), (_d, raw, out) => f32ToF16(raw as Float32Array, out));
    } else result = await readConverted(src, dtype, position, n, new Uint16Array(n), toFloat16);
    kind = 'f16';
  } else {
    throw new CheckpointError('UNSUPPORTED_CONVERSION', `${src.path}: tensor ${JSON.stringify(name)}: unknown read option as=${JSON.stringify(as)}; expected 'raw', 'float32' or 'float16'`, { path: src.path });
  }
  if (opts.checkFinite && kind !== 'int') {
    const i = firstNonFinite(result, kind);
    if (i >= 0) {
      const shown = kind === 'float' ? String((result as Float32Array)[i]) : `bits 0x${(result as Uint16Array)[i].toString(16)}`;
      const conv = as === 'raw' || (as === 'float32' && dtype !== 'F64') ? '' : ` after conversion to ${as}`;
      throw new CheckpointError('NON_FINITE', `${src.path}: tensor ${JSON.stringify(name)} (${dtype}) has a non-finite value at element ${i} (${shown})${conv}`, { path: src.path });
    }
  }
  return result;
}

