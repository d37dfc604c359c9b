// A running Llama / Mistral inference session: the compiled cached graph plus the KV cache between calls.
import type { LlamaConfig } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { type DType, Graph, type HostTensor, Runner } from '@mil/graph';
import { ModelsError } from '../errors';
import type { ForwardOptions, StepModel } from '../generate/step-model';
import { LOGITS_START, buildLlamaInferenceGraph } from './inference-graph';
import { KvBuffer } from './kv-buffer';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@mil/core';

/** How a Llama session runs (`RunOptions`: provider, threads, spinning) and what it holds. */
export interface SessionOptions extends RunOptions {
  /** float32 (default) or float16 weights and cache. */
  dtype?: Extract<DType, 'float32' | 'float16'>;
  /**
   * How the KV cache stores keys and values (default: `dtype`). 'float16' under float32 weights halves the cache's
   * bytes and what a decode step reads at long contexts (the graph computes in float32 on the rounded rows); it
   * changes the logits slightly (package README: measured against the float32 oracle). Not for sliding-window models.
   */
  kvDtype?: Extract<DType, 'float32' | 'float16'>;
  /** Longest context (default max_position_embeddings). */
  maxPositions?: number;
  /** Longest ORT run of a prompt in `prefill` (default 512 tokens; longer prompts run in chunks, the same logits). */
  prefillChunk?: number;
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

/** Default longest ORT run of a prompt in `prefill` (tokens). */
export const PREFILL_CHUNK = 512;

/**
 * A prompt through `forward` in runs of at most `chunk` tokens, asking each run for its last row only; returns the
 * prompt's last-position logits. A run of s tokens after p holds s × (p + s) attention scores per head, so one
 * run of a 4k prompt holds 32× more than eight 512-token runs (and is slower: measured in bench:teacher). @internal
 */
export async function prefillInChunks(
  s: { reset(): void; forward(ids: readonly number[], opts: ForwardOptions): Promise<Float32Array> },
  ids: readonly number[],
  chunk: number,
): Promise<Float32Array> {
  if (ids.length === 0) throw new ModelsError('BAD_INPUT', 'prefill: no tokens');
  s.reset();
  let last: Float32Array | null = null;
  for (let at = 0; at < ids.length; at += chunk) last = await s.forward(ids.slice(at, at + chunk), { logits: 'last' });
  return last!;
}

/** Checks a `prefillChunk` option. @internal */
export function checkPrefillChunk(chunk: number | undefined, who: string): number {
  const c = chunk ?? PREFILL_CHUNK;
  if (!Number.isInteger(c) || c < 1) throw new ModelsError('BAD_OPTION', `${who}: prefillChunk must be a positive integer, got ${chunk}`);
  return c;
}

/** The `logits_start` feed of a run of `seq` new tokens: 0 for every row, seq − 1 for the last. @internal */
export function logitsStart(seq: number, opts: ForwardOptions): HostTensor {
  return { data: BigInt64Array.of(BigInt(opts.logits === 'last' ? seq - 1 : 0)), dims: [1] };
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
  /** `truncate(n)` works for every 0 ≤ n ≤ length (a KV cache): speculative-decoding drafters need no snapshots. */
  readonly canTruncateAnywhere = true;
  private readonly kv: KvBuffer;
  private ids: number[] = [];

  private constructor(
    private readonly runner: Runner,
    readonly vocabSize: number,
    layers: number[],
    kvHeads: number,
    headDim: number,
    dtype: 'float32' | 'float16',
    maxPositions: number,
    private readonly prefillChunk: number,
  ) {
    this.kv = new KvBuffer(layers, kvHeads, headDim, dtype, maxPositions, runner.inputNames.includes('seqlens_k'));
  }

  static async create(config: LlamaConfig, weights: Map<string, Float32Array>, opts: SessionOptions = {}): Promise<LlamaSession> {
    const cfg = config;
    const prefillChunk = checkPrefillChunk(opts.prefillChunk, 'LlamaSession.create');
    const dtype = opts.dtype ?? 'float32';
    const kvDtype = opts.kvDtype ?? dtype;
    const maxPositions = opts.maxPositions ?? cfg.maxPositionEmbeddings;
    const g = new Graph('llama_decoder');
    const m = buildLlamaInferenceGraph(g, config, { dtype, kvDtype, maxPositions, kvCache: 'buffer' });
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
    return new LlamaSession(runner, cfg.vocabSize, [...m.presents.keys()], cfg.numKeyValueHeads, cfg.headDim, kvDtype, maxPositions, prefillChunk);
  }

  /** Tokens currently in the cache. */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Bytes of the KV cache the session holds for the sequence: 2 (K, V) × layers × kv_heads × head_dim × length ×
   * bytes per element (the buffers' spare capacity, at most as much again, is not counted).
   *
   * @example
   * await s.prefill(ids);
   * s.cacheBytes; // 2 * 8 * 2 * 64 * ids.length * 4 for models/sotu-tiny in float32
   */
  get cacheBytes(): number {
    return this.kv.bytes;
  }

  /** The KV capacity buffers (read-only view for tests and benchmarks: the same arrays step after step). */
  get kvBuffer(): KvBuffer {
    return this.kv;
  }

  /** Empties the cache. */
  reset(): void {
    this.ids = [];
    this.kv.truncate(0);
  }

  /**
   * Runs `ids` after the cached tokens in ONE graph run; returns logits [ids.length, vocab] (row-major; row i
   * predicts the token after ids[i]), or only the last row with `{ logits: 'last' }`, and writes their keys /
   * values into the cache buffers in place.
   *
   * @example
   * const rows = await s.forward([pending, ...drafts]);          // K + 1 rows
   * const last = await s.forward(prompt, { logits: 'last' });    // [vocab]
   */
  async forward(ids: readonly number[], opts: ForwardOptions = {}): Promise<Float32Array> {
    if (ids.length === 0) throw new ModelsError('BAD_INPUT', 'LlamaSession.forward: no tokens');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new ModelsError('BAD_INPUT', `LlamaSession.forward: token ${id} is not in [0, ${this.vocabSize})`);
    }
    this.kv.reserve(this.ids.length + ids.length);
    const feeds: Record<string, HostTensor> = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
      [LOGITS_START]: logitsStart(ids.length, opts),
      ...this.kv.feeds(ids.length),
    };
    const out = await this.runner.run(feeds);
    this.kv.append(out, ids.length);
    this.ids.push(...ids);
    return logitsF32(out.logits);
  }

  /** Rolls the cache back to its first `n` tokens (sets the length; nothing is copied). */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.ids.length) throw new ModelsError('BAD_CACHE', `LlamaSession.truncate: ${n} is outside 0..${this.ids.length}`);
    this.kv.truncate(n);
    this.ids.length = n;
  }

  /** The current point, to `restore` later (the token ids and a mark of the cache length; no copy). */
  snapshot(): LlamaSessionState {
    return { ids: [...this.ids], kv: this.kv.mark() };
  }

  /** Returns to a `snapshot` of this session; throws if the cache rows it needs were overwritten since. */
  restore(s: LlamaSessionState): void {
    this.kv.restore(s.kv);
    this.ids = [...s.ids];
  }

  /**
   * Empties the cache and runs the prompt (in runs of at most `prefillChunk` tokens); returns the logits of its last
   * position only.
   */
  async prefill(ids: readonly number[]): Promise<Float32Array> {
    return prefillInChunks(this, ids, this.prefillChunk);
  }

  async decode(id: number): Promise<Float32Array> {
    return this.forward([id]);
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** A point of a {@link LlamaSession} to return to (opaque). */
export interface LlamaSessionState {
  readonly ids: readonly number[];
  /** @internal */
  readonly kv: { length: number; writes: number };
}
