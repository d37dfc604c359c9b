// Log-probabilities of chosen tokens from rows of logits (host side, float64 accumulation).

/**
 * Log-softmax of `row` at `id`, and whether `id` is the row's argmax (greedy).
 *
 * @example
 * const { logProb, greedy } = tokenLogProb(logits.subarray(0, vocab), 17);
 */
export function tokenLogProb(row: ArrayLike<number>, id: number): { logProb: number; greedy: boolean } {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i] - max);
  return { logProb: row[id] - max - Math.log(z), greedy: row[id] >= max };
}

/** Index of the largest value of `row` (first one on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
