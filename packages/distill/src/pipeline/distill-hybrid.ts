// Runs a list of distillation stages: builds the student of each stage (from the teacher, or by progressive
// re-initialisation from the previous stage), compiles its KD step against the frozen teacher and trains it.
import type { ExecutionProvider } from '@mil/graph';
import type { HybridConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph, buildLlamaTrainGraph, type LlamaOracleConfig } from '@mil/models';
import { initStudentFromTeacher, makeHybridConfig, progressiveReinit } from '@mil/weight-transfer';
import { TeacherSignal } from '../teacher-signal';
import { compileKdStep } from '../kd-step';
import { compileAlignStep } from '../align-step';
import { arrayDataSource, listCheckpoints, train, type ProgressEvent, type StepRecord } from '../trainer';
import { collateWindows, tokenWindows, type TokenWindow } from '../data/token-windows';
import type { TokenBatch } from '../train-step';
import { isTrainable, type StageSpec } from './stages';

export interface DistillHybridOptions {
  teacherConfig: LlamaOracleConfig;
  teacherWeights: ReadonlyMap<string, Float32Array>;
  variant: 'mamba1' | 'mamba2';
  stages: StageSpec[];
  /** Mamba mixers initialised from attention (the paper) or randomly (the ablation). */
  init?: 'attention' | 'random';
  seed?: number;
  /** Training token stream, cut into windows of `seq` + 1. */
  tokens: Int32Array;
  seq: number;
  batch: number;
  ep?: ExecutionProvider;
  threads?: number;
  /** ORT thread spinning (default off: the optimizer runs in JS between steps and spinning threads slow it). */
  spinning?: boolean;
  /** Per-stage checkpoint folders go under this directory (resumable: a rerun continues from them); none = no checkpoints. */
  checkpointDir?: string;
  /** Checkpoint every this many steps (default 50; 0: only at the end of each stage). */
  checkpointEvery?: number;
  /** Also checkpoint when this many seconds have passed since the last one (default: off). */
  checkpointSeconds?: number;
  onProgress?: (stage: StageSpec, event: ProgressEvent) => void;
  onStageStart?: (stage: StageSpec, index: number) => void;
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
 * await saveHybrid('runs/x/student', { teacherConfig, hybridConfig: r.hybridConfig, weights: r.weights });
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
  const data = arrayDataSource<TokenWindow, TokenBatch>(windows, { batchSize: o.batch, dropLast: true, collate: collateWindows(o.tokens, o.seq) });
  let hybridConfig: HybridConfig | null = null;
  let weights: Map<string, Float32Array> | null = null;
  const done: DistillHybridResult['stages'] = [];
  try {
    for (const [index, stage] of o.stages.entries()) {
      o.onStageStart?.(stage, index);
      const next = makeHybridConfig(o.teacherConfig, o.variant, stage.attnLayers);
      if (!weights || !hybridConfig) weights = initStudentFromTeacher(o.teacherWeights, o.teacherConfig, next, { seed, init: o.init ?? 'attention' });
      else if (hybridConfig.attnLayers.join() !== next.attnLayers.join())
        weights = progressiveReinit(weights, hybridConfig, next, o.teacherConfig, { seed: seed + index });
      hybridConfig = next;
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
          data,
          totalSteps: stage.steps,
          trainable: isTrainable(stage.trainable),
          optimizer: { kind: 'adamw', lr: stage.lr, betas: [0.9, 0.98], weightDecay: 0 },
          schedule: { kind: 'cosine', warmupSteps: stage.warmupSteps ?? 0 },
          maxGradNorm: stage.maxGradNorm,
          seed: seed + index,
          onProgress: (e) => o.onProgress?.(stage, e),
          checkpoint: stageDir
            ? { dir: stageDir, every: o.checkpointEvery ?? 50, everySeconds: o.checkpointSeconds ?? 0, keepLast: 1 }
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
