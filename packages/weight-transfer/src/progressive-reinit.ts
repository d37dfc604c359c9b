// Progressive re-initialisation (dossier §2): a student with more Mamba layers made from the previous hybrid
// checkpoint, whose fine-tuned attention initialises the newly replaced layers.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { assembleStudent } from './assemble-student';
import { WeightTransferError } from './errors';
import { resolveInitOptions, resolveLayerInit, type MambaLayerInit } from './init-student';
import type { DtBiasMode } from './seeded-init';
import { studentDims } from './student-specs';
import type { WeightMap } from './tensor-source';

/** The sizes that must agree for the previous hybrid's mixers to be loaded as they are. */
const MIXER_SIZES = ['dModel', 'dInner', 'dXb', 'dState', 'dConv', 'dtRank', 'nHeads'] as const;

/** Options of `progressiveReinit`. */
export interface ProgressiveReinitOptions {
  /** Seed of the new parameters of the newly replaced layers (same values as a fresh init with this seed). */
  seed: number;
  /**
   * How the newly replaced layers start (default 'attention': from the checkpoint's fine-tuned attention). The
   * ablations use the same init here as at their first stage, so no layer of a random-init student comes from
   * attention; see `MambaLayerInit`.
   */
  init?: MambaLayerInit | 'random';
  /** How the Δ bias of new mixers is stored; default 'reference'. */
  dtBiasMode?: DtBiasMode;
  /** Share the previous checkpoint's Float32Arrays instead of copying unchanged tensors. Default false. */
  shareCopied?: boolean;
}

/**
 * The student of `newHybridConfig` built from the previous stage's hybrid checkpoint, layer by layer:
 * (i) layers that were Mamba are loaded as they are; (ii) layers that were attention and now become Mamba get
 * x/B/C/out from that checkpoint's fine-tuned v/k/q/o (new parameters initialised as in `initStudentFromTeacher`)
 * and keep its MLP and norms (with `init` 'random-mixer': a random mixer; 'random-layer': the whole layer fresh);
 * (iii) layers still attention are loaded as they are. Embeddings, final norm and LM head
 * come from the checkpoint. A layer that was Mamba cannot become attention again (UNSUPPORTED), and both configs must
 * be the same variant with the same mixer sizes.
 *
 * @example
 * const h25 = makeHybridConfig(cfg, 'mamba1', layerSchedule(32, { attentionFraction: 0.25 }).attnLayers);
 * const w25 = progressiveReinit(w50, h50, h25, cfg, { seed: 1 });
 */
export function progressiveReinit(
  prevHybridWeights: WeightMap,
  prevHybridConfig: HybridConfig,
  newHybridConfig: HybridConfig,
  teacherConfig: LlamaConfig,
  options: ProgressiveReinitOptions,
): Map<string, Float32Array> {
  const o = resolveInitOptions(options);
  const init = resolveLayerInit(options.init);
  const t = teacherConfig;
  if (prevHybridConfig.variant !== newHybridConfig.variant) {
    throw new WeightTransferError('BAD_CONFIG', `the previous hybrid is ${prevHybridConfig.variant} but the new one is ${newHybridConfig.variant}; progressive re-initialisation keeps the variant`);
  }
  const before = studentDims(teacherConfig, prevHybridConfig);
  const after = studentDims(teacherConfig, newHybridConfig);
  for (const k of MIXER_SIZES) {
    if (before[k] !== after[k]) {
      throw new WeightTransferError('BAD_CONFIG', `mixer size ${k} differs: ${before[k]} in the previous hybrid config, ${after[k]} in the new one`);
    }
  }
  const prevAttn = new Set(prevHybridConfig.attnLayers);
  const newAttn = new Set(newHybridConfig.attnLayers);
  for (let i = 0; i < t.numHiddenLayers; i++) {
    if (!prevAttn.has(i) && newAttn.has(i)) {
      throw new WeightTransferError(
        'UNSUPPORTED',
        `layer ${i} is Mamba in the previous hybrid but attention in the new one; its attention weights no longer exist (start again from the teacher)`,
        { tensor: `model.layers.${i}.self_attn.q_proj.weight` },
      );
    }
  }
  return assembleStudent({
    teacherConfig,
    hybrid: newHybridConfig,
    source: prevHybridWeights,
    sourceLabel: 'previous hybrid',
    mixerSource: (layer) => (prevAttn.has(layer) ? init : 'copy'),
    ...o,
  });
}
