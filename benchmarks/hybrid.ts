// Benchmark `hybrid`: the embedded teacher (models/sotu-tiny) against its 50%-attention Mamba-2 and Mamba-1 students
// on the CPU through onnxruntime-node, in one run: decode tokens/s and cache bytes per sequence at contexts 256, 1k,
// 4k and 8k. The students are initialised from the teacher (initStudentFromTeacher, seed 0) and untrained: their
// speed and state sizes do not depend on training.
//
//   npm run bench:hybrid [-- --rounds 9] [--warmup 1] [--decode-steps 16] [--contexts 256,1024,4096,8192]
//                        [--prefill-chunk 512] [--threads 2] [--spinning off|on] [--kv-dtype both|float32|float16]
//
// Every model runs with a float32 KV cache (the default, exact) and, with --kv-dtype both (default), again with
// kvDtype 'float16' (names with `_kv16`): its logits are compared with the float32 twin's on the same tokens
// (kv16_logit_error: max |Δlogit| and whether the argmax agrees, per context; the float32 sessions match the
// oracles to 1e-4 in the tests).
//
// Per context c, ascending:
//   prefill  — each session is extended from the previous context to c with `forward` of --prefill-chunk-token
//              chunks (held-out SOTU text), once per model (an 8k single forward would hold 4 × 8k × 8k scores per
//              layer). Timed, but reported only for information: the chunks see different contexts.
//   cache    — the bytes of the state tensors each session holds at exactly c tokens (`cacheBytes`), checked to
//              equal the analytic count: teacher 2·layers·kv_heads·head_dim·c·4; student the same over its
//              attention layers plus, per Mamba layer, conv (channels·(d_conv−1)) and SSM (d_inner·d_state) floats.
//   decode   — interleaved rounds (every model once per round, the order rotated each round, so the ratios see the
//              same machine load): --decode-steps `decode` calls timed together (contexts c … c+steps−1), then the
//              state goes back to c (LlamaSession.truncate; HybridSession.restore of a snapshot taken at c, as a
//              Mamba state cannot be cut).
//   verify   — in the same rounds, --decode-steps speculative-decoding rounds with K = 4 drafts timed together: each
//              is one `forward` of the pending token + 4 drafts (one ORT run) and a `truncate` that keeps the pending
//              token and a = 0, 1, 2, 3, 4, 0, … of the drafts (the next round replays them). verify_k4_vs_single_step
//              = ms per round / ms per decode step (goal ≤ 1.5 on the hybrid target).
// decode_4k_vs_128 = decode tokens/s at 4k / at 128 (needs 128 among the contexts): how much a step slows down as
// the context grows (the caches are buffers the graph reads in place; a step's outputs do not grow).
// Every session compiles RoPE tables for max(contexts) + steps positions: past the teacher's trained 1024 the
// outputs degrade, which does not change the work done per token.
import { LlamaSession, HybridSession, loadLlama, type HybridSessionState } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';
import type { HybridConfig, HybridVariant, LlamaConfig } from '@mil/checkpoint';
import { MiB, flag, fmt, formatTable, median, numberFlag, reportResult, startRssSampler, timeOnce, timeOnceWithCpu, type Cell, runFields, runBench, sig } from './lib';
import { loadSotu } from '@mil/corpora';

// ---------------------------------------------------------------- configuration

const MODEL_DIR = 'models/sotu-tiny';
const ATTENTION_FRACTION = 0.5;
const STUDENTS: readonly HybridVariant[] = ['mamba2', 'mamba1'];
/** The headline student: the default of `mil distill` and the paper's main variant. */
const HEADLINE: HybridVariant = 'mamba2';
const HEADLINE_CONTEXT = 4096;
const BYTES_PER_FLOAT = 4;

const ROUNDS = numberFlag('rounds', 9);
const WARMUP = numberFlag('warmup', 1);
const DECODE_STEPS = numberFlag('decode-steps', 16);
const PREFILL_CHUNK = numberFlag('prefill-chunk', 512);
const THREADS = numberFlag('threads', 2);
const CONTEXTS = parseContexts(flag('contexts'));
const SPINNING_FLAG = String(flag('spinning') ?? 'off');
if (!['on', 'off'].includes(SPINNING_FLAG)) throw new Error(`--spinning expects on or off, got ${SPINNING_FLAG}`);
/** Off by default: faster on the busy 2-core dev machine (bench:teacher measures both). */
const SPINNING = SPINNING_FLAG === 'on';
const KV_FLAG = String(flag('kv-dtype') ?? 'both');
if (!['both', 'float32', 'float16'].includes(KV_FLAG)) throw new Error(`--kv-dtype expects both, float32 or float16, got ${KV_FLAG}`);
type KvDtype = 'float32' | 'float16';
const KV_DTYPES: KvDtype[] = KV_FLAG === 'both' ? ['float32', 'float16'] : [KV_FLAG as KvDtype];
const MAX_CONTEXT = Math.max(...CONTEXTS);
/** Drafts per verify round. */
const VERIFY_K = 4;
const MAX_POSITIONS = MAX_CONTEXT + DECODE_STEPS * (VERIFY_K + 1) + 1;

const log = (s = '') => process.stdout.write(s + '\n');

function parseContexts(v: string | true | undefined): number[] {
  if (v === undefined) return [128, 1024, 4096, 8192];
  const cs = String(v).split(',').map(Number);
  if (v === true || cs.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--contexts expects positive integers like 256,1024,4096, got ${String(v)}`);
  if (!cs.includes(HEADLINE_CONTEXT)) throw new Error(`--contexts must include ${HEADLINE_CONTEXT} (the headline context), got ${String(v)}`);
  return [...new Set(cs)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- cache bytes, analytically

/** State bytes of one sequence as `perToken · ctx + fixed`. */
interface CacheFormula {
  perToken: number;
  fixed: number;
  how: string;
}

const kvBytes = (kv: KvDtype) => (kv === 'float16' ? 2 : 4);

function teacherCache(cfg: LlamaConfig, kv: KvDtype): CacheFormula {
  return {
    perToken: 2 * cfg.numHiddenLayers * cfg.numKeyValueHeads * cfg.headDim * kvBytes(kv),
    fixed: 0,
    how: `KV: 2 × ${cfg.numHiddenLayers} layers × ${cfg.numKeyValueHeads} kv heads × ${cfg.headDim} × ctx × ${kvBytes(kv)} B`,
  };
}

function studentCache(cfg: LlamaConfig, h: HybridConfig, kv: KvDtype): CacheFormula {
  // Conv state: the last d_conv−1 inputs of every conv channel (Mamba-1: x; Mamba-2: x, B, C); SSM state:
  // d_inner × d_state (Mamba-1 [d_inner, N]; Mamba-2 [heads, head_dim, N] with heads · head_dim = d_inner).
  const convChannels = h.variant === 'mamba1' ? h.dInner : 2 * h.dXb + h.dInner;
  const conv = convChannels * (h.ssm.dConv - 1);
  const ssm = h.dInner * h.ssm.dState;
  const attn = h.attnLayers.length;
  const mamba = h.ssmLayers.length;
  return {
    perToken: 2 * attn * cfg.numKeyValueHeads * cfg.headDim * kvBytes(kv),
    fixed: mamba * (conv + ssm) * BYTES_PER_FLOAT,
    how:
      `KV: 2 × ${attn} attention layers × ${cfg.numKeyValueHeads} × ${cfg.headDim} × ctx × ${kvBytes(kv)} B; ` +
      `+ ${mamba} Mamba layers × (conv ${convChannels}×${h.ssm.dConv - 1} + ssm ${h.dInner}×${h.ssm.dState}) × 4 B`,
  };
}

const cacheAt = (f: CacheFormula, ctx: number) => f.perToken * ctx + f.fixed;

// ---------------------------------------------------------------- the three models

interface Subject {
  /** `teacher` / `mamba2` / `mamba1`, with `_kv16` for a float16 KV cache. */
  name: string;
  model: 'teacher' | HybridVariant;
  kvDtype: KvDtype;
  label: string;
  cache: CacheFormula;
  /** Extends the state from the current context to `c` tokens of `tokens` in chunks; returns the ms taken. */
  extendTo(c: number, tokens: readonly number[]): Promise<number>;
  /** Back to the context of the last `extendTo` (untimed). */
  rewind(): void;
  decode(id: number): Promise<Float32Array>;
  forward(ids: number[]): Promise<Float32Array>;
  truncate(n: number): void;
  readonly length: number;
  readonly cacheBytes: number;
  release(): Promise<void>;
  /** Per context: ms of --decode-steps decode calls, per timed round. */
  samples: Map<number, number[]>;
  /** Per context: CPU ms (all threads) of the same samples. */
  cpuSamples: Map<number, number[]>;
  /** Per context: ms of --decode-steps K = 4 verify rounds, per timed round. */
  verifySamples: Map<number, number[]>;
  prefillMs: Map<number, number>;
  cacheBytesAt: Map<number, number>;
  /** Per context: the logits of the first (warm-up) decode sample, to compare float16 with float32. */
  firstRows: Map<number, Float32Array[]>;
}

async function extendChunked(s: { length: number; forward(ids: number[]): Promise<Float32Array> }, c: number, tokens: readonly number[]): Promise<number> {
  return timeOnce(async () => {
    while (s.length < c) await s.forward(tokens.slice(s.length, Math.min(c, s.length + PREFILL_CHUNK)));
  });
}

/** A model under test: the two kinds differ only in how they remember and return to a context. */
function subject(
  model: Subject['model'],
  kvDtype: KvDtype,
  label: string,
  session: LlamaSession | HybridSession,
  cache: CacheFormula,
  keep: { save(c: number): void; restore(): void },
): Subject {
  return {
    name: model + (kvDtype === 'float16' ? '_kv16' : ''),
    model,
    kvDtype,
    label: label + (kvDtype === 'float16' ? ', KV float16' : ''),
    cache,
    async extendTo(c, tokens) {
      keep.restore();
      const ms = await extendChunked(session, c, tokens);
      keep.save(c);
      return ms;
    },
    rewind: () => keep.restore(),
    decode: (id) => session.decode(id),
    forward: (ids) => session.forward(ids),
    truncate: (n) => session.truncate(n),
    get length() {
      return session.length;
    },
    get cacheBytes() {
      return session.cacheBytes;
    },
    release: () => session.release(),
    samples: new Map(),
    cpuSamples: new Map(),
    verifySamples: new Map(),
    prefillMs: new Map(),
    cacheBytesAt: new Map(),
    firstRows: new Map(),
  };
}

// The teacher rolls its KV cache back by truncation; a hybrid restores a snapshot of its conv/SSM/KV state.
function teacherSubject(session: LlamaSession, kv: KvDtype, cache: CacheFormula): Subject {
  let at = 0;
  return subject('teacher', kv, 'teacher (8 × attention)', session, cache, { save: (c) => (at = c), restore: () => session.truncate(at) });
}

function studentSubject(variant: HybridVariant, kv: KvDtype, h: HybridConfig, session: HybridSession, cache: CacheFormula): Subject {
  let snap: HybridSessionState = session.snapshot();
  const label = `${variant === 'mamba2' ? 'Mamba-2' : 'Mamba-1'} student (attention at ${h.attnLayers.join(',')})`;
  return subject(variant, kv, label, session, cache, { save: () => (snap = session.snapshot()), restore: () => session.restore(snap) });
}

/** Max |Δlogit| over rows, and the fraction of rows whose argmax agrees. */
function logitError(a: Float32Array[], b: Float32Array[]): { max_abs: number; argmax_agree: number } {
  let max = 0;
  let agree = 0;
  const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);
  a.forEach((row, r) => {
    for (let j = 0; j < row.length; j++) max = Math.max(max, Math.abs(row[j] - b[r][j]));
    if (argmax(row) === argmax(b[r])) agree++;
  });
  return { max_abs: max, argmax_agree: agree / a.length };
}

/** Held-out SOTU text (2001–2021, not seen in training) as teacher tokens, at least `n` of them. */
function heldOutTokens(encode: (text: string) => number[], n: number): number[] {
  const ids: number[] = [];
  for (const speech of loadSotu({ fromYear: 2001 })) {
    ids.push(...encode(speech.text));
    if (ids.length >= n) return ids.slice(0, n);
  }
  throw new Error(`bench:hybrid: held-out SOTU text gave ${ids.length} tokens, need ${n}`);
}

/** Mean next-token NLL (nats) of `targets[i]` under logits rows `rows[i]`. */
function meanNll(rows: Float32Array[], targets: readonly number[]): number {
  let nll = 0;
  rows.forEach((row, i) => {
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    nll += max + Math.log(sum) - row[targets[i]];
  });
  return nll / rows.length;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const rss = startRssSampler();
  const tLoad = performance.now();
  const teacher = await loadLlama(MODEL_DIR);
  if (!teacher.tokenizer) throw new Error(`bench:hybrid: ${MODEL_DIR} has no tokenizer`);
  const tokenizer = teacher.tokenizer;
  const cfg = teacher.config;
  const tokens = heldOutTokens((t) => tokenizer.encode(t, { addSpecialTokens: false }), MAX_POSITIONS + 1);
  const attnLayers = layerSchedule(cfg.numHiddenLayers, { attentionFraction: ATTENTION_FRACTION }).attnLayers;
  const sessionOpts = (kvDtype: KvDtype) => ({ ep: 'cpu' as const, threads: THREADS, maxPositions: MAX_POSITIONS, spinning: SPINNING, kvDtype });

  const params = (w: Map<string, Float32Array>) => [...w.values()].reduce((s, x) => s + x.length, 0);
  const subjects: Subject[] = [];
  for (const kv of KV_DTYPES) subjects.push(teacherSubject(await LlamaSession.create(teacher.config, teacher.weights, sessionOpts(kv)), kv, teacherCache(cfg, kv)));
  const modelInfo: Record<string, unknown> = {
    teacher: { dir: MODEL_DIR, parameters: params(teacher.weights), layers: cfg.numHiddenLayers, hidden: cfg.hiddenSize, heads: cfg.numAttentionHeads, kv_heads: cfg.numKeyValueHeads, head_dim: cfg.headDim, ffn: cfg.intermediateSize, vocab: cfg.vocabSize },
  };
  for (const variant of STUDENTS) {
    const h = makeHybridConfig(teacher.config, variant, attnLayers);
    const weights = initStudentFromTeacher(teacher.weights, teacher.config, h, { seed: 0 });
    for (const kv of KV_DTYPES) {
      const session = await HybridSession.create(teacher.config, h, weights, sessionOpts(kv));
      subjects.push(studentSubject(variant, kv, h, session, studentCache(cfg, h, kv)));
    }
    modelInfo[variant] = {
      parameters: params(weights),
      attn_layers: h.attnLayers,
      ssm_layers: h.ssmLayers,
      d_inner: h.dInner,
      d_xb: h.dXb,
      d_state: h.ssm.dState,
      d_conv: h.ssm.dConv,
      ...(variant === 'mamba2' ? { ngroups: h.ssm.ngroups, headdim: h.ssm.headdim } : { dt_rank: h.ssm.dtRank }),
      weights: 'initStudentFromTeacher(seed 0), untrained',
    };
  }
  const setupMs = performance.now() - tLoad;
  rss.sample();
  log(
    `bench:hybrid — ${MODEL_DIR} (${cfg.numHiddenLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numAttentionHeads}/${cfg.numKeyValueHeads} heads of ${cfg.headDim}) ` +
      `vs its ${ATTENTION_FRACTION * 100}% students (attention at layers ${attnLayers.join(',')}); ORT cpu, ${THREADS} threads, spinning ${SPINNING ? 'on' : 'off'}`,
  );
  log(`contexts ${CONTEXTS.join(', ')}; ${DECODE_STEPS} decode steps per sample, ${WARMUP} warm-up + ${ROUNDS} rounds per context; prefill in ${PREFILL_CHUNK}-token chunks`);

  const teacherNll = new Map<number, number>();
  const t0 = performance.now();
  let rotation = 0;
  for (const c of CONTEXTS) {
    const next = tokens.slice(c, c + DECODE_STEPS);
    for (const s of subjects) {
      s.prefillMs.set(c, await s.extendTo(c, tokens));
      // The bytes held at exactly c tokens must be the analytic count, and grow by perToken per decoded token.
      if (s.length !== c) throw new Error(`bench:hybrid: ${s.name} holds ${s.length} tokens after prefill, expected ${c}`);
      const want = cacheAt(s.cache, c);
      if (s.cacheBytes !== want) throw new Error(`bench:hybrid: ${s.name} holds ${s.cacheBytes} cache bytes at context ${c}, the analytic count is ${want}`);
      s.cacheBytesAt.set(c, s.cacheBytes);
      s.samples.set(c, []);
      s.cpuSamples.set(c, []);
      s.verifySamples.set(c, []);
      rss.sample();
    }
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      const order = subjects.map((_, i) => subjects[(i + rotation) % subjects.length]);
      rotation++;
      for (const s of order) {
        s.rewind();
        const rows: Float32Array[] = [];
        const { ms, cpuMs } = await timeOnceWithCpu(async () => {
          for (const id of next) rows.push(await s.decode(id));
        });
        if (r === 0) {
          for (const row of rows) if (!row.every(Number.isFinite)) throw new Error(`bench:hybrid: ${s.name} decoded non-finite logits at context ${c}`);
          const want = cacheAt(s.cache, c + DECODE_STEPS);
          if (s.cacheBytes !== want) throw new Error(`bench:hybrid: ${s.name} holds ${s.cacheBytes} cache bytes at context ${c + DECODE_STEPS}, the analytic count is ${want}`);
          // Guard: the teacher still predicts the held-out text (worse past its trained 1024 positions).
          if (s.model === 'teacher' && s.kvDtype === KV_DTYPES[0]) teacherNll.set(c, meanNll(rows, tokens.slice(c + 1, c + 1 + DECODE_STEPS)));
          s.firstRows.set(c, rows);
        }
        if (r >= WARMUP) {
          s.samples.get(c)!.push(ms);
          s.cpuSamples.get(c)!.push(cpuMs);
        }
        // K = 4 verify rounds from the same context: forward(pending + 4 drafts), keep pending + a drafts.
        s.rewind();
        const vms = await timeOnce(async () => {
          for (let j = 0; j < DECODE_STEPS; j++) {
            const start = s.length;
            await s.forward(tokens.slice(start, start + VERIFY_K + 1));
            s.truncate(start + 1 + (j % (VERIFY_K + 1)));
          }
        });
        if (r >= WARMUP) s.verifySamples.get(c)!.push(vms);
      }
      rss.sample();
    }
    log(
      `context ${c}: ` +
        subjects.map((s) => `${s.name} ${fmt((DECODE_STEPS / median(s.samples.get(c)!)) * 1e3)} tok/s (prefill ${fmt(s.prefillMs.get(c)! / 1e3)} s)`).join(', '),
    );
  }
  const measureMs = performance.now() - t0;
  const { peakBytes } = rss.stop();
  for (const s of subjects) await s.release();

  // ---------------------------------------------------------------- report

  const tokPerS = (s: Subject, c: number) => (DECODE_STEPS / median(s.samples.get(c)!)) * 1e3;
  // A student is compared with the teacher whose KV cache has the same dtype.
  const teacherOf = (s: Subject) => subjects.find((t) => t.model === 'teacher' && t.kvDtype === s.kvDtype)!;
  const students = subjects.filter((s) => s.model !== 'teacher');
  const speedup = (s: Subject, c: number) => tokPerS(s, c) / tokPerS(teacherOf(s), c);
  // Median over rounds of the same-round ratio: both sides of each ratio ran back to back.
  const pairedSpeedup = (s: Subject, c: number) => median(s.samples.get(c)!.map((ms, i) => teacherOf(s).samples.get(c)![i] / ms));
  // Fastest sample of each: nearer to an unloaded machine on both sides.
  const minSpeedup = (s: Subject, c: number) => Math.min(...teacherOf(s).samples.get(c)!) / Math.min(...s.samples.get(c)!);
  const cacheRatio = (s: Subject, c: number) => s.cacheBytesAt.get(c)! / teacherOf(s).cacheBytesAt.get(c)!;
  // float16 KV against the float32 twin: the same tokens from the same context (the first decode sample).
  const kv16Error = Object.fromEntries(
    subjects
      .filter((s) => s.kvDtype === 'float16')
      .flatMap((s) => {
        const twin = subjects.find((t) => t.model === s.model && t.kvDtype === 'float32');
        return twin ? [[s.name, Object.fromEntries(CONTEXTS.map((c) => [`ctx_${c}`, logitError(s.firstRows.get(c)!, twin.firstRows.get(c)!)]))]] : [];
      }),
  );
  // One K = 4 verify round / one decode step (same context, same rounds).
  const verifyRatio = (s: Subject, c: number) => median(s.verifySamples.get(c)!) / median(s.samples.get(c)!);
  const growth = (s: Subject) => (CONTEXTS.includes(128) ? tokPerS(s, HEADLINE_CONTEXT) / tokPerS(s, 128) : null);
  // The same from the fastest samples (nearer to an unloaded machine).
  const verifyRatioMin = (s: Subject, c: number) => Math.min(...s.verifySamples.get(c)!) / Math.min(...s.samples.get(c)!);
  const growthMin = (s: Subject) => (CONTEXTS.includes(128) ? Math.min(...s.samples.get(128)!) / Math.min(...s.samples.get(HEADLINE_CONTEXT)!) : null);
  // The same from CPU time (least CPU spent per sample): what an idle machine would show if the threads stay busy.
  const growthCpu = (s: Subject) => (CONTEXTS.includes(128) ? Math.min(...s.cpuSamples.get(128)!) / Math.min(...s.cpuSamples.get(HEADLINE_CONTEXT)!) : null);

  log();
  log('decode tokens/s (median of the rounds; × = student / teacher with the same KV dtype)');
  log(
    formatTable(
      ['context', ...subjects.flatMap((s) => (s.model === 'teacher' ? [s.name] : [s.name, '×']))],
      CONTEXTS.map((c): Cell[] => [c, ...subjects.flatMap((s) => (s.model === 'teacher' ? [tokPerS(s, c)] : [tokPerS(s, c), speedup(s, c)]))]),
    ),
  );
  log();
  log('one K = 4 verify round (forward of 5 tokens + truncate) / one decode step');
  log(formatTable(['context', ...subjects.map((s) => s.name)], CONTEXTS.map((c): Cell[] => [c, ...subjects.map((s) => verifyRatio(s, c))])));
  log(`the same from the fastest samples: ${CONTEXTS.map((c) => `ctx ${c} ${subjects.map((s) => `${s.name} ${fmt(verifyRatioMin(s, c), 3)}`).join(' ')}`).join('; ')}`);
  if (CONTEXTS.includes(128)) {
    log(`decode tokens/s at ${HEADLINE_CONTEXT} / at 128: ${subjects.map((s) => `${s.name} ${fmt(growth(s)!, 3)}`).join(', ')}`);
    log(`  from the fastest samples: ${subjects.map((s) => `${s.name} ${fmt(growthMin(s)!, 3)}`).join(', ')}`);
    log(`  from CPU time (least per sample): ${subjects.map((s) => `${s.name} ${fmt(growthCpu(s)!, 3)}`).join(', ')}`);
  }
  log();
  log('cache bytes per sequence at the context (MiB; ratio = student / teacher; equal to the analytic count)');
  log(
    formatTable(
      ['context', ...subjects.flatMap((s) => (s.model === 'teacher' ? [s.name] : [s.name, 'ratio']))],
      CONTEXTS.map((c): Cell[] => [c, ...subjects.flatMap((s) => (s.model === 'teacher' ? [s.cacheBytesAt.get(c)! / MiB] : [s.cacheBytesAt.get(c)! / MiB, cacheRatio(s, c)]))]),
    ),
  );
  log();
  for (const s of subjects) log(`${s.name}: ${s.label}; cache = ${s.cache.perToken} B/token + ${s.cache.fixed} B (${s.cache.how})`);
  log(`teacher NLL of the decoded held-out tokens: ${CONTEXTS.map((c) => `ctx ${c} ${fmt(teacherNll.get(c)!, 3)}`).join(', ')} nats (trained positions: ${cfg.maxPositionEmbeddings})`);
  log(`speedup at ${CONTEXTS.join(' / ')}, median of per-round ratios: ${students.map((s) => `${s.name} ${CONTEXTS.map((c) => fmt(pairedSpeedup(s, c))).join(' / ')}`).join('; ')}`);
  log(`speedup at ${CONTEXTS.join(' / ')}, from the fastest samples: ${students.map((s) => `${s.name} ${CONTEXTS.map((c) => fmt(minSpeedup(s, c))).join(' / ')}`).join('; ')}`);
  for (const [name, byCtx] of Object.entries(kv16Error))
    log(`${name} vs its float32 twin, same tokens: max |Δlogit| ${CONTEXTS.map((c) => `ctx ${c} ${fmt(byCtx[`ctx_${c}`].max_abs, 3)} (argmax agrees ${fmt(100 * byCtx[`ctx_${c}`].argmax_agree, 3)}%)`).join(', ')}`);
  log(`setup ${fmt(setupMs / 1e3)} s, prefill + measurement ${fmt(measureMs / 1e3)} s, peak RSS ${fmt(peakBytes / MiB)} MiB`);

  const perCtx = (f: (c: number) => number, d = 4) => Object.fromEntries(CONTEXTS.map((c) => [`ctx_${c}`, sig(f(c), d)]));
  const perCtxExact = (f: (c: number) => number) => Object.fromEntries(CONTEXTS.map((c) => [`ctx_${c}`, f(c)]));
  const head = students.find((s) => s.model === HEADLINE)!;
  const k = HEADLINE_CONTEXT;
  reportResult({
    bench: 'hybrid',
    metric: 'decode_speedup_at_4k',
    value: sig(speedup(head, k))!,
    unit: 'ratio',
    decode_speedup_at_4k: sig(speedup(head, k)),
    cache_bytes_ratio_at_4k: sig(cacheRatio(head, k)),
    verify_k4_vs_single_step: sig(verifyRatio(head, k)),
    verify_k4_vs_single_step_from_min_times: sig(verifyRatioMin(head, k)),
    decode_4k_vs_128: Object.fromEntries(subjects.map((s) => [s.name, growth(s) === null ? null : sig(growth(s)!)])),
    decode_4k_vs_128_from_min_times: Object.fromEntries(subjects.map((s) => [s.name, growthMin(s) === null ? null : sig(growthMin(s)!)])),
    decode_4k_vs_128_from_cpu_time: Object.fromEntries(subjects.map((s) => [s.name, growthCpu(s) === null ? null : sig(growthCpu(s)!)])),
    decode_cpu_ms_per_token_min: Object.fromEntries(subjects.map((s) => [s.name, perCtx((c) => Math.min(...s.cpuSamples.get(c)!) / DECODE_STEPS)])),
    kv16_logit_error: Object.fromEntries(Object.entries(kv16Error).map(([n, byCtx]) => [n, Object.fromEntries(Object.entries(byCtx).map(([c, e]) => [c, { max_abs: sig(e.max_abs), argmax_agree: sig(e.argmax_agree) }]))])),
    headline_kv_dtype: head.kvDtype,
    kv_dtypes: KV_DTYPES,
    verify_k4_vs_single_step_by_model: Object.fromEntries(subjects.map((s) => [s.name, perCtx((c) => verifyRatio(s, c))])),
    headline_student: HEADLINE,
    by_student: Object.fromEntries(
      students.map((s) => [s.name, { decode_speedup_at_4k: sig(speedup(s, k)), decode_speedup_at_4k_paired: sig(pairedSpeedup(s, k)), decode_speedup_at_4k_from_min_times: sig(minSpeedup(s, k)), cache_bytes_ratio_at_4k: sig(cacheRatio(s, k)) }]),
    ),
    decode_tokens_per_s: Object.fromEntries(subjects.map((s) => [s.name, perCtx((c) => tokPerS(s, c))])),
    decode_ms_per_token: Object.fromEntries(subjects.map((s) => [s.name, perCtx((c) => median(s.samples.get(c)!) / DECODE_STEPS)])),
    decode_speedup: Object.fromEntries(students.map((s) => [s.name, perCtx((c) => speedup(s, c))])),
    decode_speedup_paired: Object.fromEntries(students.map((s) => [s.name, perCtx((c) => pairedSpeedup(s, c))])),
    decode_speedup_from_min_times: Object.fromEntries(students.map((s) => [s.name, perCtx((c) => minSpeedup(s, c))])),
    cache_bytes: Object.fromEntries(subjects.map((s) => [s.name, perCtxExact((c) => s.cacheBytesAt.get(c)!)])),
    cache_bytes_ratio: Object.fromEntries(students.map((s) => [s.name, perCtx((c) => cacheRatio(s, c))])),
    cache_formula: Object.fromEntries(subjects.map((s) => [s.name, { bytes_per_token: s.cache.perToken, fixed_bytes: s.cache.fixed, how: s.cache.how }])),
    cache_check: 'cacheBytes of every session equals the analytic count at every context c and at c + decode_steps (the run fails otherwise)',
    prefill_ms: Object.fromEntries(subjects.map((s) => [s.name, perCtx((c) => s.prefillMs.get(c)!)])),
    teacher_decode_nll: perCtx((c) => teacherNll.get(c)!),
    samples_ms: Object.fromEntries(subjects.map((s) => [s.name, Object.fromEntries(CONTEXTS.map((c) => [`ctx_${c}`, s.samples.get(c)!.map((x) => sig(x, 5))]))])),
    verify_samples_ms: Object.fromEntries(subjects.map((s) => [s.name, Object.fromEntries(CONTEXTS.map((c) => [`ctx_${c}`, s.verifySamples.get(c)!.map((x) => sig(x, 5))]))])),
    models: modelInfo,
    decode: { contexts: CONTEXTS, steps_per_sample: DECODE_STEPS, verify_k: VERIFY_K, prefill_chunk: PREFILL_CHUNK, max_positions: MAX_POSITIONS, data: 'held-out SOTU 2001– as teacher tokens' },
    threads: THREADS,
    spinning: SPINNING,
    ...runFields({ rounds: ROUNDS, warmup: WARMUP, setupMs, measureMs, peakBytes }),
  });
}

runBench('hybrid', main);
