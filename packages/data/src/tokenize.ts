// Every example kind → token ids (text and chat with loss masks; preference pairs as prompt/chosen/rejected).
import type { ChatMessage, LoadedTokenizer } from '@mil/checkpoint';
import { DataError } from './errors';
import type { Example, PreferenceExample, TextExample } from './examples';
import { commonPrefix, tokenizeChat, type ChatTokenOptions, type TokenizedSequence } from './chat-tokens';

export interface TokenizeOptions extends Pick<ChatTokenOptions, 'template' | 'extra'> {
  /** Append the tokenizer's EOS to text examples (default true), so packed documents are separated. */
  appendEos?: boolean;
}

/**
 * A text example: the tokenizer's own special tokens (e.g. BOS) + EOS, loss on every token.
 * @example tokenizeText(tok, { kind: 'text', text: 'Hello', source: 'a.txt' }); // { ids: [1, …, 2], mask: [1, …] }
 */
export function tokenizeText(tok: LoadedTokenizer, ex: TextExample, opts: TokenizeOptions = {}): TokenizedSequence {
  const ids = tok.encode(ex.text);
  if ((opts.appendEos ?? true) && tok.eosId !== null) ids.push(tok.eosId);
  return { ids, mask: ids.map(() => 1) };
}

/** Token ids of a preference pair, as @mil/distill's `collatePairs` takes them. */
export interface TokenizedPair {
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

/**
 * A preference pair. Strings: the prompt is encoded with the tokenizer's special tokens; message lists: the prompt
 * is rendered with the generation prompt. Each completion is the ids of prompt + completion (rendered as one
 * conversation for messages, + EOS for strings) after the prompt's ids, so the pair is tokenised as the model
 * reads it (TEMPLATE_NOT_PREFIX_STABLE if the rendering of prompt + completion does not extend the prompt's).
 *
 * @example
 * const pair = tokenizePreference(tok, { kind: 'preference', prompt: 'Q:', chosen: ' yes', rejected: ' no', source: 'p.jsonl:1' });
 */
export function tokenizePreference(tok: LoadedTokenizer, ex: PreferenceExample, opts: TokenizeOptions = {}): TokenizedPair {
  const render = (ms: ChatMessage[], gen: boolean) => tok.applyChatTemplate(ms, { template: opts.template, extra: opts.extra, addGenerationPrompt: gen });
  const chat = typeof ex.prompt !== 'string';
  const head = chat ? render(ex.prompt as ChatMessage[], true) : (ex.prompt as string);
  const promptIds = tok.encode(head, { addSpecialTokens: !chat });
  const completion = (c: string | ChatMessage[], field: string): number[] => {
    const whole = chat ? render([...(ex.prompt as ChatMessage[]), ...(c as ChatMessage[])], false) : head + (c as string);
    if (!whole.startsWith(head)) {
      throw new DataError('TEMPLATE_NOT_PREFIX_STABLE', `${ex.source}: "${field}": the chat template does not render prompt + ${field} as an extension of the prompt with its generation prompt`);
    }
    const ids = tok.encode(whole, { addSpecialTokens: !chat });
    // the prompt's ids must lead the whole; when a token straddles the edge, the completion is encoded on its own
    const out = commonPrefix(promptIds, ids) === promptIds.length ? ids.slice(promptIds.length) : tok.encode(whole.slice(head.length), { addSpecialTokens: false });
    if (!chat && tok.eosId !== null && out.at(-1) !== tok.eosId) out.push(tok.eosId);
    return out;
  };
  return { prompt: promptIds, chosen: completion(ex.chosen, 'chosen'), rejected: completion(ex.rejected, 'rejected') };
}

/**
 * A text or chat example → ids + loss mask (preference pairs go through {@link tokenizePreference}).
 * @example const { ids, mask } = tokenizeExample(tok, ex);
 */
export function tokenizeExample(tok: LoadedTokenizer, ex: Example, opts: TokenizeOptions = {}): TokenizedSequence {
  if (ex.kind === 'text') return tokenizeText(tok, ex, opts);
  if (ex.kind === 'chat') return tokenizeChat(tok, ex.messages, { ...opts, source: ex.source });
  throw new DataError('BAD_RECORD', `${ex.source}: a preference pair cannot be packed for language modelling; use tokenizePreference`);
}
