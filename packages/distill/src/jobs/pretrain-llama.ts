// Pretraining a Llama from scratch on a token stream with the resumable trainer: the recipe of the embedded
// default teacher.
import type { LlamaConfig } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { buildLlamaTrainGraph, initLlamaWeights, llamaWeightSpecs } from '@mil/models';
import { compileTrainStep, type TokenBatch } from '../train-step';
import { crossEntropy } from '../losses';
import { collateWindows, tokenWindows, type TokenWindow } from '../data/token-windows';
import { arrayDataSource, train, type ProgressEvent, type TrainResult } from '../trainer';

export interface PretrainOptions extends RunOptions {
  config: LlamaConfig;
  /** Training token stream. */
  tokens: Int32Array;
  seq: number;
  batch: number;
  totalSteps: number;
  lr: number;
  warmupSteps: number;
  weightDecay?: number;
  maxGradNorm?: number;
  seed?: number;
  /** Checkpoint directory (resumable); none = no checkpoints. */
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  evaluate?: (weights: ReadonlyMap<string, Float32Array>, step: number) => Promise<Record<string, number>>;
  evalEvery?: number;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
}

/**
 * Trains a Llama/Mistral config from a seeded random init with next-token cross-entropy, AdamW and a warmup +
 * cosine schedule. Returns the trained weights (HF names) and the run history.
 *
 * @example
 * const { weights } = await pretrainLlama({ config, tokens, seq: 256, batch: 8, totalSteps: 2000, lr: 3e-3, warmupSteps: 100 });
 */
export async function pretrainLlama(o: PretrainOptions): Promise<{ weights: Map<string, Float32Array>; result: TrainResult }> {
  const weights = initLlamaWeights(o.config, o.seed ?? 0);
  const shapes = new Map(llamaWeightSpecs(o.config).map((w) => [w.name, w.shape]));
  const step = await compileTrainStep(
    {
      build: (g, { targets }) => {
        const m = buildLlamaTrainGraph(g, o.config, { maxPositions: o.seq });
        return { loss: crossEntropy(m.logits, targets), params: m.params };
      },
    },
    { ep: o.ep, threads: o.threads, spinning: o.spinning },
  );
  const windows = tokenWindows(o.tokens.length, o.seq);
  const data = arrayDataSource<TokenWindow, TokenBatch>(windows, { batchSize: o.batch, dropLast: true, collate: collateWindows(o.tokens, o.seq) });
  try {
    const result = await train<TokenBatch>({
      params: weights,
      shapes,
      lossAndGrads: (p, b) => step.lossAndGrads(p as Map<string, Float32Array>, b),
      data,
      totalSteps: o.totalSteps,
      optimizer: { kind: 'adamw', lr: o.lr, betas: [0.9, 0.95], weightDecay: o.weightDecay ?? 0.1 },
      schedule: { kind: 'cosine', warmupSteps: o.warmupSteps, minLrRatio: 0.1 },
      maxGradNorm: o.maxGradNorm ?? 1,
      seed: o.seed ?? 0,
      evaluate: o.evaluate,
      evalEvery: o.evalEvery,
      onProgress: o.onProgress,
      checkpoint: o.checkpointDir ? { dir: o.checkpointDir, every: o.checkpointEvery ?? 200, keepLast: 2 } : undefined,
      resume: o.checkpointDir && o.resume ? 'latest' : undefined,
      signal: o.signal,
    });
    return { weights, result };
  } finally {
    await step.release();
  }
}
