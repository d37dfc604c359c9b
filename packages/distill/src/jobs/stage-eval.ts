// What a stage did to the student, measured against the teacher on held-out prompts: KL(teacher‖student) on the
// teacher's own continuations, and the win rate of the student's continuations over the teacher's under the
// teacher's likelihood (length-normalised); plus masked held-out perplexity of packed windows.
import type { RunOptions } from '@mil/core';
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import { buildHybridTrainGraph, buildLlamaTrainGraph, HybridSession, LlamaSession } from '@mil/models';
import { windowBatch, type PackedWindows } from '@mil/data';
import { TeacherSignal } from '../teacher-signal';
import { collatePseudoLabels, generatePseudoLabels, type PseudoLabel } from '../pseudo-labels';
import type { TokenBatch } from '../train-step';

/** How continuations are sampled for the evaluation and for the DPO pairs (both models alike, seeded per prompt). */
export interface SampleSettings {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export const EVAL_SAMPLING: Omit<SampleSettings, 'maxNewTokens' | 'seed'> = { temperature: 0.8, topK: 50, topP: 1 };

/** Per row of a batch: Σ log p(target) over its targets (≠ −100), their count, and the per-position forward KL to `ref` when given. */
export interface RowScores {
  logp: Float64Array;
  count: Int32Array;
  /** Σ over the row's targets of KL(ref‖model) at that position (only when `refLogits` was given). */
  kl: Float64Array | null;
}

/**
 * Scores a batch from its logits [batch, seq, V] (plain TypeScript, float64 accumulation).
 *
 * @example const s = rowScores(await teacher.logits(b), b); s.logp[0] / s.count[0];
 */
export function rowScores(logits: Float32Array, b: TokenBatch, refLogits?: Float32Array): RowScores {
  const V = logits.length / (b.batch * b.seq);
  const out: RowScores = { logp: new Float64Array(b.batch), count: new Int32Array(b.batch), kl: refLogits ? new Float64Array(b.batch) : null };
  const logSoftmax = (x: Float32Array, o: number): Float64Array => {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, x[o + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(x[o + v] - m);
    const lz = m + Math.log(z);
    const r = new Float64Array(V);
    for (let v = 0; v < V; v++) r[v] = x[o + v] - lz;
    return r;
  };
  for (let r = 0; r < b.batch; r++) {
    for (let t = 0; t < b.seq; t++) {
      const target = b.targets[r * b.seq + t];
      if (target === -100n) continue;
      const o = (r * b.seq + t) * V;
      const lp = logSoftmax(logits, o);
      out.logp[r] += lp[Number(target)];
      out.count[r]++;
      if (refLogits && out.kl) {
        const lq = logSoftmax(refLogits, o);
        let kl = 0;
        for (let v = 0; v < V; v++) kl += Math.exp(lq[v]) * (lq[v] - lp[v]);
        out.kl[r] += kl;
      }
    }
  }
  return out;
}

/** Frozen logits of the teacher or of a hybrid student (weights copied into the session now). */
export function logitsModel(teacherConfig: LlamaConfig, weights: ReadonlyMap<string, Float32Array>, seq: number, run: RunOptions, hybrid?: HybridConfig): Promise<TeacherSignal> {
  const build = hybrid
    ? (g: Parameters<typeof buildLlamaTrainGraph>[0]) => buildHybridTrainGraph(g, teacherConfig, hybrid, { maxPositions: seq }).logits
    : (g: Parameters<typeof buildLlamaTrainGraph>[0]) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: seq }).logits;
  return TeacherSignal.create(build, weights, { ...run, spinning: run.spinning ?? false });
}

/**
 * Seeded continuations of `prompts` by the teacher, or by a hybrid student when `o.hybrid` is given.
 *
 * @example const labels = await continuations(cfg, w, prompts, { maxNewTokens: 48, ...EVAL_SAMPLING, seed: 0 }, { threads: 2 });
 */
export async function continuations(
  teacherConfig: LlamaConfig, weights: ReadonlyMap<string, Float32Array>, prompts: number[][], s: SampleSettings, run: RunOptions,
  o: { hybrid?: HybridConfig; eosTokenId?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<PseudoLabel[]> {
  const opts = { threads: run.threads, spinning: false };
  const session = o.hybrid ? await HybridSession.create(teacherConfig, o.hybrid, weights, opts) : await LlamaSession.create(teacherConfig, weights as Map<string, Float32Array>, opts);
  try {
    return await generatePseudoLabels(session, prompts, { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed, eosTokenId: o.eosTokenId, onProgress: o.onProgress });
  } finally {
    await session.release();
  }
}

/** What `compareToTeacher` measured. */
export interface TeacherComparison {
  /** Mean over the teacher continuations' tokens of KL(teacher‖student). */
  klToTeacher: number;
  /** Fraction of prompts whose student continuation scores higher than the teacher's under the teacher (ties ½). */
  winRate: number;
  /** Mean over prompts of the teacher's per-token log-likelihood of the student's / the teacher's continuation. */
  studentLogp: number;
  teacherLogp: number;
}

/**
 * Compares a student with the teacher on held-out prompts: `teacherLabels` are the teacher's continuations (sampled
 * once); the student continues the same prompts with the same sampling settings and seeds.
 *
 * @example const c = await compareToTeacher(cfg, teacherW, hybrid, studentW, labels, { maxNewTokens: 48, ...EVAL_SAMPLING, seed: 0 }, 128, { threads: 2 });
 */
export async function compareToTeacher(
  teacherConfig: LlamaConfig, teacherWeights: ReadonlyMap<string, Float32Array>, hybrid: HybridConfig, studentWeights: ReadonlyMap<string, Float32Array>,
  teacherLabels: PseudoLabel[], s: SampleSettings, seq: number, run: RunOptions, padId = 2, eosTokenId?: number,
): Promise<TeacherComparison> {
  const studentLabels = await continuations(teacherConfig, studentWeights, teacherLabels.map((l) => l.prompt), s, run, { hybrid, eosTokenId });
  const teacher = await logitsModel(teacherConfig, teacherWeights, seq, run);
  const student = await logitsModel(teacherConfig, studentWeights, seq, run, hybrid);
  let kl = 0;
  let klTokens = 0;
  let wins = 0;
  let sl = 0;
  let tl = 0;
  try {
    const B = 8;
    for (let i = 0; i < teacherLabels.length; i += B) {
      const tb = collatePseudoLabels(teacherLabels.slice(i, i + B), seq, padId);
      const tLogits = await teacher.logits(tb);
      const onTeacher = rowScores(await student.logits(tb), tb, tLogits);
      const teacherOwn = rowScores(tLogits, tb);
      const sb = collatePseudoLabels(studentLabels.slice(i, i + B), seq, padId);
      const studentOwn = rowScores(await teacher.logits(sb), sb);
      for (let r = 0; r < tb.batch; r++) {
        kl += onTeacher.kl![r];
        klTokens += onTeacher.count[r];
        const a = studentOwn.logp[r] / Math.max(1, studentOwn.count[r]);
        const b = teacherOwn.logp[r] / Math.max(1, teacherOwn.count[r]);
        wins += a > b ? 1 : a === b ? 0.5 : 0;
        sl += a;
        tl += b;
      }
    }
  } finally {
    await teacher.release();
    await student.release();
  }
  const n = teacherLabels.length;
  return { klToTeacher: kl / Math.max(1, klTokens), winRate: wins / n, studentLogp: sl / n, teacherLogp: tl / n };
}

/**
 * Perplexity over the targets of packed windows (mask 1 only: chat windows count the assistant's tokens).
 *
 * @example const ppl = await maskedPerplexity(model, heldOutWindows);
 */
export async function maskedPerplexity(model: TeacherSignal, w: PackedWindows, batch = 8): Promise<{ perplexity: number; tokens: number }> {
  let nll = 0;
  let tokens = 0;
  for (let i = 0; i < w.count; i += batch) {
    const rows = Array.from({ length: Math.min(batch, w.count - i) }, (_, k) => i + k);
    const b = windowBatch(w, rows);
    const s = rowScores(await model.logits(b), b);
    for (let r = 0; r < b.batch; r++) {
      nll -= s.logp[r];
      tokens += s.count[r];
    }
  }
  return { perplexity: Math.exp(nll / Math.max(1, tokens)), tokens };
}
