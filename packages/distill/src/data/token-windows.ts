// Language-model training examples cut from one long token stream.
import type { TokenBatch } from '../train-step';
import { DistillError } from '../errors';

/** A window of `length + 1` tokens starting at `start`: inputs are the first `length`, targets the last `length`. */
export interface TokenWindow {
  start: number;
}

/**
 * Non-overlapping windows of seq+1 tokens over `tokens` (the last token of a window is the first of the next, so
 * every token is predicted once per epoch).
 *
 * @example
 * const windows = tokenWindows(stream.length, 256); // feed to arrayDataSource with collate: collateWindows(stream, 256)
 */
export function tokenWindows(streamLength: number, seq: number): TokenWindow[] {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new DistillError('BAD_OPTION', `tokenWindows: seq must be an integer >= 1, got ${seq}`);
  const out: TokenWindow[] = [];
  for (let s = 0; s + seq + 1 <= streamLength; s += seq) out.push({ start: s });
  return out;
}

/** Builds the [batch, seq] inputs and next-token targets of a set of windows. */
export function collateWindows(tokens: Int32Array, seq: number): (ws: TokenWindow[]) => TokenBatch {
  return (ws) => {
    const inputIds = new BigInt64Array(ws.length * seq);
    const targets = new BigInt64Array(ws.length * seq);
    ws.forEach((w, b) => {
      for (let t = 0; t < seq; t++) {
        inputIds[b * seq + t] = BigInt(tokens[w.start + t]);
        targets[b * seq + t] = BigInt(tokens[w.start + t + 1]);
      }
    });
    return { inputIds, targets, batch: ws.length, seq };
  };
}
