// The training loop: exact resumption, freezing, accumulation, clipping, evaluation and progress events.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '@mil/checkpoint';
import { afterAll, describe, expect, it } from 'vitest';
import { DistillError, Trainer, arrayDataSource, train, type ProgressEvent, type TrainerOptions } from '../src/index';
import { initParams, makeExamples, snapshot, softmaxLossAndGrads, type Example } from './trainer-softmax-fixture';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mil-trainer-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const EXAMPLES = makeExamples(30);

/** Options shared by the resumption tests: accumulation, clipping, warmup + cosine, decay, freezing, 4.5 epochs. */
function baseOptions(dir: string, overrides: Partial<TrainerOptions<Example[]>> = {}): TrainerOptions<Example[]> {
  const { params, shapes } = initParams();
  return {
    params,
    shapes,
    lossAndGrads: softmaxLossAndGrads,
    data: arrayDataSource(EXAMPLES, { batchSize: 4 }), // 8 micro-batches per epoch, the last one of 2
    totalSteps: 12,
    gradAccumSteps: 3,
    maxGradNorm: 0.3,
    optimizer: { lr: 0.05, betas: [0.9, 0.98], weightDecay: 0.01 },
    schedule: { kind: 'cosine', warmupSteps: 2, minLrRatio: 0.1 },
    freeze: ['proj'],
    seed: 7,
    checkpoint: { dir, every: 4, keepLast: 2, fsync: false },
    ...overrides,
  };
}

describe('Trainer', () => {
  it('the softmax fixture has correct analytic gradients (finite differences, float64)', () => {
    const { params } = initParams(5);
    const batch = EXAMPLES.slice(0, 5);
    const { grads } = softmaxLossAndGrads(params, batch);
    for (const [name, p] of params) {
      for (const i of [0, Math.floor(p.length / 2), p.length - 1]) {
        const orig = p[i];
        const h = 1e-2;
        p[i] = orig + h;
        const up = softmaxLossAndGrads(params, batch).loss;
        p[i] = orig - h;
        const down = softmaxLossAndGrads(params, batch).loss;
        p[i] = orig;
        // The stored values are float32, so use the actually-applied step size.
        const fd = (up - down) / (Math.fround(orig + h) - Math.fround(orig - h));
        expect(Math.abs(fd - (grads as Map<string, Float32Array>).get(name)![i])).toBeLessThan(2e-4);
      }
    }
  });

  it('an interrupted-and-resumed run equals an uninterrupted one, bit for bit', async () => {
    // Uninterrupted.
    const dirA = await tempDir();
    const a = baseOptions(dirA);
    const frozenBefore = snapshot(a.params);
    const fullLossBefore = softmaxLossAndGrads(a.params, EXAMPLES).loss;
    const resA = await train(a);
    expect(resA.step).toBe(12);
    expect(resA.history.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Clipping was active, warmup started at lr 0, the full-data loss (no dropout) went down.
    expect(resA.history.some((r) => r.gradNorm > 0.3)).toBe(true);
    expect(resA.history[0].lr).toBe(0);
    expect(softmaxLossAndGrads(a.params, EXAMPLES).loss).toBeLessThan(fullLossBefore - 0.05);
    // keepLast 2 of the checkpoints at 4, 8, 12.
    expect((await readdir(dirA)).sort()).toEqual(['step-000008', 'step-000012']);

    // Interrupted by a crash during step 10 (second micro-batch), after the checkpoint at step 8.
    const dirB = await tempDir();
    const crashing = baseOptions(dirB, {
      lossAndGrads: (p, batch, ctx) => {
        if (ctx.step === 9 && ctx.micro === 1) throw new Error('simulated crash');
        return softmaxLossAndGrads(p, batch, ctx);
      },
    });
    await expect(train(crashing)).rejects.toThrow('simulated crash');
    expect((await readdir(dirB)).sort()).toEqual(['step-000004', 'step-000008']);

    // Resumed in a new "process": fresh initial params, everything else from the checkpoint.
    const resumed = baseOptions(dirB, { resume: 'latest' });
    const resB = await train(resumed);
    expect(resB.resumedFrom).toBe(join(dirB, 'step-000008'));
    expect(resB.history).toEqual(resA.history);
    expect(snapshot(resumed.params)).toEqual(snapshot(a.params));
    expect(resB.lastCheckpoint).toBe(join(dirB, 'step-000012'));

    // The frozen parameter is bit-identical to its initial value and has no optimizer state.
    expect(snapshot(a.params).get('model.proj.weight')).toEqual(frozenBefore.get('model.proj.weight'));
    expect(snapshot(a.params).get('model.head.weight')).not.toEqual(frozenBefore.get('model.head.weight'));
    const opt = await openSafetensors(join(dirA, 'step-000012', 'optimizer.safetensors'));
    expect([...opt.names].sort()).toEqual([
      'model.head.bias.exp_avg',
      'model.head.bias.exp_avg_sq',
      'model.head.bias.step',
      'model.head.weight.exp_avg',
      'model.head.weight.exp_avg_sq',
      'model.head.weight.step',
    ]);
    expect(opt.info('model.head.weight.exp_avg').shape).toEqual([4, 5]);
    expect(Array.from(await opt.read('model.head.weight.step', { as: 'float32' }))).toEqual([12]);
    await opt.close();
    const model = await openSafetensors(join(dirA, 'step-000012', 'model.safetensors'));
    expect(model.info('model.proj.weight').shape).toEqual([5, 6]);
    expect(await model.read('model.head.bias', { as: 'float32' })).toEqual(a.params.get('model.head.bias'));
    await model.close();
  });

  it('a run stopped through its signal saves where it stopped and resumes exactly', async () => {
    const dirA = await tempDir();
    const a = baseOptions(dirA, { checkpoint: { dir: dirA, fsync: false } });
    const resA = await train(a);
    const dirB = await tempDir();
    const ac = new AbortController();
    const b = baseOptions(dirB, {
      checkpoint: { dir: dirB, fsync: false },
      signal: ac.signal,
      onProgress: (e) => {
        if (e.step === 5) ac.abort();
      },
    });
    const stopped = await train(b);
    expect(stopped.stopped).toBe(true);
    expect(stopped.step).toBe(5);
    expect(await readdir(dirB)).toEqual(['step-000005']);
    const c = baseOptions(dirB, { checkpoint: { dir: dirB, fsync: false }, resume: join(dirB, 'step-000005') });
    const resC = await train(c);
    expect(resC.history).toEqual(resA.history);
    expect(snapshot(c.params)).toEqual(snapshot(a.params));
    // Resuming a finished run is a no-op that reports the same history.
    const done = await train(baseOptions(dirB, { checkpoint: { dir: dirB, fsync: false }, resume: 'latest' }));
    expect(done.history).toEqual(resA.history);
  });

  it('averages gradients over micro-batches and clips their global norm before the update', async () => {
    // Each micro-batch is a constant gradient vector; SGD with lr 1 makes the update equal the final gradient.
    const w = new Float32Array([0, 0, 0]);
    const seeds: number[] = [];
    const micro = [
      [3, 0, 4],
      [1, 2, 0],
      [-1, 0.5, 2],
    ];
    const res = await train({
      params: new Map([['w', w]]),
      lossAndGrads: (_p, batch: number, ctx) => {
        seeds.push(ctx.seed);
        return { loss: batch, tokens: 1, grads: { w: new Float32Array(micro[batch % 3]) } };
      },
      data: { batches: (_seed, pos) => [0, 1, 2].slice(pos) },
      totalSteps: 2,
      gradAccumSteps: 3,
      maxGradNorm: 1,
      optimizer: { kind: 'sgd', lr: 1 },
      schedule: { kind: 'constant' },
    });
    const mean = [1, 2.5 / 3, 2];
    const norm = Math.hypot(...mean);
    expect(res.history[0].loss).toBe(1);
    expect(res.history[0].gradNorm).toBeCloseTo(norm, 6);
    // Two identical steps (the second epoch repeats the first), each moving w by the clipped mean gradient.
    const coef = 1 / (norm + 1e-6);
    Array.from(w).forEach((x, i) => expect(x).toBeCloseTo(-2 * mean[i] * coef, 6));
    // Every micro-batch of every step gets its own seed.
    expect(new Set(seeds).size).toBe(6);
  });

  it('evaluates every N steps and reports progress', async () => {
    const events: ProgressEvent[] = [];
    const evalSteps: number[] = [];
    const { params, shapes } = initParams();
    const res = await train({
      params,
      shapes,
      lossAndGrads: softmaxLossAndGrads,
      data: arrayDataSource(EXAMPLES, { batchSize: 5 }),
      totalSteps: 6,
      optimizer: { lr: 0.02 },
      schedule: { kind: 'linear', warmupSteps: 1 },
      evaluate: (p, step) => {
        evalSteps.push(step);
        return { loss: softmaxLossAndGrads(p, EXAMPLES).loss, acc: 0.5 };
      },
      evalEvery: 2,
      onProgress: (e) => events.push(e),
    });
    expect(evalSteps).toEqual([2, 4, 6]);
    expect(res.evals.map((e) => e.step)).toEqual([2, 4, 6]);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.filter((e) => e.eval).map((e) => e.step)).toEqual([2, 4, 6]);
    expect(events[3].eval!.acc).toBe(0.5);
    for (const e of events) {
      expect(e.totalSteps).toBe(6);
      expect(e.tokens).toBe(5);
      expect(e.tokensPerSec).toBeGreaterThan(0);
      expect(e.etaSec).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(e.gradNorm)).toBe(true);
      // HF linear schedule with 1 warmup step: lr(k) = 0.02 · (6 − k) / 5 for k ≥ 1, 0 at k = 0.
      const k = e.step - 1;
      expect(e.lr).toBeCloseTo(k === 0 ? 0 : (0.02 * (6 - k)) / 5, 12);
    }
    expect(events[5].etaSec).toBe(0);
    expect(events[1].epoch).toBe(0);
    expect(events[5].epoch).toBe(0);
  });

  it('rejects bad gradients, non-finite losses and bad options with coded errors', async () => {
    const base = () => ({ ...initParams(), data: arrayDataSource(EXAMPLES, { batchSize: 5 }), totalSteps: 2, optimizer: { lr: 0.01 } });
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        expect(e).toBeInstanceOf(DistillError);
        return (e as DistillError).code;
      }
      return 'none';
    };
    const before = snapshot(base().params);
    const o1 = base();
    expect(
      await code(train({ ...o1, lossAndGrads: (p, b: Example[]) => {
        const r = softmaxLossAndGrads(p, b);
        (r.grads as Map<string, Float32Array>).delete('model.head.bias');
        return r;
      } })),
    ).toBe('BAD_GRADS');
    expect(await code(train({ ...base(), lossAndGrads: (p, b: Example[]) => ({ ...softmaxLossAndGrads(p, b), grads: { bogus: new Float32Array(1) } }) }))).toBe('BAD_GRADS');
    const o3 = base();
    expect(await code(train({ ...o3, lossAndGrads: (p, b: Example[]) => ({ ...softmaxLossAndGrads(p, b), loss: NaN }) }))).toBe('NON_FINITE');
    expect(snapshot(o3.params)).toEqual(before); // nothing was applied
    expect(await code(train({ ...base(), lossAndGrads: softmaxLossAndGrads, data: { batches: () => [] } }))).toBe('DATA_EXHAUSTED');
    expect(() => new Trainer({ ...base(), lossAndGrads: softmaxLossAndGrads, gradAccumSteps: 0 })).toThrow(/gradAccumSteps/);
    expect(() => new Trainer({ ...base(), lossAndGrads: softmaxLossAndGrads, freeze: [/.*/] })).toThrow(/trainable/);
    expect(() => new Trainer({ ...base(), lossAndGrads: softmaxLossAndGrads, resume: 'latest' })).toThrow(/checkpoint\.dir/);
    expect(() => new Trainer({ ...base(), lossAndGrads: softmaxLossAndGrads, shapes: { 'model.head.bias': [3] } })).toThrow(/model\.head\.bias/);
    expect(() => new Trainer({ ...base(), lossAndGrads: softmaxLossAndGrads, schedule: { kind: 'cosine', minLrRatio: 3 } })).toThrow(DistillError);
  });
});
