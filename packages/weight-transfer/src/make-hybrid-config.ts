// The reference's `mamba_config.json` for a teacher and a set of attention layers (built by @mil/models).
import type { HybridConfig, HybridVariant, LlamaConfig } from '@mil/checkpoint';
import { hybridConfigForTeacher } from '@mil/models';
import { WeightTransferError } from './errors';
import { layerSchedule } from './layer-schedule';

/**
 * The hybrid config (`mamba_config.json`) of a student of `teacherConfig` whose attention stays at `attnLayers`:
 * @mil/models' `hybridConfigForTeacher`, with the layer list checked as a schedule (its errors pass through unchanged).
 * Sizes follow the reference: d_inner = heads × head_dim, d_xb = KV heads × head_dim, `ssm_cfg = {expand: 1}` for
 * Mamba-1 (d_state 16, dt_rank ceil(D/16), d_conv 4 by default) and `{expand: 1, ngroups: heads, d_state: head_dim}`
 * for Mamba-2 (one SSM head per attention head).
 *
 * @example
 * const sched = layerSchedule(32, { attentionFraction: 0.5 });
 * const hybrid = makeHybridConfig(llama3Config, 'mamba2', sched.attnLayers);
 * hybridConfigToJson(hybrid); // { d_model: 4096, ssm_cfg: { expand: 1, ngroups: 32, d_state: 128 }, …, attn_layers: [1, 3, …] }
 */
export function makeHybridConfig(teacherConfig: LlamaConfig, variant: HybridVariant, attnLayers: readonly number[]): HybridConfig {
  if (variant !== 'mamba1' && variant !== 'mamba2') {
    throw new WeightTransferError('BAD_OPTION', `variant: expected 'mamba1' or 'mamba2', got ${JSON.stringify(variant)}`);
  }
  const t = teacherConfig;
  const { attnLayers: attn } = layerSchedule(t.numHiddenLayers, { attnLayers });
  return hybridConfigForTeacher(teacherConfig, variant, attn);
}
