// Scoring throughput of @mil/eval: multiple choice and sliding-window perplexity through (a) a one-sequence-at-a-
// time loop (reset, run the whole row, score it), (b) the session scorer (each shared context runs once, the
// session rewinds between choices) and (c) the batched full-sequence scorer (8 and 16 padded rows per call).
// Ratios vs (a) within one run; the engines must agree on every log-likelihood (the run fails otherwise).
// Run: npm run bench:eval [-- --items 40 --ppl-tokens 4096 --threads 2 --rounds 2]
import { join } from 'node:path';
import {
  batchScorer, encodePair, hybridEvalModel, loadEvalModel, loadTexts, parseTaskFile, sessionScorer, slidingWindowRequests, tokenLogProb, tokenStreams,
  builtinMcFiles, type EvalModel, type ScoreRequest, type ScoreResult, type Scorer,
} from '@mil/eval';
import { hybridConfigForTeacher, loadLlama, randomHybridWeights } from '@mil/models';
import { fmt, formatTable, numberFlag, reportResult, runBench, runFields, sig, startRssSampler } from './lib/index';

const ITEMS = numberFlag('items', 40);
const PPL_TOKENS = numberFlag('ppl-tokens', 4096);
const THREADS = numberFlag('threads', 2);
const ROUNDS = numberFlag('rounds', 2);
const TEACHER = 'models/sotu-tiny';

/** The baseline: every row on its own, from an empty session. */
async function loopScorer(m: EvalModel, maxPositions: number): Promise<Scorer> {
  const s = await m.session(maxPositions);
  return {
    async score(reqs) {
      const out: ScoreResult[] = [];
      for (const r of reqs) {
        s.reset();
        const ids = [...r.context, ...r.continuation];
        const logits = await s.forward(ids.slice(0, -1));
        let logProb = 0;
        let greedy = true;
        for (let t = r.context.length; t < ids.length; t++) {
          const x = tokenLogProb(logits.subarray((t - 1) * s.vocabSize, t * s.vocabSize), ids[t]);
          logProb += x.logProb;
          greedy &&= x.greedy;
        }
        out.push({ logProb, greedy, tokens: r.continuation.length });
      }
      return out;
    },
    release: () => s.release(),
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const rss = startRssSampler();
  const teacher = await loadEvalModel(TEACHER, { threads: THREADS, spinning: false });
  const { config } = await loadLlama(TEACHER);
  const n = config.num_hidden_layers;
  const hybrid = hybridConfigForTeacher(config, 'mamba2', Array.from({ length: n / 2 }, (_, i) => 2 * i + 1));
  // Speed does not depend on training: a random-init 50% Mamba-2 student of the teacher's shape.
  const student = hybridEvalModel(config, hybrid, randomHybridWeights(config, hybrid, 1), teacher.tokenizer, { threads: THREADS, spinning: false }, { name: 'student mamba2 50%', dir: '' });
  const tok = teacher.tokenizer;
  const mcFile = builtinMcFiles().find((f) => f.includes('nextsent'))!;
  const mc: ScoreRequest[] = parseTaskFile(mcFile).slice(0, ITEMS).flatMap((it) => it.choices.map((c) => encodePair(tok, it.context, c, 1024)));
  const ppl: ScoreRequest[] = tokenStreams(tok, loadTexts('sotu'), PPL_TOKENS).flatMap((s) => slidingWindowRequests(s, { window: 256, stride: 128 }));
  const workloads = { mc, ppl };
  const engines: Record<string, (m: EvalModel) => Promise<Scorer>> = {
    loop: (m) => loopScorer(m, 1024),
    session: (m) => sessionScorer(m, 1024),
    batch8: (m) => batchScorer(m, { batch: 8, maxPositions: 1024 }),
    batch16: (m) => batchScorer(m, { batch: 16, maxPositions: 1024 }),
  };
  const setupMs = performance.now() - t0;
  const rows: (string | number)[][] = [];
  const result: Record<string, Record<string, Record<string, number>>> = {};
  for (const m of [teacher, student]) {
    result[m.name] = {};
    for (const [w, reqs] of Object.entries(workloads)) {
      const tokens = reqs.reduce((s, r) => s + r.context.length + r.continuation.length, 0);
      const times: Record<string, number> = {};
      let ref: ScoreResult[] | null = null;
      for (const [e, make] of Object.entries(engines)) {
        const sc = await make(m);
        await sc.score(reqs.slice(0, 4)); // warm-up
        let best = Infinity;
        for (let r = 0; r < ROUNDS; r++) {
          const a = performance.now();
          const got = await sc.score(reqs);
          best = Math.min(best, performance.now() - a);
          if (!ref) ref = got;
          else got.forEach((g, i) => {
            if (Math.abs(g.logProb - ref![i].logProb) > 1e-2 * Math.max(1, Math.abs(ref![i].logProb))) throw new Error(`${m.name} ${w} ${e}: request ${i} log-likelihood ${g.logProb} vs loop ${ref![i].logProb}`);
          });
        }
        await sc.release();
        times[e] = best / 1000;
      }
      result[m.name][w] = Object.fromEntries(Object.entries(times).map(([e, s]) => [`${e}_requests_per_s`, sig(reqs.length / s)!]));
      for (const e of Object.keys(engines)) {
        result[m.name][w][`${e}_speedup_vs_loop`] = sig(times.loop / times[e])!;
        rows.push([m.name, w, reqs.length, tokens, e, fmt(times[e]), fmt(reqs.length / times[e]), fmt(times.loop / times[e])]);
      }
    }
  }
  const measureMs = performance.now() - t0 - setupMs;
  process.stdout.write(formatTable(['model', 'workload', 'requests', 'row tokens', 'engine', 'seconds', 'requests/s', 'speedup vs loop'], rows) + '\n');
  const best = (w: string) => Math.max(...Object.values(result).map((r) => Math.max(r[w].batch8_speedup_vs_loop, r[w].batch16_speedup_vs_loop, r[w].session_speedup_vs_loop)));
  reportResult({
    bench: 'eval', metric: 'mc_speedup_vs_loop', value: best('mc'), unit: 'ratio',
    mc_speedup_vs_loop: best('mc'), ppl_speedup_vs_loop: best('ppl'), by_model: result,
    workloads: { mc: `${ITEMS} items of ${join('packages/eval/data', mcFile.split('/').pop()!)} (4 choices each)`, ppl: `held-out SOTU, ${PPL_TOKENS} tokens, window 256, stride 128` },
    threads: THREADS,
    ...runFields({ rounds: ROUNDS, warmup: 1, setupMs, measureMs, peakBytes: rss.stop().peakBytes }),
  });
}

runBench('eval', main);
