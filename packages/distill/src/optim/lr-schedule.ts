// Learning-rate schedules with Hugging Face transformers' semantics (get_*_schedule_with_warmup, LambdaLR).
import { DistillError } from '../errors';

/**
 * A schedule as plain data (so it can be written into a checkpoint's trainer state).
 * - `constant`: factor 1 after warmup (HF get_constant_schedule_with_warmup; warmup 0 = get_constant_schedule).
 * - `linear`: warmup, then linear decay to 0 at `totalSteps` (HF get_linear_schedule_with_warmup).
 * - `cosine`: warmup, then half a cosine (numCycles 0.5) from 1 down to `minLrRatio`
 *   (HF get_cosine_schedule_with_warmup; with minLrRatio > 0, get_cosine_with_min_lr_schedule_with_warmup).
 */
export type ScheduleSpec =
  | { kind: 'constant'; warmupSteps?: number }
  | { kind: 'linear'; warmupSteps?: number; totalSteps: number }
  | { kind: 'cosine'; warmupSteps?: number; totalSteps: number; minLrRatio?: number; numCycles?: number };

/**
 * The lr multiplier before optimizer step `step` (0-based: the number of steps already taken), as HF's
 * LambdaLR: warmup is `step / warmupSteps`, so the very first update uses factor 0 when warming up.
 *
 * @example
 * scheduleFactor({ kind: 'cosine', warmupSteps: 10, totalSteps: 110 }, 60); // 0.5
 */
export function scheduleFactor(spec: ScheduleSpec, step: number): number {
  const warmup = spec.warmupSteps ?? 0;
  if (step < warmup) return step / Math.max(1, warmup);
  switch (spec.kind) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (spec.totalSteps - step) / Math.max(1, spec.totalSteps - warmup));
    case 'cosine': {
      const progress = (step - warmup) / Math.max(1, spec.totalSteps - warmup);
      const cycles = spec.numCycles ?? 0.5;
      const minRatio = spec.minLrRatio ?? 0;
      const f = 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress));
      return Math.max(0, f * (1 - minRatio) + minRatio);
    }
  }
}

/**
 * A function from step (0-based, steps already taken) to learning rate: `baseLr · scheduleFactor(spec, step)`.
 * Validates the spec once.
 *
 * @example
 * const lrAt = lrSchedule(8e-5, { kind: 'cosine', warmupSteps: 500, totalSteps: 10_000 });
 * opt.step(grads, lrAt(opt.stepCount));
 */
export function lrSchedule(baseLr: number, spec: ScheduleSpec): (step: number) => number {
  validateSchedule(spec);
  if (!(baseLr >= 0) || !Number.isFinite(baseLr)) {
    throw new DistillError('BAD_OPTION', `lrSchedule: baseLr must be a finite number >= 0, got ${baseLr}`);
  }
  return (step) => baseLr * scheduleFactor(spec, step);
}

/** Throw a DistillError ('BAD_OPTION') naming the field of `spec` that is out of range. */
export function validateSchedule(spec: ScheduleSpec): void {
  const bad = (field: string, want: string, got: unknown) =>
    new DistillError('BAD_OPTION', `schedule '${spec.kind}': ${field} must be ${want}, got ${String(got)}`);
  const warmup = spec.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw bad('warmupSteps', 'an integer >= 0', warmup);
  if (spec.kind === 'constant') return;
  if (spec.kind !== 'linear' && spec.kind !== 'cosine') {
    throw new DistillError('BAD_OPTION', `schedule: unknown kind '${String((spec as { kind: unknown }).kind)}'`);
  }
  if (!Number.isInteger(spec.totalSteps) || spec.totalSteps < 1) throw bad('totalSteps', 'an integer >= 1', spec.totalSteps);
  if (spec.kind === 'cosine') {
    const minRatio = spec.minLrRatio ?? 0;
    if (!(minRatio >= 0 && minRatio <= 1)) throw bad('minLrRatio', 'in [0, 1]', minRatio);
    const cycles = spec.numCycles ?? 0.5;
    if (!(cycles > 0) || !Number.isFinite(cycles)) throw bad('numCycles', 'a finite number > 0', cycles);
  }
}
