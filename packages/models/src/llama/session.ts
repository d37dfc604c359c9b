// A running Llama / Mistral inference session: the compiled cached graph plus the KV cache between calls.
import type { LlamaConfig } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { type DType, Graph, type HostTensor, Runner } from '@mil/graph';
import { ModelsError } from '../errors';
import type { StepModel } from '../generate/step-model';
import { buildLlamaInferenceGraph, kvNames } from './inference-graph';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@mil/core';

/** How a Llama session runs (`RunOptions`: provider, threads, spinning) and what it holds. */
export interface SessionOptions extends RunOptions {
  /** float32 (default) or float16 weights and cache. */
  dtype?: Extract<DType, 'float32' | 'float16'>;
  /** Longest context (default max_position_embeddings). */
  maxPositions?: number;
}

function toDtype(data: Float32Array, dtype: DType): Float32Array | Uint16Array {
  if (dtype === 'float32') return data;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float32ToFloat16Bits(data[i]);
  return out;
}

/** Logits as float32 whatever the graph dtype. */
function logitsF32(t: HostTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const src = t.data as Uint16Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = float16BitsToFloat32(src[i]);
  return out;
}

/**
 * Compiles the cached inference graph of a Llama/Mistral model and keeps its KV cache (batch 1).
 * `forward` appends tokens and returns their logits; `truncate` rolls the cache back (speculative decoding).
 *
 * @example
 * const s = await LlamaSession.create(config, weights);
 * const logits = await s.prefill([1, 450, 3021]);   // logits of the last prompt token
 * const next = await s.decode(argmax(logits));
 */
export class LlamaSession implements StepModel {
  private cache = new Map<number, { key: HostTensor; value: HostTensor }>();
  private ids: number[] = [];

  private constructor(
    private readonly runner: Runner,
    readonly vocabSize: number,
    private readonly layers: number[],
    private readonly kvHeads: number,
    private readonly headDim: number,
    private readonly dtype: DType,
  ) {
    this.reset();
  }

  static async create(config: LlamaConfig, weights: Map<string, Float32Array>, opts: SessionOptions = {}): Promise<LlamaSession> {
    const cfg = config;
    const dtype = opts.dtype ?? 'float32';
    const g = new Graph('llama_decoder');
    const m = buildLlamaInferenceGraph(g, config, { dtype, maxPositions: opts.maxPositions });
    const model = g.toModel({
      outputs: m.outputs,
      weights: 'initializers',
      weightData: (n) => {
        const w = weights.get(n);
        if (!w) throw new ModelsError('MISSING_WEIGHT', `LlamaSession: no weight ${n}`);
        return toDtype(w, dtype);
      },
    });
    const runner = await Runner.create(model, { ep: opts.ep, threads: opts.threads, spinning: opts.spinning });
    return new LlamaSession(runner, cfg.vocabSize, [...m.presents.keys()], cfg.numKeyValueHeads, cfg.headDim, dtype);
  }

  /** Tokens currently in the cache. */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Bytes of the KV cache the session holds: 2 (K, V) × layers × kv_heads × head_dim × length × bytes per element.
   *
   * @example
   * await s.prefill(ids);
   * s.cacheBytes; // 2 * 8 * 2 * 64 * ids.length * 4 for models/sotu-tiny in float32
   */
  get cacheBytes(): number {
    let bytes = 0;
    for (const kv of this.cache.values()) bytes += kv.key.data.byteLength + kv.value.data.byteLength;
    return bytes;
  }

  /** Empties the cache. */
  reset(): void {
    this.ids = [];
    const empty = (): HostTensor => ({ data: this.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims: [1, this.kvHeads, 0, this.headDim] });
    for (const i of this.layers) this.cache.set(i, { key: empty(), value: empty() });
  }

  /** Runs `ids` after the cached tokens; returns logits [ids.length, vocab] (row-major) and extends the cache. */
  async forward(ids: number[]): Promise<Float32Array> {
    if (ids.length === 0) throw new ModelsError('BAD_INPUT', 'LlamaSession.forward: no tokens');
    const total = this.ids.length + ids.length;
    const feeds: Record<string, HostTensor> = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
      attention_mask: { data: new BigInt64Array(total).fill(1n), dims: [1, total] },
    };
    for (const [i, kv] of this.cache) {
      const n = kvNames(i);
      feeds[n.pastKey] = kv.key;
      feeds[n.pastValue] = kv.value;
    }
    const out = await this.runner.run(feeds);
    for (const i of this.layers) {
      const n = kvNames(i);
      this.cache.set(i, { key: out[n.presentKey], value: out[n.presentValue] });
    }
    this.ids.push(...ids);
    return logitsF32(out.logits);
  }

  /** Rolls the cache back to its first `n` tokens. */
  truncate(n: number): void {
    if (n < 0 || n > this.ids.length) throw new ModelsError('BAD_CACHE', `LlamaSession.truncate: ${n} is outside 0..${this.ids.length}`);
    if (n === this.ids.length) return;
    const old = this.ids.length;
    for (const [i, kv] of this.cache) this.cache.set(i, { key: cutRows(kv.key, old, n), value: cutRows(kv.value, old, n) });
    this.ids.length = n;
  }

  async prefill(ids: readonly number[]): Promise<Float32Array> {
    this.reset();
    const all = await this.forward([...ids]);
    return all.subarray(all.length - this.vocabSize);
  }

  async decode(id: number): Promise<Float32Array> {
    return this.forward([id]);
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** Keeps the first n of `len` rows of a [1, heads, len, hd] cache tensor. */
function cutRows(t: HostTensor, len: number, n: number): HostTensor {
  const [b, heads, , hd] = t.dims;
  const src = t.data as Float32Array | Uint16Array;
  const out = new (src.constructor as Float32ArrayConstructor)(b * heads * n * hd) as Float32Array | Uint16Array;
  for (let h = 0; h < b * heads; h++) out.set(src.subarray(h * len * hd, h * len * hd + n * hd), h * n * hd);
  return { data: out, dims: [b, heads, n, hd] };
}
