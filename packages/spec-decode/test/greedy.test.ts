// Greedy speculative decoding must equal plain greedy decoding token for token, for every drafter and K = 1…8.
import { describe, expect, it } from 'vitest';
import { createRng } from '@mil/core';
import {
  decodeAll,
  fallbackDrafter,
  modelDrafter,
  ngramDrafter,
  plainDecode,
  speculativeDecode,
  type DecodeOptions,
  type Drafter,
  type RoundEvent,
} from '../src/index';
import { AvoidArgmaxLm, NgramLm } from './helpers/ngram-lm';
import { oracleGreedy } from './helpers/oracle';

const V = 16;
const targetSpec = { seed: 11, vocabSize: V, order: 2 };
const makeTarget = () => new NgramLm(targetSpec);
const LETTERS = 'abcdefghijklmnop';
const decode = (ids: readonly number[]) => ids.map((i) => LETTERS[i]).join('');

/** 50 prompts of 1–14 tokens, half of them with a repeated stretch (so the n-gram drafter finds matches). */
function prompts(): number[][] {
  const rng = createRng(2024);
  const out: number[][] = [];
  for (let i = 0; i < 50; i++) {
    const len = 1 + Math.floor(rng() * 10);
    const p = Array.from({ length: len }, () => Math.floor(rng() * V));
    if (i % 2 === 1) p.push(...p.slice(0, Math.min(4, p.length)));
    out.push(p);
  }
  return out;
}

const drafters: Record<string, () => Drafter> = {
  // a noisy copy of the target: partial acceptance; Mamba-like (snapshot/restore, truncate only in the last forward)
  'noisy, snapshot-only': () =>
    modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 }, truncateAnywhere: false })),
  // the same noisy copy as a KV-cache-like model (truncate anywhere, no snapshots)
  'noisy, truncatable': () =>
    modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 }, truncateAnywhere: true, snapshots: false })),
  // a different model (other seed, bigram): low acceptance; neither truncate-anywhere nor snapshots (resets)
  'different model, no snapshots': () => modelDrafter(new NgramLm({ seed: 99, vocabSize: V, order: 1, snapshots: false })),
  'target copy (all accepted)': () => modelDrafter(new NgramLm(targetSpec)),
  'argmax avoider (all rejected)': () => modelDrafter(new AvoidArgmaxLm(new NgramLm(targetSpec))),
  'n-gram lookup': () => ngramDrafter({ maxNgram: 3 }),
  // adaptive K: stops a round's drafting after a token the draft is unsure of
  'noisy, snapshot-only, adaptive K': () =>
    modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 }, truncateAnywhere: false }), { minConfidence: 0.4 }),
  // prompt lookup first, the noisy Mamba-like model when it finds nothing (the model skips rounds and catches up)
  'n-gram, then noisy snapshot-only': () =>
    fallbackDrafter(
      ngramDrafter({ maxNgram: 3, minNgram: 2 }),
      modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 }, truncateAnywhere: false })),
    ),
};

function optionsFor(i: number): DecodeOptions {
  // vary the stopping rules over the prompts: EOS, stop strings, plain length
  if (i % 3 === 0) return { maxNewTokens: 30, eos: [3, 9] };
  if (i % 3 === 1) return { maxNewTokens: 30, stopStrings: ['ca', 'hh', 'po'], decode };
  return { maxNewTokens: 5 + (i % 23) };
}

async function collect(it: AsyncGenerator<any, any, undefined>) {
  const rounds: RoundEvent[] = [];
  const done = await decodeAll(it, (r) => rounds.push(r));
  return { done, rounds };
}

describe('greedy speculative decoding equals plain greedy decoding', () => {
  it('plainDecode equals a brute-force greedy oracle (fresh model per token)', async () => {
    for (const [i, prompt] of prompts().entries()) {
      const eos = i % 2 === 0 ? [3] : [];
      const { done } = await collect(plainDecode(makeTarget(), prompt, { maxNewTokens: 20, eos }));
      expect(done.tokens).toEqual(await oracleGreedy(makeTarget, prompt, 20, eos));
      expect(done.summary.rounds).toBe(done.tokens.length);
    }
  });

  it('plainDecode stops like a brute-force oracle on stop strings and EOS (text cut before the stop string, no EOS text)', async () => {
    const stops = ['ca', 'hh', 'po', 'ji', 'dd', 'ea'];
    let stopped = 0;
    for (const [i, prompt] of prompts().entries()) {
      const { done } = await collect(plainDecode(makeTarget(), prompt, { maxNewTokens: 30, stopStrings: stops, decode, eos: [9] }));
      const all = await oracleGreedy(makeTarget, prompt, 30, [9]);
      // the first prefix of the oracle continuation whose text holds a stop string
      let end = all.length;
      let cut = -1;
      for (let n = 1; n <= all.length; n++) {
        const text = decode(all.slice(0, n).filter((t) => t !== 9));
        const at = Math.min(...stops.map((s) => text.indexOf(s)).filter((x) => x >= 0));
        if (Number.isFinite(at)) {
          end = n;
          cut = at;
          break;
        }
      }
      expect(done.tokens, `prompt ${i}`).toEqual(all.slice(0, end));
      const fullText = decode(all.slice(0, end).filter((t) => t !== 9));
      expect(done.text).toBe(cut >= 0 ? fullText.slice(0, cut) : fullText);
      expect(done.finishReason).toBe(cut >= 0 ? 'stop' : all[end - 1] === 9 ? 'eos' : 'length');
      if (cut >= 0) stopped++;
    }
    expect(stopped).toBeGreaterThan(5);
  });

  it('for 50 prompts x K = 1..8 x 8 drafters, with all/none accepted rounds, EOS mid-round, stop strings, exact maxNewTokens', async () => {
    const ps = prompts();
    const plain = [];
    for (const [i, prompt] of ps.entries()) plain.push(await collect(plainDecode(makeTarget(), prompt, optionsFor(i))));
    const rates: Record<string, number> = {};
    const coverage = { allAccepted: 0, noneAccepted: 0, partial: 0, eosMidRound: 0, stopMidRound: 0, stop: 0, length: 0 };
    for (const [name, makeDrafter] of Object.entries(drafters)) {
      let drafted = 0;
      let accepted = 0;
      for (let k = 1; k <= 8; k++) {
        const target = makeTarget();
        const drafter = makeDrafter(); // one drafter (and one target) across the prompts: it must resync each time
        for (const [i, prompt] of ps.entries()) {
          const opts = optionsFor(i);
          const { done, rounds } = await collect(speculativeDecode(target, drafter, prompt, { ...opts, k }));
          const ref = plain[i].done;
          expect(done.tokens, `${name} K=${k} prompt ${i}`).toEqual(ref.tokens);
          expect(done.finishReason).toBe(ref.finishReason);
          expect(done.text).toBe(ref.text);
          expect(rounds.map((r) => r.text).join('')).toBe(done.text);
          expect(rounds.flatMap((r) => r.tokens)).toEqual(done.tokens);
          if (done.finishReason === 'length') expect(done.tokens.length).toBe(opts.maxNewTokens);
          for (const r of rounds) {
            expect(r.stats.drafted).toBeLessThanOrEqual(k);
            drafted += r.stats.drafted;
            accepted += r.stats.accepted;
            if (r.stats.drafted > 0 && r.stats.accepted === r.stats.drafted) coverage.allAccepted++;
            else if (r.stats.drafted > 0 && r.stats.accepted === 0) coverage.noneAccepted++;
            else if (r.stats.drafted > 0) coverage.partial++;
          }
          const last = rounds[rounds.length - 1].stats;
          if (last.emitted < last.accepted + 1) {
            if (done.finishReason === 'eos') coverage.eosMidRound++;
            if (done.finishReason === 'stop') coverage.stopMidRound++;
          }
          if (done.finishReason === 'stop') coverage.stop++;
          if (done.finishReason === 'length') coverage.length++;
          expect(done.summary.newTokens).toBe(done.tokens.length);
          expect(done.summary.rounds).toBe(rounds.length);
        }
      }
      if (name.startsWith('target copy')) expect(accepted).toBe(drafted);
      if (name.startsWith('argmax avoider')) expect(accepted).toBe(0);
      if (name.startsWith('noisy')) {
        expect(accepted / drafted).toBeGreaterThan(0.15);
        expect(accepted / drafted).toBeLessThan(0.95);
      }
      expect(drafted, name).toBeGreaterThan(0);
      rates[name] = accepted / drafted;
    }
    for (const [what, n] of Object.entries(coverage)) expect(n, what).toBeGreaterThan(0);
  });

  it('verifies the pending token plus the drafts in one forward per round', async () => {
    const prompt = [1, 2, 3, 4, 1, 2];
    for (const k of [1, 3, 8]) {
      const target = makeTarget();
      const { done, rounds } = await collect(
        speculativeDecode(target, modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 } })), prompt, {
          k,
          maxNewTokens: 40,
        }),
      );
      expect(target.forwardSizes[0]).toBe(prompt.length - 1); // prefill: the prompt minus its pending last token
      expect(target.forwardSizes.slice(1)).toEqual(rounds.map((r) => r.stats.drafted + 1));
      expect(done.tokens.length).toBe(40);
      // a round drafts K tokens except where maxNewTokens leaves less room
      for (const r of rounds) expect(r.stats.drafted).toBe(Math.min(k, 40 - r.index - 1));
    }
  });

  it('handles drafters that return fewer than K tokens, or none (a plain step), and reports consistent totals', async () => {
    const rng = createRng(55);
    const inner = modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 } }));
    const shrinking: Drafter = {
      async propose(context, k, o) {
        const p = await inner.propose(context, k, o);
        const keep = Math.floor(rng() * (p.tokens.length + 1)); // 0…k tokens
        return { tokens: p.tokens.slice(0, keep), probs: p.probs.slice(0, keep) };
      },
    };
    const empty: Drafter = { propose: async () => ({ tokens: [], probs: [] }) };
    for (const [i, prompt] of prompts().slice(0, 20).entries()) {
      const ref = (await collect(plainDecode(makeTarget(), prompt, optionsFor(i)))).done;
      for (const d of [shrinking, empty]) {
        const target = makeTarget();
        const { done, rounds } = await collect(speculativeDecode(target, d, prompt, { ...optionsFor(i), k: 6 }));
        expect(done.tokens).toEqual(ref.tokens);
        expect(target.forwardSizes.slice(prompt.length > 1 ? 1 : 0)).toEqual(rounds.map((r) => r.stats.drafted + 1));
        const s = done.summary;
        expect(s.rounds).toBe(rounds.length);
        expect(s.drafted).toBe(rounds.reduce((a, r) => a + r.stats.drafted, 0));
        expect(s.accepted).toBe(rounds.reduce((a, r) => a + r.stats.accepted, 0));
        expect(s.acceptanceRate).toBe(s.drafted === 0 ? 0 : s.accepted / s.drafted);
        expect(s.tokensPerRound).toBeCloseTo(done.tokens.length / rounds.length, 12);
        expect(s.decodeMs).toBeCloseTo(s.draftMs + s.verifyMs + s.acceptMs, 9);
        for (const r of rounds) expect(Math.min(r.stats.draftMs, r.stats.verifyMs, r.stats.acceptMs)).toBeGreaterThanOrEqual(0);
        if (d === empty) expect(s.drafted).toBe(0);
      }
    }
  });

  it('uses the optional logits-free prefill for the target prompt and the draft model\'s first feed', async () => {
    for (const [i, prompt] of prompts().slice(0, 10).entries()) {
      const ref = (await collect(plainDecode(makeTarget(), prompt, optionsFor(i)))).done;
      const target = new NgramLm({ ...targetSpec, prefill: true });
      const draft = new NgramLm({ ...targetSpec, noise: { seed: 7, scale: 0.8 }, prefill: true });
      const { done, rounds } = await collect(speculativeDecode(target, modelDrafter(draft), prompt, { ...optionsFor(i), k: 3 }));
      expect(done.tokens).toEqual(ref.tokens);
      expect(target.prefillSizes).toEqual(prompt.length > 1 ? [prompt.length - 1] : []);
      expect(target.forwardSizes).toEqual(rounds.map((r) => r.stats.drafted + 1));
      if (rounds[0].stats.drafted > 0 && prompt.length > 1) expect(draft.prefillSizes).toEqual([prompt.length - 1]);
    }
  });

  it('never lets the target hold more than maxLength tokens and throws CONTEXT_FULL at the same token as plain', async () => {
    const prompt = [4, 5, 6];
    const maxLength = 9;
    const run = async (spec: boolean) => {
      const target = makeTarget();
      const got: number[] = [];
      const it = spec
        ? speculativeDecode(target, modelDrafter(new NgramLm(targetSpec)), prompt, { k: 4, maxNewTokens: 50, maxLength })
        : plainDecode(target, prompt, { maxNewTokens: 50, maxLength });
      const err = await decodeAll(it, (r) => got.push(...r.tokens)).catch((e) => e);
      expect(err.code).toBe('CONTEXT_FULL');
      expect(target.maxHeld).toBeLessThanOrEqual(maxLength);
      return got;
    };
    const spec = await run(true);
    expect(spec).toEqual(await run(false));
    expect(spec.length).toBe(maxLength + 1 - prompt.length);
    expect(spec).toEqual(await oracleGreedy(makeTarget, prompt, spec.length));
  });

  it('a prompt of one token needs no prefill; maxNewTokens 0 never calls the model', async () => {
    const target = makeTarget();
    const { done } = await collect(speculativeDecode(target, ngramDrafter(), [7], { maxNewTokens: 6 }));
    expect(done.tokens).toEqual(await oracleGreedy(makeTarget, [7], 6));
    expect(target.forwardSizes[0]).toBe(1);
    const idle = makeTarget();
    const none = await collect(speculativeDecode(idle, ngramDrafter(), [7, 8], { maxNewTokens: 0 }));
    expect(none.done.tokens).toEqual([]);
    expect(none.done.finishReason).toBe('length');
    expect(idle.forwardSizes).toEqual([]);
  });
});
