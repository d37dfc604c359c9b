// The sandboxed processor BullMQ runs in a child process for each shard job (see worker.ts).
import type { RunOptions } from '@mil/core';
import type { SandboxedJob } from 'bullmq';
import type { ShardJob } from './shard-plan';
import { runPplShard, type PplShardJob, type PplShardResult } from './ppl-shard';
import { runTeacherShard, type ShardResult } from './teacher-shard';

export default async function processShard(job: SandboxedJob<ShardJob | PplShardJob, ShardResult | PplShardResult>): Promise<ShardResult | PplShardResult> {
  const run = JSON.parse(process.env.MIL_WORKER_RUN_OPTIONS ?? '{}') as RunOptions;
  if ('kind' in job.data && job.data.kind === 'ppl') return runPplShard(job.data, run);
  return runTeacherShard(job.data as ShardJob, run, (done, total) => {
    void job.updateProgress(total === 0 ? 1 : done / total);
  });
}
