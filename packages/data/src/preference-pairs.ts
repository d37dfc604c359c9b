// Preference pairs from files, tokenised and split, ready for @mil/distill's DPO step.
import type { LoadedTokenizer } from '@mil/checkpoint';
import { DataError } from './errors';
import { readExamples, type ReadProgress } from './read-examples';
import { isHeldOut } from './split';
import { tokenizePreference, type TokenizedPair, type TokenizeOptions } from './tokenize';

export interface PreferencePairs {
  train: TokenizedPair[];
  heldOut: TokenizedPair[];
}

/**
 * Reads TRL-shaped preference records (JSONL or Parquet) and tokenises them; any other record is BAD_RECORD.
 *
 * @example
 * const { train } = await readPreferencePairs(tok, 'prefs.jsonl');
 * const batch = collatePairs(train.slice(0, 4), 256); // from @mil/distill
 */
export async function readPreferencePairs(
  tok: LoadedTokenizer,
  paths: string | readonly string[],
  opts: TokenizeOptions & { heldOutFraction?: number; onProgress?: (p: ReadProgress) => void } = {},
): Promise<PreferencePairs> {
  const out: PreferencePairs = { train: [], heldOut: [] };
  for await (const ex of readExamples(paths, { onProgress: opts.onProgress })) {
    if (ex.kind !== 'preference') throw new DataError('BAD_RECORD', `${ex.source}: expected a preference record (prompt, chosen, rejected), got a ${ex.kind} example`);
    (isHeldOut(ex, opts.heldOutFraction ?? 0.01) ? out.heldOut : out.train).push(tokenizePreference(tok, ex, opts));
  }
  return out;
}
