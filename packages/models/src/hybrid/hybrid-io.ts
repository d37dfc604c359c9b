// Saving and loading a hybrid student in the reference layout: config.json (the teacher's), mamba_config.json and
// the weights by reference name in model.safetensors (sharded above 5 GB), so checkpoints interoperate with the
// released MambaInLlama models.
import { loadModelFolder,
  saveModelFolder,
  type HybridConfig,
  type HybridVariant,
  type LoadedTokenizer,
  type StDtype,
  type TensorToWrite,
  type WriteProgress,
  type WriteResult, type LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { resolveHybridDims } from './hybrid-dims';
import { hybridWeightSpecs, mambaLayerSpecs, toMamba1Layout, type Mamba1Layout } from './hybrid-weights';

/** A student in memory: what `loadHybrid` returns and `saveHybrid` takes. */
export interface HybridModel {
  teacher: LlamaConfig;
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
  /**
   * The teacher's folder or hub id, written as `_name_or_path` in config.json: the reference's loader
   * (`MambaTransformerHybridModelWrapper.from_pretrained_local`) reads it to build the model around the Mamba layers.
   * Default: the teacher config's own `_name_or_path`, if it has one.
   */
  teacherNameOrPath?: string;
  /**
   * With a tied teacher (`tie_word_embeddings`), also write `lm_head.weight` (= the embedding): the reference loads
   * the weights with a strict `load_state_dict`, which reports a tied head missing. Default true; false omits it
   * (as transformers does for its own tied checkpoints).
   */
  tiedLmHead?: boolean;
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
    const teacher = folder.config;
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

const TORCH_DTYPE = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' } as const;

/**
 * Writes a student folder in the reference layout, loadable by the reference's own loader: `config.json` = the
 * teacher config with `_name_or_path` (the teacher) and the stored dtype, `mamba_config.json` (d_model, ssm_cfg,
 * rms_norm_eps, vocab_size, d_inner, d_xb, intermediate_size, hidden_act, n_layer, attn_layers), every weight of
 * the model's strict state dict in `model.safetensors` (a tied head included, see `tiedLmHead`). Atomic per file.
 * Saving what `loadHybrid` returned reproduces the files byte for byte.
 *
 * @example
 * await saveHybrid('out/student', { teacher, hybrid, weights }, { teacherNameOrPath: 'models/sotu-tiny', tokenizerFrom: 'models/sotu-tiny' });
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
  if (teacher.tieWordEmbeddings && (opts.tiedLmHead ?? true)) {
    const embed = tensors.find(([n]) => n === 'model.embed_tokens.weight')!;
    tensors.push(['lm_head.weight', embed[1]]);
  }
  // config.json is the teacher's, with the path or id it came from (the reference's loader reads _name_or_path) and
  // the dtype field saying how the weights are stored, in the teacher's spelling (transformers 4 or 5).
  const raw = opts.teacherNameOrPath !== undefined ? { ...teacher.raw, _name_or_path: opts.teacherNameOrPath } : teacher.raw;
  const config = { ...teacher, raw, torchDtype: TORCH_DTYPE[dtype] };
  return saveModelFolder(dir, { config, hybrid, tensors }, { tokenizerFrom: opts.tokenizerFrom, fsync: opts.fsync, onProgress: opts.onProgress });
}
