// The project's main job: distil a Llama teacher into a hybrid (attention-initialised), train the random-init
// ablation on the same budget, drop the replaced layers for the other ablation, evaluate all by held-out perplexity
// and write a run folder (student in the reference layout, metrics.json, loss-curve.svg).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunOptions } from '@mil/core';
import type { Graph, Tensor } from '@mil/graph';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { dropLayers, layerSchedule, type MambaLayerInit } from '@mil/weight-transfer';
import { lossCurveSvg, perplexity, writeReport } from '@mil/eval';
import { loadModelFolder, writeFileAtomic, type LlamaConfig } from '@mil/checkpoint';
import { checkRunFits, type MemoryPlan } from '../memory/memory-plan';
import { mixSeeds } from '@mil/core';
import { seededPermutation } from '../trainer/seeds';
import type { StageSpec } from '../pipeline/stages';
import { contextColumns, contextEvalModel } from './main-job-context';
import { RECIPES, recipeStages, withOverrides, type RecipeName } from '../pipeline/recipes';
import type { PseudoLabel } from '../pseudo-labels';
import { continuations } from './stage-eval';
import { distillHybrid, type DistillHybridResult } from '../pipeline/distill-hybrid';
import type { ProgressEvent } from '../trainer';
import { DistillError } from '../errors';
import { loadMainJobData } from './main-job-data';
import { prepareRunFolder, stageLossCurves, writeRunOptions, writeStudentFolder } from './run-folder';

/** The main job's recipe; `RunOptions` say where it runs (spinning defaults to off). */
export interface MainJobOptions extends RunOptions {
  teacher: string;
  variant: 'mamba1' | 'mamba2';
  /** Attention layers kept; 0 is a pure Mamba student (stage 1 still starts at 75% attention). */
  attentionFraction: 0.5 | 0.25 | 0.125 | 0;
  /** The training settings of every stage (`RECIPES`); the budget (steps, batch, seq) is given here. */
  recipe: RecipeName;
  /** How the student's Mamba layers start, at every stage that adds some. */
  init: MambaLayerInit;
  /** The random-init ablation (trained when `ablations`): 'random-layer' is the reference's init_with_kqvo=False. */
  ablationInit: Exclude<MambaLayerInit, 'attention'>;
  /** Alignment steps, for recipes that align (the paper's does not). */
  alignSteps: number;
  stage1Steps: number;
  stage2Steps: number;
  /** Replaces the recipe's stage-1 (and alignment) learning rate. */
  lr?: number;
  /** Replaces the recipe's stage-2 learning rate. */
  stage2Lr?: number;
  /** Replaces the recipe's stage-1 loss weights. */
  stage1Loss?: { kl: number; ce: number };
  batch: number;
  seq: number;
  threads: number;
  evalTokens: number;
  ablations: boolean;
  seed: number;
  /** Run folder, created (and checked writable) before any work; nothing is written when absent. */
  out?: string;
  /** Checkpoint the students into `out/checkpoints/` every this many steps of a stage (0: only at stage ends). */
  checkpointEvery?: number;
  /** …and whenever this many seconds have passed since the last checkpoint (0: off). */
  checkpointSeconds?: number;
  /** Continue the run in `out` from its checkpoints (bit-exact: the same student as an uninterrupted run). */
  resume?: boolean | string;
  /** Keep `out/checkpoints/` after the run completes (default: removed once the run folder is written). */
  keepCheckpoints?: boolean;
}

/** What `npm start` runs (tuned for minutes on 2 cores; the package README's "Why the main job's defaults" gives the measurements). */
export const MAIN_JOB_DEFAULTS: MainJobOptions = {
  teacher: 'models/sotu-tiny',
  variant: 'mamba2',
  attentionFraction: 0.5,
  recipe: 'default',
  init: 'attention',
  ablationInit: 'random-layer',
  alignSteps: 160,
  stage1Steps: 80,
  stage2Steps: 120,
  batch: 8,
  seq: 128,
  threads: 2,
  evalTokens: 16384,
  ablations: true,
  seed: 0,
  checkpointEvery: 50,
  checkpointSeconds: 60,
};

/**
 * Budgets of the main job for other machines; a preset fills options the command line did not set.
 * 'h200': 30× the default's training tokens (batch 64 instead of 8, 3.75× the steps: 11.1M tokens per student) on
 * one GPU through the CUDA provider.
 */
export const MAIN_JOB_PRESETS = {
  h200: { ep: 'cuda', batch: 64, alignSteps: 600, stage1Steps: 300, stage2Steps: 450, evalTokens: 65536 },
} as const satisfies Record<string, Partial<MainJobOptions>>;
export type MainJobPreset = keyof typeof MAIN_JOB_PRESETS;

/** Training tokens one student sees: every stage's steps × batch × seq. */
export const mainJobTrainingTokens = (o: Pick<MainJobOptions, 'alignSteps' | 'stage1Steps' | 'stage2Steps' | 'batch' | 'seq'>): number =>
  (o.alignSteps + o.stage1Steps + o.stage2Steps) * o.batch * o.seq;

export interface MainJobEvents {
  log?: (line: string) => void;
  /** Teacher continuations sampled so far, for recipes that train on them. */
  onPseudoLabels?: (done: number, total: number) => void;
  /** `run` is the init of the student being trained: the main one's, then the ablation's. */
  onStageStart?: (run: MambaLayerInit, stage: StageSpec, index: number, total: number) => void;
  onProgress?: (run: MambaLayerInit, stage: StageSpec, e: ProgressEvent) => void;
  onEval?: (model: string, set: string, done: number, total: number) => void;
}

export interface MainJobRow {
  model: string;
  params: number;
  sotu: number;
  brown: number;
  /** SOTU perplexity at positions 1024–2047 of 2048-token sequences (null: held-out stream shorter than 2048). */
  pplLong: number | null;
  /** Passkey retrieval accuracy (null: filler stream too short). */
  needle: number | null;
}

export interface MainJobResult {
  rows: MainJobRow[];
  student: DistillHybridResult;
  random: DistillHybridResult | null;
  stages: StageSpec[];
  metrics: Record<string, unknown>;
}

/**
 * Teacher continuations for SeqKD stages: `count` prompts of `seq · promptFraction` tokens cut from the training
 * stream at seeded window starts, each continued by the teacher (its recipe's sampling) to `seq` + 1 tokens.
 */
async function pseudoLabelsFor(
  o: MainJobOptions, teacherConfig: LlamaConfig, teacherWeights: Map<string, Float32Array>, train: Int32Array, count: number,
  onProgress?: (done: number, total: number) => void,
): Promise<PseudoLabel[]> {
  const p = RECIPES[o.recipe].pseudoLabels!;
  const promptLen = Math.max(1, Math.round(o.seq * p.promptFraction));
  const starts = Math.floor((train.length - promptLen) / promptLen);
  const order = seededPermutation(starts, mixSeeds(o.seed, 11));
  const prompts = Array.from({ length: count }, (_, i) => Array.from(train.subarray(order[i % starts] * promptLen, order[i % starts] * promptLen + promptLen)));
  // no eos: every continuation fills the sequence, so no batch needs padding
  return continuations(teacherConfig, teacherWeights, prompts, { maxNewTokens: o.seq + 1 - promptLen, temperature: p.temperature, topP: p.topP, topK: p.topK, seed: o.seed }, o, { onProgress });
}

/**
 * Runs the main job.
 *
 * @example
 * const r = await runMainJob({ ...MAIN_JOB_DEFAULTS, out: 'runs/demo' }, { log: console.error });
 * console.log(r.metrics.ppl_ratio_sotu);
 */
export async function runMainJob(o: MainJobOptions, ev: MainJobEvents = {}): Promise<MainJobResult> {
  const started = performance.now();
  const log = ev.log ?? (() => undefined);
  const resume = o.resume !== undefined && o.resume !== false;
  if (o.out) await prepareRunFolder(o.out, { resume });
  // the memory check reads only config.json: a run that cannot fit is refused before the weights load
  checkMainJobFits(o, await readTeacherConfig(o.teacher), log);
  const { config: teacherConfig, weights: teacherWeights, tokenizer } = await loadLlama(o.teacher);
  if (!tokenizer) throw new DistillError('BAD_OPTION', `${o.teacher}: the teacher folder has no tokenizer.json`);
  log(`teacher: ${o.teacher}; student: ${o.variant}, ${o.attentionFraction * 100}% attention; run folder: ${o.out ?? '(none)'}${resume ? ' (resuming)' : ''}`);
  if (o.out && !resume) await writeRunOptions(o.out, { ...o, out: undefined, resume: undefined, keepCheckpoints: undefined });
  const layers = teacherConfig.numHiddenLayers;
  const target = layerSchedule(layers, { attentionFraction: o.attentionFraction });
  const first = layerSchedule(layers, { attentionFraction: 0.75 });
  const recipe = withOverrides(RECIPES[o.recipe], { lr: o.lr, stage2Lr: o.stage2Lr, stage1Loss: o.stage1Loss });
  const stages = recipeStages(recipe, {
    attn75: first.attnLayers, attn50: target.attnLayers, numLayers: layers, stage1Steps: o.stage1Steps, stage2Steps: o.stage2Steps, alignSteps: o.alignSteps,
  });
  const totalSteps = stages.reduce((s, x) => s + x.steps, 0);
  log(`tokenizing SOTU 1790–2000 (${totalSteps * o.batch * o.seq} training tokens) and held-out prefixes (${o.evalTokens} tokens each)…`);
  const data = loadMainJobData(tokenizer, { trainTokens: totalSteps * o.batch * (o.seq + 1) + o.seq + 1, evalTokens: o.evalTokens, seed: o.seed });
  const labelSteps = stages.filter((s) => s.data === 'teacher-pseudo-labels').reduce((n, s) => n + s.steps, 0);
  let pseudoLabels: PseudoLabel[] | undefined;
  let pseudoLabelSeconds = 0;
  if (labelSteps > 0) {
    // one epoch of labels, as the reference trains one epoch over its pseudo-labelled set; shared by both students
    log(`sampling ${labelSteps * o.batch} teacher continuations for the pseudo-label stages (recipe ${o.recipe})…`);
    const t0 = performance.now();
    pseudoLabels = await pseudoLabelsFor(o, teacherConfig, teacherWeights, data.train, labelSteps * o.batch, ev.onPseudoLabels);
    pseudoLabelSeconds = (performance.now() - t0) / 1000;
  }

  const runStudent = (init: MambaLayerInit) =>
    distillHybrid({
      teacherConfig, teacherWeights, variant: o.variant, stages, init, seed: o.seed, tokens: data.train, pseudoLabels, seq: o.seq, batch: o.batch, ep: o.ep, threads: o.threads, spinning: o.spinning,
      padId: tokenizer.eosId ?? 2,
      checkpointDir: o.out ? join(o.out, 'checkpoints', init) : undefined,
      checkpointEvery: o.checkpointEvery ?? MAIN_JOB_DEFAULTS.checkpointEvery,
      checkpointSeconds: o.checkpointSeconds ?? MAIN_JOB_DEFAULTS.checkpointSeconds,
      onStageStart: (s, i) => ev.onStageStart?.(init, s, i, stages.length),
      onProgress: (s, e) => ev.onProgress?.(init, s, e),
    });
  const student = await runStudent(o.init);
  const random = o.ablations ? await runStudent(o.ablationInit) : null;
  const dropped = o.ablations ? dropLayers(teacherWeights, teacherConfig, target.ssmLayers) : null;

  const run = { ep: o.ep, threads: o.threads, spinning: o.spinning ?? false };
  const evalOne = async (name: string, build: (g: Graph) => Tensor, weights: Map<string, Float32Array>, context?: { hybrid?: DistillHybridResult['hybridConfig'] }) => {
    const r: Record<string, number> = {};
    for (const [set, tokens] of Object.entries(data.heldOut))
      r[set] = (await perplexity(build, weights, tokens, { seq: o.seq, batch: 8, ...run, onProgress: (d, t) => ev.onEval?.(name, set, d, t) })).perplexity;
    // Long context and needle: teacher and the attention-init student only (the columns the table is read for).
    const c = context ? await contextColumns(contextEvalModel(teacherConfig, weights, tokenizer, run, context.hybrid), data.heldOut.sotu, data.heldOut.brown) : { pplLong: null, needle: null };
    return { ...(r as { sotu: number; brown: number }), ...c };
  };
  const hybridLogits = (cfg: DistillHybridResult['hybridConfig']) => (g: Graph) => buildHybridTrainGraph(g, teacherConfig, cfg, { maxPositions: o.seq }).logits;
  const count = (w: Map<string, Float32Array>) => [...w.values()].reduce((s, x) => s + x.length, 0);
  const pct = o.attentionFraction * 100;
  const rows: MainJobRow[] = [
    { model: 'teacher (Llama)', params: count(teacherWeights), ...(await evalOne('teacher', (g) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: o.seq }).logits, teacherWeights, {})) },
    { model: `student ${o.variant}, ${pct}% attn, ${o.init}-init`, params: count(student.weights), ...(await evalOne('student', hybridLogits(student.hybridConfig), student.weights, { hybrid: student.hybridConfig })) },
  ];
  if (random) rows.push({ model: `ablation: ${o.ablationInit}-init ${o.variant}`, params: count(random.weights), ...(await evalOne(`${o.ablationInit}-init`, hybridLogits(random.hybridConfig), random.weights)) });
  if (dropped)
    rows.push({
      model: `ablation: teacher minus layers [${target.ssmLayers}]`,
      params: count(dropped.weights),
      ...(await evalOne('dropped', (g) => buildLlamaTrainGraph(g, dropped.config, { maxPositions: o.seq }).logits, dropped.weights)),
    });
  const stageSummary = (r: DistillHybridResult) =>
    r.stages.map((s) => ({ name: s.name, steps: s.history.length, seconds: s.seconds, tokens: s.tokens, tokensPerSec: s.tokens / s.seconds, finalLoss: s.history.at(-1)?.loss }));
  const metrics = {
    teacher: o.teacher, variant: o.variant, attentionFraction: o.attentionFraction, attnLayers: target.attnLayers, ssmLayers: target.ssmLayers,
    recipe: o.recipe, init: o.init, ablationInit: o.ablations ? o.ablationInit : null,
    options: o,
    pseudoLabels: pseudoLabels ? { count: pseudoLabels.length, promptTokens: pseudoLabels[0].prompt.length, newTokens: pseudoLabels[0].completion.length, seconds: pseudoLabelSeconds } : null,
    stages: stageSummary(student),
    randomInitStages: random ? stageSummary(random) : null,
    perplexity: rows,
    ppl_ratio_sotu: rows[1].sotu / rows[0].sotu,
    ppl_ratio_brown: rows[1].brown / rows[0].brown,
    ppl_ratio_random_init_sotu: random ? rows[2].sotu / rows[0].sotu : null,
    ppl_ratio_dropped_sotu: dropped ? rows[rows.length - 1].sotu / rows[0].sotu : null,
    wallSeconds: (performance.now() - started) / 1000,
  };
  if (o.out) {
    await writeRunFolder(o.out, o.teacher, teacherConfig, student, random, stages, metrics);
    if (!o.keepCheckpoints) await rm(join(o.out, 'checkpoints'), { recursive: true, force: true });
  }
  return { rows, student, random, stages, metrics };
}

/**
 * The main job's memory check, from the teacher's config alone: its stages (75% attention on the Mamba mixers, the
 * target schedule on the mixers, then on all parameters) through `checkRunFits`; logs the largest plan.
 *
 * @example checkMainJobFits({ ...MAIN_JOB_DEFAULTS, seq: 512 }, teacherConfig, console.error);
 */
export function checkMainJobFits(o: MainJobOptions, cfg: LlamaConfig, log?: (line: string) => void, budgetBytes?: number): MemoryPlan {
  const layers = cfg.numHiddenLayers;
  const first = layerSchedule(layers, { attentionFraction: 0.75 }).attnLayers;
  const target = layerSchedule(layers, { attentionFraction: o.attentionFraction }).attnLayers;
  const stages = ([[first, 'mamba'], [target, 'mamba'], [target, 'all']] as const).map(([attnLayers, trainable]) => ({ attnLayers, trainable, batch: o.batch, seq: o.seq }));
  return checkRunFits({ teacher: cfg, teacherSource: o.teacher, variant: o.variant, stages, budgetBytes, log });
}

async function writeRunFolder(
  out: string, teacherDir: string, teacherConfig: LlamaConfig, student: DistillHybridResult, random: DistillHybridResult | null,
  stages: StageSpec[], metrics: Record<string, unknown>,
): Promise<void> {
  await writeStudentFolder(join(out, 'student'), teacherDir, teacherConfig, student.hybridConfig, student.weights);
  const curve = stageLossCurves;
  const title = `distillation loss (${metrics.variant}, ${Number(metrics.attentionFraction) * 100}% attention)`;
  const lossSvg = lossCurveSvg([...curve(student, 'attn-init'), ...(random ? curve(random, 'random-init') : [])], { title });
  await writeFileAtomic(join(out, 'loss-curve.svg'), lossSvg);
  const ppl = (metrics.perplexity as MainJobRow[]).map((r) => [r.model, r.params.toLocaleString('en-US'), r.sotu.toFixed(2), r.brown.toFixed(2)]);
  await writeReport(out, `mil distill: ${title}`, [{ heading: 'Distillation loss', svg: lossSvg }, { heading: 'Held-out perplexity', table: { head: ['model', 'params', 'ppl SOTU 2001–2021', 'ppl Brown'], rows: ppl } }]);
  await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  await writeFileAtomic(join(out, 'run-config.json'), JSON.stringify({ stages }, null, 2) + '\n');
}

/** A teacher's config.json alone (nothing else is read). */
export async function readTeacherConfig(dir: string): Promise<LlamaConfig> {
  const folder = await loadModelFolder(dir, { tokenizer: false });
  try {
    return folder.config;
  } finally {
    await folder.close();
  }
}
