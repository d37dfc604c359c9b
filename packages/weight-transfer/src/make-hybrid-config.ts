// The reference's `mamba_config.json` for a teacher and a set of attention layers.
import { parseMambaHybridConfig, type HybridConfig, type HybridVariant } from '@mil/checkpoint';
import type { LlamaOracleConfig } from '@mil/models';
import { WeightTransferError } from './errors';
import { layerSchedule } from './layer-schedule';
import { resolveTeacher } from './teacher-config';

/**
 * The hybrid config (`mamba_config.json`) of a student of `teacherConfig` whose attention stays at `attnLayers`.
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
  const dInner = t.numHeads * t.headDim;
  const dXb = t.numKvHeads * t.headDim;
  const ssmCfg = variant === 'mamba1' ? { expand: 1 } : { expand: 1, ngroups: t.numHeads, d_state: t.headDim };
  const json = {
    d_model: t.hiddenSize,
    ssm_cfg: ssmCfg,
    rms_norm_eps: t.rmsNormEps,
    vocab_size: t.vocabSize,
    d_inner: dInner,
    d_xb: dXb,
    intermediate_size: t.intermediateSize,
    hidden_act: teacherConfig.hidden_act ?? 'silu',
    n_layer: t.numLayers,
    attn_layers: attn,
  };
  try {
    return parseMambaHybridConfig(json, 'mamba_config.json (made from the teacher config)', { variant });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new WeightTransferError('BAD_CONFIG', `the teacher's sizes cannot form a ${variant} mixer: ${detail}`, { cause });
  }
}
