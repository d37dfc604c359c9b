// Ablation baseline: the teacher with the layers a hybrid would replace simply removed.
import type { LlamaConfig } from '@mil/checkpoint';
import { llamaWeightSpecs } from '@mil/models';
import { WeightTransferError } from './errors';
import { copyOrShare, requireTensor, type WeightMap } from './tensor-source';

/** A smaller Llama: its config, weights (layers renumbered 0 … n−1) and which teacher layer each new layer was. */
export interface DroppedModel {
  config: LlamaConfig;
  weights: Map<string, Float32Array>;
  /** keptLayers[j] = the teacher layer that became layer j. */
  keptLayers: number[];
}

/**
 * The teacher with the decoder layers `dropped` removed and the others renumbered in order — the
 * "replaced layers dropped" baseline (e.g. `dropLayers(w, cfg, hybrid.ssmLayers)`). The config is the teacher's with
 * `numHiddenLayers` reduced; embeddings, final norm and LM head are copied.
 *
 * @example
 * const { config, weights, keptLayers } = dropLayers(teacherWeights, cfg, [0, 2]);
 * // config.numHiddenLayers === cfg.numHiddenLayers - 2; keptLayers = [1, 3, 4, …]
 */
export function dropLayers(
  teacherWeights: WeightMap,
  teacherConfig: LlamaConfig,
  dropped: readonly number[],
  options: { shareCopied?: boolean } = {},
): DroppedModel {
  const t = teacherConfig;
  for (const i of dropped) {
    if (!Number.isSafeInteger(i) || i < 0 || i >= t.numHiddenLayers) {
      throw new WeightTransferError('BAD_OPTION', `dropped: ${i} is not a layer index in [0, ${t.numHiddenLayers})`);
    }
  }
  const drop = new Set(dropped);
  if (drop.size !== dropped.length) throw new WeightTransferError('BAD_OPTION', `dropped: indices must be distinct, got [${dropped.join(', ')}]`);
  if (drop.size === t.numHiddenLayers) throw new WeightTransferError('BAD_OPTION', `dropped: cannot drop all ${t.numHiddenLayers} layers`);
  const keptLayers = Array.from({ length: t.numHiddenLayers }, (_, i) => i).filter((i) => !drop.has(i));
  const newIndex = new Map(keptLayers.map((old, j) => [old, j]));
  const share = options.shareCopied === true;
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of llamaWeightSpecs(teacherConfig)) {
    const m = /^model\.layers\.(\d+)\.(.*)$/.exec(name);
    if (m === null) {
      weights.set(name, copyOrShare(requireTensor(teacherWeights, name, shape, 'teacher'), share));
      continue;
    }
    const j = newIndex.get(Number(m[1]));
    if (j === undefined) continue;
    weights.set(`model.layers.${j}.${m[2]}`, copyOrShare(requireTensor(teacherWeights, name, shape, 'teacher'), share));
  }
  return { config: { ...teacherConfig, numHiddenLayers: keptLayers.length }, weights, keptLayers };
}
