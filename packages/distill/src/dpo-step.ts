// Distilled preference optimisation (stage 3): the policy is trained so that, relative to a frozen reference model,
// it prefers the chosen completion (the teacher's sample) over the rejected one (the student's own sample).
import type { RunOptions } from '@mil/core';
import { Graph, Runner, type Tensor, reshape, slice, squeeze } from '@mil/graph';
import { batchFeeds, compileTrainStep, type CompiledStep, type TokenBatch } from './train-step';
import { dpoLoss, sequenceLogProb } from './losses';

/** A preference pair packed as one batch: rows [0, B) chosen, rows [B, 2B) rejected (prompt targets = -100). */
export type PairBatch = TokenBatch;

/**
 * Frozen reference model: Σ log p(target) per row of a batch, [rows].
 *
 * @example
 * const ref = await ReferenceLogProbs.create((g) => buildHybridTrainGraph(g, cfg, hybrid).logits, sftWeights);
 */
export class ReferenceLogProbs {
  private constructor(private readonly runner: Runner) {}

  static async create(build: (g: Graph) => Tensor, weights: ReadonlyMap<string, Float32Array>, opts: RunOptions = {}): Promise<ReferenceLogProbs> {
    const g = new Graph('reference_logps');
    const targets = g.input('targets', 'int64', ['batch', 'seq']);
    const logps = sequenceLogProb(build(g), targets);
    return new ReferenceLogProbs(await Runner.create(g.toModel({ outputs: { logps }, weights: 'initializers', weightData: (n) => weights.get(n) }), opts));
  }

  async of(b: PairBatch): Promise<Float32Array> {
    return (await this.runner.run(batchFeeds(b, this.runner.inputNames))).logps.data as Float32Array;
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}

/**
 * Compiles the DPO (sigmoid) training step of a policy over packed pairs; the reference log-probs are an input.
 *
 * @example
 * const step = await compileDpoStep((g) => buildHybridTrainGraph(g, cfg, hybrid), 0.1);
 * const { loss, grads } = await step.lossAndGrads(weights, pairs, await ref.of(pairs));
 */
export async function compileDpoStep(
  buildPolicy: (g: Graph) => { logits: Tensor; params: Map<string, Tensor> },
  beta: number,
  opts: RunOptions & { trainable?: (name: string) => boolean } = {},
): Promise<{ step: CompiledStep; lossAndGrads(w: Map<string, Float32Array>, b: PairBatch, refLogps: Float32Array): ReturnType<CompiledStep['lossAndGrads']>; release(): Promise<void> }> {
  const step = await compileTrainStep(
    {
      build: (g, { targets }) => {
        const m = buildPolicy(g);
        const halves = (t: Tensor) => {
          const two = reshape(t, [2, -1]); // [chosen rows; rejected rows]
          return [squeeze(slice(two, [0], [1], [0]), [0]), squeeze(slice(two, [1], [2], [0]), [0])];
        };
        const [pc, pr] = halves(sequenceLogProb(m.logits, targets));
        const [rc, rr] = halves(g.input('ref_logps', m.logits.dtype, ['batch']));
        return { loss: dpoLoss(pc, pr, rc, rr, beta), params: m.params };
      },
      trainable: opts.trainable,
    },
    { ep: opts.ep, threads: opts.threads },
  );
  return {
    step,
    lossAndGrads: (w, b, refLogps) => step.lossAndGrads(w, { ...b, extra: { ref_logps: { data: refLogps, dims: [b.batch] } } }),
    release: () => step.release(),
  };
}

/** Packs (prompt, chosen, rejected) token lists into a PairBatch of `seq` positions (right-padded with `padId`). */
export function collatePairs(pairs: { prompt: number[]; chosen: number[]; rejected: number[] }[], seq: number, padId = 2): PairBatch {
  const rows = [...pairs.map((p) => [p.prompt, p.chosen] as const), ...pairs.map((p) => [p.prompt, p.rejected] as const)];
  const inputIds = new BigInt64Array(rows.length * seq).fill(BigInt(padId));
  const targets = new BigInt64Array(rows.length * seq).fill(-100n);
  rows.forEach(([prompt, completion], r) => {
    const all = [...prompt, ...completion].slice(0, seq + 1);
    for (let t = 0; t < Math.min(seq, all.length); t++) {
      inputIds[r * seq + t] = BigInt(all[t]);
      if (t + 1 < all.length && t + 1 >= prompt.length) targets[r * seq + t] = BigInt(all[t + 1]);
    }
  });
  return { inputIds, targets, batch: rows.length, seq };
}
