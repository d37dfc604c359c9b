// Reads the vocabulary of a llama.cpp vocab-only GGUF file and rebuilds the Hugging Face tokenizer.json that
// transformers' LlamaConverter makes from the same SentencePiece model (BPE with byte fallback, merges
// derived from piece scores). Used to run llama.cpp's reference tokenisations of Llama-2 through our loader.
import { readFileSync } from 'node:fs';

type GgufValue = number | bigint | boolean | string | GgufValue[];

export function readGgufMetadata(path: string): Map<string, GgufValue> {
  const b = readFileSync(path);
  let p = 0;
  const u32 = (): number => ((p += 4), b.readUInt32LE(p - 4));
  const u64 = (): number => ((p += 8), Number(b.readBigUInt64LE(p - 8)));
  const str = (): string => {
    const n = u64();
    p += n;
    return b.toString('utf8', p - n, p);
  };
  const value = (type: number): GgufValue => {
    switch (type) {
      case 0: return b.readUInt8(p++);
      case 1: return b.readInt8(p++);
      case 2: return ((p += 2), b.readUInt16LE(p - 2));
      case 3: return ((p += 2), b.readInt16LE(p - 2));
      case 4: return u32();
      case 5: return ((p += 4), b.readInt32LE(p - 4));
      case 6: return ((p += 4), b.readFloatLE(p - 4));
      case 7: return b.readUInt8(p++) !== 0;
      case 8: return str();
      case 9: {
        const t = u32();
        const n = u64();
        return Array.from({ length: n }, () => value(t));
      }
      case 10: return ((p += 8), b.readBigUInt64LE(p - 8));
      case 11: return ((p += 8), b.readBigInt64LE(p - 8));
      case 12: return ((p += 8), b.readDoubleLE(p - 8));
      default: throw new Error(`GGUF value type ${type} at ${p}`);
    }
  };
  if (b.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${path} is not GGUF`);
  p = 4;
  const version = u32();
  if (version < 2) throw new Error(`GGUF v${version} not supported`);
  u64(); // tensor count
  const kvs = u64();
  const out = new Map<string, GgufValue>();
  for (let i = 0; i < kvs; i++) {
    const key = str();
    out.set(key, value(u32()));
  }
  return out;
}

/** tokenizer.json for a SentencePiece-BPE ("llama") GGUF vocab, as transformers' legacy LlamaConverter builds it. */
export function llamaTokenizerJsonFromGguf(path: string): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  const meta = readGgufMetadata(path);
  if (meta.get('tokenizer.ggml.model') !== 'llama') throw new Error('not a SentencePiece (llama) vocabulary');
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const scores = meta.get('tokenizer.ggml.scores') as number[];
  const types = meta.get('tokenizer.ggml.token_type') as number[];
  const vocab: Record<string, number> = {};
  const idOf = new Map<string, number>();
  tokens.forEach((t, i) => {
    vocab[t] = i;
    idOf.set(t, i);
  });
  // merges: every split of a piece into two pieces, grouped per piece by the parts' ids, then sorted by the
  // merged piece's score, highest first (a stable sort, as Python's sorted)
  const merges: { l: string; r: string; score: number }[] = [];
  tokens.forEach((piece, id) => {
    const cps = Array.from(piece);
    const local: { l: string; r: string; score: number }[] = [];
    for (let k = 1; k < cps.length; k++) {
      const l = cps.slice(0, k).join('');
      const r = cps.slice(k).join('');
      if (idOf.has(l) && idOf.has(r)) local.push({ l, r, score: scores[id] });
    }
    local.sort((a, b) => idOf.get(a.l)! - idOf.get(b.l)! || idOf.get(a.r)! - idOf.get(b.r)!);
    merges.push(...local);
  });
  merges.sort((a, b) => b.score - a.score);
  const special = tokens.map((t, i) => ({ t, i })).filter(({ i }) => types[i] === 2 || types[i] === 3);
  const bos = tokens[Number(meta.get('tokenizer.ggml.bos_token_id'))];
  const eos = tokens[Number(meta.get('tokenizer.ggml.eos_token_id'))];
  const unk = tokens[Number(meta.get('tokenizer.ggml.unknown_token_id') ?? 0)];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map(({ t, i }) => ({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: { type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: merges.map((m) => [m.l, m.r]) },
  };
  const config = { add_bos_token: true, add_eos_token: false, bos_token: bos, eos_token: eos, unk_token: unk, pad_token: null, legacy: true, clean_up_tokenization_spaces: false, tokenizer_class: 'LlamaTokenizer' };
  return { tokenizer, config };
}

/** llama.cpp's test vectors: inputs separated by "\n__ggml_vocab_test__\n", one line of expected ids per input. */
export function readVocabTests(inpPath: string, outPath: string): { text: string; ids: number[] }[] {
  const inputs = readFileSync(inpPath, 'utf8').split('\n__ggml_vocab_test__\n');
  inputs.pop(); // the file ends with a separator
  const lines = readFileSync(outPath, 'utf8').split('\n');
  return inputs.map((text, i) => ({ text, ids: lines[i].trim() === '' ? [] : lines[i].trim().split(/\s+/).map(Number) }));
}
