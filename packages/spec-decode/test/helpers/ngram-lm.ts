// A real small language model in plain TypeScript, used as target and draft in the tests: the logits at a position
// are a deterministic function of the last `order` tokens and of a 3-valued running state folded over the WHOLE
// history (like a recurrent state), drawn from seeded tables. It implements the DraftModel contract strictly:
// `truncate` below the length before the last forward throws unless `canTruncateAnywhere`.
import { createRng } from '@mil/core';
import type { DraftModel } from '../../src/index';

export interface NgramLmOptions {
  seed: number;
  vocabSize: number;
  /** How many trailing tokens the logits depend on (1–3). */
  order: number;
  /** Spread of the table logits (uniform in [-scale, scale]). Default 3. */
  scale?: number;
  /** Adds a second seeded table of this spread (a noisy copy of the model with the same `seed`). */
  noise?: { seed: number; scale: number };
  /** true: a KV-cache-like model (truncate anywhere). false: only back to the start of the last forward. */
  truncateAnywhere?: boolean;
  /** Whether snapshot/restore exist (Mamba-like drafts). Default true. */
  snapshots?: boolean;
  /** Whether the optional logits-free `prefill` exists. Default false. */
  prefill?: boolean;
}

function hashKey(seed: number, parts: readonly number[]): number {
  let h = (seed * 0x9e3779b1) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

export class NgramLm implements DraftModel {
  readonly vocabSize: number;
  readonly canTruncateAnywhere?: boolean;
  snapshot?: () => unknown;
  restore?: (state: unknown) => void;
  prefill?: (ids: readonly number[]) => Promise<void>;
  /** Sizes of every prefill call. */
  readonly prefillSizes: number[] = [];
  private tokens: number[] = [];
  private states: number[] = []; // running state after each token
  private floor = 0;
  private readonly tables = new Map<string, Float32Array>();
  /** Sizes of every forward call, and the most tokens ever held. */
  readonly forwardSizes: number[] = [];
  maxHeld = 0;

  constructor(private readonly opts: NgramLmOptions) {
    this.vocabSize = opts.vocabSize;
    if (opts.truncateAnywhere) this.canTruncateAnywhere = true;
    if (opts.prefill) {
      this.prefill = async (ids) => {
        this.prefillSizes.push(ids.length);
        await this.forward(ids);
        this.forwardSizes.pop(); // recorded as a prefill, not a forward
      };
    }
    if (opts.snapshots !== false) {
      this.snapshot = () => ({ tokens: [...this.tokens], states: [...this.states] });
      this.restore = (s: unknown) => {
        const st = s as { tokens: number[]; states: number[] };
        this.tokens = [...st.tokens];
        this.states = [...st.states];
        this.floor = this.tokens.length;
      };
    }
  }

  get length(): number {
    return this.tokens.length;
  }

  reset(): void {
    this.tokens = [];
    this.states = [];
    this.floor = 0;
  }

  private table(seed: number, scale: number, key: number[]): Float32Array {
    const name = `${seed}:${key.join(',')}`;
    let row = this.tables.get(name);
    if (row === undefined) {
      const rng = createRng(hashKey(seed, key));
      row = new Float32Array(this.vocabSize);
      for (let i = 0; i < row.length; i++) row[i] = (2 * rng() - 1) * scale;
      this.tables.set(name, row);
    }
    return row;
  }

  /** Logits predicting the token after position i (0-based) of the current tokens. */
  private logitsAt(i: number, out: Float32Array, offset: number): void {
    const key = [this.states[i]];
    for (let j = 0; j < this.opts.order; j++) key.push(i - j >= 0 ? this.tokens[i - j] : -1);
    const base = this.table(this.opts.seed, this.opts.scale ?? 3, key);
    out.set(base, offset);
    if (this.opts.noise) {
      const n = this.table(this.opts.noise.seed, this.opts.noise.scale, key);
      for (let v = 0; v < this.vocabSize; v++) out[offset + v] += n[v];
    }
  }

  async forward(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0) throw new Error('NgramLm.forward: no tokens');
    this.forwardSizes.push(ids.length);
    this.floor = this.tokens.length;
    const out = new Float32Array(ids.length * this.vocabSize);
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`NgramLm.forward: bad id ${id}`);
      const prev = this.states.length > 0 ? this.states[this.states.length - 1] : 0;
      this.tokens.push(id);
      this.states.push((prev * 2 + id + 1) % 3);
      this.logitsAt(this.tokens.length - 1, out, r * this.vocabSize);
    }
    this.maxHeld = Math.max(this.maxHeld, this.tokens.length);
    return out;
  }

  truncate(n: number): void {
    const lowest = this.canTruncateAnywhere ? 0 : this.floor;
    if (!Number.isInteger(n) || n < lowest || n > this.tokens.length) {
      throw new Error(`NgramLm.truncate(${n}): allowed range is [${lowest}, ${this.tokens.length}]`);
    }
    this.tokens.length = n;
    this.states.length = n;
  }
}

/**
 * A draft whose argmax is never the wrapped model's argmax (that logit is pushed below every other): with a copy
 * of the target inside, greedy verification rejects every draft token.
 */
export class AvoidArgmaxLm implements DraftModel {
  constructor(private readonly inner: NgramLm) {}
  get vocabSize(): number {
    return this.inner.vocabSize;
  }
  get length(): number {
    return this.inner.length;
  }
  reset(): void {
    this.inner.reset();
  }
  truncate(n: number): void {
    this.inner.truncate(n);
  }
  snapshot(): unknown {
    return this.inner.snapshot!();
  }
  restore(s: unknown): void {
    this.inner.restore!(s);
  }
  async forward(ids: readonly number[]): Promise<Float32Array> {
    const out = await this.inner.forward(ids);
    const V = this.vocabSize;
    for (let r = 0; r < ids.length; r++) {
      const row = out.subarray(r * V, (r + 1) * V);
      let best = 0;
      let min = row[0];
      for (let v = 1; v < V; v++) {
        if (row[v] > row[best]) best = v;
        if (row[v] < min) min = row[v];
      }
      row[best] = min - 1;
    }
    return out;
  }
}

/** Logits after feeding `context` to a fresh model built by `make` (an oracle independent of any loop). */
export async function lastLogits(make: () => NgramLm | AvoidArgmaxLm, context: readonly number[]): Promise<number[]> {
  const m = make();
  const all = await m.forward(context);
  return Array.from(all.subarray((context.length - 1) * m.vocabSize));
}
