// Tokenizers from Hugging Face files (tokenizer.json + tokenizer_config.json) through
// @huggingface/tokenizers, with the special tokens and chat template the config declares.
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from './errors';
import { chatTemplatesFrom, renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template';
import { MAX_CONFIG_BYTES, MAX_TOKENIZER_BYTES, readSmallTextFile } from './safe-read';
import { checkTokenizerJson } from './tokenizer-checks';

export interface EncodeOptions {
  /** Add the tokens the post-processor adds (e.g. BOS for Llama); default true, as in transformers. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens such as <s> and </s> (default false). */
  skipSpecialTokens?: boolean;
}

export interface LoadedTokenizer {
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** The default chat template, or null when the tokenizer ships none. */
  readonly chatTemplate: string | null;
  /** Names of all templates shipped (usually just 'default'). */
  readonly chatTemplateNames: readonly string[];
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The prompt text for a conversation, rendered with the chat template. */
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatTemplateOptions): string;
  /** Token ids of the rendered conversation (special tokens come from the template, none are added). */
  encodeChat(messages: readonly ChatMessage[], opts?: ChatTemplateOptions): number[];
  /** The underlying @huggingface/tokenizers object. */
  readonly hf: Tokenizer;
}

/** Token text of a special-token entry of tokenizer_config.json (a string or an AddedToken object). */
function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

export interface TokenizerFiles {
  /** Parsed tokenizer.json. */
  tokenizer: Record<string, unknown>;
  /** Parsed tokenizer_config.json ({} when absent). */
  config?: Record<string, unknown>;
  /** A template to use when the config has none (e.g. from chat_template.jinja). */
  chatTemplate?: string;
  /** Used in error messages. */
  source?: string;
}

/**
 * A tokenizer from already-parsed files.
 * @example const tok = createTokenizer({ tokenizer: JSON.parse(tj), config: JSON.parse(tc) });
 */
export function createTokenizer(files: TokenizerFiles): LoadedTokenizer {
  const source = files.source ?? 'tokenizer';
  const config = files.config ?? {};
  if (typeof files.tokenizer !== 'object' || files.tokenizer === null || typeof files.tokenizer.model !== 'object') {
    throw new CheckpointError('BAD_TOKENIZER', `${source}: tokenizer.json must be an object with a "model" section`, { path: source });
  }
  // the file as a whole: tokenizer.json when loaded from a folder
  checkTokenizerJson(files.tokenizer, files.source === undefined ? source : `${source}/tokenizer.json`);
  let hf: Tokenizer;
  try {
    hf = new Tokenizer(files.tokenizer, config);
  } catch (e) {
    throw new CheckpointError('BAD_TOKENIZER', `${source}: @huggingface/tokenizers rejected tokenizer.json: ${(e as Error).message}`, { path: source, cause: e });
  }
  const templates = chatTemplatesFrom(config.chat_template, source);
  if (!templates.has('default') && files.chatTemplate !== undefined) templates.set('default', files.chatTemplate);
  const bosToken = tokenText(config.bos_token);
  const eosToken = tokenText(config.eos_token);
  const padToken = tokenText(config.pad_token);
  const idOf = (t: string | null): number | null => (t === null ? null : (hf.token_to_id(t) ?? null));
  const specials: Record<string, unknown> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    const t = tokenText(config[key]);
    if (t !== null) specials[key] = t;
  }
  const pickTemplate = (opts: ChatTemplateOptions): string => {
    if (opts.template !== undefined) return templates.get(opts.template) ?? opts.template;
    const t = templates.get('default');
    if (t === undefined) {
      const named = templates.size ? ` (it has ${[...templates.keys()].join(', ')}; pick one with {template})` : '';
      throw new CheckpointError('NO_CHAT_TEMPLATE', `${source}: no default chat template in tokenizer_config.json or chat_template.jinja${named}`, { path: source });
    }
    return t;
  };

  const tok: LoadedTokenizer = {
    vocabSize: hf.get_vocab(true).size,
    bosToken,
    eosToken,
    bosId: idOf(bosToken),
    eosId: idOf(eosToken),
    padId: idOf(padToken),
    chatTemplate: templates.get('default') ?? null,
    chatTemplateNames: [...templates.keys()],
    encode: (text, opts = {}) => hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids,
    // tokenizers.js rejects an empty list; transformers decodes it to ''
    decode: (ids, opts = {}) => (ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false })),
    tokenToId: (t) => hf.token_to_id(t),
    idToToken: (id) => hf.id_to_token(id),
    applyChatTemplate: (messages, opts = {}) =>
      renderChatTemplate(pickTemplate(opts), messages, { ...specials, ...opts.extra, add_generation_prompt: opts.addGenerationPrompt ?? false }, `${source}: chat template`),
    encodeChat: (messages, opts = {}) => tok.encode(tok.applyChatTemplate(messages, opts), { addSpecialTokens: false }),
    hf,
  };
  return tok;
}

async function readJson(path: string, required: boolean, maxBytes = MAX_CONFIG_BYTES): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readSmallTextFile(path, 'tokenizer file', maxBytes);
  } catch (e) {
    if (!required && (e as CheckpointError).code === 'NOT_FOUND') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError('BAD_TOKENIZER', `${path}: not valid JSON (${(e as Error).message})`, { path, cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError('BAD_TOKENIZER', `${path}: must be a JSON object`, { path });
  return json as Record<string, unknown>;
}

/**
 * Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional; `special_tokens_map.json` fills in
 * missing special tokens) from a folder; the chat template comes from the config or `chat_template.jinja`.
 *
 * @example
 * const tok = await loadTokenizer('models/llama');
 * tok.encode('Hello world'); // [1, ...] with BOS
 * tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
 */
export async function loadTokenizer(dir: string): Promise<LoadedTokenizer> {
  const tokenizer = (await readJson(join(dir, 'tokenizer.json'), true, MAX_TOKENIZER_BYTES))!;
  const config = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  const specialMap = await readJson(join(dir, 'special_tokens_map.json'), false);
  for (const [k, v] of Object.entries(specialMap ?? {})) if (config[k] === undefined) config[k] = v;
  let chatTemplate: string | undefined;
  try {
    chatTemplate = await readSmallTextFile(join(dir, 'chat_template.jinja'), 'chat template', MAX_CONFIG_BYTES);
  } catch (e) {
    if ((e as CheckpointError).code !== 'NOT_FOUND') throw e;
  }
  return createTokenizer({ tokenizer, config, chatTemplate, source: dir });
}
