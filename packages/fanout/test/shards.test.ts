import { openSafetensors } from '@mil/checkpoint';
import { LlamaSession, loadLlama } from '@mil/models';
import { tokenWindows } from '@mil/distill';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutError, planShards, readTokenCorpus, runShardedPerplexity, runTeacherSignal, verifyManifest, writeTokenCorpus } from '../src/index';
import { buildLlamaTrainGraph } from '@mil/models';
import { perplexity } from '@mil/eval';
import { TEACHER, corpusTokens } from './helpers';

let tokens: Int32Array;
beforeAll(async () => {
  tokens = await corpusTokens(3000);
});

describe('shard plan', () => {
  it('covers every window exactly once, in whole batches, with stable ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-plan-'));
    const ref = await writeTokenCorpus(dir, tokens);
    const settings = { teacherDir: TEACHER, seq: 32, batch: 3, topK: 4 };
    const jobs = planShards(ref, settings, 7, dir);
    const windows = tokenWindows(tokens.length, 32).length;
    expect(jobs[0].windowStart).toBe(0);
    expect(jobs.at(-1)!.windowEnd).toBe(windows);
    for (let i = 1; i < jobs.length; i++) expect(jobs[i].windowStart).toBe(jobs[i - 1].windowEnd);
    expect(jobs.length).toBe(7);
    for (const j of jobs.slice(0, -1)) expect((j.windowEnd - j.windowStart) % 3).toBe(0);
    expect(planShards(ref, settings, 7, dir).map((j) => j.id)).toEqual(jobs.map((j) => j.id));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
    // Another corpus gives other ids.
    const other = await writeTokenCorpus(dir, tokens.slice(1));
    expect(planShards(other, settings, 7, dir)[0].id).not.toBe(jobs[0].id);
  });

  it('refuses bad settings and a corpus that changed since the plan, naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-bad-'));
    const ref = await writeTokenCorpus(dir, tokens);
    const settings = { teacherDir: TEACHER, seq: 32, batch: 3, topK: 4 };
    expect(() => planShards(ref, { ...settings, seq: 0 }, 2, dir)).toThrow(/seq: expected a positive integer, got 0/);
    expect(() => planShards(ref, settings, 10_000, dir)).toThrow(FanoutError);
    await expect(readTokenCorpus({ ...ref, sha256: '0'.repeat(64) })).rejects.toThrow(ref.file);
  });
});

describe('in-process teacher signal', () => {
  it("stores the teacher's top-k log-probs per position, checked against a session forward; manifest verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-local-'));
    const m = await runTeacherSignal({ teacherDir: TEACHER, outDir: dir, tokens, seq: 32, batch: 2, topK: 5, shards: 4, run: { threads: 1 } });
    expect(m.shards.length).toBe(4);
    await verifyManifest(dir);
    // Independent check: the first window of shard 2 through an inference session.
    const teacher = await loadLlama(TEACHER);
    const session = await LlamaSession.create(teacher.config, teacher.weights, { threads: 1 });
    const start = tokenWindows(tokens.length, 32)[m.shards[2].windowStart].start;
    const logits = await session.forward(Array.from(tokens.subarray(start, start + 32)));
    await session.release();
    const f = await openSafetensors(join(dir, m.shards[2].file));
    const idx = (await f.read('batch.0.indices')) as Int32Array;
    const lp = (await f.read('batch.0.logprobs', { as: 'float32' })) as Float32Array;
    await f.close();
    const v = teacher.config.vocabSize;
    for (const t of [0, 13, 31]) {
      const row = logits.subarray(t * v, (t + 1) * v);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
      expect(Array.from(idx.subarray(t * 5, t * 5 + 5))).toEqual(order.slice(0, 5));
      for (let r = 0; r < 5; r++) expect(lp[t * 5 + r]).toBeCloseTo(row[order[r]] - lse, 3);
    }
  });

  it('a corrupted or missing shard fails verification naming the file; a re-run repairs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-corrupt-'));
    const o = { teacherDir: TEACHER, outDir: dir, tokens, seq: 32, batch: 2, topK: 3, shards: 3, run: { threads: 1 } };
    const m = await runTeacherSignal(o);
    const victim = join(dir, m.shards[1].file);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(victim, bytes);
    await expect(verifyManifest(dir)).rejects.toThrow(victim);
    writeFileSync(victim, 'not safetensors');
    await runTeacherSignal(o);
    await verifyManifest(dir);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('in-process sharded perplexity', () => {
  it('adds up to the perplexity of one unsharded pass; a re-run keeps every shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-ppl-'));
    const o = { modelDir: TEACHER, outDir: dir, tokens, seq: 32, batch: 4, shards: 5, run: { threads: 1 } };
    const r = await runShardedPerplexity(o);
    const teacher = await loadLlama(TEACHER);
    const whole = await perplexity((g) => buildLlamaTrainGraph(g, teacher.config, { maxPositions: 32 }).logits, teacher.weights, tokens, { seq: 32, batch: 4, threads: 1 });
    expect(r.tokens).toBe(whole.tokens);
    expect(Math.abs(r.perplexity / whole.perplexity - 1)).toBeLessThan(1e-5);
    expect(r.shards.length).toBe(5);
    const before = readFileSync(join(dir, 'ppl-result.json'), 'utf8');
    await runShardedPerplexity(o);
    expect(readFileSync(join(dir, 'ppl-result.json'), 'utf8')).toBe(before);
  });
});
