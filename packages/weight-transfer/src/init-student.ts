// A hybrid student initialised from its teacher (dossier §2): V→x, K→B, Q→C, O→out, everything else copied,
// new Mamba parameters initialised as the reference does.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { assembleStudent } from './assemble-student';
import { WeightTransferError } from './errors';
import { checkSeed, type DtBiasMode } from './seeded-init';
import type { WeightMap } from './tensor-source';

/**
 * How a new Mamba layer starts. 'attention': x/B/C/out from the attention it replaces (V/K/Q/O), MLP and norms
 * kept. 'random-layer': the reference's `init_with_kqvo = false`: the whole new decoder layer at its module's initial
 * values (mixer as below, MLP PyTorch Linear default, norms 1). 'random-mixer': only the mixer random (x/B/C/out
 * PyTorch Linear defaults too), MLP and norms kept. 'random' is the older name of 'random-mixer'.
 */
export type MambaLayerInit = 'attention' | 'random-layer' | 'random-mixer';

export const MAMBA_LAYER_INITS: readonly MambaLayerInit[] = ['attention', 'random-layer', 'random-mixer'];

/** Checks an init option ('random' = 'random-mixer') and returns it. @internal */
export function resolveLayerInit(init: unknown): MambaLayerInit {
  if (init === undefined) return 'attention';
  if (init === 'random') return 'random-mixer';
  if (!(MAMBA_LAYER_INITS as readonly unknown[]).includes(init)) {
    throw new WeightTransferError('BAD_OPTION', `init: expected ${MAMBA_LAYER_INITS.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(init)}`);
  }
  return init as MambaLayerInit;
}

/** Options of `initStudentFromTeacher`. */
export interface StudentInitOptions {
  /** Seed of every new parameter (a tensor's values depend only on the seed and its name). */
  seed: number;
  /** How every Mamba layer starts (default 'attention'); see `MambaLayerInit`. */
  init?: MambaLayerInit | 'random';
  /** How the Δ bias is stored; default 'reference'. See `DtBiasMode`. */
  dtBiasMode?: DtBiasMode;
  /**
   * Put the teacher's own Float32Arrays (not copies) into the result for tensors copied unchanged; saves memory for
   * large teachers, but then writing to one model writes to the other. Default false.
   */
  shareCopied?: boolean;
}

/** Checks the options shared by the init functions and fills in their defaults. @internal */
export function resolveInitOptions(opts: { seed: number; dtBiasMode?: DtBiasMode; shareCopied?: boolean }): { seed: number; dtBiasMode: DtBiasMode; shareCopied: boolean } {
  if (opts == null || typeof opts !== 'object') throw new WeightTransferError('BAD_OPTION', 'options: expected an object with a seed');
  const dtBiasMode = opts.dtBiasMode ?? 'reference';
  if (dtBiasMode !== 'reference' && dtBiasMode !== 'effective') {
    throw new WeightTransferError('BAD_OPTION', `dtBiasMode: expected 'reference' or 'effective', got ${JSON.stringify(dtBiasMode)}`);
  }
  return { seed: checkSeed(opts.seed), dtBiasMode, shareCopied: opts.shareCopied === true };
}

/**
 * Every parameter of the hybrid student described by `hybridConfig`, initialised from `teacherWeights`:
 * for each Mamba layer V→x, K→B, Q→C, O→out (Mamba-2: into the x/B/C row blocks of `in_proj`) and new parameters as in
 * the reference (Δ bias softplus⁻¹ of log-uniform [1e-3, 0.1], A_log, D = 1, PyTorch defaults for z, Δ and conv);
 * attention layers, MLPs, norms, embeddings and LM head copied bit-exactly. `init` chooses the ablations instead
 * (`'random-layer'`: the reference's `init_with_kqvo = false`; `'random-mixer'`). Teacher tensors are checked by name and size
 * (MISSING_TENSOR / BAD_TENSOR_SHAPE name the tensor); tensors the student does not use are ignored.
 *
 * @example
 * const hybrid = makeHybridConfig(cfg, 'mamba1', layerSchedule(cfg.num_hidden_layers, { attentionFraction: 0.5 }).attnLayers);
 * const student = initStudentFromTeacher(teacherWeights, cfg, hybrid, { seed: 0 });
 * student.get('model.layers.0.mamba.in_proj_x.weight'); // === teacher's model.layers.0.self_attn.v_proj.weight values
 * const ablation = initStudentFromTeacher(teacherWeights, cfg, hybrid, { seed: 0, init: 'random-layer' });
 */
export function initStudentFromTeacher(
  teacherWeights: WeightMap,
  teacherConfig: LlamaConfig,
  hybridConfig: HybridConfig,
  options: StudentInitOptions,
): Map<string, Float32Array> {
  const o = resolveInitOptions(options);
  const init = resolveLayerInit(options.init);
  return assembleStudent({
    teacherConfig,
    hybrid: hybridConfig,
    source: teacherWeights,
    sourceLabel: 'teacher',
    mixerSource: () => init,
    ...o,
  });
}
