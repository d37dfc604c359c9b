// Which decoder layers keep attention and which become Mamba, placed as the reference places them
// (dossier §1.1 for the fixed fractions, §3.1 for the stepwise order).
import { WeightTransferError } from './errors';

/** The attention fractions of the reference's released hybrids (0.75 = its stage-1 intermediate, Mamba at 0,4,8,…). */
export type AttentionFraction = 0.75 | 0.5 | 0.25 | 0.125 | 0;

/** How to choose the attention layers: a reference fraction, an explicit list, or the k-th step of the stepwise recipe. */
export type LayerScheduleSpec =
  | { readonly attentionFraction: AttentionFraction }
  | { readonly attnLayers: readonly number[] }
  | {
      /** Number of layers already replaced by Mamba (0 … numLayers). */
      readonly stepwise: number;
      /**
       * Replacement order. 'even-then-odd' (default): 0, 2, 4, …, then 1, 3, 5, … (the reference's
       * `mamba2_llama_stepwise` runs). 'first-to-last': 0, 1, 2, … (its README's advice for a pure-Mamba model).
       */
      readonly order?: 'even-then-odd' | 'first-to-last';
    };

/** Both halves of a schedule, each ascending; together they are 0 … numLayers−1. */
export interface LayerSchedule {
  readonly attnLayers: number[];
  readonly ssmLayers: number[];
}

// Fraction → period k: attention stays at the last layer of every block of k (layer i with i mod k = k − 1).
// For 0.75 the pattern is inverted: Mamba at the first layer of every block of 4 (i mod 4 = 0).
const PERIOD: Record<string, number> = { '0.5': 2, '0.25': 4, '0.125': 8 };

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function fromAttn(numLayers: number, attn: Iterable<number>): LayerSchedule {
  const isAttn = new Set(attn);
  const all = range(numLayers);
  return { attnLayers: all.filter((i) => isAttn.has(i)), ssmLayers: all.filter((i) => !isAttn.has(i)) };
}

/**
 * The order in which the stepwise recipe replaces attention layers by Mamba layers.
 *
 * @example
 * stepwiseOrder(6); // [0, 2, 4, 1, 3, 5]
 */
export function stepwiseOrder(numLayers: number, order: 'even-then-odd' | 'first-to-last' = 'even-then-odd'): number[] {
  const all = range(numLayers);
  if (order === 'first-to-last') return all;
  return [...all.filter((i) => i % 2 === 0), ...all.filter((i) => i % 2 === 1)];
}

/**
 * Splits `numLayers` decoder layers into attention and Mamba layers.
 *
 * Fractions follow the reference's released checkpoints, generalised to any depth by the same period rule:
 * attention fraction 1/k keeps attention at layers i with `i mod k = k − 1` (the last layer of every block of k),
 * so 0.5 → odd layers, 0.25 → 3, 7, 11, …, 0.125 → 7, 15, 23, …; 0 → none; 0.75 → Mamba at 0, 4, 8, ….
 * When the depth is not a multiple of k the trailing partial block has no attention layer (28 layers at 12.5% →
 * 7, 15, 23: three attention layers, 10.7%), which is what the reference's index rule gives.
 * `stepwise: k` replaces the first k layers of `stepwiseOrder` (even layers first, then odd).
 *
 * @example
 * layerSchedule(32, { attentionFraction: 0.5 }).ssmLayers;   // [0, 2, 4, …, 30]
 * layerSchedule(32, { attentionFraction: 0.125 }).attnLayers; // [7, 15, 23, 31]
 * layerSchedule(8, { stepwise: 5 }).attnLayers;              // [3, 5, 7]
 */
export function layerSchedule(numLayers: number, spec: LayerScheduleSpec): LayerSchedule {
  if (!Number.isSafeInteger(numLayers) || numLayers <= 0) {
    throw new WeightTransferError('BAD_SCHEDULE', `numLayers: expected a positive integer, got ${numLayers}`);
  }
  if ('attentionFraction' in spec) {
    const f = spec.attentionFraction;
    if (f === 0) return fromAttn(numLayers, []);
    if (f === 0.75) return fromAttn(numLayers, range(numLayers).filter((i) => i % 4 !== 0));
    const k = PERIOD[String(f)];
    if (k === undefined) {
      throw new WeightTransferError('BAD_SCHEDULE', `attentionFraction: expected one of 0.75, 0.5, 0.25, 0.125, 0 (the reference's schedules), got ${f}; pass { attnLayers } for any other placement`);
    }
    return fromAttn(numLayers, range(numLayers).filter((i) => i % k === k - 1));
  }
  if ('attnLayers' in spec) {
    const list = spec.attnLayers;
    for (const i of list) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= numLayers) {
        throw new WeightTransferError('BAD_SCHEDULE', `attnLayers: ${i} is not a layer index in [0, ${numLayers})`);
      }
    }
    if (new Set(list).size !== list.length) throw new WeightTransferError('BAD_SCHEDULE', `attnLayers: indices must be distinct, got [${list.join(', ')}]`);
    return fromAttn(numLayers, list);
  }
  if ('stepwise' in spec) {
    const k = spec.stepwise;
    if (!Number.isSafeInteger(k) || k < 0 || k > numLayers) {
      throw new WeightTransferError('BAD_SCHEDULE', `stepwise: expected an integer in [0, ${numLayers}] (layers replaced so far), got ${k}`);
    }
    const order = spec.order ?? 'even-then-odd';
    if (order !== 'even-then-odd' && order !== 'first-to-last') {
      throw new WeightTransferError('BAD_SCHEDULE', `stepwise order: expected 'even-then-odd' or 'first-to-last', got ${JSON.stringify(order)}`);
    }
    const replaced = new Set(stepwiseOrder(numLayers, order).slice(0, k));
    return fromAttn(numLayers, range(numLayers).filter((i) => !replaced.has(i)));
  }
  throw new WeightTransferError('BAD_SCHEDULE', `spec: expected { attentionFraction }, { attnLayers } or { stepwise }, got ${JSON.stringify(spec)}`);
}
