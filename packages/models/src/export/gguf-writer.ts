// The GGUF container (version 3) that llama.cpp reads: header, typed key/value metadata, tensor infos, aligned data.
// Layout, in order: magic "GGUF", u32 version, u64 tensor count, u64 metadata count; each metadata entry as
// (string key, u32 value type, value); each tensor as (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type,
// u64 offset into the data section); padding to `general.alignment`; the tensor data, each tensor aligned.
// Strings are u64 byte length + UTF-8 bytes. All numbers little-endian.
import { ModelsError } from '../errors';

/** GGUF metadata value types (gguf_type). */
export const GGUF_VALUE_TYPE = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
} as const;

type Scalar = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'bool' | 'uint64' | 'int64' | 'float64';

/** A typed metadata value; arrays hold one element type. */
export type GgufValue =
  | { type: Scalar; value: number | bigint | boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: Scalar | 'string'; value: readonly (number | bigint | boolean | string)[] };

/** ggml tensor types this writer stores (ggml_type codes). */
export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = keyof typeof GGML_TYPE;

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the fastest-varying (a row-major [out, in] matrix is ne = [in, out]). */
  ne: readonly number[];
  type: GgmlType;
  /** Encoded bytes (see gguf-quant.ts for F16 and Q8_0). */
  data: Uint8Array;
}

export interface GgufFile {
  metadata: readonly (readonly [string, GgufValue])[];
  tensors: readonly GgufTensor[];
  /** Data alignment in bytes (default 32, llama.cpp's GGUF_DEFAULT_ALIGNMENT; written as general.alignment when not 32). */
  alignment?: number;
}

/** Bytes per (block size, block bytes) of each type: F32 (1, 4), F16 (1, 2), Q8_0 (32, 34). */
export const GGML_BLOCK = { F32: [1, 4], F16: [1, 2], Q8_0: [32, 34] } as const satisfies Record<GgmlType, readonly [number, number]>;

/** Bytes a tensor of `type` and shape `ne` takes. */
export function ggmlTensorBytes(type: GgmlType, ne: readonly number[]): number {
  const [bs, bb] = GGML_BLOCK[type];
  if (ne[0] % bs !== 0) throw new ModelsError('BAD_OPTION', `GGUF: ${type} needs ne[0] to be a multiple of ${bs}, got ${ne[0]}`);
  return (ne.reduce((a, b) => a * b, 1) / bs) * bb;
}

class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) { this.reserve(1); this.view.setUint8(this.length, v); this.length += 1; }
  i8(v: number) { this.reserve(1); this.view.setInt8(this.length, v); this.length += 1; }
  u16(v: number) { this.reserve(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  i16(v: number) { this.reserve(2); this.view.setInt16(this.length, v, true); this.length += 2; }
  u32(v: number) { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number) { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  f64(v: number) { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  u64(v: number | bigint) { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  i64(v: number | bigint) { this.reserve(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8; }
  bytes(b: Uint8Array) { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }
  str(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  take(): Uint8Array { return this.buf.subarray(0, this.length); }
}

function writeScalar(w: ByteSink, type: Scalar, v: number | bigint | boolean, key: string): void {
  const num = () => {
    if (typeof v !== 'number') throw new ModelsError('BAD_OPTION', `GGUF metadata ${key}: ${type} needs a number, got ${typeof v}`);
    return v;
  };
  switch (type) {
    case 'uint8': return w.u8(num());
    case 'int8': return w.i8(num());
    case 'uint16': return w.u16(num());
    case 'int16': return w.i16(num());
    case 'uint32': return w.u32(num());
    case 'int32': return w.i32(num());
    case 'float32': return w.f32(num());
    case 'float64': return w.f64(num());
    case 'bool': return w.u8(v ? 1 : 0);
    case 'uint64': return w.u64(v as number | bigint);
    case 'int64': return w.i64(v as number | bigint);
  }
}

/**
 * Encodes a GGUF v3 file in memory.
 *
 * @example
 * const bytes = encodeGguf({
 *   metadata: [['general.architecture', { type: 'string', value: 'llama' }]],
 *   tensors: [{ name: 'output_norm.weight', ne: [256], type: 'F32', data: new Uint8Array(norm.buffer) }],
 * });
 */
export function encodeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? 32;
  const metadata = [...file.metadata];
  if (alignment !== 32) metadata.push(['general.alignment', { type: 'uint32', value: alignment }]);
  const keys = new Set<string>();
  for (const [k] of metadata) {
    if (keys.has(k)) throw new ModelsError('BAD_OPTION', `GGUF metadata: key ${k} appears twice`);
    keys.add(k);
  }
  const w = new ByteSink();
  w.bytes(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(file.tensors.length);
  w.u64(metadata.length);
  for (const [key, v] of metadata) {
    w.str(key);
    w.u32(GGUF_VALUE_TYPE[v.type]);
    if (v.type === 'string') w.str(v.value);
    else if (v.type === 'array') {
      w.u32(GGUF_VALUE_TYPE[v.itemType]);
      w.u64(v.value.length);
      for (const item of v.value) {
        if (v.itemType === 'string') {
          if (typeof item !== 'string') throw new ModelsError('BAD_OPTION', `GGUF metadata ${key}: string array holds a ${typeof item}`);
          w.str(item);
        } else writeScalar(w, v.itemType, item as number | bigint | boolean, key);
      }
    } else writeScalar(w, v.type, v.value, key);
  }
  const pad = (n: number) => (alignment - (n % alignment)) % alignment;
  let offset = 0;
  const names = new Set<string>();
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new ModelsError('BAD_OPTION', `GGUF: tensor ${t.name} appears twice`);
    names.add(t.name);
    const expected = ggmlTensorBytes(t.type, t.ne);
    if (t.data.byteLength !== expected) {
      throw new ModelsError('BAD_WEIGHT_SHAPE', `GGUF: tensor ${t.name} (${t.type} [${t.ne}]) has ${t.data.byteLength} bytes, expected ${expected}`);
    }
    w.str(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(GGML_TYPE[t.type]);
    w.u64(offset);
    offset += expected + pad(expected);
  }
  const header = w.take();
  const dataStart = header.length + pad(header.length);
  const out = new Uint8Array(dataStart + offset);
  out.set(header, 0);
  let at = dataStart;
  for (const t of file.tensors) {
    out.set(t.data, at);
    at += t.data.byteLength + pad(t.data.byteLength);
  }
  return out;
}
