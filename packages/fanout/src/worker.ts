// A queue worker: takes shard jobs from Redis and runs each in a BullMQ sandboxed processor (a child process), so
// the teacher's CPU-bound work never blocks the event loop that renews the job's lock.
import type { RunOptions } from '@mil/core';
import { Worker } from 'bullmq';
import { fileURLToPath } from 'node:url';
import { DEFAULT_QUEUE_NAME, connectRedis } from './queue';
import type { ShardResult } from './teacher-shard';

/** The environment variable that hands the worker's run options to its sandboxed processes. */
export const WORKER_RUN_OPTIONS_ENV = 'MIL_WORKER_RUN_OPTIONS';

/** Options of `startShardWorker`. */
export interface ShardWorkerOptions {
  url: string;
  queueName?: string;
  /** Where this worker runs the teacher (each worker chooses its own). */
  run?: RunOptions;
  /** Shards at a time (each in its own child process). Default 1. */
  concurrency?: number;
  /** How long a job's lock lives without renewal; a worker killed mid-job frees its shard after this. Default 30 s. */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. Default 15 s. */
  stalledIntervalMs?: number;
  /** How many times a job may stall (its worker died) before it fails. Default 2. */
  maxStalledCount?: number;
  onEvent?: (e: { kind: 'started' | 'completed' | 'failed' | 'error'; shard?: string; message?: string }) => void;
}

/** The processor module next to this file: the TypeScript source when run from source, the built JS otherwise. */
function processorFile(): string {
  const here = fileURLToPath(import.meta.url);
  return here.replace(/worker\.(ts|js|cjs|mjs)$/, (_m, ext: string) => `worker-processor.${ext}`);
}

/**
 * Starts a worker; resolves once it is connected. `close()` on the result stops it after its current jobs.
 *
 * @example
 * const w = await startShardWorker({ url: 'redis://127.0.0.1:6379', run: { ep: 'cpu', threads: 2 } });
 * process.on('SIGINT', () => w.close());
 */
export async function startShardWorker(o: ShardWorkerOptions): Promise<Worker<unknown, ShardResult>> {
  const connection = await connectRedis(o.url);
  process.env[WORKER_RUN_OPTIONS_ENV] = JSON.stringify(o.run ?? {});
  const worker = new Worker<unknown, ShardResult>(o.queueName ?? DEFAULT_QUEUE_NAME, processorFile(), {
    connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 15_000,
    maxStalledCount: o.maxStalledCount ?? 2,
    useWorkerThreads: false,
  });
  worker.on('active', (job) => o.onEvent?.({ kind: 'started', shard: job.id }));
  worker.on('completed', (job) => o.onEvent?.({ kind: 'completed', shard: job.id }));
  worker.on('failed', (job, err) => o.onEvent?.({ kind: 'failed', shard: job?.id, message: err.message }));
  // Connection loss: ioredis reconnects by itself; the worker reports and carries on.
  worker.on('error', (err) => o.onEvent?.({ kind: 'error', message: err.message }));
  worker.on('closed', () => connection.disconnect());
  await worker.waitUntilReady();
  return worker;
}
