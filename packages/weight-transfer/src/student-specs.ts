// The student's sizes, parameter names and shapes come from @mil/models (which owns the hybrid naming contract and,
// through @mil/checkpoint, the one hybrid-vs-teacher size check); their errors pass through unchanged.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { hybridParamCount, hybridWeightSpecs, resolveHybridDims, type HybridDims, type WeightSpec } from '@mil/models';

/**
 * The sizes of `hybrid`'s mixers: @mil/models' `resolveHybridDims`, which checks (once per config pair) that its
 * x/B/C/out widths are the teacher's V/K/Q/O widths, as the transfer copies them row for row. @internal
 */
export function studentDims(teacherConfig: LlamaConfig, hybrid: HybridConfig): HybridDims {
  return resolveHybridDims(teacherConfig, hybrid);
}

/**
 * Every parameter of the hybrid student, in checkpoint order — @mil/models' `hybridWeightSpecs` (training layout),
 * checked as `initStudentFromTeacher` checks its configs. Nothing is allocated, so this sizes an 8B model for free.
 *
 * @example
 * const specs = studentWeightSpecs(llama3Config, makeHybridConfig(llama3Config, 'mamba1', [1, 3, 5]));
 * specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0); // parameter count
 */
export function studentWeightSpecs(teacherConfig: LlamaConfig, hybrid: HybridConfig): WeightSpec[] {
  studentDims(teacherConfig, hybrid);
  return hybridWeightSpecs(teacherConfig, hybrid);
}

/**
 * The student's parameter count, from shapes only (@mil/models' `hybridParamCount(…).total`).
 *
 * @example
 * studentParamCount(llama3Config, makeHybridConfig(llama3Config, 'mamba1', layerSchedule(32, { attentionFraction: 0.5 }).attnLayers));
 * // 8,333,758,464
 */
export function studentParamCount(teacherConfig: LlamaConfig, hybrid: HybridConfig): number {
  studentDims(teacherConfig, hybrid);
  return hybridParamCount(teacherConfig, hybrid).total;
}
