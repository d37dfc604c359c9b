// Opening a model folder for decoding, whatever it holds: a Llama/Mistral teacher or a hybrid student. Loading and
// compiling are two steps, so that a command can check its input against the model (e.g. the prompt against the
// context) before a session exists.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOptions } from '@mil/core';
import type { LoadedTokenizer } from '@mil/checkpoint';
import { HybridSession, LlamaSession, loadHybrid, loadLlama } from '@mil/models';

/** A loaded folder, not yet compiled. */
export interface LoadedForDecoding {
  kind: 'llama' | 'hybrid';
  tokenizer: LoadedTokenizer | null;
  /** The context the model was configured for (max_position_embeddings of the teacher config). */
  maxPositions: number;
  /** Compiles the decoding session (`maxPositions` overrides the context, e.g. for long-context benchmarks). */
  createSession(run: RunOptions, maxPositions?: number): Promise<LlamaSession | HybridSession>;
}

/** A decoding session over a model folder plus its tokenizer (null when the folder has none). */
export interface OpenedModel {
  kind: 'llama' | 'hybrid';
  session: LlamaSession | HybridSession;
  tokenizer: LoadedTokenizer | null;
  maxPositions: number;
}

/** True when `dir` holds a hybrid student (a `mamba_config.json` beside `config.json`). */
export function isHybridFolder(dir: string): boolean {
  return existsSync(join(dir, 'mamba_config.json'));
}

/**
 * Loads a teacher or a hybrid folder (detected by `mamba_config.json`); `createSession` compiles it.
 *
 * @example
 * const m = await loadForDecoding('runs/x/student');
 * const session = await m.createSession({ ep: 'cpu', threads: 2 });
 */
export async function loadForDecoding(dir: string): Promise<LoadedForDecoding> {
  if (isHybridFolder(dir)) {
    const h = await loadHybrid(dir);
    return {
      kind: 'hybrid',
      tokenizer: h.tokenizer,
      maxPositions: h.teacher.maxPositionEmbeddings,
      createSession: (run, maxPositions) => HybridSession.create(h.teacher, h.hybrid, h.weights, { ...run, maxPositions }),
    };
  }
  const m = await loadLlama(dir);
  return {
    kind: 'llama',
    tokenizer: m.tokenizer,
    maxPositions: m.config.maxPositionEmbeddings,
    createSession: (run, maxPositions) => LlamaSession.create(m.config, m.weights, { ...run, maxPositions }),
  };
}

/**
 * Loads a folder and compiles its decoding session in one step.
 *
 * @example
 * const { session, tokenizer } = await openModel('runs/x/student', { ep: 'cpu', threads: 2 });
 */
export async function openModel(dir: string, run: RunOptions, maxPositions?: number): Promise<OpenedModel> {
  const m = await loadForDecoding(dir);
  return { kind: m.kind, session: await m.createSession(run, maxPositions), tokenizer: m.tokenizer, maxPositions: maxPositions ?? m.maxPositions };
}
