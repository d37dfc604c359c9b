// Benchmark `teacher`: the embedded teacher (models/sotu-tiny) on the CPU through onnxruntime-node, in one run:
// training tokens/s and GFLOP/s as a fraction of the ORT MatMul ceiling measured alongside, prefill tokens/s for a
// 512-token prompt and for 1k / 4k prompts with every position's logits vs the last one's only, and decode tokens/s
// at contexts 128, 1024 and 4096 with a float32 and a float16 KV cache (decode_4k_vs_128: how much a step slows
// down as the context grows; the KV cache is a buffer the graph reads in place).
//
//   npm run bench:teacher [-- --rounds 5] [--warmup 1] [--decode-steps 32] [--threads 2] [--spinning both|on|off]
//
// What is timed, in interleaved rounds (every workload once per round, so the ratios see the same machine load):
//   ceiling  — one fp32 1024³ MatMul (benchmarks/lib/matmul-ceiling.ts) with B fed and with B pre-packed, 2 runs
//              each; the ceiling is the fastest median of any MatMul variant measured.
//   train    — one step of batch 8 × seq 256 next-token cross-entropy on held-out SOTU text: compileTrainStep
//              (buildLlamaTrainGraph + crossEntropy, weights fed by reference) then AdamW.step on the gradients.
//   prefill  — LlamaSession.prefill of a 512-token prompt (fresh cache); and (headline spinning variant only) of
//              1024- and 4096-token prompts three ways: one forward returning every position's logits (what prefill
//              did before), one forward returning the last position's only (forward(ids, { logits: 'last' })), and
//              prefill itself (runs of 512 tokens, last logits only): prefill_speedup = time before / time now.
//   decode   — at context c ∈ {128, 1024, 4096}: the cache is rolled back to c tokens (truncate, untimed), then
//              --decode-steps LlamaSession.decode calls are timed together (contexts c … c+steps−1; the session
//              compiles RoPE tables for 1024 + steps positions so the last steps may run past the trained 1024);
//              once with the float32 KV cache (exact, the default) and once with kvDtype 'float16'.
// With --spinning both (default) every workload exists twice, ORT intra-op spinning on and off, stepped
// alternately; the headline uses spinning off (the Runner option helped on the busy 2-core dev machine).
//
// FLOPs of a training step are counted analytically: 2·M·N·K for every matmul of the forward pass — per layer
// q/k/v/o projections (GQA: k/v have kv_heads·head_dim outputs), the dense causal scores Q·Kᵀ and probs·V
// (batch·heads of T×T×hd: the graph computes the full T×T product), gate/up/down; plus the tied LM head — times 3
// for forward + backward (each matmul has two gradient matmuls of its size). Embedding gather / scatter, norms,
// RoPE, softmax, the loss and AdamW are not counted.
import type { LlamaConfig } from '@mil/checkpoint';
import { Runner } from '@mil/graph';
import { LlamaSession, buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { compileTrainStep, crossEntropy, type TokenBatch, AdamW } from '@mil/distill';
import { MiB, createMatmulProbe, flag, fmt, formatTable, median, numberFlag, reportResult, startRssSampler, timeOnce, timeOnceWithCpu, type Cell, type MatmulProbe, forwardFlops, gflops, matmulFlops, type MatmulCount, runFields, runBench, sig, sigMap } from './lib';
import { loadSotu } from '@mil/corpora';

// ---------------------------------------------------------------- configuration

const MODEL_DIR = 'models/sotu-tiny';
const TRAIN = { batch: 8, seq: 256 };
// The teacher's own recipe (models/sotu-tiny/README.md) at a small lr: the numbers are about speed.
const ADAMW = { lr: 1e-4, betas: [0.9, 0.95] as const, eps: 1e-8, weightDecay: 0.1 };
const PREFILL_LEN = 512;
/** Long prompts run with all-position logits vs the last position's only. */
const LONG_PREFILLS = [1024, 4096] as const;
const DECODE_CONTEXTS = [128, 1024, 4096] as const;
const KV_DTYPES = ['float32', 'float16'] as const;
type KvDtype = (typeof KV_DTYPES)[number];
const CEILING_N = 1024;

const ROUNDS = numberFlag('rounds', 7);
const WARMUP = numberFlag('warmup', 1);
const DECODE_STEPS = numberFlag('decode-steps', 32);
const THREADS = numberFlag('threads', 2);
const SPINNING_FLAG = String(flag('spinning') ?? 'both');
if (!['both', 'on', 'off'].includes(SPINNING_FLAG)) throw new Error(`--spinning expects both, on or off, got ${SPINNING_FLAG}`);
const SPINNING: boolean[] = SPINNING_FLAG === 'both' ? [false, true] : [SPINNING_FLAG === 'on'];
/** The variant the headline numbers come from. */
const HEADLINE_SPINNING = !SPINNING.includes(false);

const log = (s = '') => process.stdout.write(s + '\n');
const spinName = (s: boolean) => `spinning ${s ? 'on' : 'off'}`;

// ---------------------------------------------------------------- FLOP count

function trainMatmuls(cfg: LlamaConfig): MatmulCount[] {
  const { batch: B, seq: T } = TRAIN;
  const N = B * T;
  const d = cfg.hiddenSize;
  const hd = cfg.headDim;
  const L = cfg.numHiddenLayers;
  return [
    { what: 'q projection', m: N, n: cfg.numAttentionHeads * hd, k: d, batch: L },
    { what: 'k,v projections', m: N, n: 2 * cfg.numKeyValueHeads * hd, k: d, batch: L },
    { what: 'scores Q·Kᵀ', m: T, n: T, k: hd, batch: L * B * cfg.numAttentionHeads },
    { what: 'probs·V', m: T, n: hd, k: T, batch: L * B * cfg.numAttentionHeads },
    { what: 'o projection', m: N, n: d, k: cfg.numAttentionHeads * hd, batch: L },
    { what: 'gate,up projections', m: N, n: 2 * cfg.intermediateSize, k: d, batch: L },
    { what: 'down projection', m: N, n: d, k: cfg.intermediateSize, batch: L },
    { what: 'LM head', m: N, n: cfg.vocabSize, k: d, batch: 1 },
  ];
}

// ---------------------------------------------------------------- workloads

/**
 * compileTrainStep and LlamaSession do not take Runner's `spinning` option: create them while Runner.create
 * adds it (the bench creates one session at a time, so nothing else sees the override).
 */
async function withSpinning<T>(spinning: boolean, create: () => Promise<T>): Promise<T> {
  const original = Runner.create;
  Runner.create = (model, opts = {}) => original.call(Runner, model, { ...opts, spinning });
  try {
    return await create();
  } finally {
    Runner.create = original;
  }
}

interface Samples {
  mmFed: number[];
  mmPacked: number[];
  train: number[];
  trainRun: number[];
  adamw: number[];
  prefill: number[];
  /** Per long prompt length: ms of one forward with all logits / with the last row's only / of prefill (chunked). */
  prefillAll: Map<number, number[]>;
  prefillLast: Map<number, number[]>;
  prefillChunked: Map<number, number[]>;
  /** Per KV dtype, per context: ms of --decode-steps decode calls, and the CPU ms (all threads) they took. */
  decode: Record<KvDtype, Map<number, number[]>>;
  decodeCpu: Record<KvDtype, Map<number, number[]>>;
}

interface Variant {
  spinning: boolean;
  mmFed: MatmulProbe;
  mmPacked: MatmulProbe;
  trainStep: () => Promise<number>;
  lastSplit: () => { runMs: number; adamwMs: number };
  /** Milliseconds of the last train step (warm-ups included). */
  lastTrainMs: number;
  losses: number[];
  prefill: LlamaSession;
  /** Sessions for the long prompts (RoPE tables for the longest one). */
  longPrefill: LlamaSession;
  decoders: Record<KvDtype, Map<number, LlamaSession>>;
  samples: Samples;
  release(): Promise<void>;
}

/** Held-out SOTU text (2001–2021, not seen in training) as teacher tokens, at least `n` of them. */
function heldOutTokens(encode: (text: string) => number[], n: number): number[] {
  const ids: number[] = [];
  for (const speech of loadSotu({ fromYear: 2001 })) {
    ids.push(...encode(speech.text));
    if (ids.length >= n) return ids;
  }
  throw new Error(`bench:teacher: held-out SOTU text gave ${ids.length} tokens, need ${n}`);
}

/** Batch 8 × 256 of consecutive windows: inputs tokens[i..i+255], targets shifted by one. */
function trainBatch(tokens: number[]): TokenBatch {
  const { batch, seq } = TRAIN;
  const inputIds = new BigInt64Array(batch * seq);
  const targets = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++) {
      inputIds[b * seq + t] = BigInt(tokens[b * (seq + 1) + t]);
      targets[b * seq + t] = BigInt(tokens[b * (seq + 1) + t + 1]);
    }
  return { inputIds, targets, batch, seq };
}

async function createVariant(
  spinning: boolean,
  teacher: Awaited<ReturnType<typeof loadLlama>>,
  batch: TokenBatch,
  prompt: number[],
): Promise<Variant> {
  const { config } = teacher;
  const mmFed = await createMatmulProbe({ n: CEILING_N, threads: THREADS, prepacked: false, spinning });
  const mmPacked = await createMatmulProbe({ n: CEILING_N, threads: THREADS, prepacked: true, spinning });
  const step = await withSpinning(spinning, () =>
    compileTrainStep(
      {
        build: (g, { targets }) => {
          const m = buildLlamaTrainGraph(g, config, { maxPositions: TRAIN.seq });
          return { loss: crossEntropy(m.logits, targets), params: m.params };
        },
      },
      { ep: 'cpu', threads: THREADS },
    ),
  );
  // The trainer's own copy: AdamW updates it in place, the inference sessions keep the teacher's weights.
  const weights = new Map([...teacher.weights].map(([n, w]) => [n, w.slice()]));
  const opt = new AdamW(
    step.trainable.map((name) => ({ name, data: weights.get(name)!, shape: step.shapes.get(name)! })),
    { lr: ADAMW.lr, betas: ADAMW.betas, eps: ADAMW.eps, weightDecay: ADAMW.weightDecay },
  );
  const losses: number[] = [];
  let adamwMs = 0;
  const session = (maxPositions?: number, kvDtype: KvDtype = 'float32') =>
    withSpinning(spinning, () => LlamaSession.create(config, teacher.weights, { ep: 'cpu', threads: THREADS, maxPositions, kvDtype }));
  const prefill = await session();
  const longPrefill = await session(Math.max(...LONG_PREFILLS));
  const decoders = { float32: new Map<number, LlamaSession>(), float16: new Map<number, LlamaSession>() };
  const maxCtx = Math.max(...DECODE_CONTEXTS);
  for (const kv of KV_DTYPES) {
    for (const c of DECODE_CONTEXTS) {
      const s = await session(c + DECODE_STEPS > 1024 ? maxCtx + DECODE_STEPS : undefined, kv);
      await s.prefill(prompt.slice(0, c));
      decoders[kv].set(c, s);
    }
  }
  return {
    spinning,
    lastTrainMs: NaN,
    mmFed,
    mmPacked,
    losses,
    prefill,
    longPrefill,
    decoders,
    async trainStep() {
      const { loss, grads } = await step.lossAndGrads(weights, batch);
      const t0 = performance.now();
      opt.step(grads);
      adamwMs = performance.now() - t0;
      losses.push(loss);
      return loss;
    },
    lastSplit: () => ({ runMs: step.lastRunMs(), adamwMs }),
    samples: {
      mmFed: [], mmPacked: [], train: [], trainRun: [], adamw: [], prefill: [],
      prefillAll: new Map(LONG_PREFILLS.map((n) => [n, []])),
      prefillLast: new Map(LONG_PREFILLS.map((n) => [n, []])),
      prefillChunked: new Map(LONG_PREFILLS.map((n) => [n, []])),
      decode: { float32: new Map(DECODE_CONTEXTS.map((c) => [c, []])), float16: new Map(DECODE_CONTEXTS.map((c) => [c, []])) },
      decodeCpu: { float32: new Map(DECODE_CONTEXTS.map((c) => [c, []])), float16: new Map(DECODE_CONTEXTS.map((c) => [c, []])) },
    },
    async release() {
      const sessions = [prefill, longPrefill, ...KV_DTYPES.flatMap((kv) => [...decoders[kv].values()])];
      await Promise.all([mmFed.release(), mmPacked.release(), step.release(), ...sessions.map((s) => s.release())]);
    },
  };
}

/** Tokens/s and ms per token per context, and the 4k / 128 ratio from medians and from the fastest samples. */
function decodeSummary(samples: Map<number, number[]>, cpu: Map<number, number[]>) {
  const at = (c: number) => samples.get(c)!;
  return {
    // CPU time (all threads) of the least-CPU sample: moves far less with other load than wall time.
    growth_from_cpu_time: Math.min(...cpu.get(128)!) / Math.min(...cpu.get(4096)!),
    ms_per_token: Object.fromEntries([...samples].map(([c, xs]) => [`ctx_${c}`, median(xs) / DECODE_STEPS])),
    tokens_per_s: Object.fromEntries([...samples].map(([c, xs]) => [`ctx_${c}`, (DECODE_STEPS / median(xs)) * 1e3])),
    growth: median(at(128)) / median(at(4096)),
    growth_from_min_times: Math.min(...at(128)) / Math.min(...at(4096)),
  };
}

/** Mean next-token NLL (nats) of `ids` under a full-sequence forward of `session` (fresh cache). */
async function promptNll(session: LlamaSession, ids: number[], vocab: number): Promise<number> {
  session.reset();
  const logits = await session.forward(ids);
  let nll = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    nll += max + Math.log(sum) - row[ids[t + 1]];
  }
  return nll / (ids.length - 1);
}

/** One round of one variant: every workload once (MatMuls twice each). `record` false = warm-up. */
async function round(v: Variant, prompt: number[], record: boolean): Promise<void> {
  const s = v.samples;
  const push = (xs: number[], ms: number) => record && xs.push(ms);
  for (let i = 0; i < 2; i++) push(s.mmFed, await timeOnce(() => v.mmFed.run()));
  for (let i = 0; i < 2; i++) push(s.mmPacked, await timeOnce(() => v.mmPacked.run()));
  v.lastTrainMs = await timeOnce(() => v.trainStep());
  push(s.train, v.lastTrainMs);
  push(s.trainRun, v.lastSplit().runMs);
  push(s.adamw, v.lastSplit().adamwMs);
  const promptIds = prompt.slice(0, PREFILL_LEN);
  push(s.prefill, await timeOnce(() => v.prefill.prefill(promptIds)));
  for (const n of v.spinning === HEADLINE_SPINNING ? LONG_PREFILLS : []) {
    const ids = prompt.slice(0, n);
    const ways = [
      [s.prefillAll, () => v.longPrefill.forward(ids)],
      [s.prefillLast, () => v.longPrefill.forward(ids, { logits: 'last' })],
      [s.prefillChunked, () => v.longPrefill.prefill(ids)],
    ] as const;
    // Rotate which goes first, so none always meets the warmest cache.
    for (let i = 0; i < ways.length; i++) {
      const [samples, run] = ways[(i + s.prefill.length) % ways.length];
      v.longPrefill.reset();
      push(samples.get(n)!, await timeOnce(run));
    }
  }
  for (const kv of KV_DTYPES) {
    for (const [c, session] of v.decoders[kv]) {
      session.truncate(c);
      const next = prompt.slice(c, c + DECODE_STEPS);
      const { ms, cpuMs } = await timeOnceWithCpu(async () => {
        for (const id of next) await session.decode(id);
      });
      push(s.decode[kv].get(c)!, ms);
      push(s.decodeCpu[kv].get(c)!, cpuMs);
    }
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const rss = startRssSampler();
  const tLoad = performance.now();
  const teacher = await loadLlama(MODEL_DIR);
  if (!teacher.tokenizer) throw new Error(`bench:teacher: ${MODEL_DIR} has no tokenizer`);
  const cfg = teacher.config;
  const tokenizer = teacher.tokenizer;
  const maxCtx = Math.max(...DECODE_CONTEXTS);
  const need = Math.max(TRAIN.batch * (TRAIN.seq + 1), maxCtx + DECODE_STEPS, PREFILL_LEN);
  const tokens = heldOutTokens((t) => tokenizer.encode(t, { addSpecialTokens: false }), need);
  const batch = trainBatch(tokens);
  const prompt = tokens.slice(0, maxCtx + DECODE_STEPS);
  const paramCount = [...teacher.weights.values()].reduce((s, w) => s + w.length, 0);
  const matmuls = trainMatmuls(cfg);
  const fwdFlops = forwardFlops(matmuls);
  const stepFlops = 3 * fwdFlops;
  const stepTokens = TRAIN.batch * TRAIN.seq;
  log(
    `bench:teacher — ${MODEL_DIR}: ${cfg.numHiddenLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numAttentionHeads}/${cfg.numKeyValueHeads} heads, ` +
      `ffn ${cfg.intermediateSize}, vocab ${cfg.vocabSize}, ${paramCount} parameters; ORT cpu, ${THREADS} threads`,
  );
  log(`train step: batch ${TRAIN.batch} × seq ${TRAIN.seq} = ${stepTokens} tokens, ${fmt(stepFlops / 1e9, 4)} GFLOP (matmuls ×3)`);

  const variants: Variant[] = [];
  for (const spinning of SPINNING) variants.push(await createVariant(spinning, teacher, batch, prompt));
  const setupMs = performance.now() - tLoad;
  rss.sample();

  // Guard: the loaded teacher predicts held-out text well in both graphs (train loss ≈ eval log-perplexity).
  const nllPrompt = await promptNll(variants[0].prefill, prompt.slice(0, PREFILL_LEN), cfg.vocabSize);

  // Rounds alternate the variant order so neither always runs first.
  const t0 = performance.now();
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const order = r % 2 ? [...variants].reverse() : variants;
    for (const v of order) await round(v, prompt, r >= WARMUP);
    rss.sample();
    log(`round ${r + 1}/${WARMUP + ROUNDS}${r < WARMUP ? ' (warm-up)' : ''}: ` + variants.map((v) => `${spinName(v.spinning)} train ${fmt(v.lastTrainMs)} ms`).join(', '));
  }
  const measureMs = performance.now() - t0;
  const { peakBytes } = rss.stop();

  const ceilingGflops = Math.max(...variants.flatMap((v) => [gflops(2 * CEILING_N ** 3, median(v.samples.mmFed)), gflops(2 * CEILING_N ** 3, median(v.samples.mmPacked))]));
  const ceilingFromMin = Math.max(...variants.flatMap((v) => [...v.samples.mmFed, ...v.samples.mmPacked].map((ms) => gflops(2 * CEILING_N ** 3, ms))));
  const summary = variants.map((v) => {
    const s = v.samples;
    const trainMs = median(s.train);
    return {
      spinning: v.spinning,
      matmul_fed_gflops: gflops(2 * CEILING_N ** 3, median(s.mmFed)),
      matmul_prepacked_gflops: gflops(2 * CEILING_N ** 3, median(s.mmPacked)),
      train_ms_per_step: trainMs,
      train_ms_min: Math.min(...s.train),
      train_ms_split: { ort_run: median(s.trainRun), adamw: median(s.adamw) },
      train_tokens_per_s: (stepTokens / trainMs) * 1e3,
      train_gflops: gflops(stepFlops, trainMs),
      train_fraction_of_matmul_ceiling: gflops(stepFlops, trainMs) / ceilingGflops,
      // Fastest samples: less sensitive to other processes on a shared machine (both sides nearer to unloaded).
      train_fraction_from_min_times: gflops(stepFlops, Math.min(...s.train)) / ceilingFromMin,
      prefill_ms: median(s.prefill),
      prefill_tokens_per_s: (PREFILL_LEN / median(s.prefill)) * 1e3,
      // Long prompts (headline variant only): tokens/s of the three ways, and before / now time ratios.
      prefill_long_tokens_per_s: s.prefillAll.get(LONG_PREFILLS[0])!.length === 0 ? null : Object.fromEntries(LONG_PREFILLS.map((n) => [`len_${n}`, {
        one_run_all_logits: (n / median(s.prefillAll.get(n)!)) * 1e3,
        one_run_last_logits: (n / median(s.prefillLast.get(n)!)) * 1e3,
        prefill_chunked: (n / median(s.prefillChunked.get(n)!)) * 1e3,
      }])),
      decode: Object.fromEntries(KV_DTYPES.map((kv) => [kv, decodeSummary(s.decode[kv], s.decodeCpu[kv])])) as Record<KvDtype, ReturnType<typeof decodeSummary>>,
      samples: s,
      losses: v.losses,
    };
  });
  const head = summary.find((s) => s.spinning === HEADLINE_SPINNING)!;

  log();
  const rows: Cell[][] = [];
  for (const s of summary) {
    const tag = `[${spinName(s.spinning)}]`;
    rows.push([`ORT MatMul ${CEILING_N}³ fp32, B fed ${tag}`, (2 * CEILING_N ** 3) / s.matmul_fed_gflops / 1e6, null, s.matmul_fed_gflops, s.matmul_fed_gflops / ceilingGflops]);
    rows.push([`ORT MatMul ${CEILING_N}³ fp32, B pre-packed ${tag}`, (2 * CEILING_N ** 3) / s.matmul_prepacked_gflops / 1e6, null, s.matmul_prepacked_gflops, s.matmul_prepacked_gflops / ceilingGflops]);
    rows.push([`train step ${TRAIN.batch}×${TRAIN.seq} fwd+bwd+AdamW ${tag}`, s.train_ms_per_step, s.train_tokens_per_s, s.train_gflops, s.train_fraction_of_matmul_ceiling]);
    rows.push([`prefill ${PREFILL_LEN} tokens ${tag}`, s.prefill_ms, s.prefill_tokens_per_s, null, null]);
    for (const n of s.prefill_long_tokens_per_s ? LONG_PREFILLS : []) {
      const t = s.prefill_long_tokens_per_s![`len_${n}`];
      rows.push([`prefill ${n} tokens: one run, every position's logits (before) ${tag}`, (n / t.one_run_all_logits) * 1e3, t.one_run_all_logits, null, null]);
      rows.push([`prefill ${n} tokens: one run, last position's logits ${tag}`, (n / t.one_run_last_logits) * 1e3, t.one_run_last_logits, null, null]);
      rows.push([`prefill ${n} tokens: prefill() (512-token runs, last logits) ${tag}`, (n / t.prefill_chunked) * 1e3, t.prefill_chunked, null, null]);
    }
    for (const kv of KV_DTYPES)
      for (const c of DECODE_CONTEXTS)
        rows.push([`decode at context ${c} (${DECODE_STEPS} steps), KV ${kv} ${tag}`, s.decode[kv].ms_per_token[`ctx_${c}`] * DECODE_STEPS, s.decode[kv].tokens_per_s[`ctx_${c}`], null, null]);
  }
  log(formatTable(['what (medians)', 'ms', 'tokens/s', 'GFLOP/s', 'vs ceiling'], rows));
  log();
  for (const s of summary)
    log(`[${spinName(s.spinning)}] train step split (medians): ORT session run ${fmt(s.train_ms_split.ort_run)} ms, AdamW ${fmt(s.train_ms_split.adamw)} ms; losses ${s.losses.map((l) => fmt(l, 4)).join(', ')}`);
  for (const kv of KV_DTYPES)
    log(`decode tokens/s at 4096 / at 128, KV ${kv}: ${summary.map((s) => `[${spinName(s.spinning)}] ${fmt(s.decode[kv].growth, 3)} (fastest samples: ${fmt(s.decode[kv].growth_from_min_times, 3)}; CPU time: ${fmt(s.decode[kv].growth_from_cpu_time, 3)})`).join(', ')}`);
  const prefillRatio = (samples: Map<number, number[]>, n: number) => median(head.samples.prefillAll.get(n)!) / median(samples.get(n)!);
  const prefillSpeedup = Object.fromEntries(LONG_PREFILLS.map((n) => [`len_${n}`, {
    last_logits_only: prefillRatio(head.samples.prefillLast, n),
    prefill_chunked: prefillRatio(head.samples.prefillChunked, n),
  }]));
  log(`prefill, time of one run with every position's logits / time now: ${LONG_PREFILLS.map((n) => `${n} tokens: last logits only ${fmt(prefillSpeedup[`len_${n}`].last_logits_only, 3)}×, prefill() ${fmt(prefillSpeedup[`len_${n}`].prefill_chunked, 3)}×`).join('; ')}`);
  log(`teacher NLL of the 512-token held-out prompt (inference graph): ${fmt(nllPrompt, 4)} nats; first train-step loss (train graph): ${fmt(head.losses[0], 4)} nats`);
  log(`setup ${fmt(setupMs / 1e3)} s, measurement ${fmt(measureMs / 1e3)} s, peak RSS ${fmt(peakBytes / MiB)} MiB`);
  log(`ceiling = fastest MatMul median of any variant, ${fmt(ceilingGflops)} GFLOP/s; headline from [${spinName(HEADLINE_SPINNING)}]`);
  log(`from the fastest samples instead: ceiling ${fmt(ceilingFromMin)} GFLOP/s, train ${summary.map((s) => `[${spinName(s.spinning)}] ${fmt(s.train_fraction_from_min_times)}`).join(', ')} of it`);

  for (const v of variants) await v.release();

  reportResult({
    bench: 'teacher',
    metric: 'train_fraction_of_matmul_ceiling',
    value: sig(head.train_fraction_of_matmul_ceiling)!,
    unit: 'ratio',
    goal: { train_fraction_of_matmul_ceiling: 0.3 },
    train_fraction_of_matmul_ceiling: sig(head.train_fraction_of_matmul_ceiling),
    train_fraction_from_min_times: sig(head.train_fraction_from_min_times),
    train_tokens_per_s: sig(head.train_tokens_per_s),
    train_gflops: sig(head.train_gflops),
    train_ms_per_step: sig(head.train_ms_per_step),
    train_ms_split: sigMap(head.train_ms_split),
    prefill_tokens_per_s: sig(head.prefill_tokens_per_s),
    // Float32 KV cache (the default, exact); `kv_float16` has the same fields for kvDtype 'float16'.
    decode_tokens_per_s: sigMap(head.decode.float32.tokens_per_s),
    decode_4k_vs_128: sig(head.decode.float32.growth),
    // The same from the fastest samples of each side (nearer to an unloaded machine).
    decode_4k_vs_128_from_min_times: sig(head.decode.float32.growth_from_min_times),
    decode_4k_vs_128_from_cpu_time: sig(head.decode.float32.growth_from_cpu_time),
    kv_float16: {
      decode_4k_vs_128_from_cpu_time: sig(head.decode.float16.growth_from_cpu_time),
      decode_tokens_per_s: sigMap(head.decode.float16.tokens_per_s),
      decode_4k_vs_128: sig(head.decode.float16.growth),
      decode_4k_vs_128_from_min_times: sig(head.decode.float16.growth_from_min_times),
    },
    prefill_long_tokens_per_s: Object.fromEntries(Object.entries(head.prefill_long_tokens_per_s!).map(([k, v]) => [k, sigMap(v)])),
    prefill_speedup: Object.fromEntries(Object.entries(prefillSpeedup).map(([k, v]) => [k, sigMap(v)])),
    matmul_ceiling_gflops: sig(ceilingGflops),
    matmul_ceiling_shape: `${CEILING_N}x${CEILING_N}x${CEILING_N} fp32, ${THREADS} threads; ceiling = fastest median of B fed / B pre-packed over the spinning variants measured`,
    headline_spinning: HEADLINE_SPINNING,
    variants: summary.map((s) => ({
      spinning: s.spinning,
      matmul_fed_gflops: sig(s.matmul_fed_gflops),
      matmul_prepacked_gflops: sig(s.matmul_prepacked_gflops),
      train_ms_per_step: sig(s.train_ms_per_step),
      train_ms_min: sig(s.train_ms_min),
      train_ms_split: sigMap(s.train_ms_split),
      train_tokens_per_s: sig(s.train_tokens_per_s),
      train_gflops: sig(s.train_gflops),
      train_fraction_of_matmul_ceiling: sig(s.train_fraction_of_matmul_ceiling),
      train_fraction_from_min_times: sig(s.train_fraction_from_min_times),
      prefill_tokens_per_s: sig(s.prefill_tokens_per_s),
      decode: Object.fromEntries(KV_DTYPES.map((kv) => [kv, { tokens_per_s: sigMap(s.decode[kv].tokens_per_s), ms_per_token: sigMap(s.decode[kv].ms_per_token), decode_4k_vs_128: sig(s.decode[kv].growth) }])),
      samples_ms: {
        train: s.samples.train.map((x) => sig(x, 5)),
        prefill: s.samples.prefill.map((x) => sig(x, 5)),
        ...Object.fromEntries(LONG_PREFILLS.flatMap((n) => [
          [`prefill_${n}_one_run_all`, s.samples.prefillAll.get(n)!.map((x) => sig(x, 5))],
          [`prefill_${n}_one_run_last`, s.samples.prefillLast.get(n)!.map((x) => sig(x, 5))],
          [`prefill_${n}_chunked`, s.samples.prefillChunked.get(n)!.map((x) => sig(x, 5))],
        ])),
        ...Object.fromEntries(KV_DTYPES.flatMap((kv) => [...s.samples.decode[kv]].map(([c, xs]) => [`decode_${kv}_ctx_${c}`, xs.map((x) => sig(x, 5))]))),
        matmul_fed: s.samples.mmFed.map((x) => sig(x, 5)),
        matmul_prepacked: s.samples.mmPacked.map((x) => sig(x, 5)),
      },
      losses: s.losses.map((x) => sig(x, 6)),
    })),
    flops_per_step: stepFlops,
    flops_forward: fwdFlops,
    flops_forward_by_matmul: Object.fromEntries(matmuls.map((c) => [`${c.what} (${c.batch > 1 ? `${c.batch} × ` : ''}${c.m}×${c.n}×${c.k})`, matmulFlops(c)])),
    flop_counting:
      '2·M·N·K per forward matmul (q, k/v with GQA widths, o, dense T×T scores and probs·V, gate/up/down, tied LM head), ' +
      '×3 for forward+backward; embedding gather/scatter, norms, RoPE, softmax, loss and AdamW not counted',
    teacher_nll_prompt_512: sig(nllPrompt),
    model: { dir: MODEL_DIR, parameters: paramCount, layers: cfg.numHiddenLayers, hidden: cfg.hiddenSize, heads: cfg.numAttentionHeads, kv_heads: cfg.numKeyValueHeads, ffn: cfg.intermediateSize, vocab: cfg.vocabSize },
    train: { ...TRAIN, tokens_per_step: stepTokens, data: 'held-out SOTU 2001– (one fixed batch of consecutive 257-token windows)', adamw: ADAMW },
    prefill_len: PREFILL_LEN,
    long_prefills: LONG_PREFILLS,
    kv_dtypes: KV_DTYPES,
    decode: { contexts: DECODE_CONTEXTS, steps_per_sample: DECODE_STEPS },
    threads: THREADS,
    ...runFields({ rounds: ROUNDS, warmup: WARMUP, setupMs, measureMs, peakBytes }),
  });
}

runBench('teacher', main);
