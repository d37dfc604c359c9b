// Opens a model folder as a running session: a Llama/Mistral teacher, or a hybrid student (a folder with
// mamba_config.json). Both sessions score several tokens in one call and roll back, so either can be a
// speculative-decoding target or draft.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedTokenizer } from '@mil/checkpoint';
import type { ExecutionProvider } from '@mil/core';
import { HybridSession, LlamaSession, loadHybrid, loadLlama } from '@mil/models';
import type { DraftModel } from '@mil/spec-decode';
import { specModel } from '../spec-model';

export interface OpenedModel {
  session: LlamaSession | HybridSession;
  /** The session as a speculative-decoding target / draft. */
  model: DraftModel;
  tokenizer: LoadedTokenizer | null;
  kind: 'llama' | 'hybrid';
  /** Longest context the session was compiled for. */
  maxPositions: number;
}

/**
 * Loads `dir` (teacher or hybrid folder) and compiles its session.
 *
 * @example
 * const { session, tokenizer } = await openModel('models/sotu-tiny', { threads: 2 });
 */
export async function openModel(dir: string, opts: { threads?: number; maxPositions?: number; ep?: ExecutionProvider } = {}): Promise<OpenedModel> {
  if (existsSync(join(dir, 'mamba_config.json'))) {
    const h = await loadHybrid(dir);
    const maxPositions = opts.maxPositions ?? h.teacher.max_position_embeddings;
    const session = await HybridSession.create(h.teacher, h.hybrid, h.weights, { ep: opts.ep, threads: opts.threads, maxPositions });
    return { session, model: specModel(session), tokenizer: h.tokenizer, kind: 'hybrid', maxPositions };
  }
  const m = await loadLlama(dir);
  const maxPositions = opts.maxPositions ?? m.config.max_position_embeddings;
  const session = await LlamaSession.create(m.config, m.weights, { ep: opts.ep, threads: opts.threads, maxPositions });
  return { session, model: specModel(session), tokenizer: m.tokenizer, kind: 'llama', maxPositions };
}
