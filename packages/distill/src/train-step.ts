// Turns a model definition + loss into a compiled training step: feeds a batch and the current weights,
// returns the loss and the gradients of the trainable parameters.
import type { RunOptions } from '@mil/core';
import { type DType, Graph, Runner, type Tensor, gradients } from '@mil/graph';
import { DistillError } from './errors';

export interface TokenBatch {
  /** [batch, seq] token ids. */
  inputIds: BigInt64Array;
  /** [batch, seq] next-token targets aligned with inputIds (-100 = ignore). */
  targets: BigInt64Array;
  batch: number;
  seq: number;
  /** Extra feeds for graphs that need them (e.g. teacher logits), by input name. */
  extra?: Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>;
}

type Feed = { data: Float32Array | BigInt64Array; dims: number[] };

/**
 * The feeds a causal-LM graph may read for a batch — `input_ids`, `targets`, `position_ids` (0…seq−1 per row) and the
 * batch's extras — keeping only the names in `inputNames` (a graph may ignore ids, targets or positions).
 */
export function batchFeeds(batch: TokenBatch, inputNames: readonly string[]): Record<string, Feed> {
  const dims = [batch.batch, batch.seq];
  const all: Record<string, Feed> = { input_ids: { data: batch.inputIds, dims }, targets: { data: batch.targets, dims }, ...batch.extra };
  if (inputNames.includes('position_ids')) {
    const pos = new BigInt64Array(batch.batch * batch.seq);
    for (let i = 0; i < pos.length; i++) pos[i] = BigInt(i % batch.seq);
    all.position_ids = { data: pos, dims };
  }
  return Object.fromEntries(Object.entries(all).filter(([k]) => inputNames.includes(k)));
}

export interface StepDefinition {
  /** Builds the forward graph and the scalar loss; returns the loss and the parameters by name. */
  build: (g: Graph, inputs: { targets: Tensor }) => { loss: Tensor; params: Map<string, Tensor> };
  /** Names of parameters that receive gradients (default: all). */
  trainable?: (name: string) => boolean;
  dtype?: DType;
}

export interface CompiledStep {
  /** Trainable parameter names, in output order. */
  trainable: string[];
  /** Every parameter the graph reads, with shapes. */
  shapes: Map<string, number[]>;
  /** FLOPs of one step per token are not known here; the runner's wall time of the last step is. */
  lastRunMs(): number;
  lossAndGrads(params: Map<string, Float32Array>, batch: TokenBatch): Promise<{ loss: number; grads: Map<string, Float32Array>; tokens: number }>;
  release(): Promise<void>;
}

/**
 * Compiles a training step on onnxruntime: weights are graph inputs fed by reference (no copy per step), so an
 * optimizer that updates the Float32Arrays in place is seen by the next step.
 *
 * @example
 * const step = await compileTrainStep({ build: (g, { targets }) => { const m = buildLlamaTrainGraph(g, cfg);
 *   return { loss: crossEntropy(m.logits, targets), params: m.params }; } }, { threads: 2 });
 * const { loss, grads } = await step.lossAndGrads(weights, batch);
 */
export async function compileTrainStep(def: StepDefinition, opts: RunOptions = {}): Promise<CompiledStep> {
  const g = new Graph('train_step');
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const { loss, params } = def.build(g, { targets });
  const trainable = [...params.keys()].filter((n) => def.trainable?.(n) ?? true);
  const grads = gradients(loss, trainable.map((n) => params.get(n)!));
  const outputs: Record<string, Tensor> = { loss };
  trainable.forEach((n) => (outputs[`grad.${n}`] = grads.get(params.get(n)!)!));
  const model = g.toModel({ outputs, weights: 'inputs' });
  const runner = await Runner.create(model, { ep: opts.ep, threads: opts.threads, spinning: opts.spinning });
  const shapes = new Map([...params].map(([n, t]) => [n, t.shape as number[]]));
  let bound: Map<string, Float32Array> | undefined;
  return {
    trainable,
    shapes,
    lastRunMs: () => runner.lastRunMs,
    async lossAndGrads(weights, batch) {
      if (bound !== weights) {
        // Bind once per weight map: the typed arrays are referenced, later in-place updates are seen.
        const feeds = new Map<string, { data: Float32Array; dims: number[] }>();
        for (const [n, shape] of shapes) {
          const w = weights.get(n);
          if (!w) throw new DistillError('BAD_OPTION', `compileTrainStep: no weights for parameter ${n}`);
          feeds.set(n, { data: w, dims: shape });
        }
        runner.setPersistent(feeds);
        bound = weights;
      }
      const out = await runner.run(batchFeeds(batch, runner.inputNames));
      const gradMap = new Map<string, Float32Array>();
      for (const n of trainable) gradMap.set(n, out[`grad.${n}`].data as Float32Array);
      let tokens = 0;
      for (const t of batch.targets) if (t !== -100n) tokens++;
      return { loss: out.loss.data[0] as number, grads: gradMap, tokens };
    },
    release: () => runner.release(),
  };
}
