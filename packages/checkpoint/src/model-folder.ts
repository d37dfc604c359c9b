// A Hugging Face model folder in one call: config.json (+ the reference's mamba_config.json for hybrids),
// the safetensors weights by HF name, and the tokenizer.
import { mkdir, readFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { CheckpointError, ioError } from './errors';
import { checkHybridMatchesTeacher, hybridConfigToJson, parseMambaHybridConfig, type HybridConfig, type HybridVariant } from './hybrid-config';
import { stringifySorted } from './json-text';
import { llamaConfigToJson, parseLlamaConfig, type LlamaConfig } from './llama-config';
import type { OpenOptions } from './safetensors-reader';
import type { TensorsToWrite } from './tensor-input';
import { loadTokenizer, type LoadedTokenizer } from './tokenizer';
import { writeSafetensors, type WriteOptions, type WriteResult } from './safetensors-writer';
import { checkModelFitsMemory } from './config-bounds';
import { MAX_CONFIG_BYTES, readSmallTextFile } from './safe-read';
import { checkTokenizerFitsVocab } from './tokenizer-checks';

export interface ModelFolder {
  readonly dir: string;
  /** The teacher / base model config (config.json). */
  readonly config: LlamaConfig;
  /** The hybrid layout when the folder has mamba_config.json, else null. */
  readonly hybrid: HybridConfig | null;
  /** Weights, read lazily by their HF names. Close when done. */
  readonly tensors: Checkpoint;
  /** The tokenizer when the folder has tokenizer.json, else null. */
  readonly tokenizer: LoadedTokenizer | null;
  close(): Promise<void>;
}

export interface LoadModelFolderOptions extends OpenOptions {
  /** Load the tokenizer: 'auto' (default: when tokenizer.json exists), true (required) or false. */
  tokenizer?: boolean | 'auto';
  /** Force the hybrid variant instead of detecting it from mamba_config.json. */
  hybridVariant?: HybridVariant;
  /** Refuse a model whose float32 weights + RoPE tables exceed this many bytes (default: the machine's memory). */
  memoryLimitBytes?: number;
}

// lstat: a dangling link or a symlink loop exists (and fails with a coded error when read), only ENOENT is absent.
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw ioError(e, path, 'checking the model folder');
    },
  );
}

const readText = (path: string, what: string): Promise<string> => readSmallTextFile(path, what, MAX_CONFIG_BYTES);

/**
 * Opens a model folder: parses and cross-checks the configs, opens the weights lazily and loads the tokenizer.
 *
 * @example
 * const m = await loadModelFolder('models/tiny-llama');
 * const emb = await m.tensors.read('model.embed_tokens.weight', { as: 'float32' });
 * const ids = m.tokenizer?.encode('Hello');
 * await m.close();
 */
export async function loadModelFolder(dir: string, opts: LoadModelFolderOptions = {}): Promise<ModelFolder> {
  const configPath = join(dir, 'config.json');
  const config = parseLlamaConfig(await readText(configPath, 'model config'), configPath);
  let hybrid: HybridConfig | null = null;
  const hybridPath = join(dir, 'mamba_config.json');
  if (await exists(hybridPath)) {
    hybrid = parseMambaHybridConfig(await readText(hybridPath, 'hybrid config'), hybridPath, { variant: opts.hybridVariant, vocabSize: config.vocabSize });
    checkHybridMatchesTeacher(hybrid, config, hybridPath);
  }
  const wantTokenizer = opts.tokenizer ?? 'auto';
  const hasTokenizer = await exists(join(dir, 'tokenizer.json'));
  if (wantTokenizer === true && !hasTokenizer) throw new CheckpointError('NOT_FOUND', `${dir}: no tokenizer.json in this model folder`, { path: dir });
  checkModelFitsMemory(config, hybrid, configPath, opts.memoryLimitBytes);
  const tokenizer = wantTokenizer !== false && hasTokenizer ? await loadTokenizer(dir) : null;
  if (tokenizer) {
    let maxId = -1;
    let maxToken = '';
    for (const [t, id] of tokenizer.hf.get_vocab(true)) if (id > maxId) [maxId, maxToken] = [id, t];
    checkTokenizerFitsVocab({ maxId, maxToken }, config.vocabSize, join(dir, 'tokenizer.json'), configPath);
  }
  const tensors = await openCheckpoint(dir, opts);
  return { dir, config, hybrid, tensors, tokenizer, close: () => tensors.close() };
}

export interface SaveModelFolderOptions extends WriteOptions {
  /** Copy tokenizer.json, tokenizer_config.json, special_tokens_map.json and chat_template.jinja from this folder. */
  tokenizerFrom?: string;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'];

/**
 * Writes a model folder that transformers (and the reference, for hybrids) can load: config.json,
 * mamba_config.json when `hybrid` is given, weights as model.safetensors, or shards + index above
 * `maxShardBytes` (default 5 GB like transformers), `__metadata__` {format: 'pt'}, and tokenizer files.
 * Every file is written atomically.
 *
 * @example
 * await saveModelFolder('out/student', { config, hybrid, tensors }, { tokenizerFrom: 'models/teacher' });
 */
export async function saveModelFolder(
  dir: string,
  model: { config: LlamaConfig; hybrid?: HybridConfig | null; tensors: TensorsToWrite },
  opts: SaveModelFolderOptions = {},
): Promise<WriteResult> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError(e, dir, 'creating model folder');
  }
  if (model.hybrid) checkHybridMatchesTeacher(model.hybrid, model.config, join(dir, 'mamba_config.json'));
  const result = await writeSafetensors(join(dir, 'model.safetensors'), model.tensors, {
    ...opts,
    metadata: opts.metadata ?? { format: 'pt' },
    maxShardBytes: opts.maxShardBytes ?? 5e9,
  });
  await writeFileAtomic(join(dir, 'config.json'), `${stringifySorted(llamaConfigToJson(model.config))}\n`, opts);
  if (model.hybrid) await writeFileAtomic(join(dir, 'mamba_config.json'), `${JSON.stringify(hybridConfigToJson(model.hybrid), null, 2)}\n`, opts);
  if (opts.tokenizerFrom !== undefined) {
    for (const f of TOKENIZER_FILES) {
      const from = join(opts.tokenizerFrom, f);
      if (!(await exists(from))) continue;
      let bytes: Uint8Array;
      try {
        bytes = await readFile(from);
      } catch (e) {
        throw ioError(e, from, 'copying tokenizer file');
      }
      await writeFileAtomic(join(dir, f), bytes, opts);
    }
  }
  return result;
}
