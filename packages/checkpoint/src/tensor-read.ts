// Reading one tensor into a typed array, converting on the way. Reads go through two small pooled scratch
// buffers: chunk k+1 is read (in libuv's thread pool) while chunk k is converted on the main thread, so
// conversion overlaps I/O and memory stays at the size of the result plus a few MiB.
import type { ByteSource } from './byte-source';
import { CheckpointError } from './errors';
import { f16ToF32Table, f32BitsToF16 } from '@mil/core';
import { dtypeByteSize, f32ToF16, rawView, toFloat16, toFloat32, type RawTypedArray, type StDtype } from './dtypes';

/** What `read` returns: the stored values ('raw'), float32, or float16 bits (Uint16Array). */
export type ReadAs = 'raw' | 'float32' | 'float16';

export interface ReadOptions {
  /** Output type; default 'raw' (the stored dtype's typed array). */
  as?: ReadAs;
  /** Throw NON_FINITE when a value (after conversion) is NaN or ±Inf. Floating dtypes only. */
  checkFinite?: boolean;
  /**
   * Write into this array instead of allocating one (it must be the output's typed-array type and hold at
   * least as many elements); the result is `out` or its leading subarray. Reusing one buffer for a stream of
   * tensors avoids paying for fresh pages each time.
   */
  out?: RawTypedArray;
}

/** Bytes per pipelined read. */
const CHUNK_BYTES = 2 << 20;
/** Scratch buffers carry one page of slack so a read can land at a chosen offset within a page (below). */
const PAGE = 4096;
const pool: ArrayBuffer[] = [];
function takeScratch(): ArrayBuffer {
  return pool.pop() ?? new ArrayBuffer(CHUNK_BYTES + PAGE);
}
function returnScratch(b: ArrayBuffer): void {
  if (pool.length < 4) pool.push(b);
}

/**
 * Where in the scratch buffer a read from file offset `position` should land. When source (page-cache page)
 * and destination share their offset within a 4 KiB page, the kernel's copy runs into 4K aliasing and is
 * several times slower (measured 4x on the EPYC dev machines). Large buffers start page-aligned, so we put
 * the data half a page away from the file offset's page position (8-byte aligned for every typed view).
 */
function scratchOffset(position: number): number {
  return ((position % PAGE) + PAGE / 2) % PAGE & ~7;
}

/** Converts `count` source elements held in `scratch` from byte `offset` into output elements start..start+count. */
type ChunkConverter = (scratch: ArrayBuffer, offset: number, start: number, count: number) => void;

/** Streams `n` elements of `elementBytes` from `position` through double-buffered scratch chunks. */
async function readChunked(src: ByteSource, position: number, n: number, elementBytes: number, convert: ChunkConverter): Promise<void> {
  if (n === 0) return;
  const per = Math.max(1, Math.floor(CHUNK_BYTES / elementBytes));
  const bufs = [takeScratch(), takeScratch()];
  // every chunk starts at the same offset within a page (CHUNK_BYTES is a multiple of it), so one offset serves all
  const offset = scratchOffset(position);
  const fill = (k: number, start: number): Promise<void> =>
    src.read(position + start * elementBytes, new Uint8Array(bufs[k & 1], offset, Math.min(per, n - start) * elementBytes));
  let pending: Promise<void> | undefined = fill(0, 0);
  try {
    for (let k = 0, start = 0; start < n; k++, start += per) {
      await pending;
      pending = undefined;
      if (start + per < n) pending = fill(k + 1, start + per);
      convert(bufs[k & 1], offset, start, Math.min(per, n - start));
    }
  } finally {
    if (pending) await pending.catch(() => undefined); // never leave a read writing into a pooled buffer
    bufs.forEach(returnScratch);
  }
}

/** Elements widened per step: small enough that the second pass (copyWithin) stays in L1/L2 (measured fastest). */
const WIDEN_PIECE = 1 << 15;

/**
 * bf16 → f32 with native copies only: widen u16 → u32 (value in the low half), then shift every word up by
 * 2 bytes. Runs at memcpy speed for the output, where a JS loop is several times slower.
 */
function bf16ChunkToF32(out: Float32Array): ChunkConverter {
  const w32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const w16 = new Uint16Array(out.buffer, out.byteOffset, 2 * out.length);
  return (scratch, offset, start, count) => {
    const src = new Uint16Array(scratch, offset, count);
    for (let p = 0; p < count; p += WIDEN_PIECE) {
      const m = Math.min(WIDEN_PIECE, count - p);
      const s = start + p;
      w32.set(src.subarray(p, p + m), s);
      // little-endian words [v, 0] → [0, v]: move the piece's halves up one slot, then clear the first
      w16.copyWithin(2 * s + 1, 2 * s, 2 * (s + m) - 1);
      w16[2 * s] = 0;
    }
  };
}

function f16ChunkToF32(out: Float32Array): ChunkConverter {
  const table = f16ToF32Table();
  return (scratch, offset, start, count) => {
    const h = new Uint16Array(scratch, offset, count);
    for (let i = 0; i < count; i++) out[start + i] = table[h[i]];
  };
}

const OUT_TYPE: Record<ReadAs, (dtype: StDtype) => string> = {
  raw: (d) => rawView(d, new ArrayBuffer(0), 0, 0).constructor.name,
  float32: () => 'Float32Array',
  float16: () => 'Uint16Array',
};

function outputArray(as: ReadAs, dtype: StDtype, n: number, out: RawTypedArray | undefined, where: string): RawTypedArray {
  const type = OUT_TYPE[as](dtype);
  if (out === undefined) {
    if (as === 'float32') return new Float32Array(n);
    if (as === 'float16') return new Uint16Array(n);
    return rawView(dtype, new ArrayBuffer(n * dtypeByteSize(dtype)), 0, n);
  }
  if (out.constructor.name !== type || out.length < n) {
    throw new CheckpointError('BAD_OPTION', `${where}: out must be a ${type} of at least ${n} elements, got ${out.constructor.name}(${out.length})`);
  }
  return out.length === n ? out : (out.subarray(0, n) as RawTypedArray);
}

function firstNonFinite(values: RawTypedArray, kind: 'float' | 'f16' | 'bf16'): number {
  if (kind === 'float' && values instanceof Float32Array) {
    // exponent bits all set = NaN or ±Inf; an integer test on the bits is ~2× faster than comparing floats
    const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < u.length; i++) if ((u[i] & 0x7f800000) === 0x7f800000) return i;
    return -1;
  }
  if (kind === 'float') {
    const v = values as Float64Array;
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
export async function readTensor(src: ByteSource, name: string, dtype: StDtype, position: number, n: number, opts: ReadOptions = {}): Promise<RawTypedArray> {
  const as = opts.as ?? 'raw';
  const where = `${src.path}: tensor ${JSON.stringify(name)}`;
  if (as !== 'raw' && as !== 'float32' && as !== 'float16') {
    throw new CheckpointError('UNSUPPORTED_CONVERSION', `${where}: unknown read option as=${JSON.stringify(as)}; expected 'raw', 'float32' or 'float16'`, { path: src.path });
  }
  const result = outputArray(as, dtype, n, opts.out, where);
  const size = dtypeByteSize(dtype);
  const direct = as === 'raw' || (as === 'float32' && dtype === 'F32') || (as === 'float16' && dtype === 'F16');
  const kind = as === 'float32' || (as === 'raw' && (dtype === 'F32' || dtype === 'F64')) ? 'float' : as === 'float16' || dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'int';
  const check = opts.checkFinite === true && kind !== 'int';
  // A converted tensor is checked chunk by chunk right after conversion, while the chunk is still in cache.
  let bad = -1;
  const checked = (convert: ChunkConverter): ChunkConverter =>
    !check
      ? convert
      : (scratch, offset, start, count) => {
          convert(scratch, offset, start, count);
          if (bad < 0) {
            const i = firstNonFinite(result.subarray(start, start + count) as RawTypedArray, kind as 'float' | 'f16' | 'bf16');
            if (i >= 0) bad = start + i;
          }
        };
  if (direct) {
    await src.read(position, new Uint8Array(result.buffer, result.byteOffset, n * size));
  } else if (as === 'float32') {
    const out = result as Float32Array;
    const convert: ChunkConverter =
      dtype === 'BF16'
        ? bf16ChunkToF32(out)
        : dtype === 'F16'
          ? f16ChunkToF32(out)
          : (scratch, offset, start, count) => toFloat32(dtype, rawView(dtype, scratch, offset, count), out.subarray(start, start + count));
    await readChunked(src, position, n, size, checked(convert));
  } else {
    const out = result as Uint16Array;
    const convert: ChunkConverter =
      dtype === 'BF16'
        ? (scratch, offset, start, count) => {
            const h = new Uint16Array(scratch, offset, count);
            for (let i = 0; i < count; i++) out[start + i] = f32BitsToF16(h[i] << 16);
          }
        : dtype === 'F32'
          ? (scratch, offset, start, count) => f32ToF16(new Float32Array(scratch, offset, count), out.subarray(start, start + count))
          : (scratch, offset, start, count) => toFloat16(dtype, rawView(dtype, scratch, offset, count), out.subarray(start, start + count));
    await readChunked(src, position, n, size, checked(convert));
  }

  if (check) {
    const i = direct ? firstNonFinite(result, kind as 'float' | 'f16' | 'bf16') : bad;
    if (i >= 0) {
      const shown = kind === 'float' ? String((result as Float32Array)[i]) : `bits 0x${(result as Uint16Array)[i].toString(16)}`;
      const conv = as === 'raw' || (as === 'float32' && dtype !== 'F64') ? '' : ` after conversion to ${as}`;
      throw new CheckpointError('NON_FINITE', `${where} (${dtype}) has a non-finite value at element ${i} (${shown})${conv}`, { path: src.path });
    }
  }
  return result;
}
