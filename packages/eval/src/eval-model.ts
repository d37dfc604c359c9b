// A model folder opened for evaluation: teacher (HF Llama layout) or hybrid student (mamba_config.json beside it),
// with its tokenizer, a way to open an incremental session and a way to emit its full-sequence logits graph.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { HybridConfig, LlamaConfig, LoadedTokenizer } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import type { Graph, Tensor } from '@mil/graph';
import { buildHybridTrainGraph, buildLlamaTrainGraph, HybridSession, LlamaSession, loadHybrid, loadLlama, toMamba1Layout } from '@mil/models';
import { EvalError } from './eval-error';

/** What the evaluations need from a session: both `LlamaSession` and `HybridSession` provide it. */
export interface EvalSession {
  readonly vocabSize: number;
  readonly length: number;
  forward(ids: readonly number[]): Promise<Float32Array>;
  reset(): void;
  release(): Promise<void>;
}

/** A point an `EvalSession` can go back to (see `EvalModel.mark` / `rewind`). */
export type SessionMark = unknown;

export interface EvalModel {
  /** Short label (folder name, or `parent/student` for a run folder's student). */
  name: string;
  dir: string;
  kind: 'teacher' | 'hybrid';
  tokenizer: LoadedTokenizer;
  /** Config `max_position_embeddings`. */
  maxPositionEmbeddings: number;
  /**
   * Sequence length the model was trained on: `seq` of the folder's `training.json` (the embedded teacher: 256),
   * else `options.seq` of the run folder's `metrics.json` (a distilled student), else `max_position_embeddings`.
   */
  trainedContext: number;
  params: number;
  /** Layers that are attention / Mamba (a teacher has no Mamba layers). */
  attnLayers: number;
  ssmLayers: number;
  /** Opens a batch-1 incremental session whose position tables reach `maxPositions`. */
  session(maxPositions: number): Promise<EvalSession>;
  /** Remembers the session's state (a KV length for the teacher, a snapshot for a hybrid). */
  mark(s: EvalSession): SessionMark;
  /** Returns the session to a state `mark` returned. */
  rewind(s: EvalSession, m: SessionMark): void;
  /** Emits the logits [batch, seq, vocab] of `input_ids`/`position_ids` (weights as named parameters). */
  logitsGraph(g: Graph, maxPositions: number): Tensor;
  /** The parameters `logitsGraph` names. */
  graphWeights: ReadonlyMap<string, Float32Array>;
  run: RunOptions;
}

const label = (dir: string) => {
  const b = basename(dir.replace(/\/+$/, ''));
  const parent = basename(join(dir, '..'));
  return b === 'student' ? `${parent}/student` : b;
};

/**
 * Opens a teacher or hybrid folder for evaluation (a hybrid has `mamba_config.json`).
 *
 * @example
 * const m = await loadEvalModel('models/sotu-tiny', { threads: 2 });
 * const s = await m.session(4096);
 */
export async function loadEvalModel(dir: string, run: RunOptions = {}): Promise<EvalModel> {
  if (!existsSync(join(dir, 'config.json')))
    throw new EvalError('BAD_MODEL_FOLDER', `${dir}: no config.json, expected a teacher (HF Llama) or hybrid student folder`, { hint: 'a distill run keeps its student in runs/<run>/student' });
  const isHybrid = existsSync(join(dir, 'mamba_config.json'));
  if (isHybrid) {
    const h = await loadHybrid(dir);
    if (!h.tokenizer) throw new EvalError('NO_TOKENIZER', `${dir}: no tokenizer.json`);
    return { ...hybridEvalModel(h.teacher, h.hybrid, h.weights, h.tokenizer, run, { name: label(dir), dir }), trainedContext: trainedContext(dir, maxPos(h.teacher)) };
  }
  const t = await loadLlama(dir);
  if (!t.tokenizer) throw new EvalError('NO_TOKENIZER', `${dir}: no tokenizer.json`);
  return { ...teacherEvalModel(t.config, t.weights, t.tokenizer, run, { name: label(dir), dir }), trainedContext: trainedContext(dir, maxPos(t.config)) };
}

function trainedContext(dir: string, fallback: number): number {
  const read = (f: string): Record<string, unknown> | null => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  const seq = read(join(dir, 'training.json'))?.seq ?? (read(join(dir, '..', 'metrics.json'))?.options as Record<string, unknown> | undefined)?.seq;
  return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 ? seq : fallback;
}

const count = (w: ReadonlyMap<string, Float32Array>) => [...w.values()].reduce((s, x) => s + x.length, 0);
const sessionOpts = (run: RunOptions) => ({ ep: run.ep, threads: run.threads, spinning: run.spinning });

/**
 * An `EvalModel` of a Llama / Mistral teacher held in memory.
 *
 * @example
 * const m = teacherEvalModel(config, initLlamaWeights(config, 1), tokenizer, { threads: 1 });
 */
export function teacherEvalModel(
  config: LlamaConfig, weights: ReadonlyMap<string, Float32Array>, tokenizer: LoadedTokenizer, run: RunOptions = {}, id = { name: 'teacher', dir: '' },
): EvalModel {
  const w = weights as Map<string, Float32Array>;
  return {
    ...id, kind: 'teacher', tokenizer, graphWeights: weights, run,
    maxPositionEmbeddings: maxPos(config), trainedContext: maxPos(config), params: count(weights), attnLayers: config.numHiddenLayers, ssmLayers: 0,
    session: (maxPositions) => LlamaSession.create(config, w, { ...sessionOpts(run), maxPositions }),
    mark: (s) => s.length,
    rewind: (s, m) => (s as LlamaSession).truncate(m as number),
    logitsGraph: (g, maxPositions) => buildLlamaTrainGraph(g, config, { maxPositions }).logits,
  };
}

/**
 * An `EvalModel` of a hybrid student held in memory (weights by reference name, either Mamba-1 layout).
 *
 * @example
 * const m = hybridEvalModel(teacher, hybrid, randomHybridWeights(teacher, hybrid, 1), tokenizer);
 */
export function hybridEvalModel(
  teacher: LlamaConfig, hybrid: HybridConfig, weights: ReadonlyMap<string, Float32Array>, tokenizer: LoadedTokenizer, run: RunOptions = {},
  id = { name: 'hybrid', dir: '' },
): EvalModel {
  return {
    ...id, kind: 'hybrid', tokenizer, graphWeights: toMamba1Layout(teacher, hybrid, weights, 'separate'), run,
    maxPositionEmbeddings: maxPos(teacher), trainedContext: maxPos(teacher), params: count(weights), attnLayers: hybrid.attnLayers.length, ssmLayers: hybrid.ssmLayers.length,
    session: (maxPositions) => HybridSession.create(teacher, hybrid, weights, { ...sessionOpts(run), maxPositions }),
    mark: (s) => (s as HybridSession).snapshot(),
    rewind: (s, m) => (s as HybridSession).restore(m as ReturnType<HybridSession['snapshot']>),
    logitsGraph: (g, maxPositions) => buildHybridTrainGraph(g, teacher, hybrid, { maxPositions }).logits,
  };
}

function maxPos(c: LlamaConfig): number {
  return c.maxPositionEmbeddings;
}
