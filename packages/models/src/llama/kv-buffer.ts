// The KV cache of a session as one capacity buffer per attention layer that the graph reads in place ('buffer'
// mode of the inference graph): a step feeds views of the valid rows (wrapped, not copied), gets back only the new
// rows and writes them at the current length. Rolling back is setting the length.
import type { HostTensor } from '@mil/graph';
import { ModelsError } from '../oracle/models-error';
import { kvHeadNames, kvNames } from './inference-graph';

type KvArray = Float32Array | Uint16Array;

/** First capacity (tokens); it doubles when a step needs more, up to the session's longest context. */
const INITIAL_CAPACITY = 256;

/**
 * KV capacity buffers [1, kvHeads, capacity, headDim] per attention layer, plus the valid length.
 *
 * @example
 * const kv = new KvBuffer([1, 3], 2, 64, 'float32', 4096);
 * kv.reserve(kv.length + ids.length);
 * const out = await runner.run({ input_ids, ...kv.feeds(ids.length) });
 * kv.append(out, ids.length);
 */
export class KvBuffer {
  private bufs = new Map<number, { key: KvArray; value: KvArray }>();
  private cap = 0;
  private len = 0;
  /** Start positions of every write since creation, to tell whether a snapshot's rows are still intact. */
  private writes: number[] = [];

  constructor(
    private readonly layers: readonly number[],
    private readonly kvHeads: number,
    private readonly headDim: number,
    private readonly dtype: 'float32' | 'float16',
    private readonly maxPositions: number,
    /** Whether the graph reads `seqlens_k` (only its GroupQueryAttention path, for sliding windows, does). */
    private readonly withSeqlens = true,
  ) {
    this.grow(Math.min(INITIAL_CAPACITY, maxPositions));
  }

  /** Valid rows. */
  get length(): number {
    return this.len;
  }

  /** Rows allocated per layer (≥ length). */
  get capacity(): number {
    return this.cap;
  }

  /** Bytes of the valid rows (K and V of every layer). */
  get bytes(): number {
    return 2 * this.layers.length * this.kvHeads * this.headDim * this.len * (this.dtype === 'float16' ? 2 : 4);
  }

  /** The typed arrays the graph reads (identity changes only when the capacity grows). */
  buffers(layer: number): { key: KvArray; value: KvArray } {
    const b = this.bufs.get(layer);
    if (!b) throw new ModelsError('BAD_CACHE', `KvBuffer: no attention layer ${layer}`);
    return b;
  }

  /** Makes room for `total` rows (doubling; the valid rows move once per doubling). */
  reserve(total: number): void {
    if (total > this.maxPositions) throw new ModelsError('BAD_INPUT', `KvBuffer: ${total} tokens exceed the longest context ${this.maxPositions} (option maxPositions of the session)`);
    if (total <= this.cap) return;
    let cap = this.cap;
    while (cap < total) cap *= 2;
    this.grow(Math.min(cap, this.maxPositions));
  }

  private grow(cap: number): void {
    const { kvHeads: h, headDim: hd } = this;
    const Ctor = this.dtype === 'float16' ? Uint16Array : Float32Array;
    for (const i of this.layers) {
      const old = this.bufs.get(i);
      const next = { key: new Ctor(h * cap * hd), value: new Ctor(h * cap * hd) };
      if (old) {
        for (let k = 0; k < h; k++) {
          next.key.set(old.key.subarray(k * this.cap * hd, (k * this.cap + this.len) * hd), k * cap * hd);
          next.value.set(old.value.subarray(k * this.cap * hd, (k * this.cap + this.len) * hd), k * cap * hd);
        }
      }
      this.bufs.set(i, next);
    }
    this.cap = cap;
  }

  /**
   * Feeds for a step of `seq` new tokens: per layer and KV head a view of the valid rows (no copy), `seqlens_k`
   * and `total_sequence_length`. Call `reserve` first.
   */
  feeds(seq: number): Record<string, HostTensor> {
    const total = this.len + seq;
    if (total > this.cap) throw new ModelsError('BAD_CACHE', `KvBuffer.feeds: ${total} rows need reserve() first (capacity ${this.cap})`);
    const { kvHeads: h, headDim: hd, cap, len } = this;
    const feeds: Record<string, HostTensor> = { total_sequence_length: { data: Int32Array.of(total), dims: [] } };
    if (this.withSeqlens) feeds.seqlens_k = { data: Int32Array.of(total - 1), dims: [1] };
    for (const [i, b] of this.bufs) {
      for (let j = 0; j < h; j++) {
        const n = kvHeadNames(i, j);
        feeds[n.pastKey] = { data: b.key.subarray(j * cap * hd, (j * cap + len) * hd), dims: [1, 1, len, hd] };
        feeds[n.pastValue] = { data: b.value.subarray(j * cap * hd, (j * cap + len) * hd), dims: [1, 1, len, hd] };
      }
    }
    return feeds;
  }

  /** Writes the step's new rows (`kv_rows.{i}.key/value` [1, kvHeads, seq, headDim]) at the current length. */
  append(out: Record<string, HostTensor>, seq: number): void {
    const { kvHeads: h, headDim: hd, cap, len } = this;
    if (len + seq > cap) throw new ModelsError('BAD_CACHE', `KvBuffer.append: ${len + seq} rows exceed capacity ${cap}`);
    for (const i of this.layers) {
      const n = kvNames(i);
      const b = this.bufs.get(i)!;
      for (const [src, dst] of [[out[n.rowsKey], b.key], [out[n.rowsValue], b.value]] as const) {
        if (!src) throw new ModelsError('BAD_CACHE', `KvBuffer.append: the run returned no ${n.rowsKey}`);
        const rows = src.data as KvArray;
        for (let k = 0; k < h; k++) dst.set(rows.subarray(k * seq * hd, (k + 1) * seq * hd), (k * cap + len) * hd);
      }
    }
    this.writes.push(len);
    this.len += seq;
  }

  /** Keeps the first n rows (no copy). */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.len) throw new ModelsError('BAD_CACHE', `KvBuffer.truncate: ${n} is outside 0..${this.len}`);
    this.len = n;
  }

  /** A mark to check later whether the first `length` rows are still the ones of now. */
  mark(): { length: number; writes: number } {
    return { length: this.len, writes: this.writes.length };
  }

  /** Returns to a `mark()`ed length; throws if rows below it were overwritten since. */
  restore(m: { length: number; writes: number }): void {
    for (let j = m.writes; j < this.writes.length; j++) {
      if (this.writes[j] < m.length) {
        throw new ModelsError('BAD_CACHE', `KvBuffer.restore: rows below ${m.length} were overwritten after the snapshot (a write at ${this.writes[j]}); a snapshot stays valid while the session does not roll back below it and run again`);
      }
    }
    if (m.length > this.cap) throw new ModelsError('BAD_CACHE', `KvBuffer.restore: ${m.length} rows exceed capacity ${this.cap}`);
    this.len = m.length;
  }
}
