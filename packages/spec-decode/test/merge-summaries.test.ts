// mergeSummaries: several decodings reported as one — counts and times summed, rates from the sums.
import { describe, expect, it } from 'vitest';
import { decodeAll, mergeSummaries, modelDrafter, speculativeDecode, type DecodeSummary } from '../src/index';
import { NgramLm } from './helpers/ngram-lm';

const spec = { seed: 11, vocabSize: 16, order: 2 };

describe('mergeSummaries', () => {
  it('sums the counts and times of real decodings and recomputes the rates from the sums', async () => {
    const runs: DecodeSummary[] = [];
    for (const [prompt, k] of [[[1, 2, 3], 2], [[4, 5], 4], [[6], 1]] as const) {
      const drafter = modelDrafter(new NgramLm({ ...spec, noise: { seed: 7, scale: 0.8 } }));
      runs.push((await decodeAll(speculativeDecode(new NgramLm(spec), drafter, [...prompt], { k, maxNewTokens: 9 + k }))).summary);
    }
    const m = mergeSummaries(runs);
    const sum = (f: 'rounds' | 'drafted' | 'accepted' | 'newTokens' | 'prefillMs' | 'draftMs' | 'verifyMs' | 'acceptMs' | 'decodeMs') => runs.reduce((a, r) => a + r[f], 0);
    for (const f of ['rounds', 'drafted', 'accepted', 'newTokens'] as const) expect(m[f], f).toBe(sum(f));
    for (const f of ['prefillMs', 'draftMs', 'verifyMs', 'acceptMs', 'decodeMs'] as const) expect(m[f], f).toBeCloseTo(sum(f), 9);
    expect(m.acceptanceRate).toBeCloseTo(sum('accepted') / sum('drafted'), 12);
    expect(m.tokensPerRound).toBeCloseTo(sum('newTokens') / sum('rounds'), 12);
    expect(m.tokensPerSecond).toBeCloseTo((sum('newTokens') * 1000) / sum('decodeMs'), 6);
    expect(m.newTokens).toBe(9 + 2 + 9 + 4 + 9 + 1);
  });

  it('of one summary is that summary; of none, zeros without dividing by zero', async () => {
    const one = (await decodeAll(speculativeDecode(new NgramLm(spec), modelDrafter(new NgramLm(spec)), [3], { k: 3, maxNewTokens: 7 }))).summary;
    expect(mergeSummaries([one])).toEqual(one);
    const none = mergeSummaries([]);
    expect([none.rounds, none.newTokens, none.acceptanceRate, none.tokensPerRound, none.tokensPerSecond]).toEqual([0, 0, 0, 0, 0]);
  });
});
