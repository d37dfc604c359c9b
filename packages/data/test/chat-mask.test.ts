import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { createRng } from '@mil/core';
import type { ChatMessage } from '@mil/checkpoint';
import { chatSpans, readExamples, readPreferencePairs, tokenizeChat, tokenizePreference, type ChatExample } from '@mil/data';
import { collect, expectCode } from './helpers/expect-code';
import { chatTokenizer, LLAMA3_SPECIALS } from './helpers/tokenizers';

const FX = new URL('./fixtures/', import.meta.url).pathname;
const tok = chatTokenizer(); // SentencePiece-style, like Mistral / Zephyr
const tok3 = chatTokenizer({ sentencePiece: false }); // no prefix space, like Llama-3's byte-level BPE

/** The masked tokens as maximal runs, decoded. */
function maskedRuns(ids: number[], mask: number[], t = tok): string[] {
  const runs: string[] = [];
  let cur: number[] = [];
  for (let i = 0; i <= ids.length; i++) {
    if (i < ids.length && mask[i]) cur.push(ids[i]);
    else if (cur.length) {
      runs.push(t.decode(cur));
      cur = [];
    }
  }
  return runs;
}

const words = ['harbour', 'tariff', 'census', 'canal', 'mint', 'navy', 'court', 'school', 'rail', 'post'];
function randomChat(seed: number): ChatMessage[] {
  const rng = createRng(seed);
  const say = () => Array.from({ length: 1 + Math.floor(rng() * 8) }, () => words[Math.floor(rng() * words.length)]).join(' ') + '.';
  const ms: ChatMessage[] = rng() < 0.5 ? [{ role: 'system', content: say() }] : [];
  const turns = 1 + Math.floor(rng() * 3);
  for (let t = 0; t < turns; t++) ms.push({ role: 'user', content: say() }, { role: 'assistant', content: say() });
  return ms;
}

describe('chat: loss only on assistant tokens', () => {
  it('the Llama-3 special tokens are single tokens of the test tokenizer', () => {
    for (const s of LLAMA3_SPECIALS) expect(tok.encode(s, { addSpecialTokens: false })).toEqual([tok.tokenToId(s)]);
  });

  it('Llama-3 template: each masked run is exactly one reply + <|eot_id|>, and the ids decode to the whole rendering', async () => {
    const [a, b] = (await collect(readExamples(join(FX, 'chat.jsonl')))) as ChatExample[];
    for (const messages of [a.messages, b.messages, ...Array.from({ length: 20 }, (_, s) => randomChat(s + 1))]) {
      const { ids, mask } = tokenizeChat(tok3, messages);
      expect(tok3.decode(ids)).toBe(tok3.applyChatTemplate(messages));
      const replies = messages.filter((m) => m.role === 'assistant').map((m) => `${m.content.trim()}<|eot_id|>`);
      expect(maskedRuns(ids, mask, tok3)).toEqual(replies);
      // nothing the user or system wrote is trained on
      const unmasked = tok3.decode(ids.filter((_, i) => !mask[i]));
      for (const m of messages) if (m.role !== 'assistant') expect(unmasked).toContain(m.content);
      expect(ids[0]).toBe(tok3.bosId);
    }
  });

  it('Zephyr template: each masked run is one reply + </s> + newline (its tags are plain text)', () => {
    for (let s = 0; s < 20; s++) {
      const messages = randomChat(100 + s);
      const { ids, mask } = tokenizeChat(tok, messages, { template: 'zephyr' });
      // the ids are the whole rendering encoded once (this tokenizer puts a '▁' after each special token)
      expect(ids).toEqual(tok.encode(tok.applyChatTemplate(messages, { template: 'zephyr' }), { addSpecialTokens: false }));
      const squeeze = (x: string) => x.replace(/ /g, '');
      expect(maskedRuns(ids, mask).map(squeeze)).toEqual(messages.filter((m) => m.role === 'assistant').map((m) => squeeze(`${m.content}</s>\n`)));
      const spans = chatSpans(tok, messages, { template: 'zephyr' });
      expect(spans.filter((x) => !x.train).every((x) => !x.text.startsWith('<|assistant|>\n') || x.text.includes('<|user|>'))).toBe(true);
      expect(spans.map((x) => x.text).join('')).toBe(tok.applyChatTemplate(messages, { template: 'zephyr' }));
    }
  });

  it('TEMPLATE_NOT_PREFIX_STABLE for a template that renders the last turn differently', async () => {
    const template = '{% for m in messages %}{% if loop.last %}[LAST]{% endif %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}';
    await expectCode(() => tokenizeChat(tok, randomChat(7), { template, source: 'x.jsonl:4' }), 'TEMPLATE_NOT_PREFIX_STABLE', /x\.jsonl:4: messages\[\d\] \(assistant\)/);
  });
});

describe('preference pairs', () => {
  it('strings: prompt with BOS, completions + EOS; messages: completions are what the template adds after the generation prompt', async () => {
    const { train, heldOut } = await readPreferencePairs(tok, join(FX, 'preference.jsonl'), { heldOutFraction: 0 });
    expect(heldOut).toEqual([]);
    expect(train.length).toBe(3);
    expect(train[0].prompt[0]).toBe(tok.bosId);
    // the pair is tokenised as the model reads prompt + completion (one leading '▁' for this SentencePiece-style tokenizer)
    expect([...train[0].prompt, ...train[0].chosen]).toEqual([...tok.encode('The navy in one line: It guarded the coasts.'), tok.eosId]);
    expect([...train[0].prompt, ...train[0].rejected]).toEqual([...tok.encode('The navy in one line: I do not know.'), tok.eosId]);
    expect(tok.decode(train[0].chosen).trim()).toBe('It guarded the coasts.</s>');
    const llama3 = (await readPreferencePairs(tok3, join(FX, 'preference.jsonl'), { heldOutFraction: 0 })).train;
    expect(tok3.decode(llama3[1].prompt)).toBe('<s><|start_header_id|>user<|end_header_id|>\n\nDescribe the post office.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    expect(tok3.decode(llama3[1].chosen)).toBe('It delivered letters daily.<|eot_id|>');
    expect(tok3.decode(llama3[2].rejected)).toBe('Courts.<|eot_id|>');
    const z = tokenizePreference(tok, { kind: 'preference', prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'Hello.' }], rejected: [{ role: 'assistant', content: 'Go.' }], source: 's' }, { template: 'zephyr' });
    const squeeze = (x: string) => x.replace(/ /g, '');
    expect(squeeze(tok.decode(z.prompt))).toBe('<|user|>\nHi</s>\n<|assistant|>\n');
    expect(squeeze(tok.decode(z.chosen))).toBe('Hello.</s>\n');
    expect([...z.prompt, ...z.chosen]).toEqual(tok.encode('<|user|>\nHi</s>\n<|assistant|>\nHello.</s>\n', { addSpecialTokens: false }));
  });

  it('BAD_RECORD when a preference file holds another shape', async () => {
    await expectCode(readPreferencePairs(tok, join(FX, 'chat.jsonl')), 'BAD_RECORD', /chat\.jsonl:1: expected a preference record/);
  });
});
