import { CorporaError } from '../errors';
import {
  BOS_TOKEN,
  bytePiece,
  EOS_TOKEN,
  FIRST_LEARNED_ID,
  llamaBpeTokenizerJson,
  type LlamaBpeTokenizerJson,
  SPACE_MARKER,
  UNK_TOKEN,
} from './tokenizer-json';
import { countTrainingWords } from './training-words';

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Total vocabulary size: 3 specials + 256 byte pieces + characters + merged pieces. */
  vocabSize: number;
  /** Characters seen fewer times than this get no piece of their own (byte fallback). Default 10. */
  minCharFrequency?: number;
  /**
   * Keep at most the most frequent characters that cover this share of all characters (like
   * sentencepiece's `character_coverage`); the rest are left to byte fallback. Default 1.
   */
  characterCoverage?: number;
  /** Stop early when the best pair occurs fewer times than this. Default 2. */
  minPairFrequency?: number;
  /** Longest piece in characters (sentencepiece's `max_sentencepiece_length`). Default 16. */
  maxPieceLength?: number;
  /** Called every `progressEvery` merges (default 256) and once at the end. */
  onProgress?: (p: { merges: number; pieces: number; targetPieces: number }) => void;
  progressEvery?: number;
}

/** What {@link trainBpe} returns. */
export interface TrainedBpe {
  /** Hugging Face `tokenizer.json` content (Llama-2 structure, byte fallback). */
  tokenizer: LlamaBpeTokenizerJson;
  stats: {
    /** Distinct training words (after normalisation and splitting). */
    uniqueWords: number;
    /** Characters in the training text, counting each "▁" (space) as one. */
    trainingChars: number;
    /** Characters given their own piece. */
    alphabetSize: number;
    /** Characters left to byte fallback, most frequent first. */
    droppedChars: string[];
    /** Merges learned (can exceed the merged pieces when two merges spell the same piece). */
    merges: number;
    /** Final vocabulary size (below `vocabSize` only when training ran out of frequent pairs). */
    vocabSize: number;
  };
}

// Pair keys pack two symbol ids < 2^16 into one number (exact in a double).
const ID_LIMIT = 1 << 16;
const pairKey = (a: number, b: number): number => a * ID_LIMIT + b;

/** Max-heap of (count, key); ties go to the smaller key so training is deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry and returns it as [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    const n = this.counts.length;
    if (n > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < n && this.above(l, best)) best = l;
        if (r < n && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * Trains a byte-fallback BPE tokenizer in the sentencepiece / Llama style and returns its
 * Hugging Face `tokenizer.json`. Words are counted once; each merge then updates only the pair
 * counts of the words that contain the merged pair, and the next pair comes from a max-heap with
 * lazy deletion, so training costs about (distinct words × their length) per merge touched rather
 * than a pass over the corpus per merge.
 *
 * Vocabulary layout: `<unk>`=0, `<s>`=1, `</s>`=2, `<0x00>`…`<0xFF>`=3…258, then the characters
 * (most frequent first, ties by code point), then merged pieces in the order learned. Merges are
 * listed in the order learned. Each step merges the most frequent adjacent pair; on equal counts the
 * pair whose left piece has the lower id wins, then the one whose right piece has the lower id.
 * Training words come from `splitTrainingWords`: pieces never cross a space-to-word boundary,
 * a letter/punctuation boundary or a digit, and never contain a character left to byte fallback.
 *
 * @example
 * const { tokenizer } = trainBpe(loadSotu({ toYear: 2000 }).map((s) => s.text), { vocabSize: 2048 });
 * const tok = new Tokenizer(tokenizer, tokenizerConfig()); // @huggingface/tokenizers
 */
export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): TrainedBpe {
  const { vocabSize } = options;
  const coverage = options.characterCoverage ?? 1;
  const minCharFrequency = options.minCharFrequency ?? 10;
  const minPairFrequency = options.minPairFrequency ?? 2;
  const maxPieceLength = options.maxPieceLength ?? 16;
  const progressEvery = options.progressEvery ?? 256;
  if (!Number.isInteger(vocabSize) || vocabSize <= FIRST_LEARNED_ID || vocabSize > ID_LIMIT) {
    throw new CorporaError(
      'BAD_OPTION',
      `trainBpe: vocabSize must be an integer in (${FIRST_LEARNED_ID}, ${ID_LIMIT}] (3 specials + 256 bytes + learned pieces), got ${vocabSize}`,
    );
  }
  if (!(coverage > 0 && coverage <= 1)) {
    throw new CorporaError('BAD_OPTION', `trainBpe: characterCoverage must be in (0, 1], got ${coverage}`);
  }
  if (!(minCharFrequency >= 1)) {
    throw new CorporaError('BAD_OPTION', `trainBpe: minCharFrequency must be ≥ 1, got ${minCharFrequency}`);
  }
  if (!Number.isInteger(minPairFrequency) || minPairFrequency < 1) {
    throw new CorporaError('BAD_OPTION', `trainBpe: minPairFrequency must be a positive integer, got ${minPairFrequency}`);
  }
  if (!Number.isInteger(maxPieceLength) || maxPieceLength < 2) {
    throw new CorporaError('BAD_OPTION', `trainBpe: maxPieceLength must be an integer ≥ 2, got ${maxPieceLength}`);
  }
  const targetPieces = vocabSize - FIRST_LEARNED_ID;

  // 1. Word counts and character counts.
  const wordCounts = countTrainingWords(texts);
  const charCounts = new Map<string, number>();
  let trainingChars = 0;
  for (const [word, count] of wordCounts) {
    for (const ch of word) {
      charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
      trainingChars += count;
    }
  }
  if (trainingChars === 0) {
    throw new CorporaError('BAD_INPUT', 'trainBpe: the training texts are empty');
  }

  // 2. Alphabet: the most frequent characters (ties by code point) while they are frequent enough,
  // within the coverage and leave room for merges; "▁" always.
  const byFrequency = [...charCounts].sort((x, y) => y[1] - x[1] || x[0].codePointAt(0)! - y[0].codePointAt(0)!);
  const symbols: string[] = []; // symbol id → piece text (learned-piece index, vocab id - FIRST_LEARNED_ID)
  const symbolLength: number[] = []; // in code points
  const symbolOf = new Map<string, number>();
  const addSymbol = (piece: string, length: number): number => {
    const id = symbols.length;
    symbols.push(piece);
    symbolLength.push(length);
    symbolOf.set(piece, id);
    return id;
  };
  const droppedChars: string[] = [];
  let covered = 0;
  for (const [ch, count] of byFrequency) {
    const keep =
      ch === SPACE_MARKER ||
      (count >= minCharFrequency && covered < coverage * trainingChars && symbols.length < targetPieces - 1);
    if (keep) {
      addSymbol(ch, 1);
      covered += count;
    } else {
      droppedChars.push(ch);
    }
  }
  if (!symbolOf.has(SPACE_MARKER)) addSymbol(SPACE_MARKER, 1);
  const alphabetSize = symbols.length;

  // 3. Words as symbol arrays. Dropped characters split a word: no piece may contain them.
  const words: Int32Array[] = [];
  const freqs: number[] = [];
  {
    const merged = new Map<string, number>();
    for (const [word, count] of wordCounts) {
      let part: number[] = [];
      const flush = (): void => {
        if (part.length >= 2) {
          const k = part.join(',');
          const at = merged.get(k);
          if (at === undefined) {
            merged.set(k, words.length);
            words.push(Int32Array.from(part));
            freqs.push(count);
          } else {
            freqs[at] += count;
          }
        }
        part = [];
      };
      for (const ch of word) {
        const id = symbolOf.get(ch);
        if (id === undefined) flush();
        else part.push(id);
      }
      flush();
    }
  }

  // 4. Initial pair counts and where each pair occurs.
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const word = words[w];
    const f = freqs[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      const before = pairCounts.get(key);
      pairCounts.set(key, (before ?? 0) + f);
      const list = pairWords.get(key);
      if (list === undefined) pairWords.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  // Pieces that would collide with the specials or byte pieces are never formed.
  const reserved = new Set<string>([UNK_TOKEN, BOS_TOKEN, EOS_TOKEN]);
  for (let b = 0; b < 256; b++) reserved.add(bytePiece(b));

  // 5. Merge loop.
  const merges: [string, string][] = [];
  const seen = new Int32Array(words.length).fill(-1); // last merge step that visited a word
  const changed = new Set<number>();
  const banned = new Set<number>();
  const report = (): void => options.onProgress?.({ merges: merges.length, pieces: symbols.length, targetPieces });
  while (symbols.length < targetPieces && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCounts.get(key) !== count || banned.has(key)) continue; // stale heap entry
    if (count < minPairFrequency) break;
    const a = Math.floor(key / ID_LIMIT);
    const b = key % ID_LIMIT;
    const piece = symbols[a] + symbols[b];
    const length = symbolLength[a] + symbolLength[b];
    if (length > maxPieceLength || reserved.has(piece)) {
      banned.add(key); // never merged; its count is still kept up to date but never pushed again
      continue;
    }
    const c = symbolOf.get(piece) ?? addSymbol(piece, length);
    merges.push([symbols[a], symbols[b]]);
    const step = merges.length;

    changed.clear();
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === step) continue;
      seen[w] = step;
      const word = words[w];
      let has = false;
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === a && word[i + 1] === b) {
          has = true;
          break;
        }
      }
      if (!has) continue; // the pair left this word in an earlier merge
      const f = freqs[w];
      // Remove all of the word's pairs, merge left to right, add the new word's pairs back.
      for (let i = 0; i + 1 < word.length; i++) {
        const k = pairKey(word[i], word[i + 1]);
        pairCounts.set(k, pairCounts.get(k)! - f);
        changed.add(k);
      }
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          next.push(c);
          i++;
        } else {
          next.push(word[i]);
        }
      }
      const merged = Int32Array.from(next);
      words[w] = merged;
      for (let i = 0; i + 1 < merged.length; i++) {
        const x = merged[i];
        const y = merged[i + 1];
        const k = pairKey(x, y);
        pairCounts.set(k, (pairCounts.get(k) ?? 0) + f);
        changed.add(k);
        // Pairs without the new symbol already list this word.
        if (x === c || y === c) {
          const list = pairWords.get(k);
          if (list === undefined) pairWords.set(k, [w]);
          else if (list[list.length - 1] !== w) list.push(w);
        }
      }
    }
    pairWords.delete(key);
    for (const k of changed) {
      const n = pairCounts.get(k)!;
      if (n <= 0) pairCounts.delete(k);
      else if (!banned.has(k)) heap.push(n, k);
    }
    if (step % progressEvery === 0) report();
  }
  report();

  const tokenizer = llamaBpeTokenizerJson(symbols, merges);
  return {
    tokenizer,
    stats: {
      uniqueWords: wordCounts.size,
      trainingChars,
      alphabetSize,
      droppedChars,
      merges: merges.length,
      vocabSize: FIRST_LEARNED_ID + symbols.length,
    },
  };
}
