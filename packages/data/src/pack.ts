// Packing tokenised examples into fixed-length windows with loss masks.
import { DataError } from './errors';
import type { TokenizedSequence } from './chat-tokens';

/** `n` windows of `seq + 1` tokens, row-major; `mask[i] = 1` when token i is a training target. */
export interface PackedWindows {
  seq: number;
  count: number;
  tokens: Int32Array;
  mask: Uint8Array;
}

export interface PackOptions {
  /** Tokens a model sees per row; each window holds seq + 1 (inputs are the first seq, targets the last seq). */
  seq: number;
  /** Fills the tail of the last window (mask 0); default 0. */
  padId?: number;
  /** Drop the last, partial window instead of padding it (default false). */
  dropLast?: boolean;
}

/**
 * Packs sequences end to end into independent windows of seq + 1 tokens (a sequence longer than the room left
 * continues in the next window). A window's first token is context only (nothing before it in the window
 * predicts it); windows with no target are dropped. Call `push` per example and `finish` once.
 *
 * @example
 * const p = new WindowPacker({ seq: 256 });
 * for (const s of seqs) for (const w of p.push(s)) save(w);
 * for (const w of p.finish()) save(w);
 */
export class WindowPacker {
  readonly seq: number;
  private readonly padId: number;
  private readonly dropLast: boolean;
  private tokens: Int32Array;
  private mask: Uint8Array;
  private fill = 0;

  constructor(opts: PackOptions) {
    if (!Number.isInteger(opts.seq) || opts.seq < 1) throw new DataError('BAD_OPTION', `pack: seq must be an integer >= 1, got ${opts.seq}`);
    this.seq = opts.seq;
    this.padId = opts.padId ?? 0;
    this.dropLast = opts.dropLast ?? false;
    this.tokens = new Int32Array(this.seq + 1);
    this.mask = new Uint8Array(this.seq + 1);
  }

  /** Adds one sequence; returns the windows it completed. */
  push(s: TokenizedSequence): { tokens: Int32Array; mask: Uint8Array }[] {
    if (s.ids.length !== s.mask.length) throw new DataError('BAD_OPTION', `pack: ids (${s.ids.length}) and mask (${s.mask.length}) differ in length`);
    const done: { tokens: Int32Array; mask: Uint8Array }[] = [];
    for (let i = 0; i < s.ids.length; i++) {
      this.tokens[this.fill] = s.ids[i];
      this.mask[this.fill] = this.fill === 0 ? 0 : s.mask[i] ? 1 : 0;
      this.fill++;
      if (this.fill === this.seq + 1) {
        const w = this.take();
        if (w) done.push(w);
      }
    }
    return done;
  }

  /** The last, padded window (unless dropLast or empty). */
  finish(): { tokens: Int32Array; mask: Uint8Array }[] {
    if (this.fill <= 1 || this.dropLast) {
      this.fill = 0;
      return [];
    }
    this.tokens.fill(this.padId, this.fill);
    this.mask.fill(0, this.fill);
    const w = this.take();
    return w ? [w] : [];
  }

  private take(): { tokens: Int32Array; mask: Uint8Array } | null {
    const w = { tokens: this.tokens, mask: this.mask };
    this.tokens = new Int32Array(this.seq + 1);
    this.mask = new Uint8Array(this.seq + 1);
    this.fill = 0;
    return w.mask.some((m) => m === 1) ? w : null;
  }
}

/**
 * Packs a whole list at once.
 * @example const packed = packSequences(seqs, { seq: 128 }); packed.count;
 */
export function packSequences(seqs: Iterable<TokenizedSequence>, opts: PackOptions): PackedWindows {
  const p = new WindowPacker(opts);
  const ws: { tokens: Int32Array; mask: Uint8Array }[] = [];
  for (const s of seqs) ws.push(...p.push(s));
  ws.push(...p.finish());
  return joinWindows(ws, opts.seq);
}

export function joinWindows(ws: readonly { tokens: Int32Array; mask: Uint8Array }[], seq: number): PackedWindows {
  const tokens = new Int32Array(ws.length * (seq + 1));
  const mask = new Uint8Array(ws.length * (seq + 1));
  ws.forEach((w, i) => {
    tokens.set(w.tokens, i * (seq + 1));
    mask.set(w.mask, i * (seq + 1));
  });
  return { seq, count: ws.length, tokens, mask };
}

/** The [batch, seq] model inputs of some windows, with targets −100 where the mask is 0 (structurally @mil/distill's TokenBatch). */
export interface WindowBatch {
  inputIds: BigInt64Array;
  targets: BigInt64Array;
  batch: number;
  seq: number;
}

/**
 * Inputs and masked next-token targets for windows `rows` of `packed`.
 * @example const b = windowBatch(packed, [0, 1, 2, 3]); // feed to a train step
 */
export function windowBatch(packed: PackedWindows, rows: readonly number[]): WindowBatch {
  const { seq } = packed;
  const inputIds = new BigInt64Array(rows.length * seq);
  const targets = new BigInt64Array(rows.length * seq);
  rows.forEach((r, b) => {
    if (!Number.isInteger(r) || r < 0 || r >= packed.count) throw new DataError('BAD_OPTION', `windowBatch: row ${r} out of range 0..${packed.count - 1}`);
    const o = r * (seq + 1);
    for (let t = 0; t < seq; t++) {
      inputIds[b * seq + t] = BigInt(packed.tokens[o + t]);
      targets[b * seq + t] = packed.mask[o + t + 1] ? BigInt(packed.tokens[o + t + 1]) : -100n;
    }
  });
  return { inputIds, targets, batch: rows.length, seq };
}
