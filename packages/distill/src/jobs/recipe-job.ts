// A recipe file run end to end: every stage on its own data through the one stage loop (distillHybrid), with
// per-stage checkpoints (bit-exact --resume), held-out perplexity at the end and a run folder laid out as the
// main job's (student/, metrics.json, loss-curve.svg, run-config.json).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunOptions } from '@mil/core';
import { loadTokenizer, writeFileAtomic, type HybridConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { lossCurveSvg, perplexity } from '@mil/eval';
import type { Graph } from '@mil/graph';
import { distillHybrid, type DistillHybridResult } from '../pipeline/distill-hybrid';
import type { StageSpec } from '../pipeline/stages';
import { resolveRecipe, type ResolvedStage } from '../recipe/recipe-stages';
import { RecipeError, type Recipe } from '../recipe/recipe-file';
import type { ProgressEvent } from '../trainer';
import { checkRunFits } from '../memory/memory-plan';
import { loadMainJobData, type MainJobData } from './main-job-data';
import { readTeacherConfig } from './main-job';
import { prepareRunFolder, stageLossCurves, writeRunOptions, writeStudentFolder } from './run-folder';
import { fileRows, readStageFiles, stageDataSource, type FileData, type RecipeDataContext } from './recipe-data';
import { compareToTeacher, continuations, EVAL_SAMPLING, logitsModel, maskedPerplexity, type TeacherComparison } from './stage-eval';
import { sotuChatPrompts } from './sotu-chat';
import type { PseudoLabel } from '../pseudo-labels';
import type { TokenizeProgress } from '@mil/data';

/** A recipe-file run; `RunOptions` say where it runs. */
export interface RecipeJobOptions extends RunOptions {
  /** Teacher folder (Hugging Face layout). */
  teacher: string;
  recipe: Recipe;
  /** Where the recipe came from (recorded in metrics.json). */
  recipeSource?: string;
  seed: number;
  /** Held-out SOTU tokens for the final perplexity (when a stage trains on the embedded corpus, or stage evaluations are on). */
  evalTokens: number;
  /**
   * Held-out chat prompts (SOTU 2001–2021) for the evaluation after each group of stages (KL to the teacher on its
   * generations, win rate under the teacher, SOTU perplexity ratio); 0: off.
   */
  stageEvalPrompts?: number;
  /** Tokenised-shard cache of `{ paths }` data (default `.cache/mil-data`). */
  cacheDir?: string;
  out?: string;
  checkpointEvery?: number;
  checkpointSeconds?: number;
  resume?: boolean;
  keepCheckpoints?: boolean;
}

export interface RecipeJobEvents {
  log?: (line: string) => void;
  onTokenize?: (stagePath: string, p: TokenizeProgress) => void;
  onStageStart?: (stage: StageSpec, index: number, total: number) => void;
  onProgress?: (stage: StageSpec, e: ProgressEvent) => void;
  onEval?: (model: string, set: string, done: number, total: number) => void;
}

/** Held-out perplexity of one data set, teacher and student. */
export interface HeldOutRow {
  data: string;
  tokens: number;
  teacher: number;
  student: number;
  ratio: number;
}

/** The student measured after a group of stages (`--stage-evals`). */
export interface StageEvalRow extends TeacherComparison {
  after: string;
  sotuPpl: number;
  sotuPplRatio: number;
}

export interface RecipeJobResult {
  student: DistillHybridResult;
  runs: ResolvedStage[];
  heldOut: HeldOutRow[];
  stageEvals: StageEvalRow[];
  metrics: Record<string, unknown>;
}

/** Run indices after which the stage evaluation runs: the last run of a non-align stage whose next non-align stage is of another kind (or none). */
export function stageEvalPoints(runs: readonly ResolvedStage[]): number[] {
  const out: number[] = [];
  runs.forEach((r, i) => {
    if (r.kind === 'align' || runs[i + 1]?.path === r.path) return;
    const next = runs.slice(i + 1).find((x) => x.kind !== 'align');
    if (!next || next.kind !== r.kind) out.push(i);
  });
  return out;
}

/**
 * Runs a recipe file: reads each stage's data, resolves lengths (epochs from the data size), trains every stage in
 * order over one student, evaluates and writes the run folder.
 *
 * @example
 * const recipe = await loadRecipeFile('my-recipe.json');
 * const r = await runRecipeJob({ teacher: 'models/my-llama', recipe, seed: 0, evalTokens: 4096, threads: 2, out: 'runs/mine' });
 * console.log(r.heldOut);
 */
export async function runRecipeJob(o: RecipeJobOptions, ev: RecipeJobEvents = {}): Promise<RecipeJobResult> {
  const started = performance.now();
  const log = ev.log ?? (() => undefined);
  const resume = o.resume === true;
  if (o.out) await prepareRunFolder(o.out, { resume });
  // config.json and the tokenizer first: the data is read and the memory checked before the weights load
  const teacherConfig = await readTeacherConfig(o.teacher);
  const tokenizer = await loadTokenizer(o.teacher);
  let teacherWeights = new Map<string, Float32Array>();
  if (o.out && !resume) await writeRunOptions(o.out, { job: 'recipe', ...o, out: undefined, resume: undefined, keepCheckpoints: undefined });
  const r = o.recipe;
  const run = { ep: o.ep, threads: o.threads, spinning: o.spinning ?? false };
  const maxSeq = Math.max(r.seq, ...r.stages.map((s) => s.seq ?? r.seq));
  log(`teacher: ${o.teacher}; recipe: ${o.recipeSource ?? r.name} (${r.stages.length} stages, student ${r.student.variant}); run folder: ${o.out ?? '(none)'}${resume ? ' (resuming)' : ''}`);

  // The embedded corpus: one training stream shared by its text stages (as the main job's), sized by their steps.
  const usesSotu = r.stages.some((s) => 'corpus' in s.data);
  let sotuData: MainJobData | null = null;
  const sotu = (trainTokens: number) => (sotuData ??= loadMainJobData(tokenizer, { trainTokens, evalTokens: o.evalTokens, seed: o.seed }));
  const ctx: RecipeDataContext = {
    ...run, teacherDir: o.teacher, teacherConfig, teacherWeights, tokenizer, cacheDir: o.cacheDir ?? '.cache/mil-data', seed: o.seed, log,
    sotu: () => sotuData!.train,
    onTokenize: ev.onTokenize,
  };
  const files = new Map<number, FileData | null>();
  // a run's path is its recipe stage's, `stages[<i>]`
  const filesOf = (path: string) => files.get(Number(/^stages\[(\d+)\]/.exec(path)![1])) ?? null;
  for (const [i, s] of r.stages.entries()) {
    const path = `stages[${i}]`;
    if ('corpus' in s.data && s.epochs !== undefined) throw new RecipeError('RECIPE_UNSUPPORTED', `${path}.epochs`, `${path}.epochs: the embedded corpus has no fixed size per pass; give steps or tokens`);
    if (!('corpus' in s.data)) log(`${path}: reading ${'paths' in s.data ? s.data.paths.join(', ') : s.data.pseudoLabels.prompts.join(', ')}…`);
    files.set(i, await readStageFiles(s, path, ctx, s.seq ?? r.seq));
  }
  const runs = resolveRecipe(r, {
    numLayers: teacherConfig.numHiddenLayers,
    stepsPerEpoch: (s, path) => Math.floor(fileRows(filesOf(path)!) / (s.batch ?? r.batch)),
  });
  const stages = runs.map((x) => x.spec);
  // a DPO step runs chosen and rejected rows together
  const planned = runs.map((x) => ({ attnLayers: x.spec.attnLayers, trainable: x.spec.trainable, batch: x.kind === 'dpo' ? 2 * x.batch : x.batch, seq: x.seq }));
  checkRunFits({ teacher: teacherConfig, teacherSource: o.teacher, variant: r.student.variant, stages: planned, log });
  teacherWeights = (await loadLlama(o.teacher)).weights;
  ctx.teacherWeights = teacherWeights;
  const sotuTextSteps = runs.filter((x) => 'corpus' in x.data && (x.kind === 'align' || x.kind === 'kd')).reduce((n, x) => n + x.spec.steps * x.batch * (x.seq + 1), 0);
  if (usesSotu || (o.stageEvalPrompts ?? 0) > 0) {
    log(`tokenizing SOTU 1790–2000 (${sotuTextSteps} training tokens) and held-out prefixes (${o.evalTokens} tokens each)…`);
    sotu(sotuTextSteps + maxSeq + 1);
  }

  // Stage evaluations: the teacher's continuations of held-out chat prompts, sampled once.
  const evalPoints = new Set((o.stageEvalPrompts ?? 0) > 0 ? stageEvalPoints(runs) : []);
  const sampling = { ...EVAL_SAMPLING, maxNewTokens: Math.floor(r.seq / 2), seed: o.seed };
  let evalLabels: PseudoLabel[] = [];
  let teacherSotuPpl = NaN;
  const sotuPpl = async (name: string, build: (g: Graph) => ReturnType<typeof buildLlamaTrainGraph>['logits'], w: Map<string, Float32Array>) =>
    (await perplexity(build, w, sotuData!.heldOut.sotu, { seq: r.seq, batch: 8, ...run, onProgress: (d, t) => ev.onEval?.(name, 'sotu', d, t) })).perplexity;
  const teacherLogits = (g: Graph) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: r.seq }).logits;
  const studentLogits = (cfg: HybridConfig) => (g: Graph) => buildHybridTrainGraph(g, teacherConfig, cfg, { maxPositions: r.seq }).logits;
  if (evalPoints.size > 0) {
    log(`stage evaluations: teacher continuations of ${o.stageEvalPrompts} held-out SOTU chat prompts…`);
    const prompts = sotuChatPrompts(tokenizer, { count: o.stageEvalPrompts!, split: 'heldOut', maxTokens: r.seq - sampling.maxNewTokens, seed: o.seed });
    evalLabels = await continuations(teacherConfig, teacherWeights, prompts, sampling, run, { eosTokenId: tokenizer.eosId ?? undefined });
    teacherSotuPpl = await sotuPpl('teacher', teacherLogits, teacherWeights);
  }
  const stageEvals: StageEvalRow[] = [];

  const student = await distillHybrid({
    teacherConfig, teacherWeights, variant: r.student.variant, stages, seed: o.seed, seq: maxSeq, batch: r.batch, ...run,
    stageData: (_s, i, st) => stageDataSource(runs[i], i, filesOf(runs[i].path), ctx, st),
    checkpointDir: o.out ? join(o.out, 'checkpoints', 'student') : undefined,
    checkpointEvery: o.checkpointEvery ?? 50,
    checkpointSeconds: o.checkpointSeconds ?? 60,
    onStageStart: (s, i) => ev.onStageStart?.(s, i, stages.length),
    onProgress: (s, e) => ev.onProgress?.(s, e),
    onStageEnd: async (s, i, w, cfg) => {
      if (!evalPoints.has(i)) return;
      log(`evaluating the student after ${s.name}…`);
      const weights = new Map(w);
      const c = await compareToTeacher(teacherConfig, teacherWeights, cfg, weights, evalLabels, sampling, r.seq, run, tokenizer.eosId ?? 2, tokenizer.eosId ?? undefined);
      const ppl = await sotuPpl(`after ${s.name}`, studentLogits(cfg), weights);
      const row = { after: s.name, sotuPpl: ppl, sotuPplRatio: ppl / teacherSotuPpl, ...c };
      stageEvals.push(row);
      log(`after ${s.name}: SOTU ppl ratio ${row.sotuPplRatio.toFixed(3)}, KL to teacher ${c.klToTeacher.toFixed(4)}, win rate ${c.winRate.toFixed(3)}`);
    },
  });

  // Held-out perplexity: SOTU 2001–2021 for the embedded corpus, the held-out split of each stage's files.
  const heldOut: HeldOutRow[] = [];
  if (sotuData) {
    const t = Number.isNaN(teacherSotuPpl) ? await sotuPpl('teacher', teacherLogits, teacherWeights) : teacherSotuPpl;
    const s = await sotuPpl('student', studentLogits(student.hybridConfig), student.weights);
    heldOut.push({ data: 'SOTU 2001–2021', tokens: o.evalTokens, teacher: t, student: s, ratio: s / t });
  }
  for (const [i, d] of files) {
    if (d?.kind !== 'windows' || d.heldOut.count === 0) continue;
    const seq = d.heldOut.seq;
    const tm = await logitsModel(teacherConfig, teacherWeights, seq, run);
    const sm = await logitsModel(teacherConfig, student.weights, seq, run, student.hybridConfig);
    try {
      const t = await maskedPerplexity(tm, d.heldOut);
      const s = await maskedPerplexity(sm, d.heldOut);
      heldOut.push({ data: `stages[${i}]: ${d.paths.join(', ')} (held-out split)`, tokens: t.tokens, teacher: t.perplexity, student: s.perplexity, ratio: s.perplexity / t.perplexity });
    } finally {
      await tm.release();
      await sm.release();
    }
  }
  const stageSummary = student.stages.map((s, i) => ({
    name: s.name, kind: runs[i].kind, path: runs[i].path, steps: s.history.length, seconds: s.seconds, tokens: s.tokens,
    firstLoss: s.history[0]?.loss, finalLoss: s.history.at(-1)?.loss, loss: s.history.map((h) => h.loss),
  }));
  const metrics = {
    teacher: o.teacher, recipe: o.recipeSource ?? r.name, variant: r.student.variant, attnLayers: student.hybridConfig.attnLayers,
    options: { ...o, recipe: undefined }, recipeFile: r, stages: stageSummary, heldOut, stageEvals,
    wallSeconds: (performance.now() - started) / 1000,
  };
  if (o.out) {
    await writeStudentFolder(join(o.out, 'student'), o.teacher, teacherConfig, student.hybridConfig, student.weights);
    await writeFileAtomic(join(o.out, 'loss-curve.svg'), lossCurveSvg(stageLossCurves(student, 'student'), { title: `distillation loss (${r.name})` }));
    await writeFileAtomic(join(o.out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    await writeFileAtomic(join(o.out, 'run-config.json'), JSON.stringify({ recipe: r, stages }, null, 2) + '\n');
    if (!o.keepCheckpoints) await rm(join(o.out, 'checkpoints'), { recursive: true, force: true });
  }
  return { student, runs, heldOut, stageEvals, metrics };
}
