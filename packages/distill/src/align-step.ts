// Layer-wise alignment (a warm start before end-to-end distillation, in the spirit of MOHAWK's hidden-state
// alignment): each Mamba mixer learns to reproduce, from the teacher's own normed layer input, the output of the
// attention it replaces. Mixers train in parallel and the step needs no MLP, LM head or full-depth backward.
import type { RunOptions } from '@mil/core';
import { Graph, Runner, type Tensor, add, div, mul, reduceMean, sub } from '@mil/graph';
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { buildHybridMixerGraph, buildLlamaTrainGraph } from '@mil/models';
import { batchFeeds, compileTrainStep, type CompiledStep, type TokenBatch } from './train-step';
import { DistillError } from './errors';

export interface AlignStep {
  step: CompiledStep;
  lossAndGrads(params: Map<string, Float32Array>, batch: TokenBatch): Promise<{ loss: number; grads: Map<string, Float32Array>; tokens: number }>;
  release(): Promise<void>;
}

/**
 * Compiles the alignment step: loss = Σ over Mamba layers of ‖mixer(h) − attn(h)‖² / ‖attn(h)‖² (mean over positions),
 * with h and attn(h) taken from the frozen teacher on the same batch.
 *
 * @example
 * const align = await compileAlignStep(teacherConfig, hybrid, teacherWeights, { maxPositions: 128 });
 * const { loss, grads } = await align.lossAndGrads(studentWeights, batch);
 */
export async function compileAlignStep(
  teacherConfig: LlamaConfig,
  hybrid: HybridConfig,
  teacherWeights: ReadonlyMap<string, Float32Array>,
  opts: RunOptions & { maxPositions: number },
): Promise<AlignStep> {
  const ssm = new Set(Array.from({ length: teacherConfig.numHiddenLayers }, (_, i) => i).filter((i) => !hybrid.attnLayers.includes(i)));
  const d = teacherConfig.hiddenSize;
  const tg = new Graph('align_targets');
  const captured: Record<string, Tensor> = {};
  buildLlamaTrainGraph(tg, teacherConfig, {
    maxPositions: opts.maxPositions,
    capture: (i, input, out) => {
      if (!ssm.has(i)) return;
      captured[`align_in.${i}`] = input;
      captured[`align_out.${i}`] = out;
    },
  });
  const teacher = await Runner.create(tg.toModel({ outputs: captured, weights: 'initializers', weightData: (n) => teacherWeights.get(n) }), opts);
  const step = await compileTrainStep(
    {
      build: (g) => {
        const params = new Map<string, Tensor>();
        let loss: Tensor | null = null;
        for (const i of ssm) {
          const h = g.input(`align_in.${i}`, 'float32', ['batch', 'seq', d]);
          const target = g.input(`align_out.${i}`, 'float32', ['batch', 'seq', d]);
          const m = buildHybridMixerGraph(g, teacherConfig, hybrid, i, h);
          for (const [n, t] of m.params) params.set(n, t);
          const err = sub(m.y, target);
          const li = div(reduceMean(mul(err, err)), reduceMean(mul(target, target)));
          loss = loss ? add(loss, li) : li;
        }
        if (!loss) throw new DistillError('BAD_OPTION', 'compileAlignStep: the hybrid has no Mamba layers');
        return { loss, params };
      },
    },
    opts,
  );
  return {
    step,
    async lossAndGrads(params, batch) {
      const t = await teacher.run(batchFeeds(batch, teacher.inputNames));
      const extra: NonNullable<TokenBatch['extra']> = {};
      for (const [k, v] of Object.entries(t)) extra[k] = { data: v.data as Float32Array, dims: [...v.dims] };
      return step.lossAndGrads(params, { ...batch, extra });
    },
    async release() {
      await step.release();
      await teacher.release();
    },
  };
}
