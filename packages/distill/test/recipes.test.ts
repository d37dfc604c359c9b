import { parseLlamaConfig } from '@mil/checkpoint';
// The recipes: the stages each one makes at the main job's budget, the paper recipe's settings against the
// reference's YAMLs (restated here from the files, not from src), and its loss — 0.1 · KL(batchmean) + CE on a
// pseudo-label batch — against a hand computation in float64.
import { describe, expect, it } from 'vitest';
import { buildLlamaTrainGraph, llamaOracleForward, randomLlamaWeights } from '@mil/models';
import { layerSchedule } from '@mil/weight-transfer';
import { collatePseudoLabels, compileKdStep, RECIPES, recipeStages, TeacherSignal, withOverrides, type StageSpec } from '../src/index';

const budget = {
  attn75: layerSchedule(8, { attentionFraction: 0.75 }).attnLayers,
  attn50: layerSchedule(8, { attentionFraction: 0.5 }).attnLayers,
  numLayers: 8, stage1Steps: 80, stage2Steps: 120, alignSteps: 160,
};
const pick = (s: StageSpec) => [s.name, s.kind ?? 'kd', s.steps, s.lr, s.warmupSteps, s.maxGradNorm, s.trainable, s.data ?? 'text', s.loss.kl, s.loss.ce, s.loss.reduction ?? 'masked-mean', s.betas?.join('/'), s.weightDecay];

describe('recipe stages at the main job budget', () => {
  it('default: alignment, stage-1 KL per-token mean at lr 5e-3, stage 2 at 5e-4, clip 1, raw text', () => {
    expect(recipeStages(RECIPES.default, budget).map(pick)).toEqual([
      ['align (25% Mamba)', 'align', 40, 5e-3, 0, 1, 'mamba', 'text', 1, 0, 'masked-mean', '0.9/0.98', 0],
      ['stage1 (25% Mamba)', 'kd', 20, 5e-3, 2, 1, 'mamba', 'text', 1, 0, 'masked-mean', '0.9/0.98', 0],
      ['align (50% Mamba)', 'align', 120, 5e-3, 0, 1, 'mamba', 'text', 1, 0, 'masked-mean', '0.9/0.98', 0],
      ['stage1 (50% Mamba)', 'kd', 60, 5e-3, 6, 1, 'mamba', 'text', 1, 0, 'masked-mean', '0.9/0.98', 0],
      ['stage2 (all params, KL)', 'kd', 120, 5e-4, 12, 1, 'all', 'text', 1, 0, 'masked-mean', '0.9/0.98', 0],
    ]);
  });

  it("paper: the reference's stage-1 YAMLs (lr 8e-5 cosine, warmup 1500 / 500 steps, max_grad_norm 0.1, kl 0.1, ce 1, Adam 0.9/0.98, only 'mamba' parameters, pseudo-labels) and its distillation YAML for stage 2", () => {
    expect(recipeStages(RECIPES.paper, budget).map(pick)).toEqual([
      // warmup 30% and 10% of the stage: 1500 and 500 of a ~4,950-step epoch
      ['stage1 (25% Mamba)', 'kd', 20, 8e-5, 6, 0.1, 'mamba', 'teacher-pseudo-labels', 0.1, 1, 'reference', '0.9/0.98', 0],
      ['stage1 (50% Mamba)', 'kd', 60, 8e-5, 6, 0.1, 'mamba', 'teacher-pseudo-labels', 0.1, 1, 'reference', '0.9/0.98', 0],
      // learning_rate 2e-5, warmup_ratio 0.01, kl_weight 1, ce_weight 0; HF Trainer defaults: AdamW 0.9/0.999, max_grad_norm 1
      ['stage2 (all params, KL)', 'kd', 120, 2e-5, 2, 1, 'all', 'text', 1, 0, 'reference', '0.9/0.999', 0],
    ]);
    expect(RECIPES.paper.pseudoLabels).toMatchObject({ temperature: 0.7, topP: 0.95, topK: 10 });
  });

  it('overrides replace only what they name', () => {
    const r = withOverrides(RECIPES.paper, { lr: 1e-3, stage1Loss: { kl: 1, ce: 0 } });
    expect([r.stage1First.lr, r.stage1Target.lr, r.stage2.lr, r.stage1First.loss, r.stage1First.maxGradNorm]).toEqual([1e-3, 1e-3, 2e-5, { kl: 1, ce: 0, reduction: 'reference' }, 0.1]);
  });
});

describe("the paper recipe's stage-1 loss equals the reference's formula", () => {
  const cfg = parseLlamaConfig({ model_type: 'llama',
    vocab_size: 29, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2,
    num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 32,
  });

  it('0.1 · Σ_{b,t,v} p_T (log p_T − log p_S) / B + mean CE over the completion tokens (prompt and padding count in KL, not in CE)', async () => {
    const teacherW = randomLlamaWeights(cfg, 1);
    const studentW = randomLlamaWeights(cfg, 2);
    const seq = 9;
    // two pseudo-labels: different prompt lengths, one shorter than seq + 1 (right-padded with 2)
    const labels = [
      { prompt: [1, 7, 3], completion: [12, 4, 4, 20, 9, 11, 5] },
      { prompt: [1, 18], completion: [6, 6, 27, 0] },
    ];
    const batch = collatePseudoLabels(labels, seq, 2);
    const stage = recipeStages(RECIPES.paper, { ...budget, stage1Steps: 4 })[0];
    const teacher = await TeacherSignal.create((g) => buildLlamaTrainGraph(g, cfg).logits, teacherW, { threads: 1 });
    const kd = await compileKdStep((g) => buildLlamaTrainGraph(g, cfg), teacher, { klWeight: stage.loss.kl, ceWeight: stage.loss.ce, klReduction: stage.loss.reduction }, { threads: 1 });
    const { loss } = await kd.lossAndGrads(new Map(studentW), batch);
    await kd.release();
    await teacher.release();

    const ids = Array.from({ length: 2 }, (_, b) => Array.from(batch.inputIds.subarray(b * seq, (b + 1) * seq), Number));
    const ls = llamaOracleForward(cfg, (n) => studentW.get(n), ids).logits;
    const lt = llamaOracleForward(cfg, (n) => teacherW.get(n), ids).logits;
    const V = cfg.vocabSize;
    const logSoftmax = (x: Float64Array, off: number) => {
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, x[off + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(x[off + v] - m);
      return Array.from({ length: V }, (_, v) => x[off + v] - m - Math.log(z));
    };
    let klSum = 0;
    let klTargets = 0;
    let nll = 0;
    let n = 0;
    for (let p = 0; p < 2 * seq; p++) {
      const s = logSoftmax(ls, p * V);
      const t = logSoftmax(lt, p * V);
      let kl = 0;
      for (let v = 0; v < V; v++) kl += Math.exp(t[v]) * (t[v] - s[v]);
      klSum += kl;
      const y = Number(batch.targets[p]);
      if (y !== -100) {
        klTargets += kl;
        nll -= s[y];
        n++;
      }
    }
    // targets: the 7 completion tokens of the first label; the second predicts 4 tokens after its 2-token prompt
    expect(n).toBe(11);
    const expected = 0.1 * (klSum / 2) + nll / n;
    expect(Math.abs(loss - expected) / expected).toBeLessThan(1e-5);
    // the default recipe's reduction (mean over positions with a target) gives another number
    const maskedMean = 0.1 * (klTargets / n) + nll / n;
    expect(Math.abs(loss - maskedMean) / expected).toBeGreaterThan(0.01);
  }, 60_000);
});
