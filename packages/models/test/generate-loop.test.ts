import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, expect, it } from 'vitest';
import {
  argmax,
  generate,
  generateAll,
  processLogits,
  sampleFromLogits,
  type GeneratedToken,
  type StepModel,
} from '../src/generate/index';
import { createOracleStepModel, llamaOracleForward, ModelsError, randomLlamaWeights } from '../src/oracle/index';
import { createRng } from '@mil/core';

const cfg = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 29,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: true,
  sliding_window: 6,
  max_position_embeddings: 64,
});
const weights = randomLlamaWeights(cfg, 99);
const source = (n: string) => weights.get(n);

function lastLogits(ids: number[]): Float64Array {
  const out = llamaOracleForward(cfg, source, [ids]);
  return out.logits.slice(out.logits.length - cfg.vocabSize);
}

/** A model that emits `script` greedily (one-hot-ish logits) and records its calls. */
function scripted(script: number[], vocab: number) {
  const calls: string[] = [];
  let k = 0;
  const logits = () => {
    const l = new Float32Array(vocab);
    l[script[Math.min(k, script.length - 1)]] = 5;
    return l;
  };
  const model: StepModel = {
    async prefill(ids) {
      calls.push(`prefill:${ids.join(',')}`);
      k = 0;
      return logits();
    },
    async decode(id) {
      calls.push(`decode:${id}`);
      k++;
      return logits();
    },
  };
  return { model, calls };
}

async function collect(it: AsyncGenerator<GeneratedToken, unknown>): Promise<GeneratedToken[]> {
  const out: GeneratedToken[] = [];
  for await (const t of it) out.push(t);
  return out;
}

describe('generate on the oracle model', () => {
  it('greedy equals the argmax chain of full recomputes', async () => {
    const prompt = [3, 14, 15, 9];
    const ids = [...prompt];
    for (let i = 0; i < 12; i++) ids.push(argmax(lastLogits(ids)));
    const res = await generateAll(createOracleStepModel(cfg, source), prompt, { maxNewTokens: 12 });
    expect(res.tokens).toEqual(ids.slice(prompt.length));
    expect(res.finishReason).toBe('length');
    expect(new Set(res.tokens).size).toBeGreaterThan(1); // not a degenerate model
  });

  it('sampling equals a hand-rolled chain with the same seed and processors; seeds matter', async () => {
    const opts = { doSample: true, temperature: 1.3, topK: 12, topP: 0.95, repetitionPenalty: 1.2 };
    const prompt = [1, 2, 3];
    const rng = createRng(31);
    const ids = [...prompt];
    for (let i = 0; i < 14; i++) ids.push(sampleFromLogits(processLogits(lastLogits(ids), opts, ids), rng));
    const a = await generateAll(createOracleStepModel(cfg, source), prompt, { ...opts, maxNewTokens: 14, seed: 31 });
    const b = await generateAll(createOracleStepModel(cfg, source), prompt, { ...opts, maxNewTokens: 14, seed: 31 });
    const c = await generateAll(createOracleStepModel(cfg, source), prompt, { ...opts, maxNewTokens: 14, seed: 32 });
    expect(a.tokens).toEqual(ids.slice(prompt.length));
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
  });
});

describe('generate stopping', () => {
  it('stops at EOS (yielded, kept in tokens) without running the model on it', async () => {
    const { model, calls } = scripted([3, 4, 2, 5], 8);
    const events = await collect(generate(model, [7], { maxNewTokens: 10, eosTokenId: [9, 2] }));
    expect(events.map((e) => e.token)).toEqual([3, 4, 2]);
    expect(await generateAll(scripted([3, 4, 2, 5], 8).model, [7], { maxNewTokens: 10, eosTokenId: 2 })).toEqual({
      tokens: [3, 4, 2],
      text: '',
      finishReason: 'eos',
    });
    expect(calls).toEqual(['prefill:7', 'decode:3', 'decode:4']);
  });

  it('stops after maxNewTokens, calling decode maxNewTokens - 1 times; 0 calls nothing', async () => {
    const { model, calls } = scripted([1, 2, 3, 4, 5, 6], 8);
    const res = await generateAll(model, [0, 0], { maxNewTokens: 4 });
    expect(res).toEqual({ tokens: [1, 2, 3, 4], text: '', finishReason: 'length' });
    expect(calls).toEqual(['prefill:0,0', 'decode:1', 'decode:2', 'decode:3']);
    const none = scripted([1], 8);
    expect((await generateAll(none.model, [0], { maxNewTokens: 0 })).tokens).toEqual([]);
    expect(none.calls).toEqual([]);
  });

  const pieces = ['a', 'b', '\n', 'U', 's', 'e', 'r', ':', ' ', 'x', 'ser:', 'c'];
  const decode = (ids: readonly number[]) => ids.map((i) => pieces[i]).join('');
  const idsOf = (...ps: string[]) => ps.map((p) => pieces.indexOf(p));

  it('stops when the continuation contains a stop string spanning tokens, trimming it', async () => {
    const script = idsOf('a', 'b', '\n', 'U', 's', 'e', 'r', ':', ' ', 'x');
    const { model, calls } = scripted(script, pieces.length);
    const it = generate(model, [0], { maxNewTokens: 20, stopStrings: ['User:'], decode });
    const events: GeneratedToken[] = [];
    let step = await it.next();
    while (!step.done) {
      events.push(step.value);
      step = await it.next();
    }
    expect(step.value).toEqual({ tokens: script.slice(0, 8), text: 'ab\n', finishReason: 'stop' });
    expect(events.map((e) => e.text).join('')).toBe('ab\n');
    // 'U', 's', 'e', 'r' are held back (they may start 'User:') and never streamed.
    expect(events.map((e) => e.text)).toEqual(['a', 'b', '\n', '', '', '', '', '']);
    expect(calls.length).toBe(8); // prefill + 7 decodes; the stop token is not run
  });

  it('stops on a stop string inside one token and releases held-back text on a false alarm', async () => {
    const one = await generateAll(scripted(idsOf('a', 'U', 'ser:', 'x'), pieces.length).model, [0], {
      maxNewTokens: 9,
      stopStrings: ['nope', 'User:'],
      decode,
    });
    expect(one).toEqual({ tokens: idsOf('a', 'U', 'ser:'), text: 'a', finishReason: 'stop' });
    const events = await collect(
      generate(scripted(idsOf('a', 'U', 'b', 'c'), pieces.length).model, [0], { maxNewTokens: 4, stopStrings: ['User:'], decode }),
    );
    expect(events.map((e) => e.text)).toEqual(['a', '', 'Ub', 'c']);
  });

  it('holds back an incomplete UTF-8 sequence (byte-fallback tokens)', async () => {
    const bytes = [...new TextEncoder().encode('é!')]; // 0xC3 0xA9 0x21
    const utf8 = (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids));
    const events = await collect(generate(scripted(bytes, 256).model, [65], { maxNewTokens: 3, decode: utf8 }));
    expect(events.map((e) => e.text)).toEqual(['', 'é', '!']);
  });

  it('applies the repetition penalty over prompt and new tokens in greedy mode', async () => {
    const model: StepModel = {
      prefill: async () => new Float32Array([0, 2, 1.5]),
      decode: async () => new Float32Array([0, 2, 1.5]),
    };
    // seen {1}: [0, 1, 1.5] → 2; then seen {1, 2}: [0, 1, 0.75] → 1, twice.
    expect((await generateAll(model, [1], { maxNewTokens: 3, repetitionPenalty: 2 })).tokens).toEqual([2, 1, 1]);
  });

  it('AbortSignal rejects with its reason and stops calling the model', async () => {
    const { model, calls } = scripted([1, 2, 3, 4, 5, 6], 8);
    const ac = new AbortController();
    const it = generate(model, [0], { maxNewTokens: 6, signal: ac.signal });
    expect((await it.next()).value).toMatchObject({ token: 1 });
    expect((await it.next()).value).toMatchObject({ token: 2 });
    ac.abort(new Error('user cancelled'));
    await expect(it.next()).rejects.toThrow('user cancelled');
    expect(calls).toEqual(['prefill:0', 'decode:1']);
    const pre = scripted([1], 8);
    await expect(generateAll(pre.model, [0], { maxNewTokens: 3, signal: AbortSignal.abort() })).rejects.toThrow();
    expect(pre.calls).toEqual([]);
  });

  it('rejects bad options', async () => {
    const { model } = scripted([1], 8);
    await expect(generateAll(model, [0], { maxNewTokens: 2, stopStrings: ['x'] })).rejects.toThrow(/decode/);
    await expect(generateAll(model, [], { maxNewTokens: 2 })).rejects.toThrow(ModelsError);
    await expect(generateAll(model, [0], { maxNewTokens: -1 })).rejects.toThrow(/maxNewTokens/);
  });
});
