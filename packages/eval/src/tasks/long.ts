// Long-context curve: perplexity as a function of position, on sequences several times the training context.
// A model that extrapolates keeps a flat (or falling) curve past max_position_embeddings; one that does not blows up.
import type { EvalModel } from '../eval-model';
import { tokenLogProb } from '../log-probs';

export interface LongContextOptions {
  /** Sequence length (e.g. 4× the training context). */
  length: number;
  /** Positions per bucket of the curve (default length / 32). */
  bucket?: number;
  /** Tokens fed per session call (default 512). */
  chunk?: number;
}

export interface LongContextResult {
  length: number;
  sequences: number;
  /** One point per bucket: first position of the bucket, perplexity of the tokens predicted there. */
  curve: { position: number; ppl: number }[];
}

/**
 * Runs each stream of at least `length` tokens (cut to `length`) through a session in chunks and pools the
 * per-position NLL over sequences into buckets.
 *
 * @example
 * const r = await longContextCurve(model, streams, { length: 4096 });
 * r.curve.at(-1).ppl; // perplexity of positions 3968–4095
 */
export async function longContextCurve(
  model: EvalModel, streams: readonly (readonly number[])[], o: LongContextOptions, onProgress?: (done: number, total: number) => void,
): Promise<LongContextResult> {
  const L = o.length;
  const bucket = o.bucket ?? Math.max(1, Math.floor(L / 32));
  const chunk = o.chunk ?? 512;
  const seqs = streams.filter((s) => s.length >= L).map((s) => s.slice(0, L));
  const nb = Math.ceil((L - 1) / bucket);
  const sum = new Float64Array(nb);
  const cnt = new Float64Array(nb);
  const session = await model.session(L);
  try {
    let done = 0;
    for (const seq of seqs) {
      session.reset();
      for (let s = 0; s < L - 1; s += chunk) {
        const ids = seq.slice(s, Math.min(s + chunk, L - 1));
        const logits = await session.forward(ids);
        const V = session.vocabSize;
        for (let t = 0; t < ids.length; t++) {
          const p = s + t; // predicts token p + 1
          const b = Math.floor(p / bucket);
          sum[b] -= tokenLogProb(logits.subarray(t * V, (t + 1) * V), seq[p + 1]).logProb;
          cnt[b]++;
        }
        done += ids.length;
        onProgress?.(done, seqs.length * (L - 1));
      }
    }
  } finally {
    await session.release();
  }
  const curve = Array.from({ length: nb }, (_, b) => ({ position: b * bucket, ppl: cnt[b] ? Math.exp(sum[b] / cnt[b]) : NaN }));
  return { length: L, sequences: seqs.length, curve };
}
