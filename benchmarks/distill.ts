// Benchmark `distill`: the distillation of the embedded teacher (models/sotu-tiny) into its 50% Mamba-2 student on
// the CPU through onnxruntime-node, in one run: distillation tokens/s and achieved GFLOP/s as a fraction of the ORT
// MatMul ceiling measured alongside, then the held-out perplexity ratios student / teacher of the main job.
//
//   npm run bench:distill [-- --rounds 7] [--warmup 2] [--threads 2] [--ep cpu|webgpu|cuda] [--batch 8] [--skip-ppl]
//                         [--main-steps-scale 1] [--main-eval-tokens 16384]
//
// Part 1, throughput, in interleaved rounds (every workload once per round, so the ratio sees the same load):
//   ceiling — one fp32 1024³ MatMul (benchmarks/lib/matmul-ceiling.ts), B fed and B pre-packed, ORT spinning off and
//             on, 2 runs each; the ceiling is the fastest median of any MatMul variant.
//   stage 1 — one KD step of the main job's "stage1 (50% Mamba)": the teacher's logits (TeacherSignal, its own
//             graph), the student's loss and gradients of the Mamba parameters only (compileKdStep, KL weight 1,
//             CE 0 as MAIN_JOB_DEFAULTS), global-norm clipping to 1 and AdamW (β 0.9/0.98, wd 0) — all timed.
//   stage 2 — the same with every parameter trainable ("stage2 (all params, KL)"). The headline.
// Batch 8 × seq 128 of SOTU 1790–2000 text as the main job; the KD steps run with ORT spinning off, as
// distillHybrid does. The two stages step alternately, the order swapped every round.
//
// FLOPs of a KD step are counted analytically: 2·M·N·K for every matmul of the student's forward pass — per Mamba-2
// layer in_proj, the five matmuls of the chunked SSD (C·Bᵀ, intra-chunk scores·Δx, chunk states, inter-chunk state
// passing, C·H_in; packages/ssm-kernels/src/graph/mamba2-chunked.ts) and out_proj; per attention layer q, k/v (GQA),
// dense T×T scores and probs·V, o; per layer gate/up/down; the tied LM head — plus its backward: stage 2 trains every
// parameter, so each matmul has two gradient matmuls of its size (×3 in all); stage 1 trains only the Mamba
// parameters and @mil/graph's autodiff builds only the gradients that lead to them, so each matmul counts
// 1 + (input needs a gradient) + (its other operand needs one). Plus the teacher's forward pass (×1), which the KD
// step runs. Embedding gather/scatter, norms, RoPE, softmax, the depthwise conv, Δ/decay elementwise work, the
// gated RMSNorm, the losses, clipping and AdamW are not counted.
//
// Part 2, perplexity: `runMainJob({ ...MAIN_JOB_DEFAULTS, out: undefined })` in the same process after part 1
// (~10 min on 2 cores), so every ratio in the result file comes from this run of this code. --skip-ppl leaves the
// ratios out (null); --main-steps-scale / --main-eval-tokens other than the defaults mark them `ppl_from_defaults: false`.
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '@mil/core';
import type { LlamaConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama, resolveHybridDims, type HybridDims } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';
import { MAIN_JOB_DEFAULTS, TeacherSignal, collateWindows, compileKdStep, RECIPES, recipeStages, isTrainable, loadMainJobData, runMainJob, tokenWindows, type KdStep, type MainJobOptions, type StageSpec, type TokenBatch, AdamW, clipGradNorm } from '@mil/distill';
import { createMatmulProbe, flag, fmt, formatTable, forwardFlops, gflops, matmulFlops, median, numberFlag, reportResult, startRssSampler, timeOnce, type Cell, type MatmulCount, type MatmulProbe, runFields, runBench, sig, sigMap } from './lib';

// ---------------------------------------------------------------- configuration

const JOB = MAIN_JOB_DEFAULTS;
const MODEL_DIR = JOB.teacher;
const BATCH = numberFlag('batch', JOB.batch);
const SEQ = JOB.seq;
const CEILING_N = 1024;
/** The training graph's default Mamba-2 chunk length (buildHybridTrainGraph). */
const CHUNK = 64;
/** As distillHybrid's trainer: AdamW β (0.9, 0.98), no weight decay. */
const BETAS = [0.9, 0.98] as const;

const ROUNDS = numberFlag('rounds', 7);
const WARMUP = numberFlag('warmup', 2);
const THREADS = numberFlag('threads', 2);
const EP = String(flag('ep') ?? 'cpu') as ExecutionProvider;
if (!EXECUTION_PROVIDERS.includes(EP)) throw new Error(`--ep expects one of ${EXECUTION_PROVIDERS.join(', ')}, got ${EP}`);
if (flag('metrics') !== undefined) throw new Error('bench:distill: --metrics is gone; the perplexity ratios come from this run (or --skip-ppl)');
const SKIP_PPL = flag('skip-ppl') === true;
const STEPS_SCALE = numberFlag('main-steps-scale', 1);
const EVAL_TOKENS = numberFlag('main-eval-tokens', JOB.evalTokens);
if (!(STEPS_SCALE > 0)) throw new Error(`--main-steps-scale expects a number > 0, got ${STEPS_SCALE}`);
if (!(EVAL_TOKENS >= SEQ + 1)) throw new Error(`--main-eval-tokens expects at least ${SEQ + 1}, got ${EVAL_TOKENS}`);

const log = (s = '') => process.stdout.write(s + '\n');

// ---------------------------------------------------------------- FLOP count

/** A forward matmul and how many gradient matmuls of its size the stage-1 backward builds (stage 2: always 2). */
interface StepMatmul extends MatmulCount {
  stage1Grads: number;
}

/** Attention matmuls of `layers.length` Llama layers on batch × seq tokens (dense causal T×T, GQA k/v). */
function attentionMatmuls(cfg: LlamaConfig, batch: number, seq: number, count: number): MatmulCount[] {
  const N = batch * seq;
  const hd = cfg.headDim;
  return [
    { what: 'q projection', m: N, n: cfg.numAttentionHeads * hd, k: cfg.hiddenSize, batch: count },
    { what: 'k,v projections', m: N, n: 2 * cfg.numKeyValueHeads * hd, k: cfg.hiddenSize, batch: count },
    { what: 'scores Q·Kᵀ', m: seq, n: seq, k: hd, batch: count * batch * cfg.numAttentionHeads },
    { what: 'probs·V', m: seq, n: hd, k: seq, batch: count * batch * cfg.numAttentionHeads },
    { what: 'o projection', m: N, n: cfg.hiddenSize, k: cfg.numAttentionHeads * hd, batch: count },
  ];
}

function mlpMatmuls(cfg: LlamaConfig, batch: number, seq: number, count: number): MatmulCount[] {
  const N = batch * seq;
  return [
    { what: 'gate,up projections', m: N, n: 2 * cfg.intermediateSize, k: cfg.hiddenSize, batch: count },
    { what: 'down projection', m: N, n: cfg.hiddenSize, k: cfg.intermediateSize, batch: count },
  ];
}

/** The teacher's forward (TeacherSignal: the Llama training graph's logits). */
function teacherMatmuls(cfg: LlamaConfig): MatmulCount[] {
  const L = cfg.numHiddenLayers;
  return [
    ...attentionMatmuls(cfg, BATCH, SEQ, L),
    ...mlpMatmuls(cfg, BATCH, SEQ, L),
    { what: 'LM head (tied)', m: BATCH * SEQ, n: cfg.vocabSize, k: cfg.hiddenSize, batch: 1 },
  ].map((c) => ({ ...c, what: `teacher ${c.what}` }));
}

/** The chunked SSD's matmuls of one Mamba-2 layer (mamba2ScanGraph; hpg = heads per group). */
function ssdMatmuls(d: HybridDims): MatmulCount[] {
  const Q = CHUNK;
  const nc = Math.ceil(SEQ / Q);
  const { nHeads: H, nGroups: G, headDim: P, dState: N } = d;
  return [
    { what: 'SSD C·Bᵀ (intra-chunk)', m: Q, n: Q, k: N, batch: BATCH * nc * G },
    { what: 'SSD scores·Δx (intra-chunk)', m: Q, n: P, k: Q, batch: BATCH * nc * H },
    { what: 'SSD chunk states Δx·B', m: P, n: N, k: Q, batch: BATCH * nc * H },
    { what: 'SSD state passing', m: nc + 1, n: P * N, k: nc + 1, batch: BATCH * H },
    { what: 'SSD C·H_in (inter-chunk)', m: Q, n: P, k: N, batch: BATCH * nc * H },
  ];
}

/**
 * The student's forward matmuls, layer by layer, with the gradient matmuls a stage-1 backward (only `.mamba.`
 * parameters trainable) needs: an operand needs a gradient when it depends on a Mamba parameter, i.e. it is a Mamba
 * weight or an activation downstream of the first Mamba mixer. Entries of equal shape and gradient count are merged.
 */
function studentMatmuls(d: HybridDims): StepMatmul[] {
  const cfg = d.teacher;
  const N = BATCH * SEQ;
  const out: (StepMatmul & { layer: number | null })[] = [];
  const push = (layer: number | null, c: MatmulCount, stage1Grads: number) => out.push({ ...c, stage1Grads, layer });
  let streamDepends = false; // does the residual stream entering this layer depend on a Mamba parameter?
  for (let i = 0; i < d.nLayer; i++) {
    const dep = streamDepends ? 1 : 0;
    if (d.isMamba(i)) {
      // in_proj: its weight is trainable, its input (RMSNorm of the stream) only downstream of an earlier Mamba.
      push(i, { what: 'Mamba-2 in_proj', m: N, n: d.inProjRows, k: d.dModel, batch: 1 }, 1 + dep);
      for (const c of ssdMatmuls(d)) push(i, c, 2);
      push(i, { what: 'Mamba-2 out_proj', m: N, n: d.dModel, k: d.dInner, batch: 1 }, 2);
      streamDepends = true;
    } else {
      // Frozen projections: an input gradient only; scores / probs·V: both operands are activations.
      for (const c of attentionMatmuls(cfg, BATCH, SEQ, 1)) push(i, { ...c, what: `attention ${c.what}` }, c.what.startsWith('scores') || c.what.startsWith('probs') ? 2 * dep : dep);
    }
    for (const c of mlpMatmuls(cfg, BATCH, SEQ, 1)) push(i, { ...c, what: `MLP ${c.what}` }, streamDepends ? 1 : 0);
  }
  push(null, { what: 'LM head (tied)', m: N, n: cfg.vocabSize, k: cfg.hiddenSize, batch: 1 }, streamDepends ? 1 : 0);
  const merged = new Map<string, StepMatmul & { layers: number[] }>();
  for (const c of out) {
    const key = `${c.what}|${c.m}|${c.n}|${c.k}|${c.batch}|${c.stage1Grads}`;
    const m = merged.get(key);
    if (m) {
      m.layers.push(c.layer!);
      m.batch += c.batch;
    } else merged.set(key, { what: c.what, m: c.m, n: c.n, k: c.k, batch: c.batch, stage1Grads: c.stage1Grads, layers: c.layer === null ? [] : [c.layer] });
  }
  return [...merged.values()].map(({ layers, ...c }) => ({ ...c, what: layers.length ? `${c.what} [layer${layers.length > 1 ? 's' : ''} ${layers.join(',')}]` : c.what }));
}

const label = (c: MatmulCount) => `${c.what} (${c.batch > 1 ? `${c.batch} × ` : ''}${c.m}×${c.n}×${c.k})`;

// ---------------------------------------------------------------- workloads

interface StageRun {
  key: 'stage1' | 'stage2';
  spec: StageSpec;
  kd: KdStep;
  weights: Map<string, Float32Array>;
  opt: AdamW;
  trainable: number;
  flops: number;
  samples: { step: number[]; teacher: number[]; student: number[]; update: number[] };
  losses: number[];
  lastMs: number;
}

async function createStage(
  key: StageRun['key'],
  spec: StageSpec,
  teacher: TeacherSignal,
  build: Parameters<typeof compileKdStep>[0],
  init: Map<string, Float32Array>,
  flops: number,
): Promise<StageRun> {
  const kd = await compileKdStep(
    build,
    teacher,
    { klWeight: spec.loss.kl, ceWeight: spec.loss.ce, temperature: spec.loss.temperature, klReduction: spec.loss.reduction },
    { trainable: isTrainable(spec.trainable), ep: EP, threads: THREADS, spinning: false },
  );
  // Each stage trains its own copy: AdamW updates it in place.
  const weights = new Map([...init].map(([n, w]) => [n, w.slice()]));
  const opt = new AdamW(
    kd.step.trainable.map((name) => ({ name, data: weights.get(name)!, shape: kd.step.shapes.get(name)! })),
    { lr: spec.lr, betas: BETAS, eps: 1e-8, weightDecay: 0 },
  );
  const trainable = kd.step.trainable.reduce((s, n) => s + weights.get(n)!.length, 0);
  return { key, spec, kd, weights, opt, trainable, flops, samples: { step: [], teacher: [], student: [], update: [] }, losses: [], lastMs: NaN };
}

/** One timed KD step: teacher logits + student loss/gradients (kd.lossAndGrads), clipping, AdamW. */
async function stepOnce(s: StageRun, batch: TokenBatch, teacherMs: () => number, record: boolean): Promise<void> {
  let updateMs = 0;
  const ms = await timeOnce(async () => {
    const { loss, grads } = await s.kd.lossAndGrads(s.weights, batch);
    const t0 = performance.now();
    if (s.spec.maxGradNorm) clipGradNorm(grads, s.spec.maxGradNorm);
    s.opt.step(grads);
    updateMs = performance.now() - t0;
    if (!Number.isFinite(loss)) throw new Error(`bench:distill: ${s.spec.name} gave a non-finite loss ${loss}`);
    s.losses.push(loss);
  });
  s.lastMs = ms;
  if (!record) return;
  s.samples.step.push(ms);
  s.samples.teacher.push(teacherMs());
  s.samples.student.push(s.kd.step.lastRunMs());
  s.samples.update.push(updateMs);
}

/** Mean next-token NLL (nats) of the batch's targets under the teacher's logits (guard: ≈ its log-perplexity). */
function batchNll(logits: Float32Array, targets: BigInt64Array, vocab: number): number {
  let nll = 0;
  for (let r = 0; r < targets.length; r++) {
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    nll += max + Math.log(sum) - row[Number(targets[r])];
  }
  return nll / targets.length;
}

// ---------------------------------------------------------------- perplexity (main job)

interface PplPart {
  source: 'inline' | 'skipped';
  metrics: Record<string, unknown> | null;
  options: MainJobOptions | null;
  wallS: number | null;
}

/** Whether a main job ran with `b`'s options (the run folder aside): the real numbers come from the defaults. */
function sameOptions(a: MainJobOptions, b: MainJobOptions): boolean {
  const plain = (o: MainJobOptions) => JSON.stringify(Object.entries({ ...o, out: undefined }).filter(([, v]) => v !== undefined).sort(([x], [y]) => x.localeCompare(y)));
  return plain(a) === plain(b);
}

function scaledOptions(): MainJobOptions {
  const scale = (n: number, min: number) => Math.max(min, Math.round(n * STEPS_SCALE));
  return {
    ...JOB,
    out: undefined,
    alignSteps: JOB.alignSteps > 0 ? scale(JOB.alignSteps, 2) : 0,
    stage1Steps: scale(JOB.stage1Steps, 2),
    stage2Steps: JOB.stage2Steps > 0 ? scale(JOB.stage2Steps, 1) : 0,
    evalTokens: EVAL_TOKENS,
  };
}

async function perplexityPart(): Promise<PplPart> {
  if (SKIP_PPL) return { source: 'skipped', metrics: null, options: null, wallS: null };
  const options = scaledOptions();
  log();
  log(`main job (perplexity): runMainJob with align ${options.alignSteps}, stage 1 ${options.stage1Steps}, stage 2 ${options.stage2Steps} steps, ` +
    `eval ${options.evalTokens} tokens per set${STEPS_SCALE !== 1 || EVAL_TOKENS !== JOB.evalTokens ? ' (SCALED: not the real numbers)' : ' (MAIN_JOB_DEFAULTS)'}`);
  const t0 = performance.now();
  const r = await runMainJob(options, {
    log: (l) => log(`  ${l}`),
    onStageStart: (run, s, i, n) => log(`  [${run}-init] stage ${i + 1}/${n}: ${s.name}, ${s.steps} steps`),
    onProgress: (run, s, e) => {
      if (e.step === e.totalSteps) log(`  [${run}-init] ${s.name}: ${e.step} steps, loss ${fmt(e.loss, 4)}, ${fmt(e.tokensPerSec)} tokens/s`);
    },
    onEval: (model, set, done, total) => {
      if (done === total) log(`  eval ${model} on ${set}: done`);
    },
  });
  return { source: 'inline', metrics: r.metrics, options, wallS: (performance.now() - t0) / 1e3 };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const rss = startRssSampler();
  const tLoad = performance.now();
  const { config: teacherConfig, weights: teacherWeights, tokenizer } = await loadLlama(MODEL_DIR);
  if (!tokenizer) throw new Error(`bench:distill: ${MODEL_DIR} has no tokenizer`);
  const cfg = teacherConfig;
  const L = cfg.numHiddenLayers;
  const target = layerSchedule(L, { attentionFraction: 0.5 });
  const hybrid = makeHybridConfig(teacherConfig, 'mamba2', target.attnLayers);
  const dims = resolveHybridDims(teacherConfig, hybrid);
  const init = initStudentFromTeacher(teacherWeights, teacherConfig, hybrid, { seed: JOB.seed });
  // The main job's recipe; its "stage1 (50% Mamba)" and "stage2 (all params, KL)" entries are what is timed.
  const recipe = recipeStages(RECIPES[JOB.recipe], {
    attn75: layerSchedule(L, { attentionFraction: 0.75 }).attnLayers, attn50: target.attnLayers, numLayers: L,
    stage1Steps: JOB.stage1Steps, stage2Steps: JOB.stage2Steps, alignSteps: 0,
  });
  const spec1 = recipe.find((s) => s.trainable === 'mamba' && s.attnLayers.join() === target.attnLayers.join())!;
  const spec2 = recipe.find((s) => s.trainable === 'all')!;

  // One batch of 8 consecutive 129-token windows of the main job's training stream (SOTU 1790–2000).
  const data = loadMainJobData(tokenizer, { trainTokens: BATCH * SEQ + 1, evalTokens: 1, seed: JOB.seed });
  const batch = collateWindows(data.train, SEQ)(tokenWindows(data.train.length, SEQ).slice(0, BATCH));
  if (batch.batch !== BATCH) throw new Error(`bench:distill: got ${batch.batch} windows, need ${BATCH}`);

  const teacherFwd = teacherMatmuls(cfg);
  const student = studentMatmuls(dims);
  const teacherFlops = forwardFlops(teacherFwd);
  const studentFwdFlops = forwardFlops(student);
  const stage1StudentFlops = student.reduce((s, c) => s + (1 + c.stage1Grads) * matmulFlops(c), 0);
  const stage2StudentFlops = 3 * studentFwdFlops;
  const stepTokens = BATCH * SEQ;
  const paramCount = [...init.values()].reduce((s, w) => s + w.length, 0);
  log(
    `bench:distill — ${MODEL_DIR} (${L} layers, hidden ${cfg.hiddenSize}, vocab ${cfg.vocabSize}) → 50% Mamba-2 student ` +
      `(attention at [${target.attnLayers}], Mamba-2 at [${target.ssmLayers}], ${paramCount} parameters); ORT ${EP}, ${THREADS} threads`,
  );
  log(
    `KD step: batch ${BATCH} × seq ${SEQ} = ${stepTokens} tokens; teacher forward ${fmt(teacherFlops / 1e9, 4)} GFLOP; student forward ` +
      `${fmt(studentFwdFlops / 1e9, 4)} GFLOP → stage 1 ${fmt((stage1StudentFlops + teacherFlops) / 1e9, 4)}, stage 2 ${fmt((stage2StudentFlops + teacherFlops) / 1e9, 4)} GFLOP per step`,
  );

  const teacher = await TeacherSignal.create((g) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: SEQ }).logits, teacherWeights, {
    threads: THREADS,
    spinning: false,
  });
  // Time the teacher's share of each KD step (compileKdStep calls teacher.logits first).
  let teacherMs = NaN;
  const teacherLogits = teacher.logits.bind(teacher);
  teacher.logits = async (b) => {
    const t0 = performance.now();
    const out = await teacherLogits(b);
    teacherMs = performance.now() - t0;
    return out;
  };
  const buildStudent: Parameters<typeof compileKdStep>[0] = (g) => buildHybridTrainGraph(g, teacherConfig, hybrid, { maxPositions: SEQ });
  const stages = [
    await createStage('stage1', spec1, teacher, buildStudent, init, stage1StudentFlops + teacherFlops),
    await createStage('stage2', spec2, teacher, buildStudent, init, stage2StudentFlops + teacherFlops),
  ];
  const probes: { spinning: boolean; prepacked: boolean; probe: MatmulProbe; samples: number[] }[] = [];
  for (const spinning of [false, true])
    for (const prepacked of [false, true])
      probes.push({ spinning, prepacked, probe: await createMatmulProbe({ n: CEILING_N, ep: EP, threads: THREADS, prepacked, spinning }), samples: [] });
  const setupMs = performance.now() - tLoad;
  rss.sample();

  // Guard: the teacher predicts the batch about as well as its held-out perplexity says (≈ 3 nats).
  const teacherNll = batchNll(await teacher.logits(batch), batch.targets, cfg.vocabSize);

  const t0 = performance.now();
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const record = r >= WARMUP;
    for (const p of probes) for (let i = 0; i < 2; i++) {
      const ms = await timeOnce(() => p.probe.run());
      if (record) p.samples.push(ms);
    }
    for (const s of r % 2 ? [...stages].reverse() : stages) await stepOnce(s, batch, () => teacherMs, record);
    rss.sample();
    log(`round ${r + 1}/${WARMUP + ROUNDS}${record ? '' : ' (warm-up)'}: ` + stages.map((s) => `${s.key} ${fmt(s.lastMs)} ms (loss ${fmt(s.losses.at(-1)!, 4)})`).join(', '));
  }
  const measureMs = performance.now() - t0;
  for (const s of stages) await s.kd.release();
  await teacher.release();
  for (const p of probes) await p.probe.release();

  const ceilingFlops = 2 * CEILING_N ** 3;
  const probeName = (p: (typeof probes)[number]) => `B ${p.prepacked ? 'pre-packed' : 'fed'}, spinning ${p.spinning ? 'on' : 'off'}`;
  const ceilingGflops = Math.max(...probes.map((p) => gflops(ceilingFlops, median(p.samples))));
  const ceilingFromMin = Math.max(...probes.flatMap((p) => p.samples.map((ms) => gflops(ceilingFlops, ms))));
  const summary = stages.map((s) => {
    const ms = median(s.samples.step);
    return {
      key: s.key,
      name: s.spec.name,
      trainable: s.spec.trainable,
      trainable_parameters: s.trainable,
      loss: s.spec.loss,
      lr: s.spec.lr,
      ms_per_step: ms,
      ms_min: Math.min(...s.samples.step),
      ms_split: { teacher_forward: median(s.samples.teacher), student_ort_run: median(s.samples.student), clip_adamw: median(s.samples.update) },
      tokens_per_s: (stepTokens / ms) * 1e3,
      flops_per_step: s.flops,
      gflops: gflops(s.flops, ms),
      fraction_of_matmul_ceiling: gflops(s.flops, ms) / ceilingGflops,
      fraction_from_min_times: gflops(s.flops, Math.min(...s.samples.step)) / ceilingFromMin,
      samples: s.samples,
      losses: s.losses,
    };
  });
  const head = summary.find((s) => s.key === 'stage2')!;

  log();
  const rows: Cell[][] = [];
  for (const p of probes) {
    const g = gflops(ceilingFlops, median(p.samples));
    rows.push([`ORT MatMul ${CEILING_N}³ fp32, ${probeName(p)}`, median(p.samples), null, g, g / ceilingGflops]);
  }
  for (const s of summary)
    rows.push([`KD ${s.name}: teacher fwd + student fwd+bwd + clip + AdamW`, s.ms_per_step, s.tokens_per_s, s.gflops, s.fraction_of_matmul_ceiling]);
  log(formatTable(['what (medians)', 'ms', 'tokens/s', 'GFLOP/s', 'vs ceiling'], rows));
  log();
  for (const s of summary)
    log(`${s.name}: ${s.trainable_parameters} trainable parameters; split (medians) teacher ${fmt(s.ms_split.teacher_forward)} ms, student ORT run ${fmt(s.ms_split.student_ort_run)} ms, clip+AdamW ${fmt(s.ms_split.clip_adamw)} ms`);
  log(`teacher NLL of the batch: ${fmt(teacherNll, 4)} nats; ceiling = fastest MatMul median, ${fmt(ceilingGflops)} GFLOP/s; from the fastest samples: ceiling ${fmt(ceilingFromMin)}, ` +
    summary.map((s) => `${s.key} ${fmt(s.fraction_from_min_times)}`).join(', '));
  log(`setup ${fmt(setupMs / 1e3)} s, measurement ${fmt(measureMs / 1e3)} s`);

  const ppl = await perplexityPart();
  const { peakBytes } = rss.stop();
  const m = ppl.metrics;
  const num = (x: unknown) => (typeof x === 'number' ? x : null);
  const rowsPpl = (m?.perplexity as { model: string; params: number; sotu: number; brown: number }[] | undefined) ?? [];
  if (m) {
    log();
    const defaults = ppl.options && sameOptions(ppl.options, JOB) ? 'MAIN_JOB_DEFAULTS' : 'NOT the defaults';
    log(`perplexity (this run's main job; ${defaults}), held-out SOTU 2001–2021 and Brown:`);
    log(formatTable(['model', 'params', 'SOTU ppl', 'Brown ppl', 'SOTU / teacher'], rowsPpl.map((r) => [r.model, r.params, r.sotu, r.brown, r.sotu / rowsPpl[0].sotu])));
  }

  const mainStages = (key: string) =>
    ((m?.[key] as { name: string; tokensPerSec: number; seconds: number; steps: number }[] | null | undefined) ?? []).map((s) => ({ name: s.name, steps: s.steps, seconds: sig(s.seconds), tokens_per_s: sig(s.tokensPerSec) }));
  reportResult({
    bench: 'distill',
    metric: 'distill_fraction_of_matmul_ceiling',
    value: sig(head.fraction_of_matmul_ceiling)!,
    unit: 'ratio',
    goal: { distill_fraction_of_matmul_ceiling: 0.3 },
    distill_fraction_of_matmul_ceiling: sig(head.fraction_of_matmul_ceiling),
    distill_fraction_from_min_times: sig(head.fraction_from_min_times),
    distill_tokens_per_s: sig(head.tokens_per_s),
    distill_gflops: sig(head.gflops),
    distill_ms_per_step: sig(head.ms_per_step),
    distill_ms_split: sigMap(head.ms_split),
    headline_stage: head.name,
    ppl_ratio_50: sig(num(m?.ppl_ratio_sotu)),
    ppl_ratio_random_init_50: sig(num(m?.ppl_ratio_random_init_sotu)),
    ppl_ratio_dropped_50: sig(num(m?.ppl_ratio_dropped_sotu)),
    ppl_ratio_brown_50: sig(num(m?.ppl_ratio_brown)),
    ppl_source: ppl.source,
    ablation_init: ppl.options?.ablationInit ?? null,
    ppl_from_defaults: ppl.options ? sameOptions(ppl.options, JOB) : null,
    perplexity: rowsPpl.map((r) => ({ model: r.model, params: r.params, sotu: sig(r.sotu), brown: sig(r.brown) })),
    main_job_options: ppl.options,
    main_job_stages: mainStages('stages'),
    main_job_random_init_stages: mainStages('randomInitStages'),
    main_job_wall_s: sig(ppl.wallS),
    matmul_ceiling_gflops: sig(ceilingGflops),
    matmul_ceiling_shape: `${CEILING_N}x${CEILING_N}x${CEILING_N} fp32, ${EP}, ${THREADS} threads; ceiling = fastest median of B fed / B pre-packed × spinning off / on`,
    matmul_gflops: Object.fromEntries(probes.map((p) => [probeName(p), sig(gflops(ceilingFlops, median(p.samples)))])),
    stages: summary.map((s) => ({
      name: s.name,
      trainable: s.trainable,
      trainable_parameters: s.trainable_parameters,
      loss: s.loss,
      lr: s.lr,
      ms_per_step: sig(s.ms_per_step),
      ms_min: sig(s.ms_min),
      ms_split: sigMap(s.ms_split),
      tokens_per_s: sig(s.tokens_per_s),
      flops_per_step: s.flops_per_step,
      gflops: sig(s.gflops),
      fraction_of_matmul_ceiling: sig(s.fraction_of_matmul_ceiling),
      fraction_from_min_times: sig(s.fraction_from_min_times),
      samples_ms: Object.fromEntries(Object.entries(s.samples).map(([k, xs]) => [k, xs.map((x) => sig(x, 5))])),
      losses: s.losses.map((x) => sig(x, 6)),
    })),
    flops_teacher_forward: teacherFlops,
    flops_student_forward: studentFwdFlops,
    flops_stage1_student: stage1StudentFlops,
    flops_stage2_student: stage2StudentFlops,
    flops_forward_by_matmul: Object.fromEntries([...student, ...teacherFwd].map((c) => [label(c), matmulFlops(c)])),
    stage1_gradient_matmuls_by_matmul: Object.fromEntries(student.map((c) => [label(c), c.stage1Grads])),
    flop_counting:
      '2·M·N·K per forward matmul — student: Mamba-2 in_proj / out_proj, the chunked SSD (C·Bᵀ, scores·Δx, chunk states, state passing, C·H_in; ' +
      `chunk ${CHUNK}), attention q, k/v (GQA), dense T×T scores and probs·V, o, MLP gate/up/down, tied LM head; ` +
      'stage 2 (all trainable): ×3; stage 1 (Mamba params only): ×(1 + gradient matmuls autodiff builds, see stage1_gradient_matmuls_by_matmul); ' +
      'plus the teacher forward ×1 (same matmuls as a Llama layer stack). Not counted: embeddings, norms, RoPE, softmax, depthwise conv, Δ/decay ' +
      'elementwise work, gated RMSNorm, losses, clipping, AdamW',
    teacher_nll_batch: sig(teacherNll),
    model: {
      teacher: MODEL_DIR,
      student: 'mamba2, 50% attention',
      attn_layers: target.attnLayers,
      ssm_layers: target.ssmLayers,
      parameters: paramCount,
      d_inner: dims.dInner,
      d_xb: dims.dXb,
      ssm_heads: dims.nHeads,
      d_state: dims.dState,
      chunk_size: CHUNK,
    },
    train: { batch: BATCH, seq: SEQ, tokens_per_step: stepTokens, data: 'SOTU 1790–2000, the main job\'s stream (one fixed batch of 8 consecutive 129-token windows)', adamw: { betas: BETAS, weight_decay: 0 }, spinning: false },
    threads: THREADS,
    ...runFields({ rounds: ROUNDS, warmup: WARMUP, setupMs, measureMs, peakBytes }),
  });
}

runBench('distill', main);
