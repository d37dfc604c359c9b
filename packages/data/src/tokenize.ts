// Every example kind → token ids (text and chat with loss masks; preference pairs as prompt/chosen/rejected).
import type { ChatMessage, LoadedTokenizer } from '@mil/checkpoint';
import { DataError } from './errors';
import type { Example, PreferenceExample, TextExample } from './examples';
import { tokenizeChat, type ChatTokenOptions, type TokenizedSequence } from './chat-tokens';

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
 * A preference pair. Strings: prompt encoded with the tokenizer's special tokens, completions without + EOS.
 * Message lists: prompt rendered with the generation prompt; each completion is what the template adds after it
 * for prompt + completion (TEMPLATE_NOT_PREFIX_STABLE if that is not an extension).
 *
 * @example
 * const pair = tokenizePreference(tok, { kind: 'preference', prompt: 'Q:', chosen: ' yes', rejected: ' no', source: 'p.jsonl:1' });
 */
export function tokenizePreference(tok: LoadedTokenizer, ex: PreferenceExample, opts: TokenizeOptions = {}): TokenizedPair {
  if (typeof ex.prompt === 'string') {
    const tail = (s: string | ChatMessage[]): number[] => {
      const ids = tok.encode(s as string, { addSpecialTokens: false });
      if (tok.eosId !== null) ids.push(tok.eosId);
      return ids;
    };
    return { prompt: tok.encode(ex.prompt), chosen: tail(ex.chosen), rejected: tail(ex.rejected) };
  }
  const prompt = ex.prompt;
  const render = (ms: ChatMessage[], gen: boolean) => tok.applyChatTemplate(ms, { template: opts.template, extra: opts.extra, addGenerationPrompt: gen });
  const head = render(prompt, true);
  const completion = (c: ChatMessage[], field: string): number[] => {
    const whole = render([...prompt, ...c], false);
    if (!whole.startsWith(head)) {
      throw new DataError('TEMPLATE_NOT_PREFIX_STABLE', `${ex.source}: "${field}": the chat template does not render prompt + ${field} as an extension of the prompt with its generation prompt`);
    }
    return tok.encode(whole.slice(head.length), { addSpecialTokens: false });
  };
  return { prompt: tok.encode(head, { addSpecialTokens: false }), chosen: completion(ex.chosen as ChatMessage[], 'chosen'), rejected: completion(ex.rejected as ChatMessage[], 'rejected') };
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
