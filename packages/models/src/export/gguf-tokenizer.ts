// A Hugging Face tokenizer.json (SentencePiece-style BPE: `▁` for spaces, byte fallback) as llama.cpp's GGUF
// tokenizer metadata (`tokenizer.ggml.model = "llama"`).
//
// llama.cpp's "llama" tokenizer merges, among adjacent symbols whose concatenation is a vocabulary entry, the one
// whose entry has the highest score (leftmost on ties), then falls back to <0xXX> byte tokens — SentencePiece BPE.
// Hugging Face BPE merges the adjacent pair of lowest merge rank (leftmost on ties). So each merge result gets the
// score −rank: the two procedures then pick the same merges, and llama.cpp reproduces the HF token ids. (llama.cpp's
// own converter writes −1000 for every score when it has no tokenizer.model, which merges in a different order.)
import { ModelsError } from '../errors';
import type { GgufValue } from './gguf-writer';

/** llama.cpp token types (llama_token_type). */
export const GGUF_TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

interface HfTokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string | null };
  added_tokens?: { id: number; content: string; special: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
}

export interface GgufTokenizer {
  tokens: string[];
  scores: number[];
  types: number[];
  merges: string[];
  metadata: [string, GgufValue][];
}

function hasPrependSpace(normalizer: unknown): boolean {
  const s = JSON.stringify(normalizer ?? null);
  return s.includes('"Prepend"') && s.includes('▁');
}

function tokenId(vocab: Map<string, number>, tok: unknown, what: string): number | null {
  const text = typeof tok === 'string' ? tok : tok && typeof tok === 'object' && 'content' in tok ? String((tok as { content: unknown }).content) : null;
  if (text === null) return null;
  const id = vocab.get(text);
  if (id === undefined) throw new ModelsError('BAD_CONFIG', `tokenizer_config.json: ${what} ${JSON.stringify(text)} is not in tokenizer.json's vocabulary`);
  return id;
}

/**
 * The `tokenizer.*` GGUF metadata of a SentencePiece-style BPE tokenizer.json (+ tokenizer_config.json fields
 * bos/eos/unk/pad token, add_bos_token, add_eos_token, chat_template).
 *
 * @example
 * const t = ggufTokenizer(JSON.parse(readFileSync('models/sotu-tiny/tokenizer.json', 'utf8')), tokenizerConfig);
 * t.scores[t.tokens.indexOf('▁the')]; // −(rank of the merge that makes "▁the")
 */
export function ggufTokenizer(tokenizerJson: unknown, tokenizerConfig: Record<string, unknown> = {}): GgufTokenizer {
  const tj = tokenizerJson as HfTokenizerJson;
  const m = tj?.model;
  if (!m || m.type !== 'BPE' || !m.byte_fallback || !hasPrependSpace(tj.normalizer) || tj.pre_tokenizer) {
    throw new ModelsError(
      'BAD_CONFIG',
      'GGUF export: tokenizer.json must be a SentencePiece-style BPE (model.type BPE, byte_fallback, a Prepend "▁" normalizer, no pre_tokenizer)',
    );
  }
  const vocab = new Map<string, number>(Object.entries(m.vocab));
  for (const a of tj.added_tokens ?? []) vocab.set(a.content, a.id);
  const n = Math.max(...vocab.values()) + 1;
  const tokens: string[] = new Array(n);
  for (const [t, id] of vocab) tokens[id] = t;
  for (let i = 0; i < n; i++) {
    if (tokens[i] === undefined) throw new ModelsError('BAD_CONFIG', `tokenizer.json: no token has id ${i} (GGUF needs ids 0..${n - 1})`);
  }
  const scores = new Array<number>(n).fill(0);
  const merges: string[] = [];
  const seen = new Set<number>();
  m.merges.forEach((mg, rank) => {
    const [a, b] = typeof mg === 'string' ? (mg.split(' ') as [string, string]) : mg;
    merges.push(`${a} ${b}`);
    const id = vocab.get(a + b);
    if (id === undefined) throw new ModelsError('BAD_CONFIG', `tokenizer.json: merge ${JSON.stringify(`${a} ${b}`)} makes ${JSON.stringify(a + b)}, which is not in the vocabulary`);
    if (!seen.has(id)) scores[id] = 0 - rank; // not -rank: no -0 for rank 0
    seen.add(id);
  });
  const special = new Set((tj.added_tokens ?? []).filter((a) => a.special).map((a) => a.id));
  const unkId = m.unk_token ? vocab.get(m.unk_token) ?? null : null;
  const types = tokens.map((t, id) =>
    id === unkId ? GGUF_TOKEN_TYPE.UNKNOWN : special.has(id) ? GGUF_TOKEN_TYPE.CONTROL : /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? GGUF_TOKEN_TYPE.BYTE : GGUF_TOKEN_TYPE.NORMAL,
  );
  const metadata: [string, GgufValue][] = [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: merges }],
  ];
  const ids: [string, string][] = [
    ['bos_token', 'tokenizer.ggml.bos_token_id'],
    ['eos_token', 'tokenizer.ggml.eos_token_id'],
    ['unk_token', 'tokenizer.ggml.unknown_token_id'],
    ['pad_token', 'tokenizer.ggml.padding_token_id'],
  ];
  for (const [field, key] of ids) {
    const id = tokenId(vocab, tokenizerConfig[field], field) ?? (field === 'unk_token' ? unkId : null);
    if (id !== null) metadata.push([key, { type: 'uint32', value: id }]);
  }
  metadata.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: tokenizerConfig.add_bos_token !== false }]);
  metadata.push(['tokenizer.ggml.add_eos_token', { type: 'bool', value: tokenizerConfig.add_eos_token === true }]);
  metadata.push(['tokenizer.ggml.add_space_prefix', { type: 'bool', value: true }]);
  if (typeof tokenizerConfig.chat_template === 'string') metadata.push(['tokenizer.chat_template', { type: 'string', value: tokenizerConfig.chat_template }]);
  return { tokens, scores, types, merges, metadata };
}
