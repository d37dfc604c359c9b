// Generation speed: for each prompt length × generation length, time-to-first-token (prefill of the prompt up to
// the first sampled token) and decode tokens/s (greedy, one token per call, as a chat user sees it).
import type { EvalModel } from '../eval-model';
import { argmax } from '../log-probs';

export interface SpeedOptions {
  /** Prompt lengths in tokens (default [128, 512, 2048]). */
  promptLengths?: number[];
  /** Tokens generated after the prompt (default [64]). */
  genLengths?: number[];
  /** Runs per point; the fastest prefill and the fastest decode count (default 3; a shared machine is noisy). */
  repeats?: number;
}

export interface SpeedPoint {
  prompt: number;
  gen: number;
  /** Seconds from the start of prefill to the first generated token. */
  ttft: number;
  /** Generated tokens after the first per second of decode. */
  decodeTokensPerSec: number;
  /** Prompt tokens per second of prefill. */
  prefillTokensPerSec: number;
}

/**
 * Measures prefill and greedy decode on prompts cut from `promptIds` (held-out text), after one warm-up run;
 * each point keeps the fastest of `repeats` runs.
 *
 * @example
 * const pts = await generationSpeed(model, ids, { promptLengths: [128, 1024], genLengths: [64] });
 */
export async function generationSpeed(
  model: EvalModel, promptIds: readonly number[], o: SpeedOptions = {}, onProgress?: (done: number, total: number) => void,
): Promise<SpeedPoint[]> {
  const prompts = o.promptLengths ?? [128, 512, 2048];
  const gens = o.genLengths ?? [64];
  const session = await model.session(Math.max(...prompts) + Math.max(...gens) + 1);
  const V = session.vocabSize;
  const out: SpeedPoint[] = [];
  try {
    const once = async (n: number, g: number) => {
      session.reset();
      const t0 = performance.now();
      let logits = await session.forward(promptIds.slice(0, n));
      let next = argmax(logits.subarray(logits.length - V));
      const t1 = performance.now();
      for (let k = 1; k < g; k++) {
        logits = await session.forward([next]);
        next = argmax(logits);
      }
      const t2 = performance.now();
      return { ttft: (t1 - t0) / 1000, decode: (t2 - t1) / 1000 };
    };
    await once(Math.min(16, prompts[0]), 4); // warm-up
    let done = 0;
    for (const n of prompts)
      for (const g of gens) {
        let r = await once(n, g);
        for (let k = 1; k < (o.repeats ?? 3); k++) {
          const x = await once(n, g);
          r = { ttft: Math.min(r.ttft, x.ttft), decode: Math.min(r.decode, x.decode) };
        }
        out.push({ prompt: n, gen: g, ttft: r.ttft, decodeTokensPerSec: (g - 1) / Math.max(r.decode, 1e-9), prefillTokensPerSec: n / r.ttft });
        onProgress?.(++done, prompts.length * gens.length);
      }
  } finally {
    await session.release();
  }
  return out;
}
