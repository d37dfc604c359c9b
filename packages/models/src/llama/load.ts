// Loading a Hugging Face Llama / Mistral folder into float32 weights by HF name.
import { loadModelFolder, type LoadedTokenizer, type LlamaConfig } from '@mil/checkpoint';
import { llamaWeightSpecs } from '../oracle/llama-weights';
import { ModelsError } from '../errors';

export interface LoadLlamaOptions {
  /** Check every weight is finite, naming the tensor and index of the first NaN/Inf (default true; off saves a pass over the weights). */
  checkFinite?: boolean;
  /** Refuse a model whose float32 weights + RoPE tables exceed this many bytes (default: the machine's memory). */
  memoryLimitBytes?: number;
}

export interface LoadedLlama {
  config: LlamaConfig;
  weights: Map<string, Float32Array>;
  tokenizer: LoadedTokenizer | null;
}

/**
 * Reads config.json, every weight the config needs (converted to float32; bf16/f16 by bit-shift) and the tokenizer.
 *
 * @example
 * const { config, weights, tokenizer } = await loadLlama('models/sotu-tiny');
 * const session = await LlamaSession.create(config, weights);
 */
export async function loadLlama(dir: string, opts: LoadLlamaOptions = {}): Promise<LoadedLlama> {
  const folder = await loadModelFolder(dir, { memoryLimitBytes: opts.memoryLimitBytes });
  try {
    if (folder.hybrid) throw new ModelsError('BAD_CONFIG', `${dir}/mamba_config.json: this folder holds a hybrid; load it with loadHybrid`);
    const config = folder.config;
    const weights = new Map<string, Float32Array>();
    for (const spec of llamaWeightSpecs(config)) {
      if (!folder.tensors.has(spec.name)) throw new ModelsError('MISSING_WEIGHT', `${folder.tensors.path}: tensor ${spec.name} is missing`);
      const info = folder.tensors.info(spec.name);
      if (info.shape.join(',') !== spec.shape.join(','))
        throw new ModelsError('BAD_WEIGHT_SHAPE', `${folder.tensors.fileOf(spec.name)}: tensor ${spec.name} has shape [${info.shape}], expected [${spec.shape}] by ${dir}/config.json`);
      weights.set(spec.name, (await folder.tensors.read(spec.name, { as: 'float32', checkFinite: opts.checkFinite ?? true })) as Float32Array);
    }
    return { config, weights, tokenizer: folder.tokenizer };
  } finally {
    await folder.close();
  }
}
