// The main job's long-context and needle columns: per-position perplexity past the teacher's context, and passkey
// retrieval, for the teacher and the students — where a hybrid's length behaviour shows.
import type { HybridConfig, LlamaConfig, LoadedTokenizer } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { hybridEvalModel, longContextCurve, needleRetrieval, teacherEvalModel, type EvalModel } from '@mil/eval';

/** Sequence length of the long-context column: twice the embedded teacher's max_position_embeddings. */
export const LONG_CONTEXT_LENGTH = 2048;

/** What the two columns hold for one model (null when the held-out stream is too short to measure). */
export interface ContextColumns {
  /** Perplexity of the tokens predicted at positions ≥ LONG_CONTEXT_LENGTH / 2 (the second half of each sequence). */
  pplLong: number | null;
  /** Fraction of passkey prompts (512 and 1024 tokens × 3 depths) whose greedy answer holds the number. */
  needle: number | null;
}

/** An eval model over in-memory weights: the teacher, or a hybrid student when `hybrid` is given. */
export function contextEvalModel(teacher: LlamaConfig, weights: Map<string, Float32Array>, tokenizer: LoadedTokenizer, run: RunOptions, hybrid?: HybridConfig): EvalModel {
  return hybrid ? hybridEvalModel(teacher, hybrid, weights, tokenizer, run) : teacherEvalModel(teacher, weights, tokenizer, run);
}

/**
 * The long-context and needle columns of one model, from held-out token streams (`text` for the long-context
 * sequences, `filler` for the haystack).
 *
 * @example
 * const c = await contextColumns(contextEvalModel(cfg, w, tok, run), sotuIds, brownIds);
 */
export async function contextColumns(model: EvalModel, text: Int32Array, filler: Int32Array): Promise<ContextColumns> {
  const L = LONG_CONTEXT_LENGTH;
  const sequences = Array.from({ length: Math.floor(text.length / L) }, (_, i) => Array.from(text.subarray(i * L, (i + 1) * L)));
  let pplLong: number | null = null;
  if (sequences.length > 0) {
    const r = await longContextCurve(model, sequences, { length: L, bucket: L / 2 });
    pplLong = r.curve[1]?.ppl ?? null;
  }
  let needle: number | null = null;
  if (filler.length >= 1024) {
    const r = await needleRetrieval(model, Array.from(filler), { lengths: [512, 1024], depths: [0, 0.5, 1], seed: 7 });
    const all = r.correct.flat();
    needle = all.reduce((s, x) => s + x, 0) / all.length;
  }
  return { pplLong, needle };
}
