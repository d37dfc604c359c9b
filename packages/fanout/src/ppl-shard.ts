// Evaluation fanned out like the teacher signal: held-out perplexity cut into shards of whole windows, each shard a
// small JSON file (its NLL sum and token count) written atomically; the launcher adds them up. The same queue, the
// same workers, the same idempotence as the teacher-signal shards.
import { writeFileAtomic } from '@mil/checkpoint';
import type { RunOptions } from '@mil/core';
import { tokenWindows } from '@mil/distill';
import { loadEvalModel, perplexity, type EvalModel } from '@mil/eval';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FanoutError } from './errors';
import { readTokenCorpus, type TokenCorpusRef } from './token-corpus';

/** One perplexity shard: a window range of the corpus, scored by the model folder (teacher or hybrid). */
export interface PplShardJob {
  kind: 'ppl';
  /** `ppl-<corpus hash 16>-s<seq>-<model folder hash 8>-<index 5>`. */
  id: string;
  index: number;
  windowStart: number;
  windowEnd: number;
  corpus: TokenCorpusRef;
  modelDir: string;
  seq: number;
  batch: number;
  outDir: string;
}

/** What a perplexity shard reports (and stores in its file). */
export interface PplShardResult {
  id: string;
  index: number;
  file: string;
  /** Sum of the negative log-likelihoods (nats) of the shard's predicted tokens. */
  nllSum: number;
  tokens: number;
  computed: boolean;
}

/** File name of a perplexity shard inside its output folder. */
export function pplShardFileName(job: Pick<PplShardJob, 'id'>): string {
  return `${job.id}.json`;
}

/**
 * Cuts the non-overlapping windows of `corpus` into `shards` contiguous ranges (sizes differ by at most one window).
 *
 * @example
 * const jobs = planPplShards(corpus, { modelDir: 'models/sotu-tiny', seq: 128, batch: 4 }, 8, 'runs/ppl');
 */
export function planPplShards(corpus: TokenCorpusRef, o: { modelDir: string; seq: number; batch: number }, shards: number, outDir: string): PplShardJob[] {
  for (const [k, v] of Object.entries({ seq: o.seq, batch: o.batch, shards }))
    if (!Number.isSafeInteger(v) || v < 1) throw new FanoutError('BAD_OPTION', `${k}: expected a positive integer, got ${v}`);
  const windows = tokenWindows(corpus.tokens, o.seq).length;
  if (windows < shards) throw new FanoutError('BAD_OPTION', `shards: ${corpus.file} has ${windows} windows of ${o.seq} tokens; cannot cut ${shards} shards`);
  const model = createHash('sha256').update(o.modelDir).digest('hex').slice(0, 8);
  return Array.from({ length: shards }, (_, i) => ({
    kind: 'ppl' as const,
    id: `ppl-${corpus.sha256.slice(0, 16)}-s${o.seq}-${model}-${String(i).padStart(5, '0')}`,
    index: i,
    windowStart: Math.floor((i * windows) / shards),
    windowEnd: Math.floor(((i + 1) * windows) / shards),
    corpus,
    modelDir: o.modelDir,
    seq: o.seq,
    batch: o.batch,
    outDir,
  }));
}

const models = new Map<string, Promise<EvalModel>>();

/** The stored result of a shard, if its file is intact and says it is this shard. */
function storedResult(file: string, job: PplShardJob): PplShardResult | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { id?: unknown; nllSum?: unknown; tokens?: unknown };
    if (r.id !== job.id || typeof r.nllSum !== 'number' || typeof r.tokens !== 'number') return null;
    return { id: job.id, index: job.index, file, nllSum: r.nllSum, tokens: r.tokens, computed: false };
  } catch {
    return null;
  }
}

/**
 * Scores one shard's windows (or keeps an intact earlier result) and writes its JSON atomically.
 *
 * @example
 * const r = await runPplShard(jobs[0], { threads: 2 }); // r.nllSum / r.tokens = the shard's mean NLL
 */
export async function runPplShard(job: PplShardJob, run: RunOptions = {}): Promise<PplShardResult> {
  const file = join(job.outDir, pplShardFileName(job));
  await mkdir(job.outDir, { recursive: true });
  const kept = storedResult(file, job);
  if (kept) return kept;
  const tokens = await readTokenCorpus(job.corpus);
  const slice = tokens.subarray(job.windowStart * job.seq, job.windowEnd * job.seq + 1);
  const key = `${job.modelDir}\0${run.ep ?? 'cpu'}\0${run.threads ?? 0}`;
  if (!models.has(key)) models.set(key, loadEvalModel(job.modelDir, run));
  const m = await models.get(key)!;
  let r;
  try {
    r = await perplexity((g) => m.logitsGraph(g, job.seq), new Map(m.graphWeights), slice, { ...run, seq: job.seq, batch: job.batch });
  } catch (e) {
    throw new FanoutError('SHARD_FAILED', `shard ${job.id} (${file}): ${(e as Error).message}`, { cause: e });
  }
  const result = { id: job.id, index: job.index, windowStart: job.windowStart, windowEnd: job.windowEnd, nllSum: r.nll * r.tokens, tokens: r.tokens };
  await writeFileAtomic(file, `${JSON.stringify(result)}\n`);
  return { id: job.id, index: job.index, file, nllSum: result.nllSum, tokens: result.tokens, computed: true };
}
