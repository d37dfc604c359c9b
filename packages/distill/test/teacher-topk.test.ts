// Cached top-k teacher signal: the file round-trips, the top-k KL equals the full KL when k = V, and its gradient
// matches finite differences.
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, Runner, reshape } from '@mil/graph';
import { parseLlamaConfig, openSafetensors, type LlamaConfig } from '@mil/checkpoint';
import { buildLlamaTrainGraph, randomLlamaWeights } from '@mil/models';
import { TeacherSignal } from '../src/teacher-signal';
import { cacheTeacherTopK, readTeacherTopK, topKKl } from '../src/teacher-topk-cache';
import { forwardKl } from '../src/losses';
import { mulberry32 } from '@mil/core';
import { gradCheck } from '@mil/graph/testing';

const cfg = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 13, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, max_position_embeddings: 16,
});

describe('teacher top-k cache', () => {
  it('stores sorted top-k log-probs; with k = V the top-k KL equals the full KL', async () => {
    const w = randomLlamaWeights(cfg, 3);
    const teacher = await TeacherSignal.create((g) => buildLlamaTrainGraph(g, cfg, { maxPositions: 8 }).logits, w, { threads: 1 });
    const ids = BigInt64Array.from([1n, 4n, 7n, 2n, 9n, 3n, 5n, 6n]);
    const targets = BigInt64Array.from([4n, 7n, 2n, -100n, 3n, 5n, 6n, 8n]);
    const batch = { inputIds: ids, targets, batch: 2, seq: 4 };
    const path = join(mkdtempSync(join(tmpdir(), 'topk-')), 'teacher.safetensors');
    expect(await cacheTeacherTopK(teacher, [batch, batch], 13, path)).toBe(2);
    const file = await openSafetensors(path);
    const t = await readTeacherTopK(file, 1);
    expect(t.dims).toEqual([2, 4, 13]);
    for (let r = 0; r < 8; r++) for (let j = 1; j < 13; j++) expect(t.logprobs[r * 13 + j]).toBeLessThanOrEqual(t.logprobs[r * 13 + j - 1]);
    await expect(readTeacherTopK(file, 2)).rejects.toThrow(/no cached batch 2/);
    // KL of a random student against the cached teacher (k = V) vs against the teacher's full logits.
    const rand = mulberry32(1);
    const student = Float32Array.from({ length: 2 * 4 * 13 }, () => rand() * 2 - 1);
    const full = await teacher.logits(batch);
    const g = new Graph();
    const s = g.input('s', 'float32', [2, 4, 13]);
    const y = g.input('y', 'int64', [2, 4]);
    const a = topKKl(s, g.input('ix', 'int64', [2, 4, 13]), g.input('lp', 'float32', [2, 4, 13]), y);
    const b = forwardKl(s, g.input('t', 'float32', [2, 4, 13]), { targets: y });
    const run = await Runner.create(g.toModel({ outputs: { a: reshape(a, [1]), b: reshape(b, [1]) } }), { threads: 1 });
    const out = await run.run({ s: { data: student, dims: [2, 4, 13] }, y: { data: targets, dims: [2, 4] }, ix: { data: t.indices, dims: t.dims }, lp: { data: t.logprobs, dims: t.dims }, t: { data: full, dims: [2, 4, 13] } });
    expect(out.a.data[0] as number).toBeCloseTo(out.b.data[0] as number, 4);
    file.close();
  });

  it('top-k KL gradient (k < V) matches finite differences', async () => {
    const ix = BigInt64Array.from([3n, 0n, 1n, 2n, 4n, 3n]);
    const r = await gradCheck(
      [
        { name: 's', shape: [1, 2, 5] },
        { name: 'ix', shape: [1, 2, 3], int64: ix },
        { name: 'lp', shape: [1, 2, 3], data: Float64Array.from([-0.5, -1.5, -2.5, -0.7, -1.1, -3]) },
        { name: 'y', shape: [1, 2], int64: BigInt64Array.from([1n, 2n]) },
      ],
      ([s, i, lp, y]) => reshape(topKKl(s, i, lp, y), [1]),
    );
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});
