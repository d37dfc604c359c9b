// Conversations → token ids with a loss mask on the assistant's tokens, found by rendering prefixes of the
// conversation with the model's own chat template.
import type { ChatMessage, ChatTemplateOptions, LoadedTokenizer } from '@mil/checkpoint';
import { DataError } from './errors';

/** Token ids and, per token, whether it is a training target (1) or context only (0). */
export interface TokenizedSequence {
  ids: number[];
  mask: number[];
}

/** A rendered conversation cut into text spans, `train` on the assistant's turns. */
export interface ChatSpan {
  text: string;
  train: boolean;
}

export interface ChatTokenOptions {
  /** A named template of the tokenizer or a template text (default: its default template). */
  template?: string;
  /** More template variables (e.g. `date_string`). */
  extra?: Record<string, unknown>;
  /** Used in error messages (e.g. `chat.jsonl:12`). */
  source?: string;
}

/**
 * Cuts the rendered conversation into spans: for assistant message i, the template rendered for messages[0..i)
 * with the generation prompt ends where the reply starts, and rendered for messages[0..i] ends after the reply
 * and its end-of-turn token; both must be prefixes of the whole rendering (TEMPLATE_NOT_PREFIX_STABLE otherwise,
 * e.g. for templates that rewrite earlier turns once a later one exists).
 *
 * @example
 * chatSpans(tok, [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }]);
 * // [{ text: '<s>…user…Hi…assistant…\n\n', train: false }, { text: 'Hello<|eot_id|>', train: true }]
 */
export function chatSpans(tok: LoadedTokenizer, messages: readonly ChatMessage[], opts: ChatTokenOptions = {}): ChatSpan[] {
  const render = (ms: readonly ChatMessage[], addGenerationPrompt: boolean): string =>
    tok.applyChatTemplate(ms, { template: opts.template, extra: opts.extra, addGenerationPrompt } satisfies ChatTemplateOptions);
  const where = opts.source ?? 'conversation';
  const full = render(messages, false);
  const spans: ChatSpan[] = [];
  let cursor = 0;
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role !== 'assistant') continue;
    const start = render(messages.slice(0, i), true);
    const end = render(messages.slice(0, i + 1), false);
    if (!full.startsWith(start) || !full.startsWith(end) || start.length < cursor || end.length < start.length) {
      throw new DataError(
        'TEMPLATE_NOT_PREFIX_STABLE',
        `${where}: messages[${i}] (assistant): the chat template does not render the conversation up to this reply as a prefix of the whole, so the reply's tokens cannot be located`,
        { hint: 'use a template whose rendering of a conversation starts with the rendering of each of its prefixes (Llama-3, Zephyr, ChatML do)' },
      );
    }
    if (start.length > cursor) spans.push({ text: full.slice(cursor, start.length), train: false });
    if (end.length > start.length) spans.push({ text: full.slice(start.length, end.length), train: true });
    cursor = end.length;
  }
  if (full.length > cursor) spans.push({ text: full.slice(cursor), train: false });
  return spans;
}

/** Length of the common prefix of two id lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/**
 * Token ids of a conversation with mask 1 on the assistant's tokens (reply and end-of-turn), 0 elsewhere. The
 * whole rendering is encoded once (no special tokens added: the template writes them), so the ids are exactly
 * what the model sees; a span edge falls after the tokens of the text before it (encoded on its own). A token
 * that straddles an edge (BPE merging across it) is counted as part of the reply.
 *
 * @example
 * const { ids, mask } = tokenizeChat(tok, example.messages);
 */
export function tokenizeChat(tok: LoadedTokenizer, messages: readonly ChatMessage[], opts: ChatTokenOptions = {}): TokenizedSequence {
  const spans = chatSpans(tok, messages, opts);
  const full = spans.map((s) => s.text).join('');
  const ids = tok.encode(full, { addSpecialTokens: false });
  const mask = new Array<number>(ids.length).fill(0);
  let at = 0;
  for (const s of spans) {
    const from = at;
    at += s.text.length;
    if (!s.train) continue;
    const start = commonPrefix(tok.encode(full.slice(0, from), { addSpecialTokens: false }), ids);
    const upTo = tok.encode(full.slice(0, at), { addSpecialTokens: false });
    const k = commonPrefix(upTo, ids);
    const end = k === upTo.length ? k : Math.min(ids.length, k + 1);
    for (let i = start; i < end; i++) mask[i] = 1;
  }
  return { ids, mask };
}
