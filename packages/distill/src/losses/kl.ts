import { type Tensor, add, cast, div, exp, logSoftmax, maximum, mul, reduceSum, sub } from '@mil/graph';
import { validMask } from './token-logprobs';
import { DistillError } from '../errors';

export interface KlOptions {
  /** Softmax temperature applied to both sides (default 1). The loss is multiplied by T² (Hinton et al.). */
  temperature?: number;
  /**
   * 'masked-mean' (default): mean over positions whose target is not -100 (prompt and padding excluded).
   * 'reference': what the reference code computes — every position counts, summed per sequence, divided by the
   * batch size (`reduction="batchmean"` on a [B, L, V] tensor; issue #11 of jxiw/MambaInLlama).
   */
  reduction?: 'masked-mean' | 'reference';
  /** Needed for 'masked-mean': targets [batch, seq] with -100 at excluded positions. */
  targets?: Tensor;
}

function reduceKl(perPos: Tensor, opts: KlOptions, studentLogits: Tensor): Tensor {
  const t = opts.temperature ?? 1;
  const scaled = t === 1 ? perPos : mul(perPos, t * t);
  if ((opts.reduction ?? 'masked-mean') === 'reference') {
    const g = studentLogits.graph;
    const batch = g.addNode('Shape', [studentLogits], [{ dtype: 'int64', shape: [1] }], { start: 0, end: 1 })[0];
    return div(reduceSum(scaled), reduceSum(cast(batch, studentLogits.dtype)));
  }
  if (!opts.targets) throw new DistillError('BAD_OPTION', "kl: reduction 'masked-mean' needs opts.targets");
  const mask = validMask(opts.targets, studentLogits.dtype);
  return div(reduceSum(mul(scaled, mask)), maximum(reduceSum(mask), 1));
}

/**
 * Forward KL(teacher ‖ student) = Σ_v p_T(v) (log p_T(v) − log p_S(v)) per position, reduced as `opts` says.
 * The distillation loss of the paper (Eq. 2) and of the reference's KDTrainer.
 *
 * @example
 * const kl = forwardKl(studentLogits, teacherLogits, { targets });
 */
export function forwardKl(studentLogits: Tensor, teacherLogits: Tensor, opts: KlOptions = {}): Tensor {
  const t = opts.temperature ?? 1;
  const ls = logSoftmax(t === 1 ? studentLogits : div(studentLogits, t), -1);
  const lt = logSoftmax(t === 1 ? teacherLogits : div(teacherLogits, t), -1);
  const perPos = reduceSum(mul(exp(lt), sub(lt, ls)), [-1]);
  return reduceKl(perPos, opts, studentLogits);
}

/** Reverse KL(student ‖ teacher) = Σ_v p_S(v) (log p_S(v) − log p_T(v)) per position (mode-seeking). */
export function reverseKl(studentLogits: Tensor, teacherLogits: Tensor, opts: KlOptions = {}): Tensor {
  const t = opts.temperature ?? 1;
  const ls = logSoftmax(t === 1 ? studentLogits : div(studentLogits, t), -1);
  const lt = logSoftmax(t === 1 ? teacherLogits : div(teacherLogits, t), -1);
  const perPos = reduceSum(mul(exp(ls), sub(ls, lt)), [-1]);
  return reduceKl(perPos, opts, studentLogits);
}

/** The reference's stage-1 objective: klWeight·KL(teacher‖student) + ceWeight·CE (defaults 0.1 and 1). */
export function klPlusCe(kl: Tensor, ce: Tensor, klWeight = 0.1, ceWeight = 1): Tensor {
  return add(mul(kl, klWeight), mul(ce, ceWeight));
}
