// The memory plan `mil distill` logs before loading anything, and its refusal.
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { MAIN_JOB_DEFAULTS, MemoryPlanError } from '@mil/distill';
import { checkMainJobMemory } from '../src/commands/memory-check';

const teacher = resolve(__dirname, '../../../models/sotu-tiny');

describe('mil distill memory check', () => {
  it("logs the largest stage's plan (stage 2, all parameters trained) and passes when it fits", async () => {
    const lines: string[] = [];
    const plan = await checkMainJobMemory({ ...MAIN_JOB_DEFAULTS, teacher }, (l) => lines.push(l), 2 ** 30);
    expect(plan.trainableParams).toBe(plan.studentParams);
    expect(lines[0]).toMatch(/^memory plan: teacher 6\.8M params, student 7\.1M \(7\.1M trained\)$/);
    expect(lines.at(-1)).toMatch(/total .* of 1\.00 GiB available$/);
  });

  it('refuses with OUT_OF_MEMORY_PLAN and the figures when the budget is too small', async () => {
    const lines: string[] = [];
    const err = await checkMainJobMemory({ ...MAIN_JOB_DEFAULTS, teacher, batch: 64, seq: 1024 }, (l) => lines.push(l), 2 ** 30).catch((e) => e);
    expect(err).toBeInstanceOf(MemoryPlanError);
    expect(err.code).toBe('OUT_OF_MEMORY_PLAN');
    expect(err.message).toMatch(/the run needs about \d+\.\d\d GiB but 1\.00 GiB is available \(largest: activations, student step/);
    expect(lines.at(-1)).toMatch(/DOES NOT FIT/);
  });
});
