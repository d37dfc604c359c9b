// Passkey retrieval ("needle in a haystack"): a random number is stated once at depth d of L tokens of filler text,
// the prompt ends by asking for it, and the greedy continuation must contain it.
import type { LoadedTokenizer } from '@mil/checkpoint';
import { createRng } from '@mil/core';
import { EvalError } from '../eval-error';
import type { EvalModel } from '../eval-model';
import { argmax } from '../log-probs';

export interface NeedleOptions {
  /** Prompt lengths in tokens (default [1024, 2048, 4096, 8192]). */
  lengths?: number[];
  /** Depths (fraction of the filler before the needle; default 10 steps 0, 1/9, …, 1). */
  depths?: number[];
  seed?: number;
}

export interface NeedlePrompt {
  ids: number[];
  passkey: string;
  /** Token index where the needle sentence starts. */
  needleAt: number;
  /** Tokens of filler (the haystack) in the prompt. */
  filler: number;
}

export interface NeedleResult {
  lengths: number[];
  depths: number[];
  /** correct[i][j]: 1 when length i, depth j was retrieved. */
  correct: number[][];
  accuracy: number;
}

/** Default depths: 10 steps from the start to the end of the filler. */
export const NEEDLE_DEPTHS = Array.from({ length: 10 }, (_, i) => i / 9);

// No leading space: the tokenizer's word-start marker supplies it (a space would add a lone '▁' token).
const needleText = (key: string) => `The pass key is ${key}. Remember it. ${key} is the pass key.`;
const QUESTION = 'What is the pass key? The pass key is';

/**
 * Builds one passkey prompt of `length` tokens: BOS + filler[0:p] + needle + filler[p:] + question, where
 * p = round(depth × filler tokens). Filler is cut at token boundaries of `fillerIds` (a held-out token stream).
 *
 * @example
 * const p = needlePrompt(tok, filler, 2048, 0.5, '48213'); p.ids.length === 2048
 */
export function needlePrompt(tok: LoadedTokenizer, fillerIds: readonly number[], length: number, depth: number, passkey: string): NeedlePrompt {
  const bos = tok.bosId === null ? [] : [tok.bosId];
  const needle = tok.encode(needleText(passkey), { addSpecialTokens: false });
  const question = tok.encode(QUESTION, { addSpecialTokens: false });
  const filler = length - bos.length - needle.length - question.length;
  if (filler < 1 || filler > fillerIds.length)
    throw new EvalError('BAD_OPTION', `needle: length ${length} needs ${filler} filler tokens; have ${fillerIds.length} (and at least 1)`);
  const p = Math.round(Math.min(1, Math.max(0, depth)) * filler);
  const ids = [...bos, ...fillerIds.slice(0, p), ...needle, ...fillerIds.slice(p, filler), ...question];
  return { ids, passkey, needleAt: bos.length + p, filler };
}

/**
 * Runs the depth × length grid: each prompt is prefilled, then `digits + 2` tokens are decoded greedily and the
 * decoded text must contain the passkey. Prompts of one length share the filler before their needle, which runs
 * once (the session rewinds to it).
 *
 * @example
 * const r = await needleRetrieval(model, fillerIds, { lengths: [1024, 2048] });
 * r.correct; // [[1, 1, 0, …], …]
 */
export async function needleRetrieval(
  model: EvalModel, fillerIds: readonly number[], o: NeedleOptions = {}, onProgress?: (done: number, total: number) => void,
): Promise<NeedleResult> {
  const lengths = o.lengths ?? [1024, 2048, 4096, 8192];
  const depths = o.depths ?? NEEDLE_DEPTHS;
  const rng = createRng(o.seed ?? 7);
  const tok = model.tokenizer;
  const maxLen = Math.max(...lengths) + 16;
  const session = await model.session(maxLen);
  const correct: number[][] = [];
  let done = 0;
  try {
    for (const L of lengths) {
      const row: number[] = [];
      // Ascending needle positions so each prompt's shared prefix extends the previous one.
      const prompts = depths.map((d) => needlePrompt(tok, fillerIds, L, d, String(10000 + Math.floor(rng() * 90000))));
      const order = prompts.map((_, j) => j).sort((a, b) => prompts[a].needleAt - prompts[b].needleAt);
      session.reset();
      let fed = 0;
      const got = new Array<number>(depths.length);
      for (const j of order) {
        const p = prompts[j];
        if (p.needleAt > fed) await session.forward(p.ids.slice(fed, p.needleAt));
        fed = Math.max(fed, p.needleAt);
        const mark = model.mark(session);
        const rest = p.ids.slice(fed);
        let logits = await session.forward(rest);
        const V = session.vocabSize;
        const out: number[] = [];
        for (let k = 0; k < p.passkey.length + 2; k++) {
          out.push(argmax(logits.subarray(logits.length - V)));
          if (k < p.passkey.length + 1) logits = await session.forward([out[k]]);
        }
        got[j] = tok.decode(out, { skipSpecialTokens: true }).includes(p.passkey) ? 1 : 0;
        model.rewind(session, mark);
        onProgress?.(++done, lengths.length * depths.length);
      }
      row.push(...got);
      correct.push(row);
    }
  } finally {
    await session.release();
  }
  const flat = correct.flat();
  return { lengths, depths, correct, accuracy: flat.reduce((a, b) => a + b, 0) / flat.length };
}
