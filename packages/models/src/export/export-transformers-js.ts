// A folder that transformers.js loads as it is: onnx/model.onnx (+ onnx/model_fp16.onnx), config.json,
// generation_config.json and the tokenizer files.
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, hybridConfigToJson, llamaConfigToJson } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { resolveHybridDims } from '../hybrid/hybrid-dims';
import { writeExportGraph, type ExportSource, type GraphIo } from './export-onnx';

/** Tokenizer and generation files copied from the model folder when present (tokenizer.json is required). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'] as const;

export interface TransformersJsExportOptions {
  /** The model folder holding tokenizer.json (+ tokenizer_config.json, special_tokens_map.json, generation_config.json). */
  tokenizerDir: string;
  /** Graph dtypes to write: float32 → onnx/model.onnx, float16 → onnx/model_fp16.onnx (default both for a teacher,
   * float32 for a hybrid). */
  dtypes?: readonly ('float32' | 'float16')[];
  /** Longest context (RoPE table rows; default max_position_embeddings). */
  maxPositions?: number;
}

export interface TransformersJsExport {
  dir: string;
  files: string[];
  io: GraphIo;
  /** The `model_type` transformers.js sees: `llama` for teachers, `granitemoehybrid` for hybrids. */
  modelType: string;
}

/**
 * The config.json transformers.js reads. A teacher keeps its Hugging Face config. A hybrid is described as
 * `granitemoehybrid` — the Mamba-2 hybrid type whose cache names transformers.js takes from `layer_types`
 * (`mamba` → `past_conv.{i}` / `past_ssm.{i}`, `attention` → `past_key_values.{i}.key/value`); the ONNX graph carries
 * all the arithmetic, so no Granite-specific field is read. Our own hybrid config stays under `mil_hybrid`.
 *
 * @example
 * transformersJsConfig(teacher, hybrid).layer_types; // ['mamba', 'attention', 'mamba', ...]
 */
export function transformersJsConfig(m: Pick<ExportSource, 'teacher' | 'hybrid'>): Record<string, unknown> {
  const base: Record<string, unknown> = { architectures: ['LlamaForCausalLM'], ...llamaConfigToJson(m.teacher) };
  if (!m.hybrid) return { ...base, use_cache: true };
  const dims = resolveHybridDims(m.teacher, m.hybrid);
  const layerTypes = Array.from({ length: m.hybrid.nLayer }, (_, i) => (dims.isMamba(i) ? 'mamba' : 'attention'));
  return {
    ...base,
    model_type: 'granitemoehybrid',
    architectures: ['GraniteMoeHybridForCausalLM'],
    layer_types: layerTypes,
    use_cache: true,
    mil_hybrid: hybridConfigToJson(m.hybrid),
  };
}

async function copyAtomic(src: string, dest: string): Promise<void> {
  await writeFileAtomic(dest, await readFile(src));
}

/**
 * Writes a transformers.js model folder: `onnx/model.onnx` (+ `onnx/model_fp16.onnx`), `config.json`,
 * `generation_config.json` and the tokenizer files, so `AutoTokenizer.from_pretrained(dir)` and
 * `AutoModelForCausalLM.from_pretrained(dir, { dtype: 'fp32' | 'fp16' })` load it with remote models off.
 *
 * @example
 * await exportTransformersJs({ teacher: config, weights }, 'out/sotu-tiny-tjs', { tokenizerDir: 'models/sotu-tiny' });
 * // env.localModelPath = 'out'; env.allowRemoteModels = false;
 * // const model = await AutoModelForCausalLM.from_pretrained('sotu-tiny-tjs', { dtype: 'fp16' });
 */
export async function exportTransformersJs(m: ExportSource, dir: string, opts: TransformersJsExportOptions): Promise<TransformersJsExport> {
  if (!existsSync(join(opts.tokenizerDir, 'tokenizer.json'))) {
    throw new ModelsError('BAD_OPTION', `exportTransformersJs: ${join(opts.tokenizerDir, 'tokenizer.json')} does not exist`);
  }
  const dtypes = opts.dtypes ?? (m.hybrid ? ['float32'] : ['float32', 'float16']);
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const files: string[] = [];
  let io: GraphIo | null = null;
  for (const dtype of dtypes) {
    const rel = join('onnx', dtype === 'float16' ? 'model_fp16.onnx' : 'model.onnx');
    io = await writeExportGraph(m, join(dir, rel), { dtype, maxPositions: opts.maxPositions });
    files.push(rel);
  }
  if (!io) throw new ModelsError('BAD_OPTION', 'exportTransformersJs: dtypes is empty');
  const config = transformersJsConfig(m);
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  files.push('config.json');
  for (const f of TOKENIZER_FILES) {
    const src = join(opts.tokenizerDir, f);
    if (existsSync(src)) {
      await copyAtomic(src, join(dir, f));
      files.push(f);
    }
  }
  if (!files.includes('generation_config.json')) {
    const gen = { bos_token_id: m.teacher.bosTokenId, eos_token_id: m.teacher.eosTokenId };
    await writeFileAtomic(join(dir, 'generation_config.json'), JSON.stringify(gen, null, 2) + '\n');
    files.push('generation_config.json');
  }
  return { dir, files, io, modelType: String(config.model_type) };
}
