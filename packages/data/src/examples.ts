// The shapes of training examples, whatever file they came from.
import type { ChatMessage } from '@mil/checkpoint';
import { DataError } from './errors';

/** Plain text for language modelling (loss on every token). */
export interface TextExample {
  kind: 'text';
  text: string;
  /** Where it came from: `file`, `file:line` (JSONL) or `file#row` (Parquet). */
  source: string;
}

/** A conversation rendered with the model's chat template (loss on assistant tokens only). */
export interface ChatExample {
  kind: 'chat';
  messages: ChatMessage[];
  source: string;
}

/** A preference pair in TRL's shape: `prompt`, `chosen`, `rejected`, each a string or a list of messages. */
export interface PreferenceExample {
  kind: 'preference';
  prompt: string | ChatMessage[];
  chosen: string | ChatMessage[];
  rejected: string | ChatMessage[];
  source: string;
}

export type Example = TextExample | ChatExample | PreferenceExample;

function messagesOf(v: unknown, where: string, field: string): ChatMessage[] {
  if (!Array.isArray(v)) throw new DataError('BAD_RECORD', `${where}: "${field}" must be a list of {role, content}, got ${typeof v}`);
  return v.map((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new DataError('BAD_RECORD', `${where}: ${field}[${i}] must be {"role": string, "content": string}`);
    }
    // Parquet nulls of absent struct fields are dropped so the template sees what a JSON record would give it
    const out: ChatMessage = { role: m.role, content: m.content };
    for (const [k, x] of Object.entries(m)) if (k !== 'role' && k !== 'content' && x !== null && x !== undefined) out[k] = x;
    return out;
  });
}

const turnOrText = (v: unknown, where: string, field: string): string | ChatMessage[] => (typeof v === 'string' ? v : messagesOf(v, where, field));

/**
 * Classifies one parsed record (a JSONL line or a Parquet row): `prompt`+`chosen`+`rejected` → preference,
 * `messages` → chat, `text` → text. TRL's implicit-prompt pairs (chosen/rejected are whole conversations, no
 * `prompt`) are split at their last message; a string prompt before message-list completions becomes a user turn.
 *
 * @example
 * exampleFromRecord({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] }, 'a.jsonl:1').kind; // 'chat'
 */
export function exampleFromRecord(r: unknown, source: string): Example {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new DataError('BAD_RECORD', `${source}: expected a JSON object, got ${Array.isArray(r) ? 'an array' : typeof r}`);
  const o = r as Record<string, unknown>;
  if ('chosen' in o || 'rejected' in o) {
    if (o.chosen === undefined || o.rejected === undefined) throw new DataError('BAD_RECORD', `${source}: a preference record needs both "chosen" and "rejected"`);
    let chosen = turnOrText(o.chosen, source, 'chosen');
    let rejected = turnOrText(o.rejected, source, 'rejected');
    let prompt: string | ChatMessage[];
    if (o.prompt !== undefined && o.prompt !== null) prompt = turnOrText(o.prompt, source, 'prompt');
    else {
      if (typeof chosen === 'string' || typeof rejected === 'string' || chosen.length < 2 || rejected.length < 2) {
        throw new DataError('BAD_RECORD', `${source}: a preference record without "prompt" needs chosen and rejected as conversations of 2+ messages`);
      }
      prompt = chosen.slice(0, -1);
      if (JSON.stringify(prompt) !== JSON.stringify(rejected.slice(0, -1))) throw new DataError('BAD_RECORD', `${source}: without "prompt", chosen and rejected must share all but their last message`);
      chosen = chosen.slice(-1);
      rejected = rejected.slice(-1);
    }
    // a plain prompt before message-list completions is the user's turn (as many Hub datasets store it)
    if (typeof prompt === 'string' && typeof chosen !== 'string') prompt = [{ role: 'user', content: prompt }];
    if (typeof prompt === 'string' !== (typeof chosen === 'string') || typeof chosen !== typeof rejected) {
      throw new DataError('BAD_RECORD', `${source}: prompt, chosen and rejected must be all strings or all message lists`);
    }
    return { kind: 'preference', prompt, chosen, rejected, source };
  }
  if (o.messages !== undefined) return { kind: 'chat', messages: messagesOf(o.messages, source, 'messages'), source };
  if (typeof o.text === 'string') return { kind: 'text', text: o.text, source };
  throw new DataError('BAD_RECORD', `${source}: no "text" string, "messages" list or "prompt"/"chosen"/"rejected" fields (keys: ${Object.keys(o).join(', ') || 'none'})`);
}
