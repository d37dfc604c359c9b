// The fan-out over a real Redis: 3 `mil worker` processes over 12 shards, one killed with SIGKILL mid-job and every
// client connection dropped once; the result must equal the in-process run byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FanoutError, killWorkerGroup, runShardedPerplexity, runTeacherSignal, spawnWorkerProcess, startLocalRedis, verifyManifest, type WorkerProcess } from '../src/index';
import { CLI, ROOT, TEACHER, corpusTokens } from './helpers';

let redis: Awaited<ReturnType<typeof startLocalRedis>>;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  redis = await startLocalRedis();
});
afterAll(() => {
  for (const w of workers) killWorkerGroup(w, 'SIGKILL');
  redis?.stop();
});

function filesOf(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('teacher signal over BullMQ workers', () => {
  it('3 workers, 12 shards, one worker killed mid-shard, connections dropped: identical to the in-process run', async () => {
    const tokens = await corpusTokens(12 * 2 * 4 * 33 + 1);
    const base = { teacherDir: TEACHER, tokens, seq: 32, batch: 2, topK: 4, shards: 12 };
    const local = mkdtempSync(join(tmpdir(), 'fanout-q-local-'));
    await runTeacherSignal({ ...base, outDir: local, run: { threads: 1 } });

    // Short locks so that the killed worker's shard comes back to the queue within seconds.
    for (let i = 0; i < 3; i++) workers.push(spawnWorkerProcess(redis.url, CLI, ['--threads', '1', '--lock-ms', '1500'], ROOT));
    await Promise.all(workers.map((w) => w.waitFor('listening')));
    const shared = mkdtempSync(join(tmpdir(), 'fanout-q-shared-'));
    const progress: number[] = [];
    const run = runTeacherSignal({ ...base, outDir: shared, queue: redis.url, onProgress: (p) => progress.push(p.done) });
    // Kill the first worker that starts a shard, before it can finish it (its sandbox is still loading the teacher).
    const victim = await Promise.race(workers.map((w) => w.waitFor(': started').then(() => w)));
    killWorkerGroup(victim);
    const killedShard = victim.log.find((l) => l.includes(': started'))!.split('started ')[1];
    expect(victim.log.some((l) => l.includes(`completed ${killedShard}`))).toBe(false);
    // Every client connection dropped once: the survivors and the launcher reconnect.
    spawnSync('redis-cli', ['-p', String(redis.port), 'CLIENT', 'KILL', 'TYPE', 'normal']);
    const manifest = await run;

    expect(manifest.shards.length).toBe(12);
    await verifyManifest(shared);
    expect(filesOf(shared)).toEqual(filesOf(local));
    expect(readdirSync(shared).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The killed worker's shard was finished by a survivor.
    const survivorsLog = workers.filter((w) => w !== victim).flatMap((w) => w.log);
    expect(survivorsLog.some((l) => l.includes(`completed ${killedShard}`))).toBe(true);
    expect(progress.at(-1)).toBe(12);

    // A re-run is idempotent: nothing is recomputed, the bytes stay.
    const before = survivorsLog.filter((l) => l.includes('completed')).length;
    await runTeacherSignal({ ...base, outDir: shared, queue: redis.url });
    expect(filesOf(shared)).toEqual(filesOf(local));
    const after = workers.filter((w) => w !== victim).flatMap((w) => w.log).filter((l) => l.includes('completed')).length;
    expect(after).toBe(before);
  }, 180_000);

  it('sharded perplexity over the same workers equals the in-process run, byte for byte', async () => {
    const tokens = await corpusTokens(6 * 4 * 32 + 1);
    const base = { modelDir: TEACHER, tokens, seq: 32, batch: 4, shards: 6 };
    const local = mkdtempSync(join(tmpdir(), 'fanout-ppl-local-'));
    const mine = await runShardedPerplexity({ ...base, outDir: local, run: { threads: 1 } });
    // At least one worker of the test above is alive; start one more in case.
    const extra = spawnWorkerProcess(redis.url, CLI, ['--threads', '1', '--lock-ms', '1500'], ROOT);
    workers.push(extra);
    await extra.waitFor('listening');
    const shared = mkdtempSync(join(tmpdir(), 'fanout-ppl-shared-'));
    const theirs = await runShardedPerplexity({ ...base, outDir: shared, queue: redis.url });
    expect(theirs.perplexity).toBe(mine.perplexity);
    expect(filesOf(shared)).toEqual(filesOf(local));
  }, 180_000);

  it('an unreachable queue is a coded error naming the URL', async () => {
    const err = await runTeacherSignal({ teacherDir: TEACHER, tokens: Int32Array.from({ length: 400 }, (_, i) => i % 100), seq: 8, batch: 1, topK: 2, shards: 2, outDir: mkdtempSync(join(tmpdir(), 'fanout-down-')), queue: 'redis://127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect((err as FanoutError).code).toBe('QUEUE_UNREACHABLE');
    expect((err as Error).message).toContain('redis://127.0.0.1:1');
  });
});
