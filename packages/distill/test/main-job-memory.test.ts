// The one memory check of a run (checkRunFits), as the main job and recipe runs call it before loading weights:
// seq within the teacher's context, then the largest stage's plan, logged, and a coded refusal with the figures.
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { checkMainJobFits, checkRunFits, DistillError, MAIN_JOB_DEFAULTS, MemoryPlanError, readTeacherConfig } from '../src/index';

const teacher = resolve(__dirname, '../../../models/sotu-tiny');

describe('the memory check of a run', () => {
  it("logs the largest stage's plan (stage 2, all parameters trained) and passes when it fits", async () => {
    const lines: string[] = [];
    const plan = checkMainJobFits({ ...MAIN_JOB_DEFAULTS, teacher }, await readTeacherConfig(teacher), (l) => lines.push(l), 2 ** 30);
    expect(plan.trainableParams).toBe(plan.studentParams);
    expect(lines[0]).toMatch(/^memory plan: teacher 6\.8M params, student 7\.1M \(7\.1M trained\)$/);
    expect(lines.at(-1)).toMatch(/total .* of 1\.00 GiB available$/);
  });

  it('refuses with OUT_OF_MEMORY_PLAN and the figures when the budget is too small', async () => {
    const lines: string[] = [];
    let err: unknown;
    try {
      checkMainJobFits({ ...MAIN_JOB_DEFAULTS, teacher, batch: 64, seq: 1024 }, await readTeacherConfig(teacher), (l) => lines.push(l), 2 ** 30);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryPlanError);
    expect((err as MemoryPlanError).code).toBe('OUT_OF_MEMORY_PLAN');
    expect((err as Error).message).toMatch(/the run needs about \d+\.\d\d GiB but 1\.00 GiB is available \(largest: activations, student step/);
    expect(lines.at(-1)).toMatch(/DOES NOT FIT/);
  });

  it('refuses a seq longer than the teacher\'s context with TOO_LARGE naming config.json, before planning', async () => {
    const cfg = await readTeacherConfig(teacher);
    const lines: string[] = [];
    const run = () => checkRunFits({ teacher: cfg, teacherSource: teacher, variant: 'mamba2', log: (l) => lines.push(l), stages: [{ attnLayers: [1, 3, 5, 7], trainable: 'all', batch: 1, seq: 2048 }] });
    expect(run).toThrow(DistillError);
    expect(run).toThrow(/seq 2048 is longer than the teacher's context \(.*sotu-tiny\/config\.json max_position_embeddings = 1024\)/);
    expect(lines).toEqual([]);
  });
});
