// One .gguf file that llama.cpp (and node-llama-cpp) loads: a Llama teacher's weights, config and tokenizer.
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { encodeGguf } from './gguf-writer';
import { llamaGgufTensors, type GgufDtype } from './gguf-llama';
import { hybridGgufTensors } from './gguf-hybrid';
import { ggufTokenizer } from './gguf-tokenizer';
import type { ExportSource } from './export-onnx';

export interface GgufExportOptions {
  /** The model folder holding tokenizer.json (+ tokenizer_config.json). */
  tokenizerDir: string;
  /** 2-D weights as f32 (default), f16 or q8_0; norms stay f32. */
  dtype?: GgufDtype;
  /** llama.context_length (default max_position_embeddings; llama.cpp computes RoPE, so longer contexts need no table). */
  contextLength?: number;
  /** general.name (default the tokenizer folder's name). */
  name?: string;
}

export interface GgufExport {
  path: string;
  bytes: number;
  tensors: number;
}

/**
 * Writes `path` (a .gguf file, atomically) with the tokenizer in its metadata: a teacher as llama.cpp's `llama`
 * architecture, a Mamba-2 hybrid as `granitehybrid` (gguf-hybrid.ts); Mamba-1 hybrids are refused (no llama.cpp
 * architecture computes their mixer).
 *
 * @example
 * await exportGguf({ teacher: config, weights }, 'out/sotu-tiny.q8_0.gguf', { tokenizerDir: 'models/sotu-tiny', dtype: 'q8_0' });
 * // node-llama-cpp: const model = await llama.loadModel({ modelPath: 'out/sotu-tiny.q8_0.gguf' });
 */
export async function exportGguf(m: ExportSource, path: string, opts: GgufExportOptions): Promise<GgufExport> {
  const tokPath = join(opts.tokenizerDir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new ModelsError('BAD_OPTION', `exportGguf: ${tokPath} does not exist (the GGUF carries the tokenizer)`);
  const tokenizerJson = JSON.parse(await readFile(tokPath, 'utf8')) as unknown;
  const cfgPath = join(opts.tokenizerDir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(cfgPath) ? (JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>) : {};
  const tok = ggufTokenizer(tokenizerJson, tokenizerConfig);
  const dtype = opts.dtype ?? 'f32';
  const { tensors, metadata } = m.hybrid
    ? hybridGgufTensors(m.teacher, m.hybrid, m.weights, dtype, { contextLength: opts.contextLength })
    : llamaGgufTensors(m.teacher, m.weights, dtype, { contextLength: opts.contextLength });
  if (tok.tokens.length !== m.teacher.vocabSize) {
    throw new ModelsError('BAD_CONFIG', `exportGguf: tokenizer.json has ${tok.tokens.length} tokens, config.vocab_size is ${m.teacher.vocabSize}`);
  }
  const bytes = encodeGguf({
    metadata: [...metadata, ['general.name', { type: 'string', value: opts.name ?? basename(opts.tokenizerDir) }], ...tok.metadata],
    tensors,
  });
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
  return { path, bytes: bytes.byteLength, tensors: tensors.length };
}
