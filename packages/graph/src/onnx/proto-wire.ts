// Protobuf wire-format writer. A message is built bottom-up: scalars go into a small scratch buffer,
// large byte blobs (tensor data) and finished sub-messages are kept by reference, so every byte is
// copied exactly once, into the final buffer, whatever the nesting depth or the size of the blobs.

import { GraphError } from '../errors';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Blobs at least this long are referenced instead of copied into the scratch buffer. */
const BLOB_BY_REFERENCE = 256;
const TWO_POW_64 = 1n << 64n;

const textEncoder = new TextEncoder();

/** UTF-8 bytes of a string (protobuf `string` / `bytes` payload). */
export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** Number of bytes the varint encoding of a non-negative integer (number or bigint < 2^64) takes. */
export function varintSize(v: number | bigint): number {
  if (typeof v === 'number' && v >= 0 && v < 2 ** 53) {
    let n = 1;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }
  let b = toUint64(v);
  let n = 1;
  while (b >= 128n) {
    b >>= 7n;
    n++;
  }
  return n;
}

/** An int64 (number or bigint, possibly negative) as the unsigned 64-bit value protobuf writes (two's complement). */
export function toUint64(v: number | bigint): bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new GraphError('SERIALIZE_FAILED', `proto-encode: ${v} is not an integer; int64 fields need integers`);
    v = BigInt(v);
  }
  if (v < -(1n << 63n) || v >= TWO_POW_64) {
    throw new GraphError('SERIALIZE_FAILED', `proto-encode: ${v} does not fit in 64 bits`);
  }
  return v < 0n ? v + TWO_POW_64 : v;
}

/**
 * Builder of one protobuf message. Fields are appended in call order; sub-messages must be finished
 * (no more writes) before they are attached with `message()`.
 *
 * @example
 * const w = new ProtoWriter();
 * w.int64(1, 8);           // field 1 = 8
 * w.string(2, 'hi');       // field 2 = "hi"
 * const bytes = w.finish();
 */
export class ProtoWriter {
  /** Finished pieces, in order: copied scratch segments, referenced blobs, sub-messages. */
  private readonly pieces: (Uint8Array | ProtoWriter)[] = [];
  private scratch = new Uint8Array(64);
  private pos = 0;
  private piecesSize = 0;

  /** Total encoded size in bytes of what has been written so far. */
  get size(): number {
    return this.piecesSize + this.pos;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.scratch.length) return;
    let cap = this.scratch.length * 2;
    while (cap < this.pos + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.scratch.subarray(0, this.pos));
    this.scratch = next;
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.pieces.push(this.scratch.slice(0, this.pos));
    this.piecesSize += this.pos;
    this.pos = 0;
  }

  /** Raw varint of a non-negative integer or an int64 (negatives become 10-byte two's complement). */
  rawVarint(v: number | bigint): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v < 2 ** 53) {
      if (!Number.isInteger(v)) throw new GraphError('SERIALIZE_FAILED', `proto-encode: ${v} is not an integer`);
      while (v >= 128) {
        this.scratch[this.pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      this.scratch[this.pos++] = v;
      return;
    }
    let b = toUint64(v);
    while (b >= 128n) {
      this.scratch[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.scratch[this.pos++] = Number(b);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawBytes(bytes: Uint8Array): void {
    if (bytes.length >= BLOB_BY_REFERENCE) {
      this.flushScratch();
      this.pieces.push(bytes);
      this.piecesSize += bytes.length;
      return;
    }
    this.ensure(bytes.length);
    this.scratch.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Varint field (int32 / int64 / enum); negative values are written as 64-bit two's complement. */
  int64(field: number, v: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v);
  }

  /** float field, fixed32 little-endian. */
  float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
  }

  /** Length-delimited bytes field; blobs are kept by reference (not copied until `finish`). */
  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.rawVarint(data.length);
    this.rawBytes(data);
  }

  /** UTF-8 string field. */
  string(field: number, s: string): void {
    this.bytes(field, utf8(s));
  }

  /** Packed repeated int64 field. An empty list writes nothing. */
  packedInt64(field: number, values: readonly (number | bigint)[]): void {
    if (values.length === 0) return;
    let len = 0;
    for (const v of values) len += varintSize(toUint64(v));
    this.tag(field, WIRE_LEN);
    this.rawVarint(len);
    for (const v of values) this.rawVarint(v);
  }

  /** Packed repeated float field (fixed32 little-endian). An empty list writes nothing. */
  packedFloat(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    this.bytes(field, data);
  }

  /** Embedded message field; `child` must not be written to afterwards. */
  message(field: number, child: ProtoWriter): void {
    this.tag(field, WIRE_LEN);
    this.rawVarint(child.size);
    this.flushScratch();
    this.pieces.push(child);
    this.piecesSize += child.size;
  }

  /** Copies this message into `out` at `offset`; returns the offset after it. */
  writeTo(out: Uint8Array, offset: number): number {
    for (const p of this.pieces) {
      if (p instanceof ProtoWriter) offset = p.writeTo(out, offset);
      else {
        out.set(p, offset);
        offset += p.length;
      }
    }
    out.set(this.scratch.subarray(0, this.pos), offset);
    return offset + this.pos;
  }

  /** The encoded message as one buffer (allocated once, each byte copied once). */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    const end = this.writeTo(out, 0);
    if (end !== out.length) throw new GraphError('SERIALIZE_FAILED', `proto-encode: internal size mismatch (${end} != ${out.length})`);
    return out;
  }
}
