// Runs a list of distillation stages: builds the student of each stage (from the teacher, or by progressive
// re-initialisation from the previous stage), compiles its KD step against the frozen teacher and trains it.
import type { RunOptions } from '@mil/core';
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph, buildLlamaTrainGraph } from '@mil/models';
import { initStudentFromTeacher, makeHybridConfig, progressiveReinit, type MambaLayerInit } from '@mil/weight-transfer';
import { TeacherSignal } from '../teacher-signal';
import { compileKdStep } from '../kd-step';
import { compileAlignStep } from '../align-step';
import { arrayDataSource, listCheckpoints, train, type ProgressEvent, type StepRecord } from '../trainer';
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
  /** Training token stream, cut into windows of `seq` + 1 (stages whose data is 'text'). */
  tokens: Int32Array;
  /** Teacher continuations (SeqKD), for stages whose data is 'teacher-pseudo-labels'; each fills `seq` + 1 tokens. */
  pseudoLabels?: readonly PseudoLabel[];
  /** Right-padding id of pseudo-labels shorter than `seq` + 1 (default 2, the eos of Llama tokenizers). */
  padId?: number;
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
  const windows = tokenWindows(o.tokens.length, o.seq);
  const text = arrayDataSource<TokenWindow, TokenBatch>(windows, { batchSize: o.batch, dropLast: true, collate: collateWindows(o.tokens, o.seq) });
  const labels = o.pseudoLabels
    ? arrayDataSource<PseudoLabel, TokenBatch>(o.pseudoLabels, { batchSize: o.batch, dropLast: true, collate: (xs) => collatePseudoLabels(xs, o.seq, o.padId) })
    : null;
  const dataFor = (stage: StageSpec) => {
    if ((stage.data ?? 'text') === 'text') return text;
    if (!labels) throw new DistillError('BAD_OPTION', `stage "${stage.name}" trains on teacher pseudo-labels but distillHybrid got no pseudoLabels`);
    return labels;
  };
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
      const run = { ep: o.ep, threads: o.threads, spinning: o.spinning ?? false };
      const compile = async () =>
        stage.kind === 'align'
          ? await compileAlignStep(o.teacherConfig, cfg, o.teacherWeights, { maxPositions: o.seq, ...run })
          : await compileKdStep(
              (g) => buildHybridTrainGraph(g, o.teacherConfig, cfg, { maxPositions: o.seq }),
              await teacherSignal(),
              { klWeight: stage.loss.kl, ceWeight: stage.loss.ce, temperature: stage.loss.temperature, klReduction: stage.loss.reduction },
              { trainable: isTrainable(stage.trainable), ...run },
            );
      // A stage a resumed run already finished is replayed from its last checkpoint: no need to compile it.
      const stageDir = o.checkpointDir ? `${o.checkpointDir}/stage-${index}` : null;
      const finished = stageDir !== null && (await listCheckpoints(stageDir)).at(-1)?.step === stage.steps;
      let kd: Awaited<ReturnType<typeof compile>> | null = finished ? null : await compile();
      const t0 = performance.now();
      try {
        const stageWeights = weights;
        const result = await train<TokenBatch>({
          params: stageWeights,
          lossAndGrads: async (_p, b) => (kd ??= await compile()).lossAndGrads(stageWeights, b),
          data: dataFor(stage),
          totalSteps: stage.steps,
          trainable: isTrainable(stage.trainable),
          optimizer: { kind: 'adamw', lr: stage.lr, betas: stage.betas ?? [0.9, 0.98], weightDecay: stage.weightDecay ?? 0 },
          schedule: { kind: 'cosine', warmupSteps: stage.warmupSteps ?? 0 },
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
      } finally {
        await (kd as { release(): Promise<void> } | null)?.release();
      }
    }
  } finally {
    await (teacher as TeacherSignal | null)?.release();
  }
  return { hybridConfig: hybridConfig!, weights: weights!, stages: done };
}
