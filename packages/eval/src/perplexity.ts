// Held-out perplexity of a causal LM over a token stream, in windows.
import type { RunOptions } from '@mil/core';
import { Graph, Runner, type Tensor, reduceSum, targetLogProbs } from '@mil/graph';

export interface PerplexityResult {
  /** exp(mean NLL per predicted token). */
  perplexity: number;
  /** Mean negative log-likelihood in nats per token. */
  nll: number;
  tokens: number;
}

/** Window size and `RunOptions` (provider, threads, spinning). */
export interface PerplexityOptions extends RunOptions {
  /** Window length (tokens predicted per window); windows do not overlap. */
  seq: number;
  /** Windows per run. */
  batch?: number;
  /** Stop after this many tokens (default: the whole stream). */
  maxTokens?: number;
  onProgress?: (done: number, total: number) => void;
}


/**
 * Perplexity of a model over `tokens`. `build` emits the model's logits for `input_ids`/`position_ids` [batch, seq]
 * into the graph (weights as initializers or inputs fed through `weights`).
 *
 * @example
 * const r = await perplexity((g) => buildLlamaTrainGraph(g, cfg).logits, weights, stream, { seq: 256 });
 */
export async function perplexity(
  build: (g: Graph) => Tensor,
  weights: Map<string, Float32Array>,
  tokens: Int32Array,
  opts: PerplexityOptions,
): Promise<PerplexityResult> {
  const g = new Graph('perplexity');
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const logits = build(g);
  const nll = reduceSum(targetLogProbs(logits, targets));
  const model = g.toModel({ outputs: { nll }, weights: 'initializers', weightData: (n) => weights.get(n) });
  const run = await Runner.create(model, { ep: opts.ep, threads: opts.threads, spinning: opts.spinning });
  const seq = opts.seq;
  const batch = opts.batch ?? 4;
  const limit = Math.min(tokens.length - 1, opts.maxTokens ?? Infinity);
  const windows = Math.floor(limit / seq);
  let total = 0;
  let count = 0;
  for (let w0 = 0; w0 < windows; w0 += batch) {
    const b = Math.min(batch, windows - w0);
    const ids = new BigInt64Array(b * seq);
    const tg = new BigInt64Array(b * seq);
    const pos = new BigInt64Array(b * seq);
    for (let i = 0; i < b; i++)
      for (let t = 0; t < seq; t++) {
        const at = (w0 + i) * seq + t;
        ids[i * seq + t] = BigInt(tokens[at]);
        tg[i * seq + t] = BigInt(tokens[at + 1]);
        pos[i * seq + t] = BigInt(t);
      }
    const feeds: Record<string, { data: BigInt64Array; dims: number[] }> = {
      input_ids: { data: ids, dims: [b, seq] },
      targets: { data: tg, dims: [b, seq] },
    };
    if (run.inputNames.includes('position_ids')) feeds.position_ids = { data: pos, dims: [b, seq] };
    const out = await run.run(feeds);
    total -= out.nll.data[0] as number;
    count += b * seq;
    opts.onProgress?.(w0 + b, windows);
  }
  await run.release();
  const nllMean = total / Math.max(count, 1);
  return { perplexity: Math.exp(nllMean), nll: nllMean, tokens: count };
}
