// The stage kinds a recipe file adds, through distillHybrid's one stage loop on a tiny random teacher:
// SFT on chat windows (KL and CE only on the assistant's tokens, checked against a plain-TS oracle and by changing
// masked-out inputs), and DPO against the student as it enters the stage (loss starts at log 2; the policy's
// margin of chosen over rejected grows).
import { describe, expect, it } from 'vitest';
import { parseLlamaConfig } from '@mil/checkpoint';
import { createRng } from '@mil/core';
import { buildHybridTrainGraph, randomLlamaWeights } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';
import { windowBatch, type PackedWindows } from '@mil/data';
import { arrayDataSource, collatePairs, compileKdStep, distillHybrid, logitsModel, rowScores, TeacherSignal, type StageSpec, type TokenBatch } from '../src/index';
import { buildLlamaTrainGraph } from '@mil/models';

const cfg = parseLlamaConfig({ model_type: 'llama',
  vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, head_dim: 8, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});
const teacher = randomLlamaWeights(cfg, 3);
const attn = layerSchedule(4, { attentionFraction: 0.5 }).attnLayers;
const hybrid = makeHybridConfig(cfg, 'mamba2', attn);
const SEQ = 12;

/** Chat-like windows: mask 1 on a middle run of each window (the "assistant"), 0 before and after. */
function chatWindows(n: number, seed: number): PackedWindows {
  const rng = createRng(seed);
  const tokens = Int32Array.from({ length: n * (SEQ + 1) }, () => 1 + Math.floor(rng() * (cfg.vocabSize - 1)));
  const mask = new Uint8Array(n * (SEQ + 1));
  for (let w = 0; w < n; w++) for (let t = 4; t < 9; t++) mask[w * (SEQ + 1) + t] = 1;
  return { seq: SEQ, count: n, tokens, mask };
}

describe('SFT stage: loss only on assistant tokens', () => {
  it('KL + CE equal a plain-TS masked mean, and inputs after the last assistant token change neither loss nor gradients', async () => {
    const w = chatWindows(2, 5);
    const b = windowBatch(w, [0, 1]);
    expect([...b.targets].filter((t) => t !== -100n).length).toBe(2 * 5);
    const student = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 1, init: 'attention' });
    // perturb the student so it differs from the teacher
    const rng = createRng(2);
    for (const [n, v] of student) if (n.includes('.mamba.')) for (let i = 0; i < v.length; i++) v[i] += 0.05 * (rng() - 0.5);
    const t = await TeacherSignal.create((g) => buildLlamaTrainGraph(g, cfg, { maxPositions: SEQ }).logits, teacher, { threads: 1 });
    const kd = await compileKdStep((g) => buildHybridTrainGraph(g, cfg, hybrid, { maxPositions: SEQ }), t, { klWeight: 0.7, ceWeight: 1.3 }, { threads: 1 });
    const s = await logitsModel(cfg, student, SEQ, { threads: 1 }, hybrid);
    try {
      const r = await kd.lossAndGrads(student, b);
      // oracle: mean over the assistant's targets of 0.7·KL(teacher‖student) + 1.3·(−log p_student(target))
      const sc = rowScores(await s.logits(b), b, await t.logits(b));
      const n = sc.count[0] + sc.count[1];
      const oracle = (0.7 * (sc.kl![0] + sc.kl![1]) - 1.3 * (sc.logp[0] + sc.logp[1])) / n;
      expect(r.tokens).toBe(10);
      expect(r.loss).toBeCloseTo(oracle, 4);
      // the inputs at positions 9.. only feed logits at positions ≥ 9, whose targets are masked: nothing may change
      const changed: TokenBatch = { ...b, inputIds: b.inputIds.slice() };
      for (let row = 0; row < 2; row++) for (let p = 9; p < SEQ; p++) changed.inputIds[row * SEQ + p] = BigInt((Number(b.inputIds[row * SEQ + p]) % 39) + 1);
      expect(changed.inputIds).not.toEqual(b.inputIds);
      const r2 = await kd.lossAndGrads(student, changed);
      expect(r2.loss).toBe(r.loss);
      for (const [name, g] of r.grads) expect(r2.grads.get(name), name).toEqual(g);
      // …whereas an input inside the assistant's span does change the loss (the check can fail)
      const inside: TokenBatch = { ...b, inputIds: b.inputIds.slice() };
      inside.inputIds[5] = BigInt((Number(b.inputIds[5]) % 39) + 1);
      expect((await kd.lossAndGrads(student, inside)).loss).not.toBe(r.loss);
    } finally {
      await kd.release();
      await t.release();
      await s.release();
    }
  }, 120_000);

  it('an sft stage through distillHybrid trains on its own windows and lowers the masked loss', async () => {
    const w = chatWindows(16, 7);
    const stage: StageSpec = { name: 'sft', attnLayers: attn, trainable: 'all', steps: 12, lr: 5e-3, warmupSteps: 0, loss: { kl: 1, ce: 1 } };
    const seen: number[] = [];
    await distillHybrid({
      teacherConfig: cfg, teacherWeights: teacher, variant: 'mamba2', stages: [stage], seed: 1, seq: SEQ, batch: 4, threads: 1,
      stageData: () => arrayDataSource(Array.from({ length: 16 }, (_, i) => i), { batchSize: 4, dropLast: true, collate: (rows) => windowBatch(w, rows) }),
      onProgress: (_s, e) => seen.push(e.loss),
    });
    expect(seen.length).toBe(12);
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(mean(seen.slice(-4))).toBeLessThan(mean(seen.slice(0, 4)));
  }, 120_000);
});

describe('DPO stage: the reference is the student as it enters the stage', () => {
  it('starts at log 2 and moves the policy toward the chosen completions', async () => {
    const rng = createRng(11);
    const tok = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(rng() * (cfg.vocabSize - 1)));
    const pairs = Array.from({ length: 8 }, () => ({ prompt: tok(4), chosen: tok(5), rejected: tok(5) }));
    const data = () => arrayDataSource(pairs, { batchSize: 4, dropLast: true, collate: (xs) => collatePairs(xs, SEQ) });
    const kd: StageSpec = { name: 'kd', attnLayers: attn, trainable: 'mamba', steps: 2, lr: 1e-3, warmupSteps: 0, loss: { kl: 1, ce: 0 } };
    const dpo: StageSpec = { name: 'dpo', kind: 'dpo', attnLayers: attn, trainable: 'all', steps: 10, lr: 3e-3, warmupSteps: 0, loss: { kl: 0, ce: 0, beta: 0.5 } };
    const margins: number[] = [];
    const snapshots: Map<string, Float32Array>[] = [];
    const losses: number[] = [];
    const all = collatePairs(pairs, SEQ);
    const margin = async (w: ReadonlyMap<string, Float32Array>) => {
      const m = await logitsModel(cfg, w, SEQ, { threads: 1 }, hybrid);
      try {
        const s = rowScores(await m.logits(all), all);
        let d = 0;
        for (let i = 0; i < pairs.length; i++) d += s.logp[i] - s.logp[pairs.length + i];
        return d / pairs.length;
      } finally {
        await m.release();
      }
    };
    const corpus = Int32Array.from(tok(200));
    await distillHybrid({
      teacherConfig: cfg, teacherWeights: teacher, variant: 'mamba2', stages: [kd, dpo], seed: 1, seq: SEQ, batch: 4, threads: 1,
      stageData: (s) => (s.kind === 'dpo' ? data() : arrayDataSource(Array.from({ length: 16 }, (_, i) => ({ start: i * SEQ })), {
        batchSize: 4, dropLast: true, collate: (ws) => ({ batch: ws.length, seq: SEQ,
          inputIds: BigInt64Array.from(ws.flatMap((x) => Array.from(corpus.subarray(x.start, x.start + SEQ), BigInt))),
          targets: BigInt64Array.from(ws.flatMap((x) => Array.from(corpus.subarray(x.start + 1, x.start + SEQ + 1), BigInt))) }),
      })),
      onStageReady: (s, _i, w) => {
        if (s.kind === 'dpo') snapshots.push(new Map([...w].map(([n, v]) => [n, v.slice()])));
      },
      onProgress: (s, e) => s.kind === 'dpo' && losses.push(e.loss),
      onStageEnd: (s, _i, w) => {
        if (s.kind === 'dpo') snapshots.push(new Map([...w].map(([n, v]) => [n, v.slice()])));
      },
    });
    for (const w of snapshots) margins.push(await margin(w));
    expect(losses[0]).toBeCloseTo(Math.log(2), 5);
    expect(losses.at(-1)!).toBeLessThan(losses[0] - 0.05);
    expect(margins).toHaveLength(2);
    expect(margins[1]).toBeGreaterThan(margins[0] + 0.1);
  }, 120_000);
});
