// trainer_state.json: everything besides tensors that a resumed run needs, and its validation on load.
import { DistillError } from '../errors';
import { type ScheduleSpec } from '../optim/index';

/** One optimizer step as recorded in the history. */
export interface StepRecord {
  step: number;
  /** Mean of the micro-batch losses of this step. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokens: number;
}

/** Metrics returned by the evaluation callback at a step. */
export interface EvalRecord {
  step: number;
  metrics: Record<string, number>;
}

/** Size and checksum of a checkpoint file, checked before anything is loaded from it. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

export const TRAINER_STATE_FORMAT = 'mil-trainer-state';
export const TRAINER_STATE_VERSION = 1;

export interface TrainerStateJson {
  format: typeof TRAINER_STATE_FORMAT;
  version: typeof TRAINER_STATE_VERSION;
  /** Optimizer steps completed. */
  step: number;
  totalSteps: number;
  gradAccumSteps: number;
  seed: number;
  /** Data position: epoch index and micro-batches consumed in it. */
  data: { epoch: number; position: number; microBatches: number };
  tokensSeen: number;
  optimizer: { kind: 'adamw' | 'sgd'; stepCount: number; hyper: Record<string, unknown> };
  schedule: ScheduleSpec;
  baseLr: number;
  maxGradNorm: number | null;
  trainable: string[];
  frozen: string[];
  history: StepRecord[];
  evals: EvalRecord[];
  files: Record<string, FileDigest>;
}

/** Parse and check the shape of a trainer_state.json text; `CHECKPOINT_CORRUPT` names the first bad field. */
export function parseTrainerState(text: string, path: string): TrainerStateJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DistillError('CHECKPOINT_CORRUPT', `${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const bad = (field: string, want: string): never => {
    throw new DistillError('CHECKPOINT_CORRUPT', `${path}: field '${field}' should be ${want}`);
  };
  if (typeof raw !== 'object' || raw === null) return bad('(root)', 'an object');
  const s = raw as Record<string, unknown>;
  if (s.format !== TRAINER_STATE_FORMAT) bad('format', `'${TRAINER_STATE_FORMAT}'`);
  if (s.version !== TRAINER_STATE_VERSION) bad('version', String(TRAINER_STATE_VERSION));
  const isCount = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  for (const f of ['step', 'totalSteps', 'gradAccumSteps', 'seed', 'tokensSeen'] as const) if (!isCount(s[f])) bad(f, 'an integer >= 0');
  const data = s.data as Record<string, unknown> | undefined;
  for (const f of ['epoch', 'position', 'microBatches'] as const) if (!data || !isCount(data[f])) bad(`data.${f}`, 'an integer >= 0');
  const opt = s.optimizer as Record<string, unknown> | undefined;
  if (!opt || (opt.kind !== 'adamw' && opt.kind !== 'sgd')) bad('optimizer.kind', "'adamw' or 'sgd'");
  if (!isCount(opt!.stepCount)) bad('optimizer.stepCount', 'an integer >= 0');
  if (typeof s.schedule !== 'object' || s.schedule === null) bad('schedule', 'an object');
  if (typeof s.baseLr !== 'number') bad('baseLr', 'a number');
  if (s.maxGradNorm !== null && typeof s.maxGradNorm !== 'number') bad('maxGradNorm', 'a number or null');
  for (const f of ['trainable', 'frozen'] as const) {
    if (!Array.isArray(s[f]) || !(s[f] as unknown[]).every((x) => typeof x === 'string')) bad(f, 'an array of strings');
  }
  if (!Array.isArray(s.history) || (s.history as unknown[]).length !== s.step) bad('history', `an array of ${String(s.step)} records`);
  for (const [i, r] of (s.history as Record<string, unknown>[]).entries()) {
    if (typeof r !== 'object' || r === null || r.step !== i + 1 || typeof r.loss !== 'number' || typeof r.lr !== 'number') {
      bad(`history[${i}]`, `a record of step ${i + 1} with numeric loss and lr`);
    }
  }
  if (!Array.isArray(s.evals)) bad('evals', 'an array');
  const files = s.files as Record<string, Record<string, unknown>> | undefined;
  if (typeof files !== 'object' || files === null) bad('files', 'an object');
  for (const [name, d] of Object.entries(files!)) {
    if (!isCount(d?.bytes) || typeof d?.sha256 !== 'string') bad(`files.${name}`, '{ bytes, sha256 }');
  }
  return s as unknown as TrainerStateJson;
}
