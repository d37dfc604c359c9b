// Shards as BullMQ jobs on Redis: the launcher adds one job per shard (job id = shard id, so adding twice is a
// no-op) and waits for all of them, relaying progress; any number of workers on any machine take them.
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FanoutError } from './errors';
import { shardFileName, type ShardJob } from './shard-plan';
import { pplShardFileName, type PplShardJob } from './ppl-shard';
import type { ShardResult } from './teacher-shard';

/** The queue every `mil worker` listens on unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'mil-teacher-signal';

/** Progress across all workers: shards finished, and the fraction done of each shard in flight. */
export interface FanoutProgress {
  done: number;
  total: number;
  inFlight: Map<string, number>;
}

/** A Redis connection as BullMQ needs it (blocking commands: no per-request retry limit), checked reachable. */
export async function connectRedis(url: string): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FanoutError('BAD_OPTION', `--queue: expected a redis://host:port URL, got ${url}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new FanoutError('BAD_OPTION', `--queue: expected a redis:// or rediss:// URL, got ${url}`);
  const r = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // A failed connect rejects below with the reason; without a listener ioredis would also print it.
  const quiet = () => {};
  r.on('error', quiet);
  try {
    await r.connect();
    await r.ping();
    r.off('error', quiet);
  } catch (e) {
    r.disconnect();
    throw new FanoutError('QUEUE_UNREACHABLE', `cannot reach Redis at ${url}: ${(e as Error).message}`, { cause: e, hint: 'start one with: redis-server --port 6379' });
  }
  return r;
}

/** The file a job writes in its output folder (teacher top-k safetensors, or a perplexity JSON). */
function fileNameOf(j: ShardJob | PplShardJob): string {
  return 'kind' in j ? pplShardFileName(j) : shardFileName(j);
}

/** Options of `runShardsOnQueue`. */
export interface QueueRunOptions {
  url: string;
  queueName?: string;
  /** Attempts per shard (a stalled or failed job is retried until then). Default 3. */
  attempts?: number;
  onProgress?: (p: FanoutProgress) => void;
}

/**
 * Adds every shard as a job and resolves once all have completed (their results, in shard order). A shard that
 * fails all its attempts rejects with JOB_FAILED naming it.
 *
 * @example
 * const results = await runShardsOnQueue(jobs, { url: 'redis://127.0.0.1:6379' });
 */
export async function runShardsOnQueue<R = ShardResult>(jobs: readonly (ShardJob | PplShardJob)[], o: QueueRunOptions): Promise<R[]> {
  const name = o.queueName ?? DEFAULT_QUEUE_NAME;
  const connection = await connectRedis(o.url);
  const eventsConnection = connection.duplicate();
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection: eventsConnection });
  // One waiter per shard listens on both: not a leak.
  queue.setMaxListeners(jobs.length + 10);
  events.setMaxListeners(jobs.length + 10);
  const progress: FanoutProgress = { done: 0, total: jobs.length, inFlight: new Map() };
  // The queue's job id adds the output folder: the same shard for another folder is another job.
  const jobIds = jobs.map((j) => `${j.id}.${createHash('sha256').update(j.outDir).digest('hex').slice(0, 12)}`);
  const ids = new Set(jobIds);
  events.on('progress', ({ jobId, data }) => {
    if (!ids.has(jobId) || typeof data !== 'number') return;
    progress.inFlight.set(jobId, data);
    o.onProgress?.(progress);
  });
  try {
    await events.waitUntilReady();
    // A job completed in an earlier run whose file has since gone is removed, so that adding it runs it again.
    for (let i = 0; i < jobs.length; i++) {
      const old = await Job.fromId(queue, jobIds[i]);
      if (old && (await old.getState()) === 'completed' && !existsSync(join(jobs[i].outDir, fileNameOf(jobs[i])))) await old.remove();
    }
    const added = await queue.addBulk(
      jobs.map((j, i) => ({
        name: 'kind' in j ? `${j.kind}-shard` : 'teacher-shard',
        data: j,
        opts: { jobId: jobIds[i], attempts: o.attempts ?? 3, backoff: { type: 'fixed', delay: 250 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    const results = await Promise.all(
      added.map(async (job, i) => {
        // A job id seen in an earlier run keeps its old record; waitUntilFinished resolves at once if it completed.
        const current = (await Job.fromId(queue, jobIds[i])) ?? job;
        // A shard that failed in an earlier run gets its attempts again.
        if ((await current.getState()) === 'failed') await current.retry('failed');
        try {
          const r = (await current.waitUntilFinished(events)) as R;
          progress.inFlight.delete(jobIds[i]);
          progress.done++;
          o.onProgress?.(progress);
          return r;
        } catch (e) {
          throw new FanoutError('JOB_FAILED', `shard ${jobs[i].id} failed on the queue ${name}: ${(e as Error).message}`, { cause: e });
        }
      }),
    );
    return results;
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
