// Coded errors for bad options, drafters and targets; the AbortSignal stops the iterator.
import { describe, expect, it } from 'vitest';
import { MilError } from '@mil/core';
import {
  decodeAll,
  ngramDrafter,
  plainDecode,
  speculativeDecode,
  SpecDecodeError,
  type Drafter,
  type SpeculativeOptions,
  type VerifyTarget,
} from '../src/index';
import { NgramLm } from './helpers/ngram-lm';

const V = 10;
const makeTarget = () => new NgramLm({ seed: 1, vocabSize: V, order: 2 });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecDecodeError);
    expect(e).toBeInstanceOf(MilError);
    return (e as SpecDecodeError).code;
  }
  return undefined;
}

async function rejection(p: Promise<unknown>): Promise<SpecDecodeError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(SpecDecodeError);
  return e as SpecDecodeError;
}

describe('option validation', () => {
  const bad: [string, Partial<SpeculativeOptions>, string][] = [
    ['k = 0', { k: 0 }, 'BAD_OPTION'],
    ['k = 2.5', { k: 2.5 }, 'BAD_OPTION'],
    ['maxNewTokens = -1', { maxNewTokens: -1 }, 'BAD_OPTION'],
    ['maxNewTokens missing', { maxNewTokens: undefined }, 'BAD_OPTION'],
    ['temperature < 0', { sampling: { temperature: -0.5 } }, 'BAD_OPTION'],
    ['topK = -1', { sampling: { temperature: 1, topK: -1 } }, 'BAD_OPTION'],
    ['topP = 0', { sampling: { temperature: 1, topP: 0 } }, 'BAD_OPTION'],
    ['eos outside the vocabulary', { eos: [V] }, 'BAD_OPTION'],
    ['stopStrings without decode', { stopStrings: ['x'] }, 'BAD_OPTION'],
    ['maxLength = 0', { maxLength: 0 }, 'BAD_OPTION'],
    ['rng not a function', { rng: 3 as never }, 'BAD_OPTION'],
    ['signal not an AbortSignal', { signal: {} as never }, 'BAD_OPTION'],
  ];
  for (const [what, o, code] of bad) {
    it(`${what} -> ${code}, thrown when the iterator is created`, () => {
      expect(codeOf(() => speculativeDecode(makeTarget(), ngramDrafter(), [1, 2], { maxNewTokens: 4, ...o }))).toBe(code);
      if (o.k === undefined) expect(codeOf(() => plainDecode(makeTarget(), [1, 2], { maxNewTokens: 4, ...o }))).toBe(code);
    });
  }

  it('bad prompts are BAD_INPUT, a prompt over maxLength is CONTEXT_FULL, a non-drafter is BAD_OPTION', async () => {
    expect(codeOf(() => plainDecode(makeTarget(), [], { maxNewTokens: 4 }))).toBe('BAD_INPUT');
    expect(codeOf(() => plainDecode(makeTarget(), [1, V], { maxNewTokens: 4 }))).toBe('BAD_INPUT');
    expect(codeOf(() => plainDecode(makeTarget(), [1, -1], { maxNewTokens: 4 }))).toBe('BAD_INPUT');
    expect(codeOf(() => speculativeDecode(makeTarget(), {} as Drafter, [1], { maxNewTokens: 4 }))).toBe('BAD_OPTION');
    const e = await rejection(decodeAll(plainDecode(makeTarget(), [1, 2, 3], { maxNewTokens: 4, maxLength: 2 })));
    expect(e.code).toBe('CONTEXT_FULL');
  });
});

describe('misbehaving drafters and targets', () => {
  const fixed = (tokens: number[], probs: (Float32Array | null)[]): Drafter => ({
    propose: async () => ({ tokens, probs }),
  });

  it('a proposal longer than asked, with ids outside the vocabulary or mis-shaped q is BAD_PROPOSAL', async () => {
    const cases: Drafter[] = [
      fixed([1, 2, 3], [null, null, null]),
      fixed([V], [null]),
      fixed([1], []),
      fixed([1], [new Float32Array(V - 1)]),
    ];
    for (const d of cases) {
      const e = await rejection(decodeAll(speculativeDecode(makeTarget(), d, [1, 2], { k: 2, maxNewTokens: 8 })));
      expect(e.code).toBe('BAD_PROPOSAL');
    }
  });

  it('a target whose logits have the wrong size is BAD_LOGITS; one changed behind the loop is BAD_STATE', async () => {
    const shared = makeTarget();
    const inner = makeTarget();
    const wrongSize: VerifyTarget = {
      vocabSize: V,
      get length() {
        return inner.length;
      },
      reset: () => inner.reset(),
      truncate: (n) => inner.truncate(n),
      forward: async (ids) => (await inner.forward(ids)).subarray(1),
    };
    expect((await rejection(decodeAll(plainDecode(wrongSize, [1, 2], { maxNewTokens: 3 })))).code).toBe('BAD_LOGITS');
    // a drafter that feeds the target itself: the loop notices the target no longer holds the accepted context
    const meddler: Drafter = {
      propose: async () => {
        await shared.forward([1]);
        return { tokens: [], probs: [] };
      },
    };
    expect((await rejection(decodeAll(speculativeDecode(shared, meddler, [1, 2], { maxNewTokens: 3 })))).code).toBe('BAD_STATE');
  });
});

describe('AbortSignal', () => {
  it('an already aborted signal rejects the first next() with ABORTED and never calls the target', async () => {
    const target = makeTarget();
    const ac = new AbortController();
    ac.abort(new Error('user stop'));
    const e = await rejection(speculativeDecode(target, ngramDrafter(), [1, 2], { maxNewTokens: 5, signal: ac.signal }).next());
    expect(e.code).toBe('ABORTED');
    expect((e.cause as Error).message).toBe('user stop');
    expect(target.forwardSizes).toEqual([]);
  });

  it('aborting between rounds stops the iterator before the next target call', async () => {
    const target = makeTarget();
    const ac = new AbortController();
    const it = speculativeDecode(target, ngramDrafter(), [1, 2, 1, 2], { k: 3, maxNewTokens: 50, signal: ac.signal });
    expect((await it.next()).value?.type).toBe('round');
    expect((await it.next()).value?.type).toBe('round');
    const calls = target.forwardSizes.length;
    ac.abort();
    expect((await rejection(it.next())).code).toBe('ABORTED');
    expect(target.forwardSizes.length).toBe(calls);
    expect((await it.next()).done).toBe(true); // the generator is finished
  });

  it('aborting while the drafter works skips the verify call', async () => {
    const target = makeTarget();
    const ac = new AbortController();
    let rounds = 0;
    const drafter: Drafter = {
      propose: async () => {
        if (++rounds === 3) ac.abort();
        return { tokens: [4], probs: [null] };
      },
    };
    const it = speculativeDecode(target, drafter, [1, 2], { k: 2, maxNewTokens: 50, signal: ac.signal });
    const e = await rejection(decodeAll(it));
    expect(e.code).toBe('ABORTED');
    expect(target.forwardSizes.length).toBe(1 + 2); // prefill + two verified rounds
  });
});
