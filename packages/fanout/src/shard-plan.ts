// Deterministic shards of a teacher-signal run: the same corpus and settings always give the same shard ids and
// window ranges, so a re-run or a retried job lands on the same file name and never duplicates work.
import { tokenWindows } from '@mil/distill';
import { FanoutError } from './errors';
import type { TokenCorpusRef } from './token-corpus';

/** What every shard of one run shares. */
export interface TeacherSignalSettings {
  /** Teacher model folder (HF layout), readable by every worker at the same path. */
  teacherDir: string;
  /** Tokens per window (each window predicts `seq` next tokens). */
  seq: number;
  /** Windows per teacher call. */
  batch: number;
  /** How many top log-probabilities to keep per position. */
  topK: number;
}

/** One unit of work: a job on the queue carries exactly this (references and numbers, never tensors). */
export interface ShardJob {
  /** `<corpus hash 16>-s<seq>-b<batch>-k<topK>-<index 5>`: stable across runs, used as the queue's job id. */
  id: string;
  index: number;
  /** Window range [windowStart, windowEnd) over `tokenWindows(corpus.tokens, seq)`. */
  windowStart: number;
  windowEnd: number;
  corpus: TokenCorpusRef;
  settings: TeacherSignalSettings;
  /** Folder the shard file goes to (shared by all workers). */
  outDir: string;
}

/** Shard file name of a job inside `outDir`. */
export function shardFileName(job: Pick<ShardJob, 'id'>): string {
  return `shard-${job.id}.safetensors`;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new FanoutError('BAD_OPTION', `${name}: expected a positive integer, got ${v}`);
}

/**
 * Cuts the windows of `corpus` into `shards` contiguous ranges of whole batches (only the last batch may be short).
 *
 * @example
 * const jobs = planShards(corpus, { teacherDir: 'models/sotu-tiny', seq: 128, batch: 4, topK: 32 }, 12, 'runs/signal');
 */
export function planShards(corpus: TokenCorpusRef, settings: TeacherSignalSettings, shards: number, outDir: string): ShardJob[] {
  positiveInt('seq', settings.seq);
  positiveInt('batch', settings.batch);
  positiveInt('topK', settings.topK);
  positiveInt('shards', shards);
  const windows = tokenWindows(corpus.tokens, settings.seq).length;
  const batches = Math.ceil(windows / settings.batch);
  if (batches < shards)
    throw new FanoutError('BAD_OPTION', `shards: ${corpus.file} has ${windows} windows of ${settings.seq} tokens = ${batches} batches of ${settings.batch}; cannot cut ${shards} shards`);
  const jobs: ShardJob[] = [];
  // Shard i holds batches ⌊i·B/S⌋ … ⌊(i+1)·B/S⌋ − 1: exactly S shards, sizes differing by at most one batch.
  for (let i = 0; i < shards; i++) {
    const windowStart = Math.floor((i * batches) / shards) * settings.batch;
    const windowEnd = Math.min(windows, Math.floor(((i + 1) * batches) / shards) * settings.batch);
    const id = `${corpus.sha256.slice(0, 16)}-s${settings.seq}-b${settings.batch}-k${settings.topK}-${String(i).padStart(5, '0')}`;
    jobs.push({ id, index: i, windowStart, windowEnd, corpus, settings, outDir });
  }
  return jobs;
}
