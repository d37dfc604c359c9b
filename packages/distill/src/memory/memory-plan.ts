// How much memory a distillation run needs (teacher and student weights, gradients, optimizer state,
// activations of one step), computed from the configs before anything is loaded, and a refusal with the figures
// when that exceeds the budget, instead of being killed by the OS half-way.
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { MilError } from '@mil/core';
import type { HybridConfig } from '@mil/checkpoint';
import type { LlamaConfig } from '@mil/checkpoint';
import { llamaWeightSpecs } from '@mil/models';
import { makeHybridConfig, studentWeightSpecs } from '@mil/weight-transfer';
import { DistillError } from '../errors';
import { isTrainable, type TrainableSet } from '../pipeline/stages';

export type MemoryErrorCode = 'OUT_OF_MEMORY_PLAN' | 'BAD_MEMORY_OPTION';

/**
 * A run that would not fit; `plan` holds the figures.
 * @example catch (e) { if (e instanceof MemoryPlanError) console.error(formatMemoryPlan(e.plan).join('\n')); }
 */
export class MemoryPlanError extends MilError<MemoryErrorCode> {
  readonly plan?: MemoryPlan;
  constructor(code: MemoryErrorCode, message: string, plan?: MemoryPlan, options?: { hint?: string }) {
    super(code, message, options);
    if (plan) this.plan = plan;
  }
}

export interface MemoryPlanInput {
  teacher: LlamaConfig;
  /** The student of the stage (its attention layers decide its size). */
  student: HybridConfig;
  trainable: TrainableSet;
  batch: number;
  seq: number;
  /** Bytes available; default {@link availableMemory}(). */
  budgetBytes?: number;
}

export interface MemoryItem {
  name: string;
  bytes: number;
  /** How the figure is computed. */
  how: string;
}

export interface MemoryPlan {
  teacherParams: number;
  studentParams: number;
  trainableParams: number;
  items: MemoryItem[];
  totalBytes: number;
  budgetBytes: number;
  fits: boolean;
}

/**
 * Bytes the OS can give this process now: MemAvailable from /proc/meminfo (free + reclaimable cache) on Linux,
 * `os.freemem()` elsewhere.
 * @example availableMemory() / 2 ** 30; // GiB
 */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

const F32 = 4;
const count = (specs: { shape: number[] }[]) => specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);

/**
 * The memory plan of one distillation stage as this project runs it (float32 everywhere, the teacher frozen in
 * an ONNX Runtime session, the student trained by ONNX Runtime forward/backward and AdamW in JS):
 * - teacher weights: in JS (as loaded) and again as the session's initializers;
 * - student weights; gradients and AdamW's two moments for the trainable ones;
 * - activations of one step: what backward keeps per student layer (≈ 12·H + 4·I floats per token; an attention
 *   layer adds 2 · heads · seq² per row for scores and probabilities; a Mamba layer 6 · d_inner + 2 · d_state ·
 *   groups per token), the teacher's largest live tensors, and four [batch, seq, vocab] float32 logits tensors
 *   (teacher and student logits, softmax, gradient).
 * Estimates, not measurements: the package README compares them with measured peak RSS.
 *
 * @example
 * const plan = memoryPlan({ teacher: cfg, student: makeHybridConfig(cfg, 'mamba2', attn50), trainable: 'mamba', batch: 8, seq: 128 });
 * formatMemoryPlan(plan).forEach((l) => log(l));
 * assertMemoryFits(plan); // MemoryPlanError OUT_OF_MEMORY_PLAN with the figures
 */
export function memoryPlan(o: MemoryPlanInput): MemoryPlan {
  for (const k of ['batch', 'seq'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new MemoryPlanError('BAD_MEMORY_OPTION', `memoryPlan: ${k} must be a positive integer, got ${o[k]}`);
  }
  const t = o.teacher;
  const teacherParams = count(llamaWeightSpecs(t));
  const studentSpecs = studentWeightSpecs(t, o.student);
  const studentParams = count(studentSpecs);
  const keep = isTrainable(o.trainable);
  const trainableParams = count(studentSpecs.filter((w) => keep(w.name)));
  const { batch: B, seq: S } = o;
  const H = t.hiddenSize;
  const I = t.intermediateSize;
  const V = t.vocabSize;
  const heads = t.numAttentionHeads;
  const attn = o.student.attnLayers.length;
  const ssm = t.numHiddenLayers - attn;
  const dInner = o.student.dInner;
  const dState = o.student.ssm.dState;
  const groups = o.student.ssm.ngroups;
  const perToken = 12 * H + 4 * I;
  const studentActs = F32 * B * S * (attn * perToken + ssm * (perToken + 6 * dInner + 2 * dState * groups)) + F32 * attn * 2 * B * heads * S * S;
  const teacherActs = F32 * B * S * (4 * H + 2 * I) + F32 * 2 * B * heads * S * S;
  const logits = 4 * F32 * B * S * V;
  const items: MemoryItem[] = [
    { name: 'teacher weights (JS)', bytes: F32 * teacherParams, how: `${teacherParams} params × 4 B` },
    { name: 'teacher session (initializers)', bytes: F32 * teacherParams, how: `${teacherParams} params × 4 B` },
    { name: 'student weights', bytes: F32 * studentParams, how: `${studentParams} params × 4 B` },
    { name: 'gradients', bytes: F32 * trainableParams, how: `${trainableParams} trainable × 4 B` },
    { name: 'optimizer state (AdamW m, v)', bytes: 2 * F32 * trainableParams, how: `${trainableParams} trainable × 8 B` },
    { name: 'activations, student step', bytes: studentActs, how: `batch ${B} × seq ${S}: ${attn} attention + ${ssm} Mamba layers` },
    { name: 'activations, teacher forward', bytes: teacherActs, how: `largest live tensors of one layer` },
    { name: 'logits (teacher, student, softmax, grad)', bytes: logits, how: `4 × ${B}·${S}·${V} × 4 B` },
  ];
  const totalBytes = items.reduce((s, i) => s + i.bytes, 0);
  const budgetBytes = o.budgetBytes ?? availableMemory();
  return { teacherParams, studentParams, trainableParams, items, totalBytes, budgetBytes, fits: totalBytes <= budgetBytes };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * The plan as aligned text lines (for a log; this library never prints).
 * @example for (const l of formatMemoryPlan(plan)) process.stderr.write(l + '\n');
 */
export function formatMemoryPlan(p: MemoryPlan): string[] {
  const w = Math.max(...p.items.map((i) => i.name.length));
  return [
    `memory plan: teacher ${(p.teacherParams / 1e6).toFixed(1)}M params, student ${(p.studentParams / 1e6).toFixed(1)}M (${(p.trainableParams / 1e6).toFixed(1)}M trained)`,
    ...p.items.map((i) => `  ${i.name.padEnd(w)}  ${gib(i.bytes).padStart(10)}  (${i.how})`),
    `  ${'total'.padEnd(w)}  ${gib(p.totalBytes).padStart(10)}  of ${gib(p.budgetBytes)} available${p.fits ? '' : ' — DOES NOT FIT'}`,
  ];
}

/**
 * Throws OUT_OF_MEMORY_PLAN (message: the total, the budget and the three largest items) when the plan does not fit.
 * @example assertMemoryFits(memoryPlan({ ...input, budgetBytes: 8 * 2 ** 30 }));
 */
export function assertMemoryFits(p: MemoryPlan): void {
  if (p.fits) return;
  const top = [...p.items].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((i) => `${i.name} ${gib(i.bytes)}`).join(', ');
  throw new MemoryPlanError('OUT_OF_MEMORY_PLAN', `the run needs about ${gib(p.totalBytes)} but ${gib(p.budgetBytes)} is available (largest: ${top})`, p, {
    hint: 'lower --batch or --seq, train only the Mamba mixers, or use a machine with more memory',
  });
}

/** A stage as the memory check sees it: the student's attention layers, what trains, rows and tokens per step. */
export interface PlannedStage {
  attnLayers: readonly number[];
  trainable: TrainableSet;
  batch: number;
  seq: number;
}

/**
 * The one check of a run before anything but the teacher's config.json is read: every stage's `seq` within the
 * teacher's context (DistillError TOO_LARGE naming `teacherSource`/config.json), then the memory plan of every stage;
 * the largest plan is returned (to log) and MemoryPlanError OUT_OF_MEMORY_PLAN is thrown when it does not fit.
 *
 * @example
 * checkRunFits({ teacher: cfg, teacherSource: 'models/sotu-tiny', variant: 'mamba2', log: console.error,
 *   stages: [{ attnLayers: [1, 3, 5, 7], trainable: 'all', batch: 8, seq: 128 }] });
 */
export function checkRunFits(o: {
  teacher: LlamaConfig; teacherSource: string; variant: 'mamba1' | 'mamba2'; stages: readonly PlannedStage[]; budgetBytes?: number;
  /** Receives the largest plan's lines (formatMemoryPlan) before the verdict. */
  log?: (line: string) => void;
}): MemoryPlan {
  for (const s of o.stages) {
    if (s.seq > o.teacher.maxPositionEmbeddings) {
      throw new DistillError('TOO_LARGE', `seq ${s.seq} is longer than the teacher's context (${o.teacherSource}/config.json max_position_embeddings = ${o.teacher.maxPositionEmbeddings})`, {
        hint: 'lower --seq (or the recipe\'s seq)',
      });
    }
  }
  const plans = o.stages.map((s) =>
    memoryPlan({ teacher: o.teacher, student: makeHybridConfig(o.teacher, o.variant, [...s.attnLayers]), trainable: s.trainable, batch: s.batch, seq: s.seq, budgetBytes: o.budgetBytes }),
  );
  const largest = plans.reduce((a, b) => (b.totalBytes > a.totalBytes ? b : a));
  if (o.log) for (const l of formatMemoryPlan(largest)) o.log(l);
  assertMemoryFits(largest);
  return largest;
}
