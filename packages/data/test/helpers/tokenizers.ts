// The committed default teacher's tokenizer (byte-fallback BPE), with chat special tokens added the way Llama-3
// declares them, and the real Llama-3-Instruct and Zephyr chat templates.
import { readFileSync } from 'node:fs';
import { createTokenizer, type LoadedTokenizer } from '@mil/checkpoint';

const DIR = new URL('../../../../models/sotu-tiny/', import.meta.url).pathname;
export const TOKENIZER_DIR = DIR;

/** Meta-Llama-3-8B-Instruct's chat_template. */
export const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
/** HuggingFaceH4/zephyr-7b-beta's chat_template. */
export const ZEPHYR_TEMPLATE =
  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

export const LLAMA3_SPECIALS = ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'];

/**
 * `sentencePiece: true` (default) keeps the Llama-2 / Mistral-style normaliser that prepends '▁' to every piece of
 * text between special tokens; false drops it (and the decoder's strip), so decode(encode(x)) === x as with
 * Llama-3's byte-level tokenizer.
 */
export function chatTokenizer(opts: { sentencePiece?: boolean } = {}): LoadedTokenizer {
  const tokenizer = JSON.parse(readFileSync(`${DIR}tokenizer.json`, 'utf8'));
  if (opts.sentencePiece === false) {
    tokenizer.normalizer = { type: 'Replace', pattern: { String: ' ' }, content: '▁' };
    tokenizer.decoder.decoders = tokenizer.decoder.decoders.filter((d: { type: string }) => d.type !== 'Strip');
  }
  const config = JSON.parse(readFileSync(`${DIR}tokenizer_config.json`, 'utf8'));
  const base = Object.keys(tokenizer.model.vocab).length;
  LLAMA3_SPECIALS.forEach((content, i) =>
    tokenizer.added_tokens.push({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }),
  );
  return createTokenizer({ tokenizer, config: { ...config, chat_template: [{ name: 'default', template: LLAMA3_TEMPLATE }, { name: 'zephyr', template: ZEPHYR_TEMPLATE }] }, source: 'sotu-tiny+chat' });
}
