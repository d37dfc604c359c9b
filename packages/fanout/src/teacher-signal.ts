// A whole teacher-signal run: corpus file, shard plan, shards computed in-process or over the queue, manifest.
import type { RunOptions } from '@mil/core';
import { writeManifest, type TeacherSignalManifest } from './manifest';
import { type FanoutProgress, runShardsOnQueue } from './queue';
import { planShards, type TeacherSignalSettings } from './shard-plan';
import { runTeacherShard } from './teacher-shard';
import { prepareShardedRun, removeStaleTemps } from './run-folder';

/** Options of `runTeacherSignal`. */
export interface TeacherSignalRunOptions extends TeacherSignalSettings {
  /** Output folder, shared by every worker (same path on every machine). */
  outDir: string;
  tokens: Int32Array;
  shards: number;
  /** redis://host:port: fan out over BullMQ workers; absent: run the shards here, one after the other. */
  queue?: string;
  queueName?: string;
  /** Where the in-process run computes (queue workers choose their own). */
  run?: RunOptions;
  onProgress?: (p: FanoutProgress) => void;
}

/**
 * Computes the teacher's top-k log-probabilities over `tokens`, shard by shard, into `outDir`, then writes and
 * returns the checksummed manifest. Re-running with the same inputs reuses every intact shard.
 *
 * @example
 * const m = await runTeacherSignal({ teacherDir: 'models/sotu-tiny', outDir: 'runs/signal', tokens, seq: 128,
 *   batch: 4, topK: 32, shards: 12, queue: 'redis://127.0.0.1:6379' });
 */
export async function runTeacherSignal(o: TeacherSignalRunOptions): Promise<TeacherSignalManifest> {
  const { outDir, modelDir: teacherDir, corpus } = await prepareShardedRun(o.outDir, o.teacherDir, '--teacher', o.tokens);
  const jobs = planShards(corpus, { teacherDir, seq: o.seq, batch: o.batch, topK: o.topK }, o.shards, outDir);
  if (o.queue) {
    await runShardsOnQueue(jobs, { url: o.queue, queueName: o.queueName, onProgress: o.onProgress });
  } else {
    const progress: FanoutProgress = { done: 0, total: jobs.length, inFlight: new Map() };
    for (const job of jobs) {
      await runTeacherShard(job, o.run, (done, total) => {
        progress.inFlight.set(job.id, done / total);
        o.onProgress?.(progress);
      });
      progress.inFlight.delete(job.id);
      progress.done++;
      o.onProgress?.(progress);
    }
  }
  removeStaleTemps(outDir);
  return writeManifest(outDir, jobs);
}
