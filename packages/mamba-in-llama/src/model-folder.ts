// Opening a model folder for decoding, whatever it holds: a Llama/Mistral teacher or a hybrid student.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOptions } from '@mil/core';
import type { LoadedTokenizer } from '@mil/checkpoint';
import { HybridSession, LlamaSession, loadHybrid, loadLlama } from '@mil/models';

/** A decoding session over a model folder plus its tokenizer (null when the folder has none). */
export interface OpenedModel {
  kind: 'llama' | 'hybrid';
  session: LlamaSession | HybridSession;
  tokenizer: LoadedTokenizer | null;
}

/** True when `dir` holds a hybrid student (a `mamba_config.json` beside `config.json`). */
export function isHybridFolder(dir: string): boolean {
  return existsSync(join(dir, 'mamba_config.json'));
}

/**
 * Loads a teacher or a hybrid folder (detected by `mamba_config.json`) and compiles its decoding session.
 *
 * @example
 * const { session, tokenizer } = await openModel('runs/x/student', { ep: 'cpu', threads: 2 });
 */
export async function openModel(dir: string, run: RunOptions): Promise<OpenedModel> {
  if (isHybridFolder(dir)) {
    const h = await loadHybrid(dir);
    return { kind: 'hybrid', session: await HybridSession.create(h.teacher, h.hybrid, h.weights, run), tokenizer: h.tokenizer };
  }
  const m = await loadLlama(dir);
  return { kind: 'llama', session: await LlamaSession.create(m.config, m.weights, run), tokenizer: m.tokenizer };
}
