// Saving and loading a hybrid student in the reference layout: config.json (the teacher's), mamba_config.json and
// the weights by reference name in model.safetensors (sharded above 5 GB), so checkpoints interoperate with the
// released MambaInLlama models.
import {
  loadModelFolder,
  parseLlamaConfig,
  saveModelFolder,
  type HybridConfig,
  type HybridVariant,
  type LoadedTokenizer,
  type StDtype,
  type TensorToWrite,
  type WriteProgress,
  type WriteResult,
} from '@mil/checkpoint';
import type { LlamaOracleConfig } from '../oracle/llama-config';
import { ModelsError } from '../oracle/models-error';
import { resolveHybridDims } from './hybrid-dims';
import { hybridWeightSpecs, mambaLayerSpecs, toMamba1Layout, type Mamba1Layout } from './hybrid-weights';

/** A student in memory: what `loadHybrid` returns and `saveHybrid` takes. */
export interface HybridModel {
  teacher: LlamaOracleConfig;
  hybrid: HybridConfig;
  /** float32 weights by reference name (either Mamba-1 layout). */
  weights: ReadonlyMap<string, Float32Array>;
}

export interface LoadedHybrid extends HybridModel {
  weights: Map<string, Float32Array>;
  /** The Mamba-1 layout found in the file ('fused' when any layer had `in_proj.weight`); null for Mamba-2. */
  storedMamba1Layout: Mamba1Layout | null;
  /** Tensors in the file that the student does not use (e.g. rotary buffers). */
  unused: string[];
  tokenizer: LoadedTokenizer | null;
}

export interface LoadHybridOptions {
  /** Force the variant instead of detecting it from mamba_config.json. */
  variant?: HybridVariant;
  /** Layout of the returned Mamba-1 weights; default 'separate' (the training layout). */
  mamba1Layout?: Mamba1Layout;
  /** Check every weight is finite, naming the tensor and index of the first NaN/Inf (default true). */
  checkFinite?: boolean;
  /** Refuse a model whose float32 weights + RoPE tables exceed this many bytes (default: the machine's memory). */
  memoryLimitBytes?: number;
}

export interface SaveHybridOptions {
  /** Mamba-1 layout to write; default 'separate' (the reference's training checkpoints). */
  mamba1Layout?: Mamba1Layout;
  /** Stored dtype of every tensor; default 'F32' (the released checkpoints are 'BF16'). */
  dtype?: Extract<StDtype, 'F32' | 'BF16' | 'F16'>;
  /** Copy the tokenizer files from this folder. */
  tokenizerFrom?: string;
  /** fsync before rename (default true). */
  fsync?: boolean;
  onProgress?: (p: WriteProgress) => void;
}

/**
 * Reads a student folder: `config.json` (teacher), `mamba_config.json`, every weight the student has (float32;
 * bf16 / f16 converted), either Mamba-1 layout, and the tokenizer when present.
 *
 * @example
 * const { teacher, hybrid, weights } = await loadHybrid('out/student');
 * const s = await HybridSession.create(teacher, hybrid, weights);
 */
export async function loadHybrid(dir: string, opts: LoadHybridOptions = {}): Promise<LoadedHybrid> {
  const folder = await loadModelFolder(dir, { hybridVariant: opts.variant, memoryLimitBytes: opts.memoryLimitBytes });
  try {
    const hybrid = folder.hybrid;
    if (!hybrid) throw new ModelsError('BAD_CONFIG', `${dir}/mamba_config.json does not exist, so this is not a hybrid student (load it with loadLlama)`);
    const teacher = folder.config.raw as unknown as LlamaOracleConfig;
    const dims = resolveHybridDims(teacher, hybrid);
    const has = (n: string) => folder.tensors.has(n);
    let stored: Mamba1Layout | null = null;
    const specs = hybridWeightSpecs(teacher, hybrid).filter((s) => !/\.mamba\./.test(s.name));
    for (const i of dims.ssmLayers) {
      let layout: Mamba1Layout = 'separate';
      if (dims.variant === 'mamba1' && has(`model.layers.${i}.mamba.in_proj.weight`)) layout = stored = 'fused';
      else if (dims.variant === 'mamba1' && stored === null) stored = 'separate';
      specs.push(...mambaLayerSpecs(dims, i, layout));
    }
    const weights = new Map<string, Float32Array>();
    for (const spec of specs) {
      if (!has(spec.name)) throw new ModelsError('MISSING_WEIGHT', `${folder.tensors.path}: tensor ${spec.name} is missing`);
      const shape = folder.tensors.info(spec.name).shape;
      if (shape.join(',') !== spec.shape.join(',')) {
        throw new ModelsError('BAD_WEIGHT_SHAPE', `${folder.tensors.fileOf(spec.name)}: tensor ${spec.name} has shape [${shape}], expected [${spec.shape}] by ${dir}/mamba_config.json`);
      }
      weights.set(spec.name, (await folder.tensors.read(spec.name, { as: 'float32', checkFinite: opts.checkFinite ?? true })) as Float32Array);
    }
    const unused = folder.tensors.names.filter((n) => !weights.has(n));
    const out = toMamba1Layout(teacher, hybrid, weights, opts.mamba1Layout ?? 'separate');
    return { teacher, hybrid, weights: out, storedMamba1Layout: stored, unused, tokenizer: folder.tokenizer };
  } finally {
    await folder.close();
  }
}

/**
 * Writes a student folder in the reference layout: `config.json` = the teacher config, `mamba_config.json`
 * (d_model, ssm_cfg, rms_norm_eps, vocab_size, d_inner, d_xb, intermediate_size, hidden_act, n_layer,
 * attn_layers), weights in `model.safetensors`. Atomic per file. Saving what `loadHybrid` returned reproduces the
 * files byte for byte.
 *
 * @example
 * await saveHybrid('out/student', { teacher, hybrid, weights }, { dtype: 'BF16', tokenizerFrom: 'models/sotu-tiny' });
 */
export async function saveHybrid(dir: string, model: HybridModel, opts: SaveHybridOptions = {}): Promise<WriteResult> {
  const { teacher, hybrid } = model;
  const layout = opts.mamba1Layout ?? 'separate';
  const dtype = opts.dtype ?? 'F32';
  const w = toMamba1Layout(teacher, hybrid, new Map(model.weights), layout);
  const tensors: [string, TensorToWrite][] = hybridWeightSpecs(teacher, hybrid, { mamba1Layout: layout }).map(({ name, shape }) => {
    const data = w.get(name);
    if (!data) throw new ModelsError('MISSING_WEIGHT', `saveHybrid: no weight ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new ModelsError('BAD_WEIGHT_SHAPE', `saveHybrid: ${name} has ${data.length} values, expected [${shape}] = ${size}`);
    return [name, { dtype, shape, data }];
  });
  // config.json is the teacher's; a config object without model_type (tests, hand-made) gets the one it implies.
  const json = 'model_type' in teacher ? teacher : { model_type: teacher.sliding_window != null ? 'mistral' : 'llama', ...teacher };
  const config = parseLlamaConfig(json, `${dir}/config.json`);
  return saveModelFolder(dir, { config, hybrid, tensors }, { tokenizerFrom: opts.tokenizerFrom, fsync: opts.fsync, onProgress: opts.onProgress });
}
