// A running hybrid student: the compiled verify graph plus its state (KV capacity buffers of the attention layers,
// conv windows and SSM states of the Mamba layers) between calls; rollback for speculative decoding is a length and
// a kept-step count, replayed inside the next call (paper Algorithm 2).
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { Graph, type HostTensor, Runner } from '@mil/graph';
import { KvBuffer } from '../llama/kv-buffer';
import type { ForwardOptions, StepModel } from '../generate/step-model';
import { LOGITS_START } from '../llama/inference-graph';
import { checkPrefillChunk, logitsStart, prefillInChunks } from '../llama/session';
import { ModelsError } from '../errors';
import { resolveHybridDims, type HybridDims, type HybridModelOptions } from './hybrid-dims';
import { buildHybridInferenceGraph } from './hybrid-graphs';
import { MambaVerifyState, type MambaVerifyPoint } from './hybrid-verify-state';
import { toMamba1Layout } from './hybrid-weights';

/** How a hybrid session runs (`RunOptions`: provider, threads, spinning) and what it holds. */
export interface HybridSessionOptions extends HybridModelOptions, RunOptions {
  /** Longest context (default max_position_embeddings). */
  maxPositions?: number;
  /**
   * How the attention layers' KV cache stores keys and values: 'float32' (default, exact) or 'float16' (half the
   * bytes per token and per decode step; the graph computes in float32 on the rounded rows — see the package
   * README for the logit error it costs). The Mamba states stay float32.
   */
  kvDtype?: 'float32' | 'float16';
  /**
   * Longest ORT run of a prompt in `prefill` (default 512 tokens; longer prompts run in chunks, the same logits).
   * `truncate` after a prefill reaches back to the start of its last chunk.
   */
  prefillChunk?: number;
}

/**
 * A point a session can return to (`HybridSession.snapshot` / `restore`): the tokens, a mark of the KV length and
 * the Mamba layers' verify state. Opaque; holds references, not copies.
 */
export interface HybridSessionState {
  readonly ids: readonly number[];
  /** @internal Length before the last forward. */
  readonly start: number;
  /** @internal */
  readonly kv: { length: number; writes: number };
  /** @internal */
  readonly mamba: MambaVerifyPoint;
}

/**
 * Compiles the verify graph of a hybrid student and keeps its state (batch 1). `forward` runs any number of tokens
 * (prompt, one decode step, or the pending token + K drafts of speculative decoding) in ONE ORT run and returns
 * their logits. `truncate(n)` (n at or after the start of the last `forward`) keeps n tokens: the attention layers'
 * KV length is set to n, and the Mamba layers keep their state from before that call plus the cached per-step
 * inputs, replayed (without outputs) at the start of the next `forward` — the multi-step verify of the paper.
 * `snapshot` / `restore` return to any earlier point whose KV rows were not overwritten since.
 *
 * @example
 * const s = await HybridSession.create(teacher, hybrid, weights);
 * const last = await s.prefill([1, 450, 3021]);
 * const verify = await s.forward([7, 8, 9]);   // logits of 3 draft positions
 * s.truncate(s.length - 2);                     // keep the first draft token; replayed by the next forward
 */
export class HybridSession implements StepModel {
  /** `truncate` reaches back only to the start of the last `forward` (a Mamba state cannot be cut): use snapshots. */
  readonly canTruncateAnywhere = false;
  private ids: number[] = [];
  /** Length before the last forward (the earliest point `truncate` can reach). */
  private start = 0;
  private readonly kv: KvBuffer;
  private readonly mamba: MambaVerifyState;

  private constructor(
    private readonly runner: Runner,
    readonly vocabSize: number,
    private readonly dims: HybridDims,
    maxPositions: number,
    kvDtype: 'float32' | 'float16',
    private readonly prefillChunk: number,
  ) {
    const r = dims.teacher;
    this.kv = new KvBuffer(dims.attnLayers, r.numKeyValueHeads, r.headDim, kvDtype, maxPositions, runner.inputNames.includes('seqlens_k'));
    this.mamba = new MambaVerifyState(dims);
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
    const prefillChunk = checkPrefillChunk(opts.prefillChunk, 'HybridSession.create');
    const dims = resolveHybridDims(teacher, hybrid);
    const maxPositions = opts.maxPositions ?? dims.teacher.maxPositionEmbeddings;
    const w = toMamba1Layout(teacher, hybrid, weights, 'fused');
    const g = new Graph('hybrid_decoder');
    const kvDtype = opts.kvDtype ?? 'float32';
    const m = buildHybridInferenceGraph(g, teacher, hybrid, { maxPositions, mamba1Layout: 'fused', mamba1DtBias: opts.mamba1DtBias, verify: true, kvDtype });
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
    return new HybridSession(runner, dims.teacher.vocabSize, dims, maxPositions, kvDtype, prefillChunk);
  }

  /** Tokens fed so far (after rollbacks). */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Bytes of the state of the current sequence: the KV rows of the attention layers plus the conv history and SSM
   * state of the Mamba layers (not the buffers' spare capacity, the verify snapshot and cached steps, nor snapshots).
   *
   * @example
   * await s.prefill(ids);
   * s.cacheBytes; // 4 attention layers × 2 × kv_heads × head_dim × ids.length × 4 + the Mamba layers' fixed states
   */
  get cacheBytes(): number {
    return this.kv.bytes + this.mamba.bytes;
  }

  /** The KV capacity buffers (read-only view for tests and benchmarks: the same arrays step after step). */
  get kvBuffer(): KvBuffer {
    return this.kv;
  }

  /** The Mamba layers' verify state (read-only view for tests and benchmarks). */
  get verifyState(): MambaVerifyState {
    return this.mamba;
  }

  /** Empties the state. */
  reset(): void {
    this.ids = [];
    this.start = 0;
    this.kv.truncate(0);
    this.mamba.reset();
  }

  /**
   * Runs `ids` after the current tokens in one ORT run (replaying the tokens kept by the last `truncate` inside
   * it); returns their logits [ids.length, vocab] (row-major; row i predicts the token after ids[i]), or only the
   * last row with `{ logits: 'last' }`.
   *
   * @example
   * const rows = await s.forward([pending, ...drafts]);   // K + 1 rows
   */
  async forward(ids: readonly number[], opts: ForwardOptions = {}): Promise<Float32Array> {
    if (ids.length === 0) throw new ModelsError('BAD_INPUT', 'HybridSession.forward: no tokens');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new ModelsError('BAD_INPUT', `HybridSession.forward: token ${id} is not in [0, ${this.vocabSize})`);
    }
    const feeds: Record<string, HostTensor> = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
      [LOGITS_START]: logitsStart(ids.length, opts),
      ...this.mamba.feeds(),
    };
    if (this.dims.attnLayers.length > 0) {
      this.kv.reserve(this.ids.length + ids.length);
      Object.assign(feeds, this.kv.feeds(ids.length));
    }
    const out = await this.runner.run(feeds);
    if (this.dims.attnLayers.length > 0) this.kv.append(out, ids.length);
    this.mamba.update(out, ids.length);
    this.start = this.ids.length;
    this.ids.push(...ids);
    return out.logits.data as Float32Array;
  }

  /**
   * Rolls back to the first `n` tokens: n ≥ the length before the last `forward` (the kept tokens of that call are
   * replayed inside the next `forward`), or 0. To go further back, `restore` a `snapshot`.
   */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.ids.length) throw new ModelsError('BAD_CACHE', `HybridSession.truncate: ${n} is outside 0..${this.ids.length}`);
    if (n === this.ids.length) return;
    if (n >= this.start) {
      this.mamba.keep(n - this.start);
      // A student without attention layers (0% attention) has no KV rows to cut.
      if (this.dims.attnLayers.length > 0) this.kv.truncate(n);
      this.ids.length = n;
    } else if (n === 0) {
      this.reset();
    } else {
      throw new ModelsError('BAD_CACHE', `HybridSession.truncate: a Mamba state cannot be cut; can roll back to ${this.start}..${this.ids.length} only (got ${n}); restore() a snapshot() to go further`);
    }
  }

  /** The current state, to `restore` later (references and a length, no copy). */
  snapshot(): HybridSessionState {
    return { ids: [...this.ids], start: this.start, kv: this.kv.mark(), mamba: this.mamba.save() };
  }

  /** Returns to a state taken by `snapshot` of this session; throws if KV rows it needs were overwritten since. */
  restore(s: HybridSessionState): void {
    this.kv.restore(s.kv);
    this.mamba.load(s.mamba);
    this.ids = [...s.ids];
    this.start = s.start;
  }

  /** Empties the state and runs the prompt (in runs of at most `prefillChunk` tokens); returns its last position's logits. */
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
