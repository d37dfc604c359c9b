// Runs a list of distillation stages: builds the student of each stage (from the teacher, or by progressive
// re-initialisation from the previous stage), compiles its KD step against the frozen teacher and trains it.
import type { RunOptions } from '@mil/core';
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { Graph } from '@mil/graph';
import { buildHybridTrainGraph, buildLlamaTrainGraph } from '@mil/models';
import { initStudentFromTeacher, makeHybridConfig, progressiveReinit, type MambaLayerInit } from '@mil/weight-transfer';
import { TeacherSignal } from '../teacher-signal';
import { compileKdStep } from '../kd-step';
import { compileAlignStep } from '../align-step';
import { compileDpoStep, ReferenceLogProbs } from '../dpo-step';
import { arrayDataSource, listCheckpoints, train, type DataSource, type ProgressEvent, type StepRecord } from '../trainer';
import { collateWindows, tokenWindows, type TokenWindow } from '../data/token-windows';
import type { TokenBatch } from '../train-step';
import { collatePseudoLabels, type PseudoLabel } from '../pseudo-labels';
import { DistillError } from '../errors';
import { isTrainable, type StageSpec } from './stages';

/** The stages to run and on what; `RunOptions` say where (spinning defaults to off here: the optimizer runs in JS between steps and spinning threads slow it). */
export interface DistillHybridOptions extends RunOptions {
  teacherConfig: LlamaConfig;
  teacherWeights: ReadonlyMap<string, Float32Array>;
  variant: 'mamba1' | 'mamba2';
  stages: StageSpec[];
  /**
   * How every Mamba layer starts, at the first stage and at every later stage that replaces more layers: from the
   * attention it replaces ('attention', the paper), or the ablations 'random-layer' (the reference's
   * `init_with_kqvo = false`: the whole decoder layer fresh) and 'random-mixer' (only the mixer; 'random' = this).
   */
  init?: MambaLayerInit | 'random';
  seed?: number;
  /** Training token stream, cut into windows of `seq` + 1 (stages whose data is 'text'; not needed with `stageData`). */
  tokens?: Int32Array;
  /**
   * Each stage's own data (recipe files: text windows, chat windows with assistant masks, pseudo-labels, preference
   * pairs for 'dpo'); replaces `tokens` / `pseudoLabels`. Called when a stage starts training, with the student as
   * it enters the stage (data such as the student's own samples depends on it); not called for a stage a resumed
   * run already finished. Batches may be shorter than `seq`, never longer.
   */
  stageData?: (stage: StageSpec, index: number, student: { weights: ReadonlyMap<string, Float32Array>; hybridConfig: HybridConfig }) => DataSource<TokenBatch> | Promise<DataSource<TokenBatch>>;
  /** Teacher continuations (SeqKD), for stages whose data is 'teacher-pseudo-labels'; each fills `seq` + 1 tokens. */
  pseudoLabels?: readonly PseudoLabel[];
  /** Right-padding id of pseudo-labels shorter than `seq` + 1 (default 2, the eos of Llama tokenizers). */
  padId?: number;
  /** Tokens per row (with `stageData`: the longest row of any stage; the graphs' position tables are this long). */
  seq: number;
  batch: number;
  /** Per-stage checkpoint folders go under this directory (resumable: a rerun continues from them); none = no checkpoints. */
  checkpointDir?: string;
  /** Checkpoint every this many steps (default 50; 0: only at the end of each stage). */
  checkpointEvery?: number;
  /** Also checkpoint when this many seconds have passed since the last one (default: off). */
  checkpointSeconds?: number;
  onProgress?: (stage: StageSpec, event: ProgressEvent) => void;
  onStageStart?: (stage: StageSpec, index: number) => void;
  /** The student as it enters a stage, before any step (the map is trained in place afterwards: copy what you keep). */
  onStageReady?: (stage: StageSpec, index: number, weights: ReadonlyMap<string, Float32Array>, hybridConfig: HybridConfig) => void;
  /** The student at the end of a stage (also for stages a resumed run replays from their checkpoint); awaited. */
  onStageEnd?: (stage: StageSpec, index: number, weights: ReadonlyMap<string, Float32Array>, hybridConfig: HybridConfig) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface DistillHybridResult {
  hybridConfig: HybridConfig;
  weights: Map<string, Float32Array>;
  stages: { name: string; history: StepRecord[]; seconds: number; tokens: number }[];
}

/**
 * Distils the teacher into a hybrid student, stage after stage.
 *
 * @example
 * const r = await distillHybrid({ teacherConfig, teacherWeights, variant: 'mamba2', tokens, seq: 128, batch: 8,
 *   stages: defaultRecipe({ attn75, attn50, stage1Steps: 200, stage2Steps: 50 }) });
 * await saveHybrid('runs/x/student', { teacher: teacherConfig, hybrid: r.hybridConfig, weights: r.weights }, { teacherNameOrPath: 'models/sotu-tiny' });
 */
export async function distillHybrid(o: DistillHybridOptions): Promise<DistillHybridResult> {
  const seed = o.seed ?? 0;
  // Compiled on first use: a resumed run replays finished stages from their checkpoints without compiling them.
  let teacher: TeacherSignal | null = null;
  const teacherSignal = async () =>
    (teacher ??= await TeacherSignal.create((g) => buildLlamaTrainGraph(g, o.teacherConfig, { maxPositions: o.seq }).logits, o.teacherWeights, {
      ep: o.ep,
      threads: o.threads,
      spinning: o.spinning ?? false,
    }));
  const tokens = o.tokens;
  const text = tokens ? arrayDataSource<TokenWindow, TokenBatch>(tokenWindows(tokens.length, o.seq), { batchSize: o.batch, dropLast: true, collate: collateWindows(tokens, o.seq) }) : null;
  const labels = o.pseudoLabels
    ? arrayDataSource<PseudoLabel, TokenBatch>(o.pseudoLabels, { batchSize: o.batch, dropLast: true, collate: (xs) => collatePseudoLabels(xs, o.seq, o.padId) })
    : null;
  const dataFor = async (stage: StageSpec, index: number, student: { weights: Map<string, Float32Array>; hybridConfig: HybridConfig }): Promise<DataSource<TokenBatch>> => {
    if (o.stageData) return o.stageData(stage, index, student);
    if ((stage.data ?? 'text') === 'text') {
      if (!text) throw new DistillError('BAD_OPTION', `stage "${stage.name}" trains on text but distillHybrid got neither tokens nor stageData`);
      return text;
    }
    if (!labels) throw new DistillError('BAD_OPTION', `stage "${stage.name}" trains on teacher pseudo-labels but distillHybrid got no pseudoLabels`);
    return labels;
  };
  // A stage a resumed run finished draws no batch: its data is not built.
  const noData: DataSource<TokenBatch> = { batches: () => [] };
  let hybridConfig: HybridConfig | null = null;
  let weights: Map<string, Float32Array> | null = null;
  const done: DistillHybridResult['stages'] = [];
  try {
    for (const [index, stage] of o.stages.entries()) {
      o.onStageStart?.(stage, index);
      const next = makeHybridConfig(o.teacherConfig, o.variant, stage.attnLayers);
      const init = o.init ?? 'attention';
      if (!weights || !hybridConfig) weights = initStudentFromTeacher(o.teacherWeights, o.teacherConfig, next, { seed, init });
      else if (hybridConfig.attnLayers.join() !== next.attnLayers.join())
        weights = progressiveReinit(weights, hybridConfig, next, o.teacherConfig, { seed: seed + index, init });
      hybridConfig = next;
      o.onStageReady?.(stage, index, weights, hybridConfig);
      const cfg = hybridConfig;
      const entering = weights;
      const run = { ep: o.ep, threads: o.threads, spinning: o.spinning ?? false };
      const trainable = isTrainable(stage.trainable);
      const compile = async (): Promise<{ lossAndGrads: (w: Map<string, Float32Array>, b: TokenBatch) => Promise<{ loss: number; grads: Map<string, Float32Array>; tokens: number }>; release(): Promise<void> }> =>
        stage.kind === 'align'
          ? await compileAlignStep(o.teacherConfig, cfg, o.teacherWeights, { maxPositions: o.seq, ...run })
          : stage.kind === 'dpo'
            ? await compileDpoStage(o.teacherConfig, cfg, entering, stage, { maxPositions: o.seq, trainable, ...run })
            : await compileKdStep(
              (g) => buildHybridTrainGraph(g, o.teacherConfig, cfg, { maxPositions: o.seq }),
              await teacherSignal(),
              { klWeight: stage.loss.kl, ceWeight: stage.loss.ce, temperature: stage.loss.temperature, klReduction: stage.loss.reduction },
              { trainable, ...run },
            );
      // A stage a resumed run already finished is replayed from its last checkpoint: no need to compile it.
      const stageDir = o.checkpointDir ? `${o.checkpointDir}/stage-${index}` : null;
      const finished = stageDir !== null && (await listCheckpoints(stageDir)).at(-1)?.step === stage.steps;
      // Compiled before any step: a DPO stage's reference is the student as it enters the stage.
      let kd: Awaited<ReturnType<typeof compile>> | null = finished ? null : await compile();
      const t0 = performance.now();
      try {
        const stageWeights = weights;
        const result = await train<TokenBatch>({
          params: stageWeights,
          lossAndGrads: async (_p, b) => (kd ??= await compile()).lossAndGrads(stageWeights, b),
          data: finished ? noData : await dataFor(stage, index, { weights: stageWeights, hybridConfig: cfg }),
          totalSteps: stage.steps,
          trainable,
          optimizer: { kind: 'adamw', lr: stage.lr, betas: stage.betas ?? [0.9, 0.98], weightDecay: stage.weightDecay ?? 0 },
          schedule: { kind: stage.decay ?? 'cosine', warmupSteps: stage.warmupSteps ?? 0 },
          maxGradNorm: stage.maxGradNorm,
          seed: seed + index,
          onProgress: (e) => o.onProgress?.(stage, e),
          checkpoint: stageDir
            ? // checkpointEvery 0 = no step interval (the CLI's `--checkpoint-every 0`); stage ends still checkpoint
              { dir: stageDir, every: (o.checkpointEvery ?? 50) > 0 ? (o.checkpointEvery ?? 50) : undefined, everySeconds: o.checkpointSeconds ?? 0, keepLast: 1 }
            : undefined,
          resume: stageDir ? 'latest' : undefined,
          signal: o.signal,
        });
        done.push({ name: stage.name, history: result.history, seconds: (performance.now() - t0) / 1000, tokens: result.history.reduce((s, h) => s + (h.tokens ?? 0), 0) });
        if (result.stopped) break;
        await o.onStageEnd?.(stage, index, stageWeights, cfg);
      } finally {
        await (kd as { release(): Promise<void> } | null)?.release();
      }
    }
  } finally {
    await (teacher as TeacherSignal | null)?.release();
  }
  return { hybridConfig: hybridConfig!, weights: weights!, stages: done };
}

/**
 * The DPO step of a stage over the hybrid student, with its frozen reference: the student as it enters the stage
 * (the standard DPO reference, the SFT model; its log-probs are computed from a copy taken now).
 */
async function compileDpoStage(
  teacherConfig: LlamaConfig, cfg: HybridConfig, entering: ReadonlyMap<string, Float32Array>, stage: StageSpec,
  o: RunOptions & { maxPositions: number; trainable: (name: string) => boolean },
) {
  if (stage.loss.beta === undefined) throw new DistillError('BAD_OPTION', `stage "${stage.name}" is a DPO stage without loss.beta`);
  const build = (g: Graph) => buildHybridTrainGraph(g, teacherConfig, cfg, { maxPositions: o.maxPositions });
  const run = { ep: o.ep, threads: o.threads, spinning: o.spinning };
  const reference = await ReferenceLogProbs.create((g) => build(g).logits, entering, run);
  const step = await compileDpoStep(build, stage.loss.beta, { trainable: o.trainable, ...run });
  return {
    lossAndGrads: async (w: Map<string, Float32Array>, b: TokenBatch) => step.lossAndGrads(w, b, await reference.of(b)),
    async release() {
      await step.release();
      await reference.release();
    },
  };
}
