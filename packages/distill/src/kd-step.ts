// A knowledge-distillation training step: student graph + the reference's loss kl·KL(teacher‖student) + ce·CE,
// with the teacher's logits fed in as an input.
import type { RunOptions } from '@mil/core';
import { type Graph, type Tensor, add as addT, mul } from '@mil/graph';
import { compileTrainStep, type CompiledStep, type TokenBatch } from './train-step';
import { crossEntropy, forwardKl } from './losses';
import type { TeacherSignal } from './teacher-signal';
import { topKKl } from './teacher-topk-cache';
import { DistillError } from './errors';

export interface KdLossOptions {
  /** Weight of KL(teacher‖student) (reference stage 1: 0.1). */
  klWeight: number;
  /** Weight of token cross-entropy (reference stage 1: 1). */
  ceWeight: number;
  temperature?: number;
  /** 'masked-mean' (default) or 'reference' (unmasked, per-sequence sum / batch, as the released code). */
  klReduction?: 'masked-mean' | 'reference';
}

export interface KdStep {
  step: CompiledStep;
  /** Loss and gradients of one batch: runs the teacher, then the student step. */
  lossAndGrads(params: Map<string, Float32Array>, batch: TokenBatch): Promise<{ loss: number; grads: Map<string, Float32Array>; tokens: number }>;
  release(): Promise<void>;
}

/**
 * Compiles the student's distillation step. `buildStudent` emits the student's logits and returns its parameters.
 *
 * @example
 * const kd = await compileKdStep((g) => { const m = buildHybridTrainGraph(g, cfg, hybrid); return m; }, teacher,
 *   { klWeight: 0.1, ceWeight: 1 }, { trainable: (n) => n.includes('mamba') });
 */
export async function compileKdStep(
  buildStudent: (g: Graph) => { logits: Tensor; params: Map<string, Tensor> },
  teacher: TeacherSignal,
  loss: KdLossOptions,
  opts: RunOptions & { trainable?: (name: string) => boolean } = {},
): Promise<KdStep> {
  const step = await compileTrainStep(
    {
      build: (g, { targets }) => {
        const m = buildStudent(g);
        const v = m.logits.shape[m.logits.rank - 1];
        const t = g.input('teacher_logits', m.logits.dtype, ['batch', 'seq', v]);
        const parts: Tensor[] = [];
        let total: Tensor | null = null;
        if (loss.klWeight !== 0) parts.push(mulScalar(forwardKl(m.logits, t, { targets, temperature: loss.temperature, reduction: loss.klReduction }), loss.klWeight));
        if (loss.ceWeight !== 0) parts.push(mulScalar(crossEntropy(m.logits, targets), loss.ceWeight));
        for (const p of parts) total = total ? addT(total, p) : p;
        if (!total) throw new DistillError('BAD_OPTION', 'compileKdStep: klWeight and ceWeight are both 0');
        return { loss: total, params: m.params };
      },
      trainable: opts.trainable,
    },
    { ep: opts.ep, threads: opts.threads, spinning: opts.spinning },
  );
  return {
    step,
    async lossAndGrads(params, batch) {
      const logits = await teacher.logits(batch);
      const v = logits.length / (batch.batch * batch.seq);
      return step.lossAndGrads(params, { ...batch, extra: { teacher_logits: { data: logits, dims: [batch.batch, batch.seq, v] } } });
    },
    release: () => step.release(),
  };
}

const mulScalar = (t: Tensor, s: number): Tensor => (s === 1 ? t : mul(t, s));

/**
 * Distillation from a cached top-k teacher signal (see teacher-topk-cache.ts): no teacher forward per step.
 *
 * @example
 * const kd = await compileTopKKdStep((g) => buildHybridTrainGraph(g, cfg, hybrid), { klWeight: 1, ceWeight: 0 });
 * const { loss, grads } = await kd.lossAndGrads(weights, batch, await readTeacherTopK(cache, n));
 */
export async function compileTopKKdStep(
  buildStudent: (g: Graph) => { logits: Tensor; params: Map<string, Tensor> },
  loss: Pick<KdLossOptions, 'klWeight' | 'ceWeight'>,
  opts: RunOptions & { trainable?: (name: string) => boolean } = {},
): Promise<{ step: CompiledStep; lossAndGrads(p: Map<string, Float32Array>, b: TokenBatch, topk: { indices: BigInt64Array; logprobs: Float32Array; dims: number[] }): ReturnType<CompiledStep['lossAndGrads']>; release(): Promise<void> }> {
  const step = await compileTrainStep(
    {
      build: (g, { targets }) => {
        const m = buildStudent(g);
        const idx = g.input('teacher_topk_indices', 'int64', ['batch', 'seq', 'k']);
        const lp = g.input('teacher_topk_logprobs', m.logits.dtype, ['batch', 'seq', 'k']);
        let total = mulScalar(topKKl(m.logits, idx, lp, targets), loss.klWeight);
        if (loss.ceWeight !== 0) total = addT(total, mulScalar(crossEntropy(m.logits, targets), loss.ceWeight));
        return { loss: total, params: m.params };
      },
      trainable: opts.trainable,
    },
    opts,
  );
  return {
    step,
    lossAndGrads: (p, b, topk) =>
      step.lossAndGrads(p, { ...b, extra: { teacher_topk_indices: { data: topk.indices, dims: topk.dims }, teacher_topk_logprobs: { data: topk.logprobs, dims: topk.dims } } }),
    release: () => step.release(),
  };
}
