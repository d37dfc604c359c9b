// Shared by the distribution tests: exact distributions of the first three new tokens enumerated from a fresh target
// (oracle sampling code independent of src/), 20k sampled runs, and the chi-square checks.
import { expect } from 'vitest';
import { createRng } from '@mil/core';
import { decodeAll, fallbackDrafter, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type Drafter } from '../../src/index';
import { chiSquareSurvival, chiSquareTest } from './chi-square';
import { AvoidArgmaxLm, lastLogits, NgramLm } from './ngram-lm';
import { oracleDistribution, type OracleSampling } from './oracle';

export const V = 8;
export const N = 20000;
export const targetSpec = { seed: 5, vocabSize: V, order: 2, scale: 1.5 };
export const makeTarget = () => new NgramLm(targetSpec);
export const prompt = [1, 2, 3, 1, 2];
export const P_MIN = 0.001;

export interface Exact {
  first: number[];
  joint: number[]; // (t1, t2) flattened t1 * V + t2
  third: number[]; // marginal of t3
}

export async function exactDistributions(s: OracleSampling): Promise<Exact> {
  const first = oracleDistribution(await lastLogits(makeTarget, prompt), s);
  const joint = new Array<number>(V * V).fill(0);
  const third = new Array<number>(V).fill(0);
  for (let a = 0; a < V; a++) {
    if (first[a] === 0) continue;
    const second = oracleDistribution(await lastLogits(makeTarget, [...prompt, a]), s);
    for (let b = 0; b < V; b++) {
      const pab = first[a] * second[b];
      joint[a * V + b] = pab;
      if (pab === 0) continue;
      const p3 = oracleDistribution(await lastLogits(makeTarget, [...prompt, a, b]), s);
      for (let c = 0; c < V; c++) third[c] += pab * p3[c];
    }
  }
  return { first, joint, third };
}

export interface Sampled {
  first: number[];
  joint: number[];
  third: number[];
  firstRoundRejected: number;
  firstRoundAccepted: number;
  /** (t1, t2) counts of the runs whose first round rejected its first draft / accepted at least one draft. */
  jointAfterRejected: number[];
  jointAfterAccepted: number[];
}

export async function sample(s: OracleSampling, makeDrafter: (() => Drafter) | null, seed: number): Promise<Sampled> {
  const rng = createRng(seed);
  const target = makeTarget();
  const drafter = makeDrafter?.() ?? null;
  const out: Sampled = {
    first: new Array(V).fill(0),
    joint: new Array(V * V).fill(0),
    third: new Array(V).fill(0),
    firstRoundRejected: 0,
    firstRoundAccepted: 0,
    jointAfterRejected: new Array(V * V).fill(0),
    jointAfterAccepted: new Array(V * V).fill(0),
  };
  const opts = { maxNewTokens: 3, sampling: s, rng };
  for (let i = 0; i < N; i++) {
    let firstRound: { drafted: number; accepted: number } | null = null;
    const done = await decodeAll(
      drafter === null ? plainDecode(target, prompt, opts) : speculativeDecode(target, drafter, prompt, { ...opts, k: 2 }),
      (r) => {
        firstRound ??= r.stats;
      },
    );
    const [a, b, c] = done.tokens;
    out.first[a]++;
    out.joint[a * V + b]++;
    out.third[c]++;
    const fr = firstRound as { drafted: number; accepted: number } | null;
    if (fr !== null && fr.drafted > 0) {
      if (fr.accepted === 0) {
        out.firstRoundRejected++;
        out.jointAfterRejected[a * V + b]++;
      } else {
        out.firstRoundAccepted++;
        out.jointAfterAccepted[a * V + b]++;
      }
    }
  }
  return out;
}

export const noisy = (truncateAnywhere: boolean) => () =>
  modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 3, scale: 1.5 }, truncateAnywhere }));

export const cases: { name: string; s: OracleSampling; drafter: () => Drafter }[] = [
  { name: 'T=1, noisy snapshot-only draft', s: { temperature: 1 }, drafter: noisy(false) },
  { name: 'T=0.7 top-k 5, n-gram drafter (deterministic q)', s: { temperature: 0.7, topK: 5 }, drafter: () => ngramDrafter({ maxNgram: 2 }) },
  {
    name: 'T=1.3 top-p 0.8, argmax-avoiding draft',
    s: { temperature: 1.3, topP: 0.8 },
    drafter: () => modelDrafter(new AvoidArgmaxLm(new NgramLm(targetSpec))),
  },
  { name: 'T=1 top-k 6 top-p 0.9, noisy truncatable draft', s: { temperature: 1, topK: 6, topP: 0.9 }, drafter: noisy(true) },
  {
    name: 'T=1, noisy snapshot-only draft with adaptive K (minConfidence 0.3)',
    s: { temperature: 1 },
    drafter: () => modelDrafter(new NgramLm({ ...targetSpec, noise: { seed: 3, scale: 1.5 }, truncateAnywhere: false }), { minConfidence: 0.3 }),
  },
  {
    name: 'T=0.8, n-gram lookup with a noisy truncatable draft as fallback (deterministic and model q mixed)',
    s: { temperature: 0.8 },
    drafter: () => fallbackDrafter(ngramDrafter({ maxNgram: 2 }), noisy(true)()),
  },
];

export function expectFits(got: Sampled, exact: Exact, label: string): void {
  for (const part of ['first', 'joint', 'third'] as const) {
    const { p, stat, df } = chiSquareTest(got[part], exact[part]);
    expect(p, `${label}: ${part} token(s), chi2 ${stat.toFixed(1)} on ${df} df`).toBeGreaterThan(P_MIN);
  }
}


/** The whole check of one case: speculative and plain sampling against the exact distributions. */
export async function checkCase(c: (typeof cases)[number], seed: number): Promise<void> {
  const exact = await exactDistributions(c.s);
  const spec = await sample(c.s, c.drafter, 100 + seed);
  expectFits(spec, exact, `speculative ${c.name}`);
  // both paths to the second token happen often: accepted/bonus in round 1, and a new round after a rejection
  expect(spec.firstRoundRejected).toBeGreaterThan(N / 20);
  expect(spec.firstRoundAccepted).toBeGreaterThan(N / 20);
  // the second token given the first, separately for runs whose first round rejected / accepted: p(t2 | t1) each time
  for (const [path, joint] of [
    ['rejected', spec.jointAfterRejected],
    ['accepted', spec.jointAfterAccepted],
  ] as const) {
    const { p, stat, df } = conditionalFit(joint, exact);
    expect(p, `${c.name}: second token after a ${path} first round, chi2 ${stat.toFixed(1)} on ${df} df`).toBeGreaterThan(P_MIN);
  }
  expectFits(await sample(c.s, null, 200 + seed), exact, `plain ${c.name}`);
}

/** Chi-square of the second token against p(t2 | t1), one stratum per observed first token (stats and df summed). */
export function conditionalFit(joint: readonly number[], exact: Exact): { p: number; stat: number; df: number } {
  let stat = 0;
  let df = 0;
  for (let a = 0; a < V; a++) {
    const counts = joint.slice(a * V, (a + 1) * V);
    if (counts.reduce((x, y) => x + y, 0) === 0) continue;
    if (exact.first[a] === 0) return { p: 0, stat: Infinity, df: 0 };
    const probs = exact.joint.slice(a * V, (a + 1) * V).map((x) => x / exact.first[a]);
    const r = chiSquareTest(counts, probs);
    if (r.p === 0 && r.stat === Infinity) return r;
    stat += r.stat;
    df += r.df;
  }
  return { p: df === 0 ? 1 : chiSquareSurvival(stat, df), stat, df };
}
