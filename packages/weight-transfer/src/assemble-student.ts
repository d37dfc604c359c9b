// The loop shared by a fresh init and a progressive re-init: walk the student's parameter list, copying
// what is kept from a source checkpoint and building each Mamba mixer from the source's attention or from scratch.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { HybridDims } from '@mil/models';
import { WeightTransferError } from './errors';
import { freshLayerTensor, LAYER_BODY } from './fresh-layer';
import { initMambaMixer, type AttentionWeights } from './mamba-init';
import type { DtBiasMode } from './seeded-init';
import { studentDims, studentWeightSpecs } from './student-specs';
import { copyOrShare, requireTensor, type WeightMap } from './tensor-source';

/**
 * Where a Mamba layer comes from: copied from the source, mixer built from the source's attention, mixer random
 * (MLP and norms from the source), or the whole decoder layer fresh (mixer, MLP and norms). @internal
 */
export type MixerSource = 'copy' | 'attention' | 'random-mixer' | 'random-layer';

/** @internal */
export interface AssembleOptions {
  teacherConfig: LlamaConfig;
  hybrid: HybridConfig;
  source: WeightMap;
  /** How errors name the source: "teacher", "previous hybrid". */
  sourceLabel: string;
  mixerSource: (layer: number) => MixerSource;
  seed: number;
  dtBiasMode: DtBiasMode;
  shareCopied: boolean;
}

function attentionOf(source: WeightMap, label: string, d: HybridDims, layer: number): AttentionWeights {
  const p = `model.layers.${layer}.self_attn.`;
  return {
    q: requireTensor(source, `${p}q_proj.weight`, [d.dInner, d.dModel], label),
    k: requireTensor(source, `${p}k_proj.weight`, [d.dXb, d.dModel], label),
    v: requireTensor(source, `${p}v_proj.weight`, [d.dXb, d.dModel], label),
    o: requireTensor(source, `${p}o_proj.weight`, [d.dModel, d.dInner], label),
  };
}

/** Every student parameter, in `studentWeightSpecs` order. @internal */
export function assembleStudent(o: AssembleOptions): Map<string, Float32Array> {
  const dims = studentDims(o.teacherConfig, o.hybrid);
  const mixers = new Map<number, Map<string, Float32Array>>();
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of studentWeightSpecs(o.teacherConfig, o.hybrid)) {
    const body = LAYER_BODY.exec(name);
    if (body !== null && dims.isMamba(Number(body[1])) && o.mixerSource(Number(body[1])) === 'random-layer') {
      // gate/up: [intermediate, hidden], down: [hidden, intermediate]; a bias's fan-in is its weight's
      const inFeatures = body[3] === 'down' ? dims.teacher.intermediateSize : dims.dModel;
      out.set(name, freshLayerTensor(name, shape.reduce((a, b) => a * b, 1), inFeatures, o.seed));
      continue;
    }
    const m = /^model\.layers\.(\d+)\.mamba\./.exec(name);
    if (m === null) {
      out.set(name, copyOrShare(requireTensor(o.source, name, shape, o.sourceLabel), o.shareCopied));
      continue;
    }
    const layer = Number(m[1]);
    const how = o.mixerSource(layer);
    if (how === 'copy') {
      out.set(name, copyOrShare(requireTensor(o.source, name, shape, o.sourceLabel), o.shareCopied));
      continue;
    }
    let mixer = mixers.get(layer);
    if (mixer === undefined) {
      if (how === 'attention' && dims.teacher.attentionBias) {
        throw new WeightTransferError(
          'UNSUPPORTED',
          `layer ${layer}: the teacher has attention biases (attention_bias = true) but the Mamba x/B/C/out projections have none; use init: 'random' or a teacher without biases`,
          { tensor: `model.layers.${layer}.self_attn.q_proj.bias` },
        );
      }
      const attn = how === 'attention' ? attentionOf(o.source, o.sourceLabel, dims, layer) : null;
      mixer = initMambaMixer(dims, layer, attn, { seed: o.seed, dtBiasMode: o.dtBiasMode });
      mixers.set(layer, mixer);
    }
    out.set(name, mixer.get(name)!);
  }
  return out;
}
