import { CorporaError } from '../errors';

/** The three special pieces, at ids 0, 1, 2 as in Llama / sentencepiece. */
export const UNK_TOKEN = '<unk>';
export const BOS_TOKEN = '<s>';
export const EOS_TOKEN = '</s>';
export const SPECIAL_TOKENS = [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN] as const;

/** Sentencepiece's word-boundary marker ("▁", U+2581); every space becomes one. */
export const SPACE_MARKER = '\u2581';

/** `<0x00>` … `<0xFF>`: the byte-fallback piece for one byte. */
export function bytePiece(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Vocabulary id of the first byte piece (`<0x00>`); bytes follow the three specials. */
export const FIRST_BYTE_ID = SPECIAL_TOKENS.length;
/** Vocabulary id of the first learned piece (characters, then merges). */
export const FIRST_LEARNED_ID = FIRST_BYTE_ID + 256;

/** One entry of `added_tokens` in a Hugging Face `tokenizer.json`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * The subset of the Hugging Face `tokenizer.json` schema that a Llama-style (sentencepiece-BPE,
 * byte-fallback) tokenizer uses: no pre-tokenizer, "▁" normalizer, BPE model, byte-fallback decoder.
 */
export interface LlamaBpeTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: {
    type: 'Sequence';
    normalizers: [
      { type: 'Prepend'; prepend: string },
      { type: 'Replace'; pattern: { String: string }; content: string },
    ];
  };
  pre_tokenizer: null;
  post_processor: {
    type: 'TemplateProcessing';
    single: unknown[];
    pair: unknown[];
    special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
  };
  decoder: { type: 'Sequence'; decoders: Record<string, unknown>[] };
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: true;
    /** Piece → id; ids are 0…n-1 without gaps. */
    vocab: Record<string, number>;
    /** "left right", in rank order (the order they were learned). */
    merges: string[];
  };
}

/**
 * Builds a tokenizer.json with the structure of Llama-2's (normalizer Prepend "▁" + Replace " "→"▁",
 * no pre-tokenizer, TemplateProcessing that adds `<s>`, decoder Replace/ByteFallback/Fuse/Strip).
 * `pieces` are the learned pieces (characters, then merge results) that follow the specials and
 * the 256 byte pieces; `merges` are `[left, right]` pairs in rank order.
 *
 * @example
 * const json = llamaBpeTokenizerJson(['▁', 't', 'h', '▁t', '▁th'], [['▁', 't'], ['▁t', 'h']]);
 * json.model.vocab['▁th']; // 263
 */
export function llamaBpeTokenizerJson(
  pieces: readonly string[],
  merges: readonly (readonly [string, string])[],
): LlamaBpeTokenizerJson {
  // Null prototype: pieces such as "__proto__" or "constructor" must be plain keys.
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  const all = [...SPECIAL_TOKENS, ...Array.from({ length: 256 }, (_, b) => bytePiece(b)), ...pieces];
  all.forEach((piece, id) => {
    if (Object.hasOwn(vocab, piece)) {
      throw new CorporaError('BAD_INPUT', `tokenizer vocabulary: piece ${JSON.stringify(piece)} appears twice (ids ${vocab[piece]} and ${id})`);
    }
    vocab[piece] = id;
  });
  for (const [a, b] of merges) {
    if (!Object.hasOwn(vocab, a) || !Object.hasOwn(vocab, b) || !Object.hasOwn(vocab, a + b)) {
      throw new CorporaError('BAD_INPUT', `tokenizer merges: ${JSON.stringify([a, b])} needs '${a}', '${b}' and '${a + b}' in the vocabulary`);
    }
  }
  const bos = vocab[BOS_TOKEN];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE_MARKER },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARKER },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: BOS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS_TOKEN, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: BOS_TOKEN, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [BOS_TOKEN]: { id: BOS_TOKEN, ids: [bos], tokens: [BOS_TOKEN] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE_MARKER }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
