// Held-out perplexity over shards: here, or over the same BullMQ workers as the teacher signal.
import { writeFileAtomic } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { join } from 'node:path';
import { planPplShards, runPplShard, type PplShardResult } from './ppl-shard';
import { type FanoutProgress, runShardsOnQueue } from './queue';
import { prepareShardedRun, removeStaleTemps } from './run-folder';

/** ppl-result.json: the total and every shard's part (no timestamps: equal runs give equal bytes). */
export interface ShardedPerplexity {
  kind: 'perplexity';
  perplexity: number;
  /** Mean NLL in nats per predicted token. */
  nll: number;
  tokens: number;
  seq: number;
  shards: { file: string; nllSum: number; tokens: number }[];
}

/** Options of `runShardedPerplexity`. */
export interface ShardedPerplexityOptions {
  /** Teacher or hybrid student folder, readable by every worker at the same path. */
  modelDir: string;
  outDir: string;
  tokens: Int32Array;
  seq: number;
  batch: number;
  shards: number;
  queue?: string;
  queueName?: string;
  run?: RunOptions;
  onProgress?: (p: FanoutProgress) => void;
}

/**
 * Perplexity of a model folder over `tokens` in non-overlapping windows of `seq`, computed shard by shard (in this
 * process, or by queue workers) and added up; writes ppl-result.json atomically and returns it.
 *
 * @example
 * const r = await runShardedPerplexity({ modelDir: 'runs/x/student', outDir: 'runs/ppl', tokens, seq: 128, batch: 8,
 *   shards: 8, queue: 'redis://127.0.0.1:6379' });
 */
export async function runShardedPerplexity(o: ShardedPerplexityOptions): Promise<ShardedPerplexity> {
  const { outDir, modelDir, corpus } = await prepareShardedRun(o.outDir, o.modelDir, '--model', o.tokens);
  const jobs = planPplShards(corpus, { modelDir, seq: o.seq, batch: o.batch }, o.shards, outDir);
  let results: PplShardResult[];
  if (o.queue) results = await runShardsOnQueue<PplShardResult>(jobs, { url: o.queue, queueName: o.queueName, onProgress: o.onProgress });
  else {
    results = [];
    const progress: FanoutProgress = { done: 0, total: jobs.length, inFlight: new Map() };
    for (const job of jobs) {
      results.push(await runPplShard(job, o.run));
      progress.done++;
      o.onProgress?.(progress);
    }
  }
  removeStaleTemps(outDir);
  // Add the parts in shard order, so the total does not depend on which worker finished first.
  const parts = [...results].sort((a, b) => a.index - b.index);
  const nllSum = parts.reduce((s, r) => s + r.nllSum, 0);
  const tokens = parts.reduce((s, r) => s + r.tokens, 0);
  const result: ShardedPerplexity = {
    kind: 'perplexity',
    perplexity: Math.exp(nllSum / tokens),
    nll: nllSum / tokens,
    tokens,
    seq: o.seq,
    shards: parts.map((r) => ({ file: `${r.id}.json`, nllSum: r.nllSum, tokens: r.tokens })),
  };
  await writeFileAtomic(join(outDir, 'ppl-result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
