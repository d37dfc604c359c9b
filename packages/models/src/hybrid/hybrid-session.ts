// A running hybrid student: the compiled cached graph plus its state (KV caches of the attention layers, conv and
// SSM states of the Mamba layers) between calls, with snapshots and lazy rollback for speculative decoding.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { Graph, type HostTensor, Runner } from '@mil/graph';
import { kvNames } from '../llama/inference-graph';
import type { StepModel } from '../generate/step-model';
import { ModelsError } from '../errors';
import { resolveHybridDims, type HybridDims, type HybridModelOptions } from './hybrid-dims';
import { buildHybridInferenceGraph, mambaStateNames } from './hybrid-graphs';
import { toMamba1Layout } from './hybrid-weights';

/** How a hybrid session runs (`RunOptions`: provider, threads, spinning) and what it holds. */
export interface HybridSessionOptions extends HybridModelOptions, RunOptions {
  /** Longest context (default max_position_embeddings). */
  maxPositions?: number;
}

/** The tensors of one state, per layer index. Host tensors are never written to after a run, so sharing is safe. */
interface Tensors {
  kv: Map<number, { key: HostTensor; value: HostTensor }>;
  mamba: Map<number, { conv: HostTensor; ssm: HostTensor }>;
}

/**
 * A point a session can return to (`HybridSession.snapshot` / `restore`): the tokens, the KV caches, conv and
 * SSM states. Opaque; holds references, not copies.
 */
export interface HybridSessionState {
  readonly ids: readonly number[];
  /** Tokens at the end of `ids` not yet run into `tensors` (a lazy rollback's replay). */
  readonly pending: readonly number[];
  /** @internal */
  readonly tensors: Tensors;
  /** @internal The state before the last run, for `truncate`. */
  readonly before: { length: number; tensors: Tensors } | null;
}

/**
 * Compiles the cached inference graph of a hybrid student and keeps its state (batch 1). `forward` appends tokens
 * and returns their logits. Rolling back a Mamba state is not a cut: `truncate(n)` (for n at or after the start of
 * the last `forward`) restores the state from before that call and replays the kept tokens lazily, inside the
 * next `forward` — the recompute of the paper's multi-step verify (Algorithm 2). `snapshot` / `restore` return to
 * any earlier point.
 *
 * @example
 * const s = await HybridSession.create(teacher, hybrid, weights);
 * const last = await s.prefill([1, 450, 3021]);
 * const verify = await s.forward([7, 8, 9]);   // logits of 3 draft positions
 * s.truncate(s.length - 2);                     // keep the first draft token; replayed by the next forward
 */
export class HybridSession implements StepModel {
  private ids: number[] = [];
  private pending: number[] = [];
  private tensors: Tensors;
  private before: { length: number; tensors: Tensors } | null = null;
  private readonly empty: Tensors;

  private constructor(
    private readonly runner: Runner,
    readonly vocabSize: number,
    private readonly dims: HybridDims,
  ) {
    this.empty = this.emptyTensors();
    this.tensors = this.empty;
  }

  /**
   * Builds and compiles the graph with `weights` (reference names, either Mamba-1 layout) as initializers.
   *
   * @example
   * const { teacher, hybrid, weights } = await loadHybrid('out/student');
   * const s = await HybridSession.create(teacher, hybrid, weights, { threads: 2 });
   */
  static async create(
    teacher: LlamaConfig,
    hybrid: HybridConfig,
    weights: ReadonlyMap<string, Float32Array>,
    opts: HybridSessionOptions = {},
  ): Promise<HybridSession> {
    const dims = resolveHybridDims(teacher, hybrid);
    const w = toMamba1Layout(teacher, hybrid, weights, 'fused');
    const g = new Graph('hybrid_decoder');
    const m = buildHybridInferenceGraph(g, teacher, hybrid, { maxPositions: opts.maxPositions, mamba1Layout: 'fused', mamba1DtBias: opts.mamba1DtBias });
    const model = g.toModel({
      outputs: m.outputs,
      weights: 'initializers',
      weightData: (n) => {
        const t = w.get(n);
        if (!t) throw new ModelsError('MISSING_WEIGHT', `HybridSession: no weight ${n}`);
        return t;
      },
    });
    const runner = await Runner.create(model, { ep: opts.ep, threads: opts.threads, spinning: opts.spinning });
    return new HybridSession(runner, dims.teacher.vocabSize, dims);
  }

  private emptyTensors(): Tensors {
    const d = this.dims;
    const r = d.teacher;
    const kv = new Map<number, { key: HostTensor; value: HostTensor }>();
    for (const i of d.attnLayers) {
      const e = { data: new Float32Array(0), dims: [1, r.numKeyValueHeads, 0, r.headDim] };
      kv.set(i, { key: e, value: e });
    }
    const mamba = new Map<number, { conv: HostTensor; ssm: HostTensor }>();
    const ssmDims = d.variant === 'mamba1' ? [1, d.dInner, d.dState] : [1, d.nHeads, d.headDim, d.dState];
    const conv = { data: new Float32Array(d.convChannels * (d.dConv - 1)), dims: [1, d.convChannels, d.dConv - 1] };
    const ssm = { data: new Float32Array(ssmDims.reduce((a, b) => a * b, 1)), dims: ssmDims };
    for (const i of d.ssmLayers) mamba.set(i, { conv, ssm });
    return { kv, mamba };
  }

  /** Tokens fed so far (after rollbacks). */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Bytes of the state tensors the session holds for the current sequence: the KV caches of the attention layers
   * plus the conv and SSM states of the Mamba layers (not the pre-call state kept for `truncate`, nor snapshots).
   *
   * @example
   * await s.prefill(ids);
   * s.cacheBytes; // 4 attention layers × 2 × kv_heads × head_dim × ids.length × 4 + the Mamba layers' fixed states
   */
  get cacheBytes(): number {
    let bytes = 0;
    for (const kv of this.tensors.kv.values()) bytes += kv.key.data.byteLength + kv.value.data.byteLength;
    for (const m of this.tensors.mamba.values()) bytes += m.conv.data.byteLength + m.ssm.data.byteLength;
    return bytes;
  }

  /** Empties the state. */
  reset(): void {
    this.ids = [];
    this.pending = [];
    this.tensors = this.empty;
    this.before = null;
  }

  /** Runs `ids` after the current tokens; returns their logits [ids.length, vocab] (row-major). */
  async forward(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0) throw new ModelsError('BAD_INPUT', 'HybridSession.forward: no tokens');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new ModelsError('BAD_INPUT', `HybridSession.forward: token ${id} is not in [0, ${this.vocabSize})`);
    }
    const run = [...this.pending, ...ids];
    const done = this.ids.length - this.pending.length; // tokens inside this.tensors
    const total = done + run.length;
    const feeds: Record<string, HostTensor> = { input_ids: { data: BigInt64Array.from(run, BigInt), dims: [1, run.length] } };
    // A student without attention layers has no attention_mask input (nothing reads it).
    if (this.dims.attnLayers.length > 0) feeds.attention_mask = { data: new BigInt64Array(total).fill(1n), dims: [1, total] };
    for (const [i, kv] of this.tensors.kv) {
      const n = kvNames(i);
      feeds[n.pastKey] = kv.key;
      feeds[n.pastValue] = kv.value;
    }
    for (const [i, s] of this.tensors.mamba) {
      const n = mambaStateNames(i);
      feeds[n.pastConv] = s.conv;
      feeds[n.pastSsm] = s.ssm;
    }
    const out = await this.runner.run(feeds);
    const next: Tensors = { kv: new Map(), mamba: new Map() };
    for (const i of this.dims.attnLayers) {
      const n = kvNames(i);
      next.kv.set(i, { key: strip(out[n.presentKey]), value: strip(out[n.presentValue]) });
    }
    for (const i of this.dims.ssmLayers) {
      const n = mambaStateNames(i);
      next.mamba.set(i, { conv: strip(out[n.presentConv]), ssm: strip(out[n.presentSsm]) });
    }
    this.before = { length: done, tensors: this.tensors };
    this.tensors = next;
    this.ids.push(...ids);
    this.pending = [];
    const logits = out.logits.data as Float32Array;
    return logits.subarray(logits.length - ids.length * this.vocabSize);
  }

  /**
   * Rolls back to the first `n` tokens. Allowed for n ≥ the length before the last `forward` (the kept tokens of
   * that call are replayed by the next `forward`), or back to any point after `restore`-ing a snapshot.
   */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.ids.length) throw new ModelsError('BAD_CACHE', `HybridSession.truncate: ${n} is outside 0..${this.ids.length}`);
    if (n === this.ids.length) return;
    const done = this.ids.length - this.pending.length;
    if (n >= done) {
      this.pending.length = n - done;
    } else if (this.before && n >= this.before.length) {
      this.tensors = this.before.tensors;
      this.pending = this.ids.slice(this.before.length, n);
      this.before = null;
    } else if (n === 0) {
      this.reset();
      return;
    } else {
      const min = this.before ? this.before.length : done;
      throw new ModelsError('BAD_CACHE', `HybridSession.truncate: a Mamba state cannot be cut; can roll back to ${min}..${this.ids.length} only (got ${n}); restore() a snapshot() to go further`);
    }
    this.ids.length = n;
  }

  /** The current state, to `restore` later (references, no copy). */
  snapshot(): HybridSessionState {
    return { ids: [...this.ids], pending: [...this.pending], tensors: this.tensors, before: this.before };
  }

  /** Returns to a state taken by `snapshot` of this session. */
  restore(s: HybridSessionState): void {
    this.ids = [...s.ids];
    this.pending = [...s.pending];
    this.tensors = s.tensors;
    this.before = s.before;
  }

  async prefill(ids: readonly number[]): Promise<Float32Array> {
    this.reset();
    const all = await this.forward(ids);
    return all.subarray(all.length - this.vocabSize);
  }

  async decode(id: number): Promise<Float32Array> {
    return this.forward([id]);
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** A host tensor without the ORT handle (so a kept state does not pin ORT objects). */
function strip(t: HostTensor): HostTensor {
  return { data: t.data, dims: [...t.dims] };
}
