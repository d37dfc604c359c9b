// The work of one shard: run the teacher over its windows and write their top-k log-probabilities as one
// safetensors file, atomically. Safe to run twice (an intact shard file is kept) and from any process.
import { openSafetensors } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { TeacherSignal, cacheTeacherTopK, collateWindows, tokenWindows, type TokenBatch } from '@mil/distill';
import { buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FanoutError } from './errors';
import { sha256File } from './hash';
import { shardFileName, type ShardJob } from './shard-plan';
import { readTokenCorpus } from './token-corpus';

/** What a finished shard reports back (small: it travels through the queue). */
export interface ShardResult {
  id: string;
  index: number;
  file: string;
  sha256: string;
  batches: number;
  /** false when an intact file from an earlier attempt was kept. */
  computed: boolean;
}

/** One compiled teacher per process and folder: loading and compiling cost more than a small shard. */
const teachers = new Map<string, Promise<TeacherSignal>>();

function teacherFor(dir: string, seq: number, run: RunOptions): Promise<TeacherSignal> {
  const key = `${dir}\0${seq}\0${run.ep ?? 'cpu'}\0${run.threads ?? 0}`;
  let t = teachers.get(key);
  if (!t) {
    t = loadLlama(dir).then((m) => TeacherSignal.create((g) => buildLlamaTrainGraph(g, m.config, { maxPositions: seq }).logits, m.weights, run));
    teachers.set(key, t);
  }
  return t;
}

/** An existing shard file is kept only if it parses and says it is this shard. */
async function intactShard(path: string, job: ShardJob): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const f = await openSafetensors(path);
    try {
      return f.metadata.shard === job.id;
    } finally {
      await f.close();
    }
  } catch {
    return false;
  }
}

/** Temp files an interrupted write of this shard left behind (a killed worker never gets to remove them). */
function removeStaleTemps(outDir: string, job: ShardJob): void {
  const prefix = `.${shardFileName(job)}.`;
  for (const f of readdirSync(outDir)) if (f.startsWith(prefix) && f.endsWith('.tmp')) rmSync(join(outDir, f), { force: true });
}

/**
 * Computes one shard (or keeps an intact earlier result) and returns its checksum.
 *
 * @example
 * const r = await runTeacherShard(jobs[3], { ep: 'cpu', threads: 2 }, (done, total) => bar(done / total));
 */
export async function runTeacherShard(job: ShardJob, run: RunOptions = {}, onProgress?: (doneBatches: number, totalBatches: number) => void): Promise<ShardResult> {
  const file = join(job.outDir, shardFileName(job));
  const { seq, batch, topK, teacherDir } = job.settings;
  const windows = tokenWindows(job.corpus.tokens, seq).slice(job.windowStart, job.windowEnd);
  const total = Math.ceil(windows.length / batch);
  if (windows.length === 0) throw new FanoutError('SHARD_FAILED', `shard ${job.id}: window range ${job.windowStart}..${job.windowEnd} is empty`);
  await mkdir(job.outDir, { recursive: true });
  if (await intactShard(file, job)) return { id: job.id, index: job.index, file, sha256: await sha256File(file), batches: total, computed: false };
  removeStaleTemps(job.outDir, job);
  const tokens = await readTokenCorpus(job.corpus);
  const teacher = await teacherFor(teacherDir, seq, run);
  const collate = collateWindows(tokens, seq);
  function* batches(): Generator<TokenBatch> {
    for (let b = 0; b < total; b++) {
      onProgress?.(b, total);
      yield collate(windows.slice(b * batch, (b + 1) * batch));
    }
  }
  try {
    await cacheTeacherTopK(teacher, batches(), topK, file, { shard: job.id, windowStart: String(job.windowStart), windowEnd: String(job.windowEnd) });
  } catch (e) {
    throw new FanoutError('SHARD_FAILED', `shard ${job.id} (${file}): ${(e as Error).message}`, { cause: e });
  }
  onProgress?.(total, total);
  return { id: job.id, index: job.index, file, sha256: await sha256File(file), batches: total, computed: true };
}
