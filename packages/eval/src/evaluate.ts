// One model folder through the chosen tasks: the orchestration behind `mil eval` (no printing; a progress callback).
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import type { RunOptions } from '@mil/core';
import { EvalError } from './eval-error';
import { loadEvalModel, type EvalModel } from './eval-model';
import { parseTaskFile } from './formats';
import { batchScorer, sessionScorer, type Scorer } from './scorer';
import { longContextCurve, type LongContextResult } from './tasks/long';
import { multipleChoice } from './tasks/mc';
import { needleRetrieval, NEEDLE_DEPTHS, type NeedleResult } from './tasks/needle';
import { slidingWindowPerplexity, type PplResult } from './tasks/ppl';
import { generationSpeed, type SpeedPoint } from './tasks/speed';
import { loadTexts, tokenStreams } from './texts';

export const EVAL_TASKS = ['ppl', 'long', 'mc', 'needle', 'speed'] as const;
export type EvalTask = (typeof EVAL_TASKS)[number];

/** The offline multiple-choice files shipped in `@mil/eval/data` (see its README). */
export function builtinMcFiles(): string[] {
  const dir = fileURLToPath(new URL('../data/', import.meta.url));
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f)) : [];
}

export interface EvaluateOptions {
  tasks: readonly EvalTask[];
  /** ppl: built-in set names (sotu, brown, moby-dick) or .txt / .jsonl files (default sotu, brown). */
  pplTexts?: string[];
  /** ppl: tokens per text source (default 8192). */
  pplTokens?: number;
  window?: number;
  stride?: number;
  /** long: sequence length (default 4 × max_position_embeddings) and how many sequences (default 2). */
  longLength?: number;
  longSequences?: number;
  /** mc: task files (default the built-in ones), items per file (default all), few-shot examples. */
  mcFiles?: string[];
  mcLimit?: number;
  fewShot?: number;
  needleLengths?: number[];
  needleDepths?: number[];
  speedPrompts?: number[];
  speedGens?: number[];
  /**
   * Scoring engine for ppl and mc: the incremental session (default; shares each item's context across its choices,
   * 1.8× a one-row loop on CPU in `bench:eval`) or the batched full-sequence graph (no gain over the loop on CPU;
   * meant for GPUs, where batch 1 leaves the device idle).
   */
  engine?: 'batch' | 'session';
  /** Rows per batched call (default 8). */
  batch?: number;
}

export interface ModelEvalResult {
  model: { name: string; dir: string; kind: 'teacher' | 'hybrid'; params: number; attnLayers: number; ssmLayers: number; maxPositionEmbeddings: number; trainedContext: number };
  ppl?: Record<string, PplResult>;
  long?: LongContextResult;
  mc?: Record<string, { acc: number; acc_norm: number; items: number; fewShot: number }>;
  needle?: NeedleResult;
  speed?: SpeedPoint[];
  /** Wall seconds per task. */
  seconds: Partial<Record<EvalTask, number>>;
}

export type EvalProgress = (task: string, done: number, total: number) => void;

const label = (src: string) => basename(src).replace(/\.(jsonl|txt|csv)$/, '');

/**
 * Evaluates one model folder (teacher or hybrid) on `tasks`.
 *
 * @example
 * const r = await evaluateModel('models/sotu-tiny', { tasks: ['ppl', 'mc'] }, { threads: 2 });
 * r.ppl.sotu.ppl; r.mc['sotu-hellaswag'].acc_norm;
 */
export async function evaluateModel(dir: string, o: EvaluateOptions, run: RunOptions = {}, onProgress?: EvalProgress): Promise<ModelEvalResult> {
  for (const t of o.tasks) if (!EVAL_TASKS.includes(t)) throw new EvalError('BAD_OPTION', `eval: unknown task "${t}" (tasks: ${EVAL_TASKS.join(', ')})`);
  const m = await loadEvalModel(dir, run);
  const r: ModelEvalResult = {
    model: { name: m.name, dir, kind: m.kind, params: m.params, attnLayers: m.attnLayers, ssmLayers: m.ssmLayers, maxPositionEmbeddings: m.maxPositionEmbeddings, trainedContext: m.trainedContext },
    seconds: {},
  };
  const window = o.window ?? 256;
  const timed = async <T>(task: EvalTask, f: () => Promise<T>) => {
    const t0 = performance.now();
    const v = await f();
    r.seconds[task] = (performance.now() - t0) / 1000;
    return v;
  };
  const heldOut = () => tokenStreams(m.tokenizer, loadTexts('sotu')).map((s) => s.slice(1)).flat();
  if (o.tasks.includes('ppl') || o.tasks.includes('mc')) {
    const scorer = await makeScorer(m, o, Math.max(window, m.maxPositionEmbeddings));
    try {
      if (o.tasks.includes('ppl'))
        r.ppl = await timed('ppl', async () => {
          const out: Record<string, PplResult> = {};
          for (const src of o.pplTexts ?? ['sotu', 'brown'])
            out[label(src)] = await slidingWindowPerplexity(scorer, tokenStreams(m.tokenizer, loadTexts(src), o.pplTokens ?? 8192), { window, stride: o.stride ?? window / 2 }, (d, t) => onProgress?.(`ppl ${label(src)}`, d, t));
          return out;
        });
      if (o.tasks.includes('mc'))
        r.mc = await timed('mc', async () => {
          const out: NonNullable<ModelEvalResult['mc']> = {};
          const files = o.mcFiles ?? builtinMcFiles();
          if (files.length === 0) throw new EvalError('BAD_OPTION', 'mc: no task files (pass --mc-file)');
          for (const f of files) {
            const items = parseTaskFile(f).slice(0, o.mcLimit ?? Infinity);
            const res = await multipleChoice(scorer, m.tokenizer, items, { maxPositions: m.maxPositionEmbeddings, fewShot: o.fewShot ?? 0 }, (d, t) => onProgress?.(`mc ${label(f)}`, d, t));
            out[label(f)] = { acc: res.acc, acc_norm: res.acc_norm, items: res.items, fewShot: o.fewShot ?? 0 };
          }
          return out;
        });
    } finally {
      await scorer.release();
    }
  }
  if (o.tasks.includes('long'))
    r.long = await timed('long', async () => {
      const L = o.longLength ?? 4 * m.maxPositionEmbeddings;
      const streams = tokenStreams(m.tokenizer, loadTexts('sotu')).filter((s) => s.length >= L).slice(0, o.longSequences ?? 2);
      if (streams.length === 0) throw new EvalError('BAD_OPTION', `long: no held-out SOTU speech has ${L} tokens (lower --long-length)`);
      return longContextCurve(m, streams, { length: L }, (d, t) => onProgress?.('long', d, t));
    });
  if (o.tasks.includes('needle'))
    r.needle = await timed('needle', () => needleRetrieval(m, heldOut(), { lengths: o.needleLengths, depths: o.needleDepths ?? NEEDLE_DEPTHS }, (d, t) => onProgress?.('needle', d, t)));
  if (o.tasks.includes('speed'))
    r.speed = await timed('speed', () => generationSpeed(m, heldOut(), { promptLengths: o.speedPrompts, genLengths: o.speedGens }, (d, t) => onProgress?.('speed', d, t)));
  return r;
}

function makeScorer(m: EvalModel, o: EvaluateOptions, maxPositions: number): Promise<Scorer> {
  return o.engine === 'batch' ? batchScorer(m, { batch: o.batch ?? 8, maxPositions }) : sessionScorer(m, maxPositions);
}
