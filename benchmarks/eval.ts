// Scoring throughput of @mil/eval: multiple choice and sliding-window perplexity through (a) a one-sequence-at-a-
// time loop (reset, run the whole row, score it), (b) the session scorer (each shared context runs once, the
// session rewinds between choices) and (c) the batched full-sequence scorer (8 and 16 padded rows per call).
// Ratios vs (a) within one run; the engines must agree on every log-likelihood (the run fails otherwise).
// The dev machine is shared (load averages of 20 on 2 cores happen), so besides wall time each run records the
// process CPU time (user + system, all ORT threads included; spinning off): the work an engine needs, which
// contention barely changes. Rounds interleave the engines; each keeps its fastest round.
// Run: npm run bench:eval [-- --items 40 --ppl-tokens 4096 --threads 1 --rounds 3]
import {
  batchScorer, encodePair, hybridEvalModel, loadEvalModel, loadTexts, parseTaskFile, sessionScorer, slidingWindowRequests, tokenLogProb, tokenStreams,
  type EvalModel, type ScoreRequest, type ScoreResult, type Scorer,
} from '@mil/eval';
import { hybridConfigForTeacher, loadLlama, randomHybridWeights } from '@mil/models';
import { fmt, formatTable, numberFlag, reportResult, runBench, runFields, sig, startRssSampler } from './lib/index';

const ITEMS = numberFlag('items', 40);
const PPL_TOKENS = numberFlag('ppl-tokens', 4096);
const THREADS = numberFlag('threads', 1);
const ROUNDS = numberFlag('rounds', 3);
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
  const n = config.numHiddenLayers;
  const hybrid = hybridConfigForTeacher(config, 'mamba2', Array.from({ length: n / 2 }, (_, i) => 2 * i + 1));
  // Speed does not depend on training: a random-init 50% Mamba-2 student of the teacher's shape.
  const student = hybridEvalModel(config, hybrid, randomHybridWeights(config, hybrid, 1), teacher.tokenizer, { threads: THREADS, spinning: false }, { name: 'student mamba2 50%', dir: '' });
  const tok = teacher.tokenizer;
  const mcFile = 'packages/eval/data/sotu-nextsent.jsonl';
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
      const wall: Record<string, number> = {};
      const cpu: Record<string, number> = {};
      const scorers: Record<string, Scorer> = {};
      let ref: ScoreResult[] | null = null;
      for (const [e, make] of Object.entries(engines)) {
        scorers[e] = await make(m);
        await scorers[e].score(reqs.slice(0, 4)); // warm-up
        wall[e] = cpu[e] = Infinity;
      }
      for (let r = 0; r < ROUNDS; r++)
        for (const e of Object.keys(engines)) {
          const c0 = process.cpuUsage();
          const a = performance.now();
          const got = await scorers[e].score(reqs);
          wall[e] = Math.min(wall[e], (performance.now() - a) / 1000);
          const c = process.cpuUsage(c0);
          cpu[e] = Math.min(cpu[e], (c.user + c.system) / 1e6);
          if (!ref) ref = got;
          else got.forEach((g, i) => {
            if (Math.abs(g.logProb - ref![i].logProb) > 1e-2 * Math.max(1, Math.abs(ref![i].logProb))) throw new Error(`${m.name} ${w} ${e}: request ${i} log-likelihood ${g.logProb} vs loop ${ref![i].logProb}`);
          });
        }
      for (const sc of Object.values(scorers)) await sc.release();
      result[m.name][w] = {};
      for (const e of Object.keys(engines)) {
        result[m.name][w][`${e}_cpu_s`] = sig(cpu[e])!;
        result[m.name][w][`${e}_wall_s`] = sig(wall[e])!;
        result[m.name][w][`${e}_speedup_vs_loop_cpu`] = sig(cpu.loop / cpu[e])!;
        result[m.name][w][`${e}_speedup_vs_loop_wall`] = sig(wall.loop / wall[e])!;
        rows.push([m.name, w, reqs.length, tokens, e, fmt(cpu[e]), fmt(wall[e]), fmt(reqs.length / cpu[e]), fmt(cpu.loop / cpu[e]), fmt(wall.loop / wall[e])]);
      }
    }
  }
  const measureMs = performance.now() - t0 - setupMs;
  process.stdout.write(formatTable(['model', 'workload', 'requests', 'row tokens', 'engine', 'CPU s', 'wall s', 'requests per CPU s', 'speedup (CPU)', 'speedup (wall)'], rows) + '\n');
  const best = (w: string) => Math.max(...Object.values(result).map((r) => Math.max(r[w].batch8_speedup_vs_loop_cpu, r[w].batch16_speedup_vs_loop_cpu, r[w].session_speedup_vs_loop_cpu)));
  reportResult({
    bench: 'eval', metric: 'mc_speedup_vs_loop_cpu', value: best('mc'), unit: 'ratio',
    mc_speedup_vs_loop_cpu: best('mc'), ppl_speedup_vs_loop_cpu: best('ppl'), by_model: result,
    workloads: { mc: `${ITEMS} items of ${mcFile} (4 choices each)`, ppl: `held-out SOTU, ${PPL_TOKENS} tokens, window 256, stride 128` },
    threads: THREADS,
    ...runFields({ rounds: ROUNDS, warmup: 1, setupMs, measureMs, peakBytes: rss.stop().peakBytes }),
  });
}

runBench('eval', main);
