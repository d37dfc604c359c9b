// A checkpoint whose writing fails half-way is never published: the writer is made to throw after the model file.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DistillError, arrayDataSource, train, type TrainerOptions } from '../src/index';
import { initParams, makeExamples, snapshot, softmaxLossAndGrads, type Example } from './trainer-softmax-fixture';

const control = vi.hoisted(() => ({ failOptimizerWriteAtStep: -1, writes: [] as string[] }));

vi.mock('@mil/checkpoint', async (importOriginal) => {
  const real = await importOriginal<typeof import('@mil/checkpoint')>();
  return {
    ...real,
    writeSafetensors: async (...args: Parameters<typeof real.writeSafetensors>) => {
      const [path, , opts] = args;
      control.writes.push(path);
      if (basename(path) === 'optimizer.safetensors' && opts?.metadata?.step === String(control.failOptimizerWriteAtStep)) {
        throw new Error('disk full (simulated)');
      }
      return real.writeSafetensors(...args);
    },
  };
});

const EXAMPLES = makeExamples(24, 9);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function options(dir: string, overrides: Partial<TrainerOptions<Example[]>> = {}): TrainerOptions<Example[]> {
  const { params, shapes } = initParams(8);
  return {
    params,
    shapes,
    lossAndGrads: softmaxLossAndGrads,
    data: arrayDataSource(EXAMPLES, { batchSize: 5 }),
    totalSteps: 6,
    gradAccumSteps: 2,
    maxGradNorm: 1,
    optimizer: { lr: 0.05 },
    seed: 11,
    checkpoint: { dir, every: 2, keepLast: 5, fsync: false },
    ...overrides,
  };
}

describe('checkpoint atomicity', () => {
  it('a save that throws mid-way publishes nothing, and the run resumes from the previous checkpoint', async () => {
    const ref = await mkdtemp(join(tmpdir(), 'mil-trainer-atomic-'));
    const dir = await mkdtemp(join(tmpdir(), 'mil-trainer-atomic-'));
    dirs.push(ref, dir);
    const a = options(ref);
    const resA = await train(a);

    control.failOptimizerWriteAtStep = 4;
    control.writes = [];
    const b = options(dir);
    const err = await train(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DistillError);
    expect((err as DistillError).code).toBe('CHECKPOINT_WRITE_FAILED');
    expect((err as DistillError).message).toMatch(/step-000004/);
    expect(((err as DistillError).cause as Error).message).toBe('disk full (simulated)');
    // The model file of step 4 had been written (into the temporary directory) before the failure.
    expect(control.writes.some((p) => p.includes('.tmp-step-000004') && p.endsWith('model.safetensors'))).toBe(true);
    // Only the complete step-2 checkpoint is there: no step-000004, no temporary directory.
    expect(await readdir(dir)).toEqual(['step-000002']);
    expect((await readdir(join(dir, 'step-000002'))).sort()).toEqual(['model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);

    control.failOptimizerWriteAtStep = -1;
    const c = options(dir, { resume: 'latest' });
    const resC = await train(c);
    expect(resC.resumedFrom).toBe(join(dir, 'step-000002'));
    expect(resC.history).toEqual(resA.history);
    expect(snapshot(c.params)).toEqual(snapshot(a.params));
    expect((await readdir(dir)).sort()).toEqual(['step-000002', 'step-000004', 'step-000006']);
  });

  it('saving over an existing checkpoint of the same step replaces it whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mil-trainer-atomic-'));
    dirs.push(dir);
    await train(options(dir));
    // Resume from step 2 explicitly: steps 4 and 6 are saved again over the existing directories.
    const c = options(dir, { resume: join(dir, 'step-000002') });
    const res = await train(c);
    expect(res.step).toBe(6);
    expect((await readdir(dir)).sort()).toEqual(['step-000002', 'step-000004', 'step-000006']);
    const again = await train(options(dir, { resume: 'latest' }));
    expect(again.history).toEqual(res.history);
    // Resumed behind later checkpoints with keepLast 2: the checkpoint just written is never pruned.
    const behind = options(dir, { resume: join(dir, 'step-000002'), totalSteps: 3, checkpoint: { dir, every: 1, keepLast: 2, fsync: false } });
    await train(behind);
    expect((await readdir(dir)).sort()).toEqual(['step-000003', 'step-000006']);
  });
});
