// Chat data built from the SOTU corpus, for the SFT and DPO stages of the embedded default: a user asks to continue
// the opening sentences of a paragraph, the assistant answers with the paragraph's continuation.
import type { ChatMessage, LoadedTokenizer } from '@mil/checkpoint';
import { mixSeeds } from '@mil/core';
import { loadSplits, SIMPLE_CHAT_TEMPLATE, type CorpusDocument } from '@mil/corpora';
import { tokenizeChat, WindowPacker, joinWindows, type PackedWindows } from '@mil/data';
import { seededPermutation } from '../trainer/seeds';

/** The user's instruction before the opening sentences. */
export const SOTU_CHAT_INSTRUCTION = 'Continue this passage from a State of the Union address:';

/** A paragraph cut into the opening the user gives and the continuation the assistant answers with. */
export interface SotuTurn {
  opening: string;
  continuation: string;
}

// a full stop after a title (Mr., Gen.) or an initial does not end a sentence
const sentences = (p: string): string[] => p.split(/(?<=[.!?])(?<!\b(?:Mr|Mrs|Ms|Dr|St|Gen|Gov|Sen|Rep|Jr|Sr|Co|[A-Z])\.)\s+(?=[A-Z"])/).map((s) => s.trim()).filter(Boolean);

/**
 * Passages of `docs` (documents in a seeded order, each cut into runs of consecutive sentences; the corpus has no
 * paragraph breaks): the first one or two sentences (up to `maxOpeningChars`) as the opening, the next sentences up
 * to `maxContinuationChars` as the continuation.
 *
 * @example const turns = [...sotuTurns(loadSplits().train, { seed: 0 })].slice(0, 10);
 */
export function* sotuTurns(docs: readonly CorpusDocument[], o: { seed: number; maxOpeningChars?: number; maxContinuationChars?: number }): Generator<SotuTurn> {
  const maxOpen = o.maxOpeningChars ?? 240;
  const maxCont = o.maxContinuationChars ?? 500;
  for (const d of seededPermutation(docs.length, o.seed)) {
    const s = sentences(docs[d].text.replace(/\s+/g, ' '));
    let i = 0;
    while (i + 2 < s.length) {
      const k = s[i].length + s[i + 1].length + 1 <= maxOpen / 2 ? 2 : 1;
      const opening = s.slice(i, i + k).join(' ');
      i += k;
      let continuation = '';
      while (i < s.length && (!continuation || continuation.length + s[i].length + 1 <= maxCont)) continuation = continuation ? `${continuation} ${s[i++]}` : s[i++];
      if (opening.length <= maxOpen && continuation.length <= 2 * maxCont) yield { opening, continuation };
    }
  }
}

/** The conversation of a turn: the user's request, and (unless `promptOnly`) the assistant's continuation. */
export function sotuConversation(t: SotuTurn, promptOnly = false): ChatMessage[] {
  const user: ChatMessage = { role: 'user', content: `${SOTU_CHAT_INSTRUCTION} ${t.opening}` };
  return promptOnly ? [user] : [user, { role: 'assistant', content: t.continuation }];
}

/** The tokenizer's chat template, or the project's simple one ("User: …", "Assistant: …</s>") when it ships none. */
export function chatTemplateOf(tok: LoadedTokenizer): string | undefined {
  return tok.chatTemplate === null ? SIMPLE_CHAT_TEMPLATE : undefined;
}

/**
 * `count` windows of `seq` + 1 tokens of SOTU chats (training years), rendered with the teacher's chat template and
 * packed, loss mask on the assistant's tokens only (the SFT data of the embedded default).
 *
 * @example const w = sotuChatWindows(tok, { count: 320, seq: 128, seed: 0 }); // windowBatch(w, rows)
 */
export function sotuChatWindows(tok: LoadedTokenizer, o: { count: number; seq: number; seed: number }): PackedWindows {
  const packer = new WindowPacker({ seq: o.seq, padId: tok.eosId ?? 0 });
  const windows: { tokens: Int32Array; mask: Uint8Array }[] = [];
  const template = chatTemplateOf(tok);
  for (const t of sotuTurns(loadSplits().train, { seed: mixSeeds(o.seed, 13) })) {
    windows.push(...packer.push(tokenizeChat(tok, sotuConversation(t), { template, source: 'SOTU chat' })));
    if (windows.length >= o.count) break;
  }
  if (windows.length < o.count) windows.push(...packer.finish());
  return joinWindows(windows.slice(0, o.count), o.seq);
}

/**
 * Token ids of `count` chat prompts (user request + the assistant's generation prompt) from SOTU paragraphs:
 * `split` 'train' (held out of evaluation: the DPO prompts) or 'heldOut' (2001–2021: the evaluation prompts).
 * Prompts longer than `maxTokens` are skipped.
 *
 * @example const prompts = sotuChatPrompts(tok, { count: 32, split: 'heldOut', maxTokens: 80, seed: 0 });
 */
export function sotuChatPrompts(tok: LoadedTokenizer, o: { count: number; split: 'train' | 'heldOut'; maxTokens: number; seed: number }): number[][] {
  const s = loadSplits();
  const docs = o.split === 'train' ? s.train : s.heldOut.sotu;
  const template = chatTemplateOf(tok);
  const out: number[][] = [];
  // train prompts come from a different order than the SFT chats (salt 17 vs 13)
  for (const t of sotuTurns(docs, { seed: mixSeeds(o.seed, o.split === 'train' ? 17 : 19) })) {
    const ids = tok.encodeChat(sotuConversation(t, true), { template, addGenerationPrompt: true });
    if (ids.length <= o.maxTokens) out.push(ids);
    if (out.length === o.count) break;
  }
  return out;
}
