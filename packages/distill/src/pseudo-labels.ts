// Sequence-level KD data: continuations sampled from the teacher (the reference's recipe: T 0.7, top-p 0.95,
// top-k 10), stored as JSON lines of token ids, with the prompt excluded from the loss.
import { writeFile, rename } from 'node:fs/promises';
import { generateAll, type StepModel } from '@mil/models';
import type { TokenBatch } from './train-step';
import { IGNORE_INDEX } from './losses/token-logprobs';

export interface PseudoLabel {
  prompt: number[];
  completion: number[];
}

export interface PseudoLabelOptions {
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  eosTokenId?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Samples one completion per prompt from the teacher.
 *
 * @example
 * const labels = await generatePseudoLabels(teacherSession, prompts, { maxNewTokens: 128 });
 * await savePseudoLabels('runs/x/pseudo.jsonl', labels);
 */
export async function generatePseudoLabels(teacher: StepModel, prompts: number[][], o: PseudoLabelOptions): Promise<PseudoLabel[]> {
  const out: PseudoLabel[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const r = await generateAll(teacher, prompt, {
      maxNewTokens: o.maxNewTokens,
      doSample: true,
      temperature: o.temperature ?? 0.7,
      topP: o.topP ?? 0.95,
      topK: o.topK ?? 10,
      seed: (o.seed ?? 0) + i,
      eosTokenId: o.eosTokenId,
    });
    out.push({ prompt, completion: r.tokens });
    o.onProgress?.(i + 1, prompts.length);
  }
  return out;
}

/** Writes labels as JSON lines, atomically. */
export async function savePseudoLabels(path: string, labels: PseudoLabel[]): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, labels.map((l) => JSON.stringify(l)).join('\n') + '\n');
  await rename(tmp, path);
}

/**
 * Packs labels into a right-padded batch: inputs are prompt+completion, targets are the next tokens of the
 * completion only (prompt and padding get IGNORE_INDEX).
 */
export function collatePseudoLabels(labels: PseudoLabel[], seq: number, padId = 2): TokenBatch {
  const b = labels.length;
  const inputIds = new BigInt64Array(b * seq).fill(BigInt(padId));
  const targets = new BigInt64Array(b * seq).fill(BigInt(IGNORE_INDEX));
  labels.forEach((l, r) => {
    const all = [...l.prompt, ...l.completion].slice(0, seq + 1);
    for (let t = 0; t < Math.min(seq, all.length); t++) {
      inputIds[r * seq + t] = BigInt(all[t]);
      if (t + 1 < all.length && t + 1 >= l.prompt.length) targets[r * seq + t] = BigInt(all[t + 1]);
    }
  });
  return { inputIds, targets, batch: b, seq };
}
