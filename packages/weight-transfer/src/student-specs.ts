// The student's sizes, parameter names and shapes come from @mil/models (which owns the hybrid naming contract);
// this file adds what attention→Mamba transfer needs on top and turns models' config errors into ours.
import type { HybridConfig } from '@mil/checkpoint';
import { hybridParamCount, hybridWeightSpecs, resolveHybridDims, type HybridDims, type LlamaOracleConfig, type WeightSpec } from '@mil/models';
import { WeightTransferError } from './errors';
import { resolveTeacher } from './teacher-config';

/** `f()`, with a rejection by @mil/models reported as BAD_CONFIG. */
function checkedByModels<T>(f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof WeightTransferError) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new WeightTransferError('BAD_CONFIG', `hybrid config: ${detail}`, { cause });
  }
}

/**
 * The sizes of `hybrid`'s mixers (@mil/models' `resolveHybridDims`), after checking that its x/B/C/out widths are the
 * teacher's V/K/Q/O widths, which the transfer copies row for row. @internal
 */
export function studentDims(teacherConfig: LlamaOracleConfig, hybrid: HybridConfig): HybridDims {
  const t = resolveTeacher(teacherConfig);
  if (hybrid.variant !== 'mamba1' && hybrid.variant !== 'mamba2') {
    throw new WeightTransferError('BAD_CONFIG', `hybrid config variant: expected 'mamba1' or 'mamba2', got ${JSON.stringify(hybrid.variant)}`);
  }
  const dims = checkedByModels(() => resolveHybridDims(teacherConfig, hybrid));
  const widths: [string, number, string, number][] = [
    ['d_inner', hybrid.dInner, 'num_attention_heads × head_dim', t.numHeads * t.headDim],
    ['d_xb', hybrid.dXb, 'num_key_value_heads × head_dim', t.numKvHeads * t.headDim],
  ];
  for (const [field, value, teacherField, expected] of widths) {
    if (value !== expected) {
      throw new WeightTransferError('BAD_CONFIG', `hybrid config ${field} = ${value} but the teacher config gives ${teacherField} = ${expected}; they must match`);
    }
  }
  return dims;
}

/**
 * Every parameter of the hybrid student, in checkpoint order — @mil/models' `hybridWeightSpecs` (training layout),
 * checked as `initStudentFromTeacher` checks its configs. Nothing is allocated, so this sizes an 8B model for free.
 *
 * @example
 * const specs = studentWeightSpecs(llama3Config, makeHybridConfig(llama3Config, 'mamba1', [1, 3, 5]));
 * specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0); // parameter count
 */
export function studentWeightSpecs(teacherConfig: LlamaOracleConfig, hybrid: HybridConfig): WeightSpec[] {
  studentDims(teacherConfig, hybrid);
  return checkedByModels(() => hybridWeightSpecs(teacherConfig, hybrid));
}

/**
 * The student's parameter count, from shapes only (@mil/models' `hybridParamCount(…).total`).
 *
 * @example
 * studentParamCount(llama3Config, makeHybridConfig(llama3Config, 'mamba1', layerSchedule(32, { attentionFraction: 0.5 }).attnLayers));
 * // 8,333,758,464
 */
export function studentParamCount(teacherConfig: LlamaOracleConfig, hybrid: HybridConfig): number {
  studentDims(teacherConfig, hybrid);
  return checkedByModels(() => hybridParamCount(teacherConfig, hybrid).total);
}
