import { SPACE_MARKER } from './tokenizer-json';

/**
 * What the tokenizer.json normalizer does to a text: prepend "▁" and turn every space into "▁".
 * Empty text stays empty (the runtime skips empty sections).
 *
 * @example
 * normalizeForBpe('Hello world'); // '▁Hello▁world'
 */
export function normalizeForBpe(text: string): string {
  return text === '' ? '' : SPACE_MARKER + text.replaceAll(' ', SPACE_MARKER);
}

// Training words. A learned piece never spans two of these, so applying the merges to a whole
// normalized text (the runtime has no pre-tokenizer) gives the same pieces as applying them word by
// word. Boundaries are decided by the two characters either side only:
//   - before a "▁" that follows a non-"▁" (pieces start with their space, like sentencepiece);
//   - between letters (with apostrophes, for "'s" / "n't") and other non-digit characters;
//   - around every decimal digit (numbers are spelt digit by digit, like Llama).
// A "▁" run attaches to what follows it unless that is a digit.
const WORD = String.raw`[\p{L}\p{M}'\u2019]`;
const OTHER = String.raw`[^\p{L}\p{M}'\u2019\p{Nd}${SPACE_MARKER}]`;
const TRAINING_WORD = new RegExp(
  `${SPACE_MARKER}*${WORD}+|${SPACE_MARKER}*${OTHER}+|\\p{Nd}|${SPACE_MARKER}+`,
  'gu',
);

/**
 * Splits a normalized text (see {@link normalizeForBpe}) into BPE training words. The words
 * concatenate back to the input.
 *
 * @example
 * splitTrainingWords('▁In▁1790,▁the'); // ['▁In', '▁', '1', '7', '9', '0', ',', '▁the']
 */
export function splitTrainingWords(normalized: string): string[] {
  return normalized.match(TRAINING_WORD) ?? [];
}

/**
 * Counts training words over many texts: word → number of occurrences.
 *
 * @example
 * countTrainingWords(['the cat', 'the dog']).get('▁the'); // 2
 */
export function countTrainingWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of splitTrainingWords(normalizeForBpe(text))) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}
