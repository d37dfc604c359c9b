// The options, callbacks and results of the training loop.
import type { DataSource } from './data-source';
import type { EvalRecord, StepRecord } from './trainer-state';
import { type AdamWOptions, type GradSource, type ParamFilter, type SgdOptions } from '../optim/index';

/** What one micro-batch produced. */
export interface LossAndGrads {
  loss: number;
  /** Gradients of `loss` by HF parameter name; entries for frozen parameters are ignored. */
  grads: GradSource;
  /** Tokens in the micro-batch (for throughput). */
  tokens: number;
}

/** Where a micro-batch sits in the run; `seed` is derived from it, for dropout or sampling that must resume exactly. */
export interface MicroBatchContext {
  /** Optimizer step being computed, 0-based (steps already completed). */
  step: number;
  /** Micro-batch within the step, 0 … gradAccumSteps−1. */
  micro: number;
  epoch: number;
  seed: number;
}

/** Computes the loss and gradients of one micro-batch: by ORT graphs, analytic code, anything. */
export type LossAndGradsFn<B> = (
  params: ReadonlyMap<string, Float32Array>,
  batch: B,
  ctx: MicroBatchContext,
) => Promise<LossAndGrads> | LossAndGrads;

/** The learning-rate schedule; `totalSteps` comes from the trainer. HF semantics (see `scheduleFactor`). */
export interface TrainerSchedule {
  kind: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  /** Warmup as a fraction of totalSteps, rounded up (HF warmup_ratio); ignored when warmupSteps is set. */
  warmupRatio?: number;
  /** Cosine only: floor of the decay as a fraction of the base lr (default 0). */
  minLrRatio?: number;
  /** Cosine only (default 0.5: one half-cosine from 1 to the floor). */
  numCycles?: number;
}

export type TrainerOptimizer =
  | ({ kind?: 'adamw'; lr: number } & Omit<AdamWOptions, 'lr'>)
  | ({ kind: 'sgd'; lr: number } & Omit<SgdOptions, 'lr'>);

export interface CheckpointOptions {
  /** Directory holding `step-NNNNNN/` checkpoints. */
  dir: string;
  /** Save every this many optimizer steps (default: only at the end). */
  every?: number;
  /** Also save after a step when this many seconds have passed since the last save or the start (default 0: off). */
  everySeconds?: number;
  /** Keep the newest N checkpoints (default 3). */
  keepLast?: number;
  /** Save when the run completes or is stopped through `signal` (default true). */
  saveAtEnd?: boolean;
  /** fsync files and directories (default true; tests may turn it off). */
  fsync?: boolean;
}

export interface ProgressEvent {
  /** Optimizer steps completed. */
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokens: number;
  /** Tokens per second of loss-and-gradient + update time in this session (evaluation and saving excluded). */
  tokensPerSec: number;
  /** Remaining time at this session's average wall time per step (evaluation and saving included). */
  etaSec: number;
  elapsedSec: number;
  /** Metrics, when evaluation ran at this step. */
  eval?: Record<string, number>;
}

export interface TrainerOptions<B> {
  /** All model parameters by HF name, updated in place. Frozen ones are read, never written. */
  params: Map<string, Float32Array>;
  /** Shapes by name, for checkpoints and shape-based rules (no decay on 1-D); default: 1-D of the array's length. */
  shapes?: ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>;
  lossAndGrads: LossAndGradsFn<B>;
  data: DataSource<B>;
  /** Optimizer steps to run in total (across resumptions). */
  totalSteps: number;
  /** Micro-batches per optimizer step; their gradients are averaged (default 1). */
  gradAccumSteps?: number;
  optimizer: TrainerOptimizer;
  /** Default: cosine to 0 without warmup. */
  schedule?: TrainerSchedule;
  /** Clip the global gradient norm to this (torch clip_grad_norm_); default: no clipping. */
  maxGradNorm?: number;
  /** Parameters that are not trained (no update, no optimizer state). */
  freeze?: ParamFilter;
  /** If given, only matching parameters are trained (then `freeze` removes more). */
  trainable?: ParamFilter;
  /** Seed of the data order and of `ctx.seed` (default 0). */
  seed?: number;
  evaluate?: (params: ReadonlyMap<string, Float32Array>, step: number) => Promise<number | Record<string, number>> | number | Record<string, number>;
  /** Evaluate after every this many steps (needs `evaluate`). */
  evalEvery?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Called after each checkpoint is published. */
  onCheckpoint?: (path: string, step: number) => void;
  checkpoint?: CheckpointOptions;
  /** Resume from the newest checkpoint in `checkpoint.dir` (a fresh start when there is none) or from a step directory. */
  resume?: 'latest' | string;
  /** Stops the run after the current step; a checkpoint is saved when checkpointing is on. */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** Optimizer steps completed. */
  step: number;
  /** One record per completed step, including steps before a resumption. */
  history: StepRecord[];
  evals: EvalRecord[];
  /** True when `signal` stopped the run before totalSteps. */
  stopped: boolean;
  lastCheckpoint: string | null;
  resumedFrom: string | null;
}
