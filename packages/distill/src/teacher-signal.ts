// The frozen teacher's logits for a batch, computed on the fly by its own compiled graph.
import type { RunOptions } from '@mil/core';
import { Graph, Runner, type Tensor } from '@mil/graph';
import { batchFeeds, type TokenBatch } from './train-step';

/**
 * A frozen model that returns full-vocabulary logits [batch, seq, V] for a token batch. Weights are embedded as
 * initializers (ORT pre-packs them); no gradients are built.
 *
 * @example
 * const teacher = await TeacherSignal.create((g) => buildLlamaTrainGraph(g, cfg).logits, weights);
 * const logits = await teacher.logits(batch);
 */
export class TeacherSignal {
  private constructor(private readonly runner: Runner) {}

  static async create(build: (g: Graph) => Tensor, weights: ReadonlyMap<string, Float32Array>, opts: RunOptions = {}): Promise<TeacherSignal> {
    const g = new Graph('teacher');
    const logits = build(g);
    const model = g.toModel({ outputs: { logits }, weights: 'initializers', weightData: (n) => weights.get(n) });
    return new TeacherSignal(await Runner.create(model, opts));
  }

  async logits(batch: TokenBatch): Promise<Float32Array> {
    return (await this.runner.run(batchFeeds(batch, this.runner.inputNames))).logits.data as Float32Array;
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}
