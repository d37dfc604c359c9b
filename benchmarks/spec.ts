// Benchmark `spec`: speculative decoding (@mil/spec-decode) against plain decoding of the same target, on the CPU
// through onnxruntime-node, in one run:
//   targets  teacher (models/sotu-tiny), Mamba-2 50% attention (models/sotu-tiny-mamba2-50), Mamba-1 50% attention
//            (models/sotu-tiny-mamba1-50) — the students are distilled from the teacher by tools/draft/distill-student.ts
//            (main-job recipe) and committed, so no setup runs here;
//   drafts   the tiny Llama draft (models/sotu-tiny-draft), the pure-Mamba draft (models/sotu-tiny-draft-mamba), the
//            pure-Mamba draft distilled from the Mamba-2 student on 2k-token windows (models/sotu-tiny-mamba2-50-draft,
//            run against every target), prompt lookup (n-gram, no model), and each draft model behind prompt lookup with adaptive K
//            (lookup+llama-draft, lookup+mamba-draft: @mil/spec-decode's fallbackDrafter);
//   K        1, 2, 4, 6, 8 draft tokens per round (the lookup-first drafts: 2, 4, 8, the most per round);
//   contexts 128 and 2048 prompt tokens of held-out SOTU 2001–2021 (not seen in training), --prompts different
//            prompts per context (from different places in the text; one prompt's continuation can be much easier or
//            harder for a draft to predict than another's).
// Per (target, context, draft, K): plain greedy decoding of --new-tokens tokens from each prompt, then --repeats
// speculative greedy decodings of the same prompts right after it; the speculative tokens are asserted identical to
// the plain ones (the run fails otherwise). A run's figures are summed over its prompts (tokens, rounds, times). On the shared machine load only slows runs down, so the speedup compares fastest runs:
// the fastest speculative run ÷ the fastest plain run of that target and context (over all its pairs).
// Speedup = speculative tokens/s ÷ plain tokens/s, both over decode time: the prompt's prefill is excluded on both
// sides — the target's by the decode loop, the draft's by syncing the drafter to the prompt before the timed run
// (reported as draft_prefill_ms).
// The teacher was trained on 256-token windows with 1024 RoPE positions; at 2048 every session is compiled with
// RoPE tables for 2048 + new tokens + K + 1 positions: the teacher's outputs degrade past 1024 (its outputs still
// define correctness: speculative = plain), the work per token is what it would be.
//
//   npm run bench:spec [-- --quick] [--repeats 2] [--prompts 4] [--new-tokens 64] [--contexts 128,2048] [--ks 1,2,4,6,8] [--threads 2]
//                      [--draft-threads 1] [--min-confidence 0] [--ngram 3,1] [--lookup-ngram 3,2] [--ep cpu]
//                      [--targets teacher,mamba2-50,mamba1-50] [--drafts llama-draft,mamba-draft,mamba2-draft,ngram,lookup+llama-draft,lookup+mamba-draft]
//                      [--draft-dirs llama=<dir>,mamba=<dir>,mamba2=<dir>] [--lookup-confidence 0.4] [--lookup-ks 2,4,8]
//
// --quick: K ∈ {1,4,8}, 32 new tokens (about a third of the time). --draft-threads: ORT threads of the draft models
// (one thread: a model this small gains nothing from the second core and loses the wake-up of the thread pool).
// --min-confidence P: adaptive K for the model drafts (a round stops drafting after a token whose draft probability is
// below P; K is then the most drafted per round). --ngram max,min: the n-gram lengths prompt lookup tries.
// lookup+<draft>: prompt lookup with --lookup-ngram lengths first, else the draft model with adaptive K
// (--lookup-confidence, default 0.4), at K ∈ --lookup-ks (default 2,4,8).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, type ExecutionProvider } from '@mil/core';
import { HybridSession, LlamaSession, loadHybrid, loadLlama } from '@mil/models';
import { loadSotu } from '@mil/corpora';
import { decodeAll, fallbackDrafter, mergeSummaries, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type DecodeSummary, type DraftModel, type Drafter } from '@mil/spec-decode';
import { specModel } from 'mamba-in-llama';
import { MiB, flag, fmt, formatTable, numberFlag, reportResult, runBench, runFields, sig, startRssSampler, type Cell } from './lib';

const QUICK = flag('quick') === true;
const THREADS = numberFlag('threads', 2);
const DRAFT_THREADS = numberFlag('draft-threads', 1);
const MIN_CONFIDENCE = numberFlag('min-confidence', 0);
const LOOKUP_CONFIDENCE = numberFlag('lookup-confidence', 0.4);
const LOOKUP_KS = listFlag('lookup-ks', [2, 4, 8]);
const [NGRAM_MAX, NGRAM_MIN] = listFlag('ngram', [3, 1]);
const [LOOKUP_MAX, LOOKUP_MIN] = listFlag('lookup-ngram', [3, 2]);
const NEW_TOKENS = numberFlag('new-tokens', QUICK ? 32 : 64);
const EP = String(flag('ep') ?? 'cpu') as ExecutionProvider;
const REPEATS = numberFlag('repeats', 2);
const PROMPTS = numberFlag('prompts', QUICK ? 2 : 4);
const CONTEXTS = listFlag('contexts', [128, 2048]);
const KS = listFlag('ks', QUICK ? [1, 4, 8] : [1, 2, 4, 6, 8]);
const HEADLINE_TARGET = 'mamba2-50';
const HEADLINE_CONTEXT = Math.max(...CONTEXTS);
const MAX_POSITIONS = Math.max(...CONTEXTS) + NEW_TOKENS + Math.max(...KS) + 2;

const ALL_TARGETS = [
  { name: 'teacher', label: 'teacher (Llama, 8 layers)', dir: 'models/sotu-tiny' },
  { name: 'mamba2-50', label: 'Mamba-2 50% attention', dir: 'models/sotu-tiny-mamba2-50' },
  { name: 'mamba1-50', label: 'Mamba-1 50% attention', dir: 'models/sotu-tiny-mamba1-50' },
] as const;
// lookup: prompt lookup first (--lookup-ngram), the draft model when it finds nothing (fallbackDrafter).
// --draft-dirs llama=<dir>,mamba=<dir>,mamba2=<dir>: other draft folders (e.g. a candidate before it replaces the committed one).
const DRAFT_DIRS = { llama: 'models/sotu-tiny-draft', mamba: 'models/sotu-tiny-draft-mamba', mamba2: 'models/sotu-tiny-mamba2-50-draft', ...dirFlag('draft-dirs') };
const ALL_DRAFTS = [
  { name: 'llama-draft', label: 'tiny Llama draft', dir: DRAFT_DIRS.llama, lookup: false },
  { name: 'mamba-draft', label: 'pure-Mamba draft', dir: DRAFT_DIRS.mamba, lookup: false },
  { name: 'mamba2-draft', label: "pure-Mamba draft of the Mamba-2 student", dir: DRAFT_DIRS.mamba2, lookup: false },
  { name: 'ngram', label: 'n-gram (prompt lookup)', dir: null, lookup: false },
  { name: 'lookup+llama-draft', label: 'lookup, else tiny Llama draft (adaptive K)', dir: DRAFT_DIRS.llama, lookup: true },
  { name: 'lookup+mamba-draft', label: 'lookup, else pure-Mamba draft (adaptive K)', dir: DRAFT_DIRS.mamba, lookup: true },
] as const;

function dirFlag(name: string): Partial<Record<'llama' | 'mamba' | 'mamba2', string>> {
  const v = flag(name);
  if (v === undefined) return {};
  const pairs = String(v).split(',').map((p) => p.split('='));
  if (v === true || pairs.some(([k, d]) => !['llama', 'mamba', 'mamba2'].includes(k) || !d)) throw new Error(`--${name} expects llama=<dir>,mamba=<dir>,mamba2=<dir>, got ${String(v)}`);
  return Object.fromEntries(pairs);
}

// --targets / --drafts name subsets (the headline needs mamba2-50); by default the three drafts of the grid.
const TARGETS = pick('targets', ALL_TARGETS, ALL_TARGETS.map((t) => t.name));
const DRAFTS = pick('drafts', ALL_DRAFTS, ALL_DRAFTS.map((d) => d.name));
const log = (s = '') => process.stdout.write(s + '\n');

function pick<T extends { name: string }>(name: string, all: readonly T[], fallback: string[]): readonly T[] {
  const v = flag(name);
  const names = v === undefined ? fallback : String(v).split(',');
  const bad = names.filter((n) => !all.some((x) => x.name === n));
  if (v === true || bad.length > 0) throw new Error(`--${name} expects names from ${all.map((x) => x.name).join(',')}, got ${String(v)}`);
  return all.filter((x) => names.includes(x.name));
}

function listFlag(name: string, fallback: number[]): number[] {
  const v = flag(name);
  if (v === undefined) return fallback;
  const xs = String(v).split(',').map(Number);
  if (v === true || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`--${name} expects positive integers like ${fallback.join(',')}, got ${String(v)}`);
  return xs;
}


/** A teacher or hybrid folder as a session compiled for MAX_POSITIONS. */
async function openSession(dir: string, threads = THREADS): Promise<{ session: LlamaSession | HybridSession; model: DraftModel; params: number }> {
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`bench:spec: ${dir} is missing (see the header of benchmarks/spec.ts for how it is made)`);
  const opts = { ep: EP, threads, maxPositions: MAX_POSITIONS, spinning: false };
  const count = (w: Map<string, Float32Array>) => [...w.values()].reduce((s, x) => s + x.length, 0);
  if (existsSync(join(dir, 'mamba_config.json'))) {
    const h = await loadHybrid(dir);
    const session = await HybridSession.create(h.teacher, h.hybrid, h.weights, opts);
    return { session, model: specModel(session), params: count(h.weights) };
  }
  const m = await loadLlama(dir);
  const session = await LlamaSession.create(m.config, m.weights, opts);
  return { session, model: specModel(session), params: count(m.weights) };
}

/** The first `n` tokens of held-out SOTU (2001–) as teacher tokens. */
function heldOutTokens(encode: (text: string) => number[], n: number): number[] {
  const ids: number[] = [];
  for (const speech of loadSotu({ fromYear: 2001 })) {
    ids.push(...encode(speech.text));
    if (ids.length >= n) return ids.slice(0, n);
  }
  throw new Error(`bench:spec: held-out SOTU text gave ${ids.length} tokens, need ${n} (fewer --prompts?)`);
}

interface Row {
  target: string;
  context: number;
  draft: string;
  k: number;
  summary: DecodeSummary;
  speedup: number;
  /** Plain decoding of the same target, measured right before. */
  plainTps: number;
  /** Milliseconds to sync the draft model to one prompt (mean over the prompts). */
  draftPrefillMs: number;
}

async function main(): Promise<void> {
  const rss = startRssSampler();
  const t0 = performance.now();
  const teacher = await loadLlama(ALL_TARGETS[0].dir);
  if (!teacher.tokenizer) throw new Error(`bench:spec: ${ALL_TARGETS[0].dir} has no tokenizer`);
  const tok = teacher.tokenizer;
  const encode = (t: string) => tok.encode(t, { addSpecialTokens: false });
  // Prompts: BOS + held-out text, each starting at its own multiple of 4096 tokens, so that no two overlap.
  const heldOut = heldOutTokens(encode, 4096 * CONTEXTS.length * PROMPTS);
  const promptAt = (start: number, c: number) => [tok.bosId ?? 1, ...heldOut.slice(start, start + c - 1)];
  const prompts = new Map(CONTEXTS.map((c, i) => [c, Array.from({ length: PROMPTS }, (_, j) => promptAt(4096 * (j * CONTEXTS.length + i), c))]));
  // one session per draft folder (a lookup-first entry shares its model's)
  const sessions = new Map<string, { session: LlamaSession | HybridSession; model: DraftModel; params: number }>();
  for (const d of DRAFTS) if (d.dir && !sessions.has(d.dir)) sessions.set(d.dir, await openSession(d.dir, DRAFT_THREADS));
  const drafts = new Map(DRAFTS.map((d) => [d.name, d.dir ? sessions.get(d.dir)! : { session: null, model: null, params: 0 }]));
  const setupMs = performance.now() - t0;

  const rows: Row[] = [];
  const plainTps = new Map<string, number>();
  const models: Record<string, unknown> = {};
  for (const d of DRAFTS) models[d.name] = { dir: d.dir, parameters: drafts.get(d.name)!.params };
  const tMeasure = performance.now();
  for (const t of TARGETS) {
    const { session: targetSession, model: target, params } = await openSession(t.dir);
    models[t.name] = { dir: t.dir, parameters: params };
    for (const ctx of CONTEXTS) {
      const opts = { maxNewTokens: NEW_TOKENS, maxLength: MAX_POSITIONS };
      const plain = async () => {
        const runs = [];
        for (const prompt of prompts.get(ctx)!) {
          target.reset();
          runs.push(await decodeAll(plainDecode(target, prompt, opts)));
        }
        return { tokens: runs.map((r) => r.tokens), summary: mergeSummaries(runs.map((r) => r.summary)) };
      };
      const specRows: Row[] = [];
      const plains: number[] = [];
      for (const d of DRAFTS) {
        for (const k of d.lookup ? LOOKUP_KS : KS) {
          // Paired and repeated: plain decoding right before each speculative run of the first repeat (the plain
          // output is the reference every run is checked against); on the shared machine load only slows runs down,
          // so each side keeps its fastest run (plain: the fastest over every pair of this target and context, which
          // only makes the speedup more conservative).
          let best: { summary: DecodeSummary; draftPrefillMs: number } | null = null;
          let p: Awaited<ReturnType<typeof plain>> | null = null;
          for (let rep = 0; rep < REPEATS; rep++) {
            if (rep === 0) {
              p = await plain();
              plains.push(p.summary.tokensPerSecond);
            }
            const summaries: DecodeSummary[] = [];
            let draftPrefillMs = 0;
            const ds = drafts.get(d.name)!.model;
            const minConfidence = d.lookup ? LOOKUP_CONFIDENCE : MIN_CONFIDENCE;
            for (const [i, prompt] of prompts.get(ctx)!.entries()) {
              ds?.reset();
              const model = ds ? modelDrafter(ds, { maxLength: MAX_POSITIONS, minConfidence }) : null;
              // The draft's prompt feed is a prefill, like the target's (excluded from decode time on both sides):
              // sync the draft model to the prompt before the timed run; round 0 then drafts from there.
              const tSync = performance.now();
              await model?.propose(prompt, 1, { sampling: {}, rng: createRng(0) });
              draftPrefillMs += performance.now() - tSync;
              const drafter: Drafter = !model
                ? ngramDrafter({ maxNgram: NGRAM_MAX, minNgram: NGRAM_MIN })
                : d.lookup
                  ? fallbackDrafter(ngramDrafter({ maxNgram: LOOKUP_MAX, minNgram: LOOKUP_MIN }), model)
                  : model;
              target.reset();
              const done = await decodeAll(speculativeDecode(target, drafter, prompt, { ...opts, k }));
              const ref = p!.tokens[i];
              if (done.tokens.length !== ref.length || done.tokens.some((x, j) => x !== ref[j]))
                throw new Error(`bench:spec: ${t.name} × ${d.name} K=${k} at context ${ctx}, prompt ${i}: greedy speculative output differs from plain decoding\n  plain ${ref.join(',')}\n  spec  ${done.tokens.join(',')}`);
              summaries.push(done.summary);
            }
            const summary = mergeSummaries(summaries);
            if (!best || summary.tokensPerSecond > best.summary.tokensPerSecond) best = { summary, draftPrefillMs: draftPrefillMs / PROMPTS };
          }
          specRows.push({ target: t.name, context: ctx, draft: d.name, k, summary: best!.summary, speedup: 0, plainTps: 0, draftPrefillMs: best!.draftPrefillMs });
        }
      }
      const fastestPlain = Math.max(...plains);
      plainTps.set(`${t.name}@${ctx}`, fastestPlain);
      for (const r of specRows) {
        r.plainTps = fastestPlain;
        r.speedup = r.summary.tokensPerSecond / fastestPlain;
        log(`  ${t.name} ctx ${ctx} ${r.draft} K=${r.k}: ${fmt(r.summary.tokensPerSecond)} tok/s: ${fmt(r.speedup)}×, acceptance ${fmt(r.summary.acceptanceRate)}, ${fmt(r.summary.tokensPerRound)} tokens/round`);
      }
      log(`${t.label}, context ${ctx}: plain fastest ${fmt(fastestPlain)} tok/s (runs ${fmt(Math.min(...plains))}–${fmt(fastestPlain)})`);
      rows.push(...specRows);
    }
    await targetSession.release();
  }
  const measureMs = performance.now() - tMeasure;
  for (const d of sessions.values()) await d.session.release();
  const { peakBytes } = rss.stop();

  log('');
  log(`speculative vs plain greedy decoding, ${NEW_TOKENS} new tokens from each of ${PROMPTS} prompts per context, ${EP} ${THREADS} threads (speedup = tokens/s ratio)`);
  const table: Cell[][] = rows.map((r) => [
    r.target, r.context, r.draft, r.k, fmt(r.summary.drafted / r.summary.rounds), fmt(r.summary.acceptanceRate), fmt(r.summary.tokensPerRound), fmt(r.summary.tokensPerSecond), fmt(r.plainTps), fmt(r.speedup),
  ]);
  log(formatTable(['target', 'ctx', 'draft', 'K', 'drafted/round', 'acceptance', 'tokens/round', 'tok/s', 'plain tok/s', 'speedup'], table));

  // Best K per (target, context, draft), and where the time goes per round.
  const best = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.target}@${r.context}@${r.draft}`;
    if (!best.has(key) || best.get(key)!.speedup < r.speedup) best.set(key, r);
  }
  log('');
  log('best K per target × context × draft, and the time of an average round (ms): draft, verify, accept; plain = one decode step');
  log(formatTable(
    ['target', 'ctx', 'draft', 'best K', 'speedup', 'draft ms', 'verify ms', 'accept ms', 'plain ms/token', 'draft prefill ms', 'note'],
    [...best.values()].map((r) => {
      const s = r.summary;
      const plainMs = 1000 / r.plainTps;
      return [r.target, r.context, r.draft, r.k, fmt(r.speedup), fmt(s.draftMs / s.rounds), fmt(s.verifyMs / s.rounds), fmt(s.acceptMs / s.rounds), fmt(plainMs), fmt(r.draftPrefillMs), r.speedup < 1.5 ? 'below 1.5' : ''];
    }),
  ));
  const head = rows.filter((r) => r.target === HEADLINE_TARGET && r.context === HEADLINE_CONTEXT).sort((x, y) => y.speedup - x.speedup)[0];
  if (!head) throw new Error(`bench:spec: the headline needs target ${HEADLINE_TARGET} (--targets)`);
  log(`setup ${fmt(setupMs / 1e3)} s, measurement ${fmt(measureMs / 1e3)} s, peak RSS ${fmt(peakBytes / MiB)} MiB`);
  reportResult({
    bench: 'spec',
    metric: 'spec_speedup_hybrid',
    value: sig(head.speedup)!,
    unit: 'ratio',
    spec_speedup_hybrid: sig(head.speedup),
    spec_speedup_hybrid_config: { draft: head.draft, k: head.k, acceptance: sig(head.summary.acceptanceRate), tokens_per_round: sig(head.summary.tokensPerRound) },
    goal: 2.0,
    best: Object.fromEntries([...best.values()].map((r) => [`${r.target}@${r.context}@${r.draft}`, { k: r.k, speedup: sig(r.speedup), acceptance: sig(r.summary.acceptanceRate), tokens_per_round: sig(r.summary.tokensPerRound), draft_ms_per_round: sig(r.summary.draftMs / r.summary.rounds), verify_ms_per_round: sig(r.summary.verifyMs / r.summary.rounds), accept_ms_per_round: sig(r.summary.acceptMs / r.summary.rounds), plain_ms_per_token: sig(1000 / r.plainTps), draft_prefill_ms: sig(r.draftPrefillMs) }])),
    plain_tokens_per_s_mean: Object.fromEntries([...plainTps].map(([k, v]) => [k, sig(v)])),
    rows: rows.map((r) => ({ target: r.target, context: r.context, draft: r.draft, k: r.k, speedup: sig(r.speedup), plain_tokens_per_s: sig(r.plainTps), acceptance: sig(r.summary.acceptanceRate), tokens_per_round: sig(r.summary.tokensPerRound), drafted_per_round: sig(r.summary.drafted / r.summary.rounds), tokens_per_s: sig(r.summary.tokensPerSecond), draft_ms_per_round: sig(r.summary.draftMs / r.summary.rounds), verify_ms_per_round: sig(r.summary.verifyMs / r.summary.rounds), accept_ms_per_round: sig(r.summary.acceptMs / r.summary.rounds) })),
    greedy_identical: 'every speculative run produced the same tokens as plain greedy decoding of its target (the run fails otherwise)',
    models,
    decode: { new_tokens: NEW_TOKENS, prompts_per_context: PROMPTS, repeats: REPEATS, estimator: 'fastest speculative run / fastest plain run of the same target and context', contexts: CONTEXTS, ks: KS, max_positions: MAX_POSITIONS, data: 'held-out SOTU 2001– as teacher tokens', quick: QUICK },
    drafters: { draft_threads: DRAFT_THREADS, min_confidence: MIN_CONFIDENCE, ngram: { max: NGRAM_MAX, min: NGRAM_MIN }, lookup_first: { ngram: { max: LOOKUP_MAX, min: LOOKUP_MIN }, min_confidence: LOOKUP_CONFIDENCE, ks: LOOKUP_KS } },
    ep: EP,
    threads: THREADS,
    ...runFields({ rounds: 1, warmup: 0, setupMs, measureMs, peakBytes }),
  });
}

runBench('spec', main);
