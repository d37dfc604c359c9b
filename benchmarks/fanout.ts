// Benchmark `fanout`: the teacher's top-k signal over one corpus, in one run: in-process (the default without
// Redis) against 1, 2 and 4 `mil worker` processes on a real local redis-server. Every subject writes a fresh
// folder; the shard files must be byte-identical to the in-process ones (asserted). Each worker and the in-process
// run use 1 ORT thread, so worker count is the parallelism.
//
//   npm run bench:fanout [-- --tokens 60000] [--shards 16] [--seq 128] [--batch 4] [--top-k 32] [--workers 1,2,4]
//
// Reported: tokens/s per subject, speed-up vs 1 worker, and the queue's overhead per job
// ((1-worker time − in-process time) / shards: Redis round trips, the sandboxed child process, its teacher load).
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModelFolder } from '@mil/checkpoint';
import { tokenizeDocuments } from '@mil/distill';
import { killWorkerGroup, runTeacherSignal, spawnWorkerProcess, startLocalRedis } from '@mil/fanout';
import { loadSplits } from '@mil/corpora';
import { flag, formatTable, numberFlag, reportResult, runBench, runFields, sig, startRssSampler, timeOnce } from './lib';

const TEACHER = resolve('models/sotu-tiny');
const TOKENS = numberFlag('tokens', 60_000);
const SHARDS = numberFlag('shards', 16);
const SEQ = numberFlag('seq', 128);
const BATCH = numberFlag('batch', 4);
const TOP_K = numberFlag('top-k', 32);
const WORKERS = String(flag('workers') ?? '1,2,4').split(',').map(Number);
const CLI = [process.execPath, '--conditions=source', '--import', 'tsx', resolve('packages/mamba-in-llama/src/cli.ts')];
const log = (s = '') => process.stdout.write(`${s}\n`);

function shardBytes(dir: string): string {
  return readdirSync(dir).filter((f) => f.startsWith('shard-')).sort().map((f) => readFileSync(join(dir, f)).toString('base64')).join('|');
}

async function main(): Promise<void> {
  const rss = startRssSampler();
  const t0 = performance.now();
  const f = await loadModelFolder(TEACHER);
  await f.close();
  const tokens = tokenizeDocuments(f.tokenizer!, loadSplits().train, TOKENS);
  const base = { teacherDir: TEACHER, tokens, seq: SEQ, batch: BATCH, topK: TOP_K, shards: SHARDS };
  const redis = await startLocalRedis();
  const setupMs = performance.now() - t0;
  const rows: { subject: string; seconds: number }[] = [];
  let reference = '';
  const tMeasure = performance.now();
  try {
    const localDir = mkdtempSync(join(tmpdir(), 'bench-fanout-local-'));
    rows.push({ subject: 'in-process', seconds: (await timeOnce(() => runTeacherSignal({ ...base, outDir: localDir, run: { threads: 1 } }))) / 1e3 });
    reference = shardBytes(localDir);
    for (const n of WORKERS) {
      const workers = Array.from({ length: n }, () => spawnWorkerProcess(redis.url, CLI, ['--threads', '1'], process.cwd()));
      await Promise.all(workers.map((w) => w.waitFor('listening')));
      const dir = mkdtempSync(join(tmpdir(), `bench-fanout-${n}-`));
      const ms = await timeOnce(() => runTeacherSignal({ ...base, outDir: dir, queue: redis.url }));
      for (const w of workers) killWorkerGroup(w, 'SIGTERM');
      if (shardBytes(dir) !== reference) throw new Error(`bench:fanout: ${n} workers wrote shards that differ from the in-process run`);
      rows.push({ subject: `${n} worker${n > 1 ? 's' : ''}`, seconds: ms / 1e3 });
    }
  } finally {
    redis.stop();
  }
  const local = rows[0].seconds;
  const one = rows.find((r) => r.subject === '1 worker')?.seconds ?? NaN;
  log(`bench:fanout — ${tokens.length} tokens, ${SHARDS} shards, seq ${SEQ}, batch ${BATCH}, top-${TOP_K}; 1 ORT thread per process\n`);
  log(
    formatTable(
      ['subject', 'seconds', 'tokens/s', 'vs 1 worker'],
      rows.map((r) => [r.subject, r.seconds.toFixed(2), (tokens.length / r.seconds).toFixed(0), (one / r.seconds).toFixed(2)]),
    ),
  );
  const best = rows.slice(1).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  reportResult({
    bench: 'fanout',
    metric: 'speedup_best_workers_vs_1',
    value: sig(one / best.seconds) ?? NaN,
    unit: 'ratio',
    best_subject: best.subject,
    overhead_per_job_s: sig((one - local) / SHARDS),
    tokens_per_s: Object.fromEntries(rows.map((r) => [r.subject, sig(tokens.length / r.seconds)])),
    identical_shards: true,
    settings: { tokens: tokens.length, shards: SHARDS, seq: SEQ, batch: BATCH, top_k: TOP_K },
    ...runFields({ rounds: 1, warmup: 0, setupMs, measureMs: performance.now() - tMeasure, peakBytes: rss.stop().peakBytes }),
  });
}

runBench('fanout', main);
