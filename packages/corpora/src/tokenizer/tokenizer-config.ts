import { CorporaError } from '../errors';
import { BOS_TOKEN, EOS_TOKEN, SPECIAL_TOKENS, UNK_TOKEN } from './tokenizer-json';

/**
 * A plain-text chat template for a base model: an optional system paragraph, then "User: …" /
 * "Assistant: …" lines (other roles as "Role: …"); assistant turns end with `</s>`.
 * `add_generation_prompt` opens an assistant turn.
 */
export const SIMPLE_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ message['content'] | trim }}\n\n" +
  "{% elif message['role'] == 'user' %}User: {{ message['content'] | trim }}\n" +
  "{% elif message['role'] == 'assistant' %}Assistant: {{ message['content'] | trim }}{{ eos_token }}\n" +
  "{% else %}{{ message['role'] | capitalize }}: {{ message['content'] | trim }}\n" +
  "{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}Assistant:{% endif %}";

/** `tokenizer_config.json` of a Llama-style tokenizer, as transformers writes it. */
export interface LlamaTokenizerConfig {
  add_bos_token: boolean;
  add_eos_token: boolean;
  added_tokens_decoder: Record<string, { content: string; lstrip: boolean; normalized: boolean; rstrip: boolean; single_word: boolean; special: boolean }>;
  additional_special_tokens: string[];
  bos_token: string;
  chat_template: string;
  clean_up_tokenization_spaces: boolean;
  eos_token: string;
  legacy: boolean;
  model_max_length: number;
  pad_token: string | null;
  sp_model_kwargs: Record<string, never>;
  spaces_between_special_tokens: boolean;
  tokenizer_class: string;
  unk_token: string;
  use_default_system_prompt: boolean;
}

/**
 * The `tokenizer_config.json` that goes with a {@link trainBpe} tokenizer: Llama-2's settings
 * (`<s>` added, no `</s>`, no space clean-up on decode, which would break exact round trips) plus
 * the context length and a simple chat template.
 *
 * @example
 * const config = llamaTokenizerConfig({ modelMaxLength: 1024 });
 * new Tokenizer(tokenizerJson, config);
 */
export function llamaTokenizerConfig(
  options: { modelMaxLength: number; chatTemplate?: string },
): LlamaTokenizerConfig {
  const { modelMaxLength } = options;
  if (!Number.isInteger(modelMaxLength) || modelMaxLength < 1) {
    throw new CorporaError('BAD_OPTION', `llamaTokenizerConfig: modelMaxLength must be a positive integer, got ${modelMaxLength}`);
  }
  const addedTokensDecoder: LlamaTokenizerConfig['added_tokens_decoder'] = {};
  SPECIAL_TOKENS.forEach((content, id) => {
    addedTokensDecoder[String(id)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  });
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: [],
    bos_token: BOS_TOKEN,
    chat_template: options.chatTemplate ?? SIMPLE_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: EOS_TOKEN,
    legacy: true,
    model_max_length: modelMaxLength,
    pad_token: null,
    sp_model_kwargs: {},
    spaces_between_special_tokens: false,
    tokenizer_class: 'LlamaTokenizer',
    unk_token: UNK_TOKEN,
    use_default_system_prompt: false,
  };
}
