// Oracles written independently of src/: the processed distribution by sorting, and greedy decoding by re-running
// a fresh model on the whole context for every token.
import type { NgramLm } from './ngram-lm';
import { lastLogits } from './ngram-lm';

export interface OracleSampling {
  temperature: number;
  topK?: number;
  topP?: number;
}

/** softmax(logits / T) restricted to the top-k, then to the smallest top set with mass >= p (no ties assumed). */
export function oracleDistribution(logits: readonly number[], s: OracleSampling): number[] {
  const V = logits.length;
  const order = [...Array(V).keys()].sort((a, b) => logits[b] - logits[a]);
  const kept = s.topK ? order.slice(0, s.topK) : order;
  const w = kept.map((i) => Math.exp((logits[i] - logits[order[0]]) / s.temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let probs = w.map((x) => x / total);
  let cut = probs.length;
  if (s.topP !== undefined && s.topP < 1) {
    let mass = 0;
    for (let r = 0; r < probs.length; r++) {
      mass += probs[r];
      if (mass >= s.topP) {
        cut = r + 1;
        break;
      }
    }
  }
  probs = probs.slice(0, cut);
  const m = probs.reduce((a, b) => a + b, 0);
  const out = new Array<number>(V).fill(0);
  for (let r = 0; r < cut; r++) out[kept[r]] = probs[r] / m;
  return out;
}

/** Greedy continuation by brute force: a fresh model per token, argmax by a plain loop. */
export async function oracleGreedy(
  make: () => NgramLm,
  prompt: readonly number[],
  maxNewTokens: number,
  eos: readonly number[] = [],
): Promise<number[]> {
  const context = [...prompt];
  const out: number[] = [];
  while (out.length < maxNewTokens) {
    const logits = await lastLogits(make, context);
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    out.push(best);
    context.push(best);
    if (eos.includes(best)) break;
  }
  return out;
}
