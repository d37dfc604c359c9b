// Token streams for the main job: the teacher's training text (SOTU 1790–2000) and held-out sets, tokenized with
// the teacher's tokenizer, only as far as needed (the JS tokenizer is the slow part of start-up).
import type { LoadedTokenizer } from '@mil/checkpoint';
import { mixSeeds } from '@mil/core';
import { seededPermutation } from '../trainer/seeds';
import { loadSplits, type CorpusDocument } from '@mil/corpora';

/** <s> doc </s> for documents in order until `maxTokens` tokens are collected. */
export function tokenizeDocuments(tok: LoadedTokenizer, docs: readonly CorpusDocument[], maxTokens: number): Int32Array {
  const out: number[] = [];
  for (const d of docs) {
    if (out.length >= maxTokens) break;
    out.push(tok.bosId ?? 1);
    for (const id of tok.encode(d.text, { addSpecialTokens: false })) out.push(id);
    out.push(tok.eosId ?? 2);
  }
  return Int32Array.from(out.slice(0, maxTokens));
}

export interface MainJobData {
  train: Int32Array;
  heldOut: { sotu: Int32Array; brown: Int32Array };
}

/** Training tokens from SOTU 1790–2000 in a seeded document order; held-out SOTU 2001–2021 and Brown prefixes. */
export function loadMainJobData(tok: LoadedTokenizer, o: { trainTokens: number; evalTokens: number; seed: number }): MainJobData {
  const s = loadSplits();
  const order = seededPermutation(s.train.length, mixSeeds(o.seed, 7));
  const train = tokenizeDocuments(tok, Array.from(order, (i) => s.train[i]), o.trainTokens);
  return {
    train,
    heldOut: { sotu: tokenizeDocuments(tok, s.heldOut.sotu, o.evalTokens + 1), brown: tokenizeDocuments(tok, s.heldOut.brown, o.evalTokens + 1) },
  };
}
