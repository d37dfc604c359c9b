// The reference's `mamba_config.json` for a teacher and a set of attention layers (built by @mil/models).
import type { HybridConfig, HybridVariant } from '@mil/checkpoint';
import { hybridConfigForTeacher, type LlamaOracleConfig } from '@mil/models';
import { WeightTransferError } from './errors';
import { layerSchedule } from './layer-schedule';
import { resolveTeacher } from './teacher-config';

/**
 * The hybrid config (`mamba_config.json`) of a student of `teacherConfig` whose attention stays at `attnLayers`:
 * @mil/models' `hybridConfigForTeacher`, with the layer list checked as a schedule and errors as WeightTransferErrors.
 * Sizes follow the reference: d_inner = heads × head_dim, d_xb = KV heads × head_dim, `ssm_cfg = {expand: 1}` for
 * Mamba-1 (d_state 16, dt_rank ceil(D/16), d_conv 4 by default) and `{expand: 1, ngroups: heads, d_state: head_dim}`
 * for Mamba-2 (one SSM head per attention head).
 *
 * @example
 * const sched = layerSchedule(32, { attentionFraction: 0.5 });
 * const hybrid = makeHybridConfig(llama3Config, 'mamba2', sched.attnLayers);
 * hybridConfigToJson(hybrid); // { d_model: 4096, ssm_cfg: { expand: 1, ngroups: 32, d_state: 128 }, …, attn_layers: [1, 3, …] }
 */
export function makeHybridConfig(teacherConfig: LlamaOracleConfig, variant: HybridVariant, attnLayers: readonly number[]): HybridConfig {
  if (variant !== 'mamba1' && variant !== 'mamba2') {
    throw new WeightTransferError('BAD_OPTION', `variant: expected 'mamba1' or 'mamba2', got ${JSON.stringify(variant)}`);
  }
  const t = resolveTeacher(teacherConfig);
  const { attnLayers: attn } = layerSchedule(t.numLayers, { attnLayers });
  try {
    return hybridConfigForTeacher(teacherConfig, variant, attn);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new WeightTransferError('BAD_CONFIG', `the teacher's sizes cannot form a ${variant} mixer: ${detail}`, { cause });
  }
}
