// modelDrafter keeps a draft model in sync with the accepted context (truncate, snapshot/restore or reset) and
// drafts exactly what a fresh model would; ngramDrafter is prompt-lookup decoding.
import { describe, expect, it } from 'vitest';
import { createRng, MilError } from '@mil/core';
import {
  decodeAll,
  fallbackDrafter,
  lookupContinuation,
  modelDrafter,
  ngramDrafter,
  plainDecode,
  speculativeDecode,
  SpecDecodeError,
  stepModelDrafter,
  type NgramDrafterOptions,
  type StepLike,
} from '../src/index';
import { lastLogits, NgramLm, type NgramLmOptions } from './helpers/ngram-lm';
import { oracleDistribution } from './helpers/oracle';

const V = 12;
const base: NgramLmOptions = { seed: 21, vocabSize: V, order: 3 };

/** What a fresh model drafts greedily after `context`: k argmax steps, each on a fresh model fed everything. */
async function oracleDraft(spec: NgramLmOptions, context: number[], k: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const logits = await lastLogits(() => new NgramLm(spec), [...context, ...out]);
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
    out.push(best);
  }
  return out;
}

/**
 * Contexts as speculative decoding produces them (previous context + an accepted prefix of the last proposal + one
 * new token), with an occasional jump to an unrelated context (a new prompt).
 */
function* contextWalk(seed: number, steps: number, propose: () => number[], jumps = { n: 0 }): Generator<number[]> {
  const rng = createRng(seed);
  let ctx = [1, 2, 3];
  for (let s = 0; s < steps; s++) {
    yield ctx;
    const last = propose();
    if (rng() < 0.1) {
      jumps.n++;
      ctx = Array.from({ length: 1 + Math.floor(rng() * 6) }, () => Math.floor(rng() * V));
      continue;
    }
    const a = Math.floor(rng() * (last.length + 1));
    ctx = [...ctx, ...last.slice(0, a), Math.floor(rng() * V)];
  }
}

const kinds: Record<string, NgramLmOptions> = {
  'snapshot-only (Mamba-like)': { ...base, truncateAnywhere: false, snapshots: true },
  'truncate anywhere (KV-like)': { ...base, truncateAnywhere: true, snapshots: false },
  'neither (must reset)': { ...base, truncateAnywhere: false, snapshots: false },
};

describe('modelDrafter', () => {
  for (const [name, spec] of Object.entries(kinds)) {
    it(`${name}: every greedy proposal equals a fresh model's, over 60 speculative-like contexts`, async () => {
      const model = new NgramLm(spec);
      const drafter = modelDrafter(model);
      let last: number[] = [];
      let checked = 0;
      const jumps = { n: 0 };
      for (const ctx of contextWalk(4, 60, () => last, jumps)) {
        const k = 1 + (checked % 5);
        const got = await drafter.propose(ctx, k, { sampling: {}, rng: createRng(0) });
        expect(got.probs).toEqual(new Array(k).fill(null));
        expect(got.tokens, `context ${ctx.join(',')}`).toEqual(await oracleDraft(spec, ctx, k));
        expect(model.length).toBe(ctx.length + k - 1); // the last draft token is never fed
        last = got.tokens;
        checked++;
      }
      const st = drafter.stats;
      if (name.startsWith('snapshot')) {
        expect(st.restores).toBeGreaterThan(10);
        expect(st.resets).toBeLessThanOrEqual(jumps.n); // only a jump to an unrelated context starts over
        expect(st.truncations).toBeGreaterThan(0); // rollbacks within the last draft step need no snapshot
      } else if (name.startsWith('truncate')) {
        expect(st.truncations).toBeGreaterThan(10);
        expect(st.restores + st.resets).toBe(0);
      } else {
        expect(st.resets).toBeGreaterThan(10);
      }
    });
  }

  it('sampled proposals carry q = the processed draft distribution, and tokens drawn from it', async () => {
    const spec = kinds['snapshot-only (Mamba-like)'];
    const drafter = modelDrafter(new NgramLm(spec));
    const rng = createRng(8);
    const sampling = { temperature: 0.9, topK: 7, topP: 0.95 };
    let last: number[] = [];
    for (const ctx of contextWalk(6, 30, () => last)) {
      const got = await drafter.propose(ctx, 4, { sampling, rng });
      for (let i = 0; i < 4; i++) {
        const logits = await lastLogits(() => new NgramLm(spec), [...ctx, ...got.tokens.slice(0, i)]);
        const exact = oracleDistribution(logits, sampling);
        const q = got.probs[i]!;
        for (let v = 0; v < V; v++) expect(q[v]).toBeCloseTo(exact[v], 6);
        expect(q[got.tokens[i]]).toBeGreaterThan(0);
      }
      last = got.tokens;
    }
  });

  it('adaptive K (minConfidence): proposes the fresh model\'s drafts up to and including the first unsure one', async () => {
    const spec = kinds['snapshot-only (Mamba-like)'];
    const minConfidence = 0.35;
    const drafter = modelDrafter(new NgramLm(spec), { minConfidence });
    let last: number[] = [];
    let short = 0;
    for (const ctx of contextWalk(11, 60, () => last)) {
      const got = await drafter.propose(ctx, 5, { sampling: {}, rng: createRng(0) });
      // the oracle: k = 5 greedy drafts, cut after the first whose softmax maximum (T = 1) is below the threshold
      const full = await oracleDraft(spec, ctx, 5);
      let n = 0;
      while (n < 5) {
        const p = oracleDistribution(await lastLogits(() => new NgramLm(spec), [...ctx, ...full.slice(0, n)]), { temperature: 1 });
        n++;
        if (p[full[n - 1]] < minConfidence) break;
      }
      expect(got.tokens, `context ${ctx.join(',')}`).toEqual(full.slice(0, n));
      if (n < 5) short++;
      last = got.tokens;
    }
    expect(short).toBeGreaterThan(5);
    expect(short).toBeLessThan(60);
    expect(drafter.stats.earlyStops).toBe(short);
    for (const bad of [-0.1, 1, Number.NaN]) expect(() => modelDrafter(new NgramLm(spec), { minConfidence: bad })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });

  it('honours its maxLength and the AbortSignal', async () => {
    const model = new NgramLm(base);
    const drafter = modelDrafter(model, { maxLength: 8 });
    const got = await drafter.propose([1, 2, 3, 4, 5, 6], 5, { sampling: {}, rng: createRng(0) });
    expect(got.tokens.length).toBe(3); // 6 context tokens + 2 fed drafts = 8; the 3rd draft is never fed
    expect(model.maxHeld).toBeLessThanOrEqual(8);
    expect((await drafter.propose([1, 2, 3, 4, 5, 6, 7, 8, 9], 5, { sampling: {}, rng: createRng(0) })).tokens).toEqual([]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const err = await drafter.propose([1, 2], 2, { sampling: {}, rng: createRng(0), signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(SpecDecodeError);
    expect(err.code).toBe('ABORTED');
    expect(() => modelDrafter(model, { maxLength: 0 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe('fallbackDrafter', () => {
  it('proposes the primary\'s tokens when it has any, else the fallback\'s (which catches up on skipped rounds)', async () => {
    const spec = kinds['snapshot-only (Mamba-like)'];
    const lookup = ngramDrafter({ maxNgram: 3, minNgram: 2 });
    const drafter = fallbackDrafter(lookup, modelDrafter(new NgramLm(spec)));
    let last: number[] = [];
    let fromModel = 0;
    let n = 0;
    for (const ctx of contextWalk(13, 80, () => last)) {
      const got = await drafter.propose(ctx, 4, { sampling: {}, rng: createRng(0) });
      const primary = await lookup.propose(ctx, 4, { sampling: {}, rng: createRng(0) });
      if (primary.tokens.length > 0) expect(got).toEqual(primary);
      else {
        expect(got.tokens, `context ${ctx.join(',')}`).toEqual(await oracleDraft(spec, ctx, 4));
        fromModel++;
      }
      last = got.tokens;
      n++;
    }
    expect(drafter.stats).toEqual({ primary: n - fromModel, fallback: fromModel });
    expect(fromModel).toBeGreaterThan(5);
    expect(n - fromModel).toBeGreaterThan(5);
    expect(() => fallbackDrafter(lookup, null as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

/** A prefill/decode stepper over the test model (no rollback at all). */
function stepper(spec: NgramLmOptions): StepLike {
  const m = new NgramLm(spec);
  return {
    prefill: async (ids) => {
      m.reset();
      return (await m.forward(ids)).subarray((ids.length - 1) * V);
    },
    decode: async (id) => m.forward([id]),
  };
}

describe('stepModelDrafter', () => {
  it('proposes what a fresh model would, re-prefilling only when the context left what it fed', async () => {
    const drafter = stepModelDrafter(stepper(base));
    let last: number[] = [];
    let n = 0;
    for (const ctx of contextWalk(9, 40, () => last)) {
      const got = await drafter.propose(ctx, 3, { sampling: {}, rng: createRng(0) });
      expect(got.tokens).toEqual(await oracleDraft(base, ctx, 3));
      last = got.tokens;
      n++;
    }
    expect(drafter.stats.prefills).toBeGreaterThan(1);
    expect(drafter.stats.prefills).toBeLessThan(n);
  });

  it('drives greedy speculative decoding to the plain output', async () => {
    const target = { seed: 21, vocabSize: V, order: 3 };
    for (const prompt of [[1], [2, 3, 4], [5, 5, 6, 7, 5, 5]]) {
      const ref = await decodeAll(plainDecode(new NgramLm(target), prompt, { maxNewTokens: 25 }));
      const draft = stepModelDrafter(stepper({ ...target, noise: { seed: 2, scale: 0.7 } }));
      const done = await decodeAll(speculativeDecode(new NgramLm(target), draft, prompt, { k: 4, maxNewTokens: 25 }));
      expect(done.tokens).toEqual(ref.tokens);
    }
  });
});

/** Brute force: for n from max to min, scan every earlier start from the latest. */
function oracleLookup(ctx: number[], o: Required<NgramDrafterOptions>): number {
  const L = ctx.length;
  for (let n = o.maxNgram; n >= o.minNgram; n--) {
    if (n > L - 1) continue;
    const tail = JSON.stringify(ctx.slice(L - n));
    for (let j = L - n - 1; j >= Math.max(0, L - o.maxLookback); j--) {
      if (JSON.stringify(ctx.slice(j, j + n)) === tail) return j + n;
    }
  }
  return -1;
}

describe('ngramDrafter (prompt lookup)', () => {
  const rng0 = { sampling: {}, rng: createRng(0) };

  it('prefers the longest n-gram, then the latest occurrence, and proposes what followed it', async () => {
    // [1, 2] occurs at 0 (followed by 9); the 1-gram [2] occurs later (at 3) but longer n-grams win
    expect(lookupContinuation([1, 2, 9, 2, 3, 1, 2])).toBe(2);
    expect((await ngramDrafter().propose([1, 2, 9, 2, 3, 1, 2], 2, rng0)).tokens).toEqual([9, 2]);
    // among occurrences of [1], the latest one wins
    expect((await ngramDrafter({ maxNgram: 1 }).propose([1, 4, 1, 5, 1], 3, rng0)).tokens).toEqual([5, 1]);
    // the proposal stops at the end of the context
    const p = await ngramDrafter().propose([7, 8, 7], 5, rng0);
    expect(p).toEqual({ tokens: [8, 7], probs: [null, null] });
  });

  it('proposes nothing without a match, below minNgram or beyond maxLookback', async () => {
    expect(await ngramDrafter().propose([1, 2, 3], 4, rng0)).toEqual({ tokens: [], probs: [] });
    expect(lookupContinuation([3, 1, 4, 1], { minNgram: 2 })).toBe(-1);
    expect(lookupContinuation([3, 1, 4, 1], { minNgram: 1 })).toBe(2);
    expect(lookupContinuation([1, 9, 0, 0, 0, 1], { maxLookback: 3 })).toBe(-1);
    expect(lookupContinuation([1, 9, 0, 0, 0, 1], { maxLookback: 6 })).toBe(1);
    expect(await ngramDrafter().propose([5], 3, rng0)).toEqual({ tokens: [], probs: [] });
  });

  it('agrees with a brute-force search on 500 random contexts', () => {
    const rng = createRng(12);
    for (let i = 0; i < 500; i++) {
      const ctx = Array.from({ length: 1 + Math.floor(rng() * 30) }, () => Math.floor(rng() * 4));
      const o = { maxNgram: 1 + (i % 4), minNgram: 1 + (i % 2), maxLookback: i % 3 === 0 ? 10 : Infinity };
      if (o.minNgram > o.maxNgram) o.minNgram = o.maxNgram;
      expect(lookupContinuation(ctx, o), ctx.join(',')).toBe(oracleLookup(ctx, o));
    }
  });

  it('rejects bad options with coded errors', () => {
    for (const bad of [{ minNgram: 0 }, { maxNgram: 1, minNgram: 2 }, { maxNgram: 2.5 }, { maxLookback: 0 }]) {
      let err: unknown;
      try {
        ngramDrafter(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MilError);
      expect((err as SpecDecodeError).code).toBe('BAD_OPTION');
    }
  });
});
