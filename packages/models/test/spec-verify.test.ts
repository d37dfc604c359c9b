// Speculative-decoding use of the sessions: one forward verifies the pending token + K drafts, truncate keeps the
// accepted prefix. Checks (1) the Mamba multi-step verify state after accepting n of K drafts equals the state of
// n + 1 single steps and the oracle's, (2) logits after random forward / truncate / snapshot sequences equal a fresh
// prefill of the same tokens, (3) a decode step's outputs do not grow with the context and the KV buffers are not
// reallocated, (4) greedy decoding through the sessions equals the oracles'.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { createRng } from '@mil/core';
import { Runner } from '@mil/graph';
import type { HybridConfig } from '@mil/checkpoint';
import { HybridSession } from '../src/hybrid/hybrid-session';
import { LlamaSession } from '../src/llama/session';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward, type HybridOracleState } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { argmax, generateAll } from '../src/generate/index';
import { createOracleStepModel, randomLlamaWeights } from '../src/oracle';
import { parseLlamaConfig } from '@mil/checkpoint';

const teacher = parseLlamaConfig({ model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 128,
});
const V = teacher.vocabSize;
const variants = ['mamba1', 'mamba2'] as const;
const hybridOf = (v: (typeof variants)[number]): HybridConfig => hybridConfigForTeacher(teacher, v, [1, 3]);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return w;
}

const randomIds = (rng: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rng() * V));

afterEach(() => vi.restoreAllMocks());

describe('multi-step verify state after accepting n of K drafts', () => {
  for (const variant of variants) {
    it(`${variant}: equals n + 1 single steps and the oracle (K = 4, n = 0…4)`, async () => {
      const hybrid = hybridOf(variant);
      const w = randomHybridWeights(teacher, hybrid, 11);
      const verify = await HybridSession.create(teacher, hybrid, w, { threads: 1 });
      const single = await HybridSession.create(teacher, hybrid, w, { threads: 1 });
      const rng = createRng(5);
      const K = 4;
      for (let n = 0; n <= K; n++) {
        const prompt = randomIds(rng, 6);
        const round = randomIds(rng, K + 1); // pending token + K drafts
        const next = randomIds(rng, 1);
        await verify.prefill(prompt);
        await verify.forward(round);
        verify.truncate(prompt.length + 1 + n);
        await verify.forward(next); // replays the n + 1 kept steps, then runs `next`
        const point = verify.verifyState.save();
        await single.prefill(prompt);
        for (const id of round.slice(0, n + 1)) await single.decode(id);
        const afterKept = single.verifyState.save();
        await single.decode(next[0]);
        const afterNext = single.verifyState.save();
        const oracleKept: HybridOracleState = hybridOracleForward(teacher, hybrid, (k) => w.get(k), [[...prompt, ...round.slice(0, n + 1)]]).state;
        for (const i of [0, 2]) {
          const replayed = point.layers.get(i)!.before.data as Float32Array; // state after the replay
          const stepped = afterKept.layers.get(i)!.head.data as Float32Array;
          expect(maxAbs(replayed, stepped)).toBeLessThanOrEqual(1e-5);
          const ref = oracleKept.layers[i];
          if (ref.kind !== 'mamba') throw new Error('layer kind');
          expect(maxAbs(replayed, ref.ssm)).toBeLessThanOrEqual(1e-5);
          expect(maxAbs(point.layers.get(i)!.head.data as Float32Array, afterNext.layers.get(i)!.head.data as Float32Array)).toBeLessThanOrEqual(1e-5);
        }
      }
      await verify.release();
      await single.release();
    });
  }
});

type Session = LlamaSession | HybridSession;

async function randomRounds(make: () => Promise<Session>, seed: number): Promise<number> {
  const s = await make();
  const fresh = await make();
  const rng = createRng(seed);
  let worst = 0;
  // The session's ids are tracked here; a fresh prefill of them must give the same logits for the new rows.
  let ids: number[] = [];
  let snap: { state: unknown; ids: number[] } | null = null;
  await s.prefill((ids = randomIds(rng, 5)));
  for (let round = 0; round < 12; round++) {
    const r = rng();
    if (snap && r < 0.15) {
      s.restore(snap.state as never);
      ids = [...snap.ids];
    } else if (r < 0.3) {
      snap = { state: s.snapshot(), ids: [...ids] };
    }
    const k = 1 + Math.floor(rng() * 5);
    const step = randomIds(rng, k);
    const got = await s.forward(step);
    const before = ids.length;
    ids = [...ids, ...step];
    fresh.reset();
    const ref = await fresh.forward(ids);
    worst = Math.max(worst, maxRel(got, ref.subarray(before * V)));
    const keep = before + Math.floor(rng() * (k + 1));
    s.truncate(keep);
    ids = ids.slice(0, keep);
    if (snap && snap.ids.length > keep) snap = null; // rows above `keep` will be rewritten
  }
  expect(s.length).toBe(ids.length);
  await s.release();
  await fresh.release();
  return worst;
}

describe('logits after random forward / truncate / restore sequences equal a fresh prefill', () => {
  // With a float16 KV cache too: every row is rounded before any token uses it, so chunking does not matter.
  for (const kvDtype of ['float32', 'float16'] as const) {
    it(`teacher, KV ${kvDtype}`, async () => {
      const w = randomLlamaWeights(teacher, 4);
      expect(await randomRounds(() => LlamaSession.create(teacher, w, { threads: 1, kvDtype }), 1)).toBeLessThanOrEqual(1e-4);
    });
    for (const variant of variants) {
      it(`${variant} 50% hybrid, KV ${kvDtype}`, async () => {
        const hybrid = hybridOf(variant);
        const w = randomHybridWeights(teacher, hybrid, 6);
        expect(await randomRounds(() => HybridSession.create(teacher, hybrid, w, { threads: 1, kvDtype }), 2)).toBeLessThanOrEqual(1e-4);
      });
    }
  }
  // A pure-Mamba student (0% attention, the paper's kind of draft) has no KV rows: rollback is the Mamba state alone.
  it('mamba2 0% attention (pure Mamba)', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', []);
    const w = randomHybridWeights(teacher, hybrid, 7);
    expect(await randomRounds(() => HybridSession.create(teacher, hybrid, w, { threads: 1 }), 3)).toBeLessThanOrEqual(1e-4);
  });
});

describe('a decode step costs the same host traffic at any context', () => {
  const outBytes = async (s: Session, id: number): Promise<number> => {
    const spy = vi.spyOn(Runner.prototype, 'run');
    await s.decode(id);
    const out = await spy.mock.results[0].value;
    spy.mockRestore();
    return Object.values(out as Record<string, { data: ArrayBufferView }>).reduce((a, t) => a + t.data.byteLength, 0);
  };
  const cases: [string, () => Promise<Session>][] = [
    ['teacher', () => LlamaSession.create(teacher, randomLlamaWeights(teacher, 4), { threads: 1 })],
    ['teacher, KV float16', () => LlamaSession.create(teacher, randomLlamaWeights(teacher, 4), { threads: 1, kvDtype: 'float16' })],
    ...variants.map((v): [string, () => Promise<Session>] => [`${v} hybrid`, () => HybridSession.create(teacher, hybridOf(v), randomHybridWeights(teacher, hybridOf(v), 6), { threads: 1 })]),
  ];
  for (const [name, make] of cases) {
    it(`${name}: bytes returned by ORT and KV buffer identity at context 8 and 100`, async () => {
      const s = await make();
      const rng = createRng(3);
      await s.prefill(randomIds(rng, 8));
      const bufferAt8 = s.kvBuffer.buffers(1).key;
      const at8 = await outBytes(s, 7);
      await s.forward(randomIds(rng, 91));
      const bufferAt100 = s.kvBuffer.buffers(1).key;
      const at100 = await outBytes(s, 7);
      expect(at100).toBe(at8);
      // The capacity (initial 128 here: max_position_embeddings) covers both: the same array is written in place.
      expect(bufferAt100).toBe(bufferAt8);
      expect(s.kvBuffer.buffers(1).key).toBe(bufferAt8);
      await s.release();
    });
  }
});

describe('greedy decoding through the sessions equals the oracles', () => {
  it('teacher', async () => {
    const w = randomLlamaWeights(teacher, 9);
    const s = await LlamaSession.create(teacher, w, { threads: 1 });
    const prompt = [3, 14, 15, 9, 2];
    const got = await generateAll(s, prompt, { maxNewTokens: 24 });
    const ref = await generateAll(createOracleStepModel(teacher, (n) => w.get(n)), prompt, { maxNewTokens: 24 });
    expect(got.tokens).toEqual(ref.tokens);
    await s.release();
  });
  for (const variant of variants) {
    it(`${variant} hybrid`, async () => {
      const hybrid = hybridOf(variant);
      const w = randomHybridWeights(teacher, hybrid, 9);
      const s = await HybridSession.create(teacher, hybrid, w, { threads: 1 });
      const prompt = [3, 14, 15, 9, 2];
      const got = await generateAll(s, prompt, { maxNewTokens: 24 });
      const ref: number[] = [];
      let o = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [prompt]);
      for (let t = 0; t < 24; t++) {
        const next = argmax(o.logits.subarray(o.logits.length - V));
        ref.push(next);
        o = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [[next]], { state: o.state });
      }
      expect(got.tokens).toEqual(ref);
      await s.release();
    });
  }
});
