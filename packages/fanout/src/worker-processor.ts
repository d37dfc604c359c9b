// The sandboxed processor BullMQ runs in a child process for each shard job (see worker.ts).
import type { RunOptions } from '@mil/core';
import type { SandboxedJob } from 'bullmq';
import type { ShardJob } from './shard-plan';
import { runTeacherShard, type ShardResult } from './teacher-shard';

export default async function processShard(job: SandboxedJob<ShardJob, ShardResult>): Promise<ShardResult> {
  const run = JSON.parse(process.env.MIL_WORKER_RUN_OPTIONS ?? '{}') as RunOptions;
  return runTeacherShard(job.data, run, (done, total) => {
    void job.updateProgress(total === 0 ? 1 : done / total);
  });
}
