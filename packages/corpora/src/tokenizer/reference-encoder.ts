import { CorporaError } from '../errors';
import { BOS_TOKEN, bytePiece, SPACE_MARKER, type LlamaBpeTokenizerJson } from './tokenizer-json';
import { normalizeForBpe } from './training-words';

/**
 * A plain, slow-but-obvious encoder for our Llama-style BPE tokenizer.json, used as an oracle for
 * the real runtime (`@huggingface/tokenizers`), not as a runtime itself. Per word it repeatedly
 * merges the adjacent pair of lowest rank (leftmost on ties) until no pair has a rank; pieces not in
 * the vocabulary become their UTF-8 byte pieces.
 *
 * @example
 * const enc = new ReferenceBpeEncoder(tokenizerJson);
 * enc.encode('Hello world'); // [1, …] (with <s>)
 */
export class ReferenceBpeEncoder {
  private readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly unkId: number;
  private readonly bosId: number;
  private readonly specials: string[];
  private readonly cache = new Map<string, string[]>();

  constructor(json: LlamaBpeTokenizerJson) {
    this.vocab = new Map(Object.entries(json.model.vocab));
    json.model.merges.forEach((merge, rank) => {
      // First rank wins if a merge is listed twice, as in the runtimes.
      if (!this.ranks.has(merge)) this.ranks.set(merge, rank);
    });
    const unk = this.vocab.get(json.model.unk_token);
    const bos = this.vocab.get(BOS_TOKEN);
    if (unk === undefined || bos === undefined) {
      throw new CorporaError('BAD_INPUT', `tokenizer.json: vocabulary lacks '${json.model.unk_token}' or '${BOS_TOKEN}'`);
    }
    const straddling = Object.keys(json.model.vocab).find((p) => NON_MARKER_THEN_MARKER.test(p));
    if (straddling !== undefined) {
      // Word-by-word encoding would then differ from whole-text encoding.
      throw new CorporaError(
        'BAD_INPUT',
        `tokenizer.json: piece ${JSON.stringify(straddling)} has '${SPACE_MARKER}' after another character; the reference encoder expects sentencepiece-style pieces`,
      );
    }
    this.unkId = unk;
    this.bosId = bos;
    // Longest first so that a special that is a prefix of another never wins early.
    this.specials = json.added_tokens.map((t) => t.content).sort((x, y) => y.length - x.length);
  }

  /** Pieces of one text, without `<s>`. Special-token strings in the text become those tokens. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const section of this.splitSpecials(text)) {
      if (section.special) {
        out.push(section.text);
        continue;
      }
      // Merges never join a "▁" onto a preceding non-"▁" (see training-words.ts), so each
      // "▁*[^▁]*" stretch can be encoded alone.
      const normalized = normalizeForBpe(section.text);
      for (const word of normalized.match(WORDS) ?? []) out.push(...this.bpe(word));
    }
    return out;
  }

  /** Token ids of a text; prepends `<s>` unless `addBos` is false. */
  encode(text: string, options: { addBos?: boolean } = {}): number[] {
    const ids: number[] = options.addBos === false ? [] : [this.bosId];
    for (const piece of this.tokenize(text)) {
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const byte of UTF8.encode(piece)) ids.push(this.vocab.get(bytePiece(byte)) ?? this.unkId);
    }
    return ids;
  }

  private splitSpecials(text: string): { text: string; special: boolean }[] {
    const sections: { text: string; special: boolean }[] = [];
    let start = 0;
    let plain = 0;
    while (start < text.length) {
      const hit = this.specials.find((s) => s !== '' && text.startsWith(s, start));
      if (hit === undefined) {
        start++;
        continue;
      }
      if (start > plain) sections.push({ text: text.slice(plain, start), special: false });
      sections.push({ text: hit, special: true });
      start += hit.length;
      plain = start;
    }
    if (text.length > plain) sections.push({ text: text.slice(plain), special: false });
    return sections;
  }

  private bpe(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const parts = Array.from(word);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best] + parts[best + 1]);
    }
    this.cache.set(word, parts);
    return parts;
  }
}

const UTF8 = new TextEncoder();
const NON_MARKER_THEN_MARKER = new RegExp(`[^${SPACE_MARKER}]${SPACE_MARKER}`, 'u');
const WORDS = new RegExp(`${SPACE_MARKER}*[^${SPACE_MARKER}]*`, 'gu');
