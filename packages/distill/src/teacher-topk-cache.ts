// Cached teacher signal for larger runs: the teacher's top-k log-probabilities per position, computed once and stored
// in a safetensors file (batch n → `batch.{n}.indices` I32 [b, s, k], `batch.{n}.logprobs` F32 [b, s, k]), so that
// distillation epochs need no teacher forward. The KD loss then runs over the top-k support.
import { type Tensor, div, exp, gatherElements, log, logSoftmax, maximum, mul, reduceSum, sub } from "@mil/graph";
import { writeSafetensors, type SafetensorsFile } from '@mil/checkpoint';
import type { TeacherSignal } from './teacher-signal';
import type { TokenBatch } from './train-step';
import { validMask } from './losses/token-logprobs';
import { DistillError } from './errors';

/** Top-k of one row of logits as (indices, log-probabilities under the full softmax). */
function topKRow(logits: Float32Array, off: number, v: number, k: number, idx: Int32Array, lp: Float32Array, out: number): void {
  let m = -Infinity;
  for (let j = 0; j < v; j++) m = Math.max(m, logits[off + j]);
  let z = 0;
  for (let j = 0; j < v; j++) z += Math.exp(logits[off + j] - m);
  const lse = m + Math.log(z);
  // Partial selection: keep the k best in a small sorted buffer (k ≪ v).
  const best: number[] = [];
  for (let j = 0; j < v; j++) {
    const x = logits[off + j];
    if (best.length < k || x > logits[off + best[best.length - 1]]) {
      let p = best.length < k ? best.length : k - 1;
      if (best.length < k) best.push(j);
      while (p > 0 && logits[off + best[p - 1]] < x) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = j;
    }
  }
  for (let r = 0; r < k; r++) {
    idx[out + r] = best[r];
    lp[out + r] = logits[off + best[r]] - lse;
  }
}

/**
 * Runs the teacher over `batches` and writes its top-k per position to `path` (atomic). `metadata` adds string
 * pairs to the file's header (e.g. which shard of a larger run it is).
 *
 * @example
 * await cacheTeacherTopK(teacher, batchesOfEpoch, 32, 'runs/x/teacher-top32.safetensors');
 */
export async function cacheTeacherTopK(teacher: TeacherSignal, batches: Iterable<TokenBatch>, k: number, path: string, metadata: Record<string, string> = {}): Promise<number> {
  const tensors: Record<string, { dtype: 'I32' | 'F32'; shape: number[]; data: Int32Array | Float32Array }> = {};
  let n = 0;
  for (const b of batches) {
    const logits = await teacher.logits(b);
    const rows = b.batch * b.seq;
    const v = logits.length / rows;
    if (k > v) throw new DistillError('BAD_OPTION', `cacheTeacherTopK: k = ${k} exceeds the vocabulary (${v})`);
    const idx = new Int32Array(rows * k);
    const lp = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) topKRow(logits, r * v, v, k, idx, lp, r * k);
    tensors[`batch.${n}.indices`] = { dtype: 'I32', shape: [b.batch, b.seq, k], data: idx };
    tensors[`batch.${n}.logprobs`] = { dtype: 'F32', shape: [b.batch, b.seq, k], data: lp };
    n++;
  }
  await writeSafetensors(path, tensors, { metadata: { ...metadata, kind: 'teacher-topk', k: String(k), batches: String(n) } });
  return n;
}

/** Reads the cached top-k of batch `n` as feeds for a top-k KD step. */
export async function readTeacherTopK(file: SafetensorsFile, n: number): Promise<{ indices: BigInt64Array; logprobs: Float32Array; dims: number[] }> {
  if (!file.has(`batch.${n}.indices`)) throw new DistillError('BAD_OPTION', `${file.path}: no cached batch ${n}`);
  const raw = (await file.read(`batch.${n}.indices`, { as: 'raw' })) as Int32Array;
  const logprobs = (await file.read(`batch.${n}.logprobs`, { as: 'float32' })) as Float32Array;
  return { indices: BigInt64Array.from(raw, (x) => BigInt(x)), logprobs, dims: [...file.info(`batch.${n}.indices`).shape] };
}


/**
 * KL(teacher‖student) restricted to the teacher's top-k: the teacher distribution is renormalised over its top-k,
 * the student's log-probabilities are read at those indices. Masked mean over positions with a valid target.
 */
export function topKKl(studentLogits: Tensor, topIdx: Tensor, topLogp: Tensor, targets: Tensor): Tensor {
  const ls = gatherElements(logSoftmax(studentLogits, -1), topIdx, -1);
  // Renormalise the teacher over its top-k: log p̃ = log p − log Σ_k p.
  const lt = sub(topLogp, logSumExp(topLogp));
  const perPos = reduceSum(mul(exp(lt), sub(lt, ls)), [-1]);
  const mask = validMask(targets, studentLogits.dtype);
  return div(reduceSum(mul(perPos, mask)), maximum(reduceSum(mask), 1));
}

/** log Σ exp(x) over the last axis, kept for broadcasting (x are log-probs ≤ 0, so exp cannot overflow). */
const logSumExp = (x: Tensor): Tensor => log(reduceSum(exp(x), [-1], true));

