// Log-likelihood scoring of (context, continuation) token pairs: the one primitive behind perplexity and
// multiple choice. Two engines: a session that runs each shared context once and rewinds between continuations,
// and a batched full-sequence graph that scores many padded rows per call.
import { Graph, Runner, exp, gatherElements, log, reduceMax, reduceSum, squeeze, sub, unsqueeze } from '@mil/graph';
import { EvalError } from './eval-error';
import type { EvalModel, EvalSession } from './eval-model';
import { tokenLogProb } from './log-probs';

/** Score `continuation` given `context` (token ids; context non-empty, e.g. starting with BOS). */
export interface ScoreRequest {
  context: readonly number[];
  continuation: readonly number[];
}

export interface ScoreResult {
  /** Sum of log p(continuation token | everything before it), natural log. */
  logProb: number;
  /** True when every continuation token is the argmax of its row (lm-eval's is_greedy). */
  greedy: boolean;
  tokens: number;
}

export interface Scorer {
  score(requests: readonly ScoreRequest[], onProgress?: (done: number, total: number) => void): Promise<ScoreResult[]>;
  release(): Promise<void>;
}

function check(r: ScoreRequest, maxPositions: number): void {
  if (r.context.length === 0) throw new EvalError('BAD_INPUT', 'score: a request has an empty context (start it with BOS)');
  if (r.continuation.length === 0) throw new EvalError('BAD_INPUT', 'score: a request has an empty continuation');
  if (r.context.length + r.continuation.length > maxPositions)
    throw new EvalError('BAD_INPUT', `score: a request of ${r.context.length + r.continuation.length} tokens exceeds maxPositions ${maxPositions}`, { hint: 'truncate contexts from the left' });
}

/**
 * Scores through an incremental session: consecutive requests with the same context run it once; each
 * continuation is fed after it and the session is rewound (KV cut for the teacher, state snapshot for a hybrid).
 *
 * @example
 * const s = await sessionScorer(model, 1024);
 * const [a, b] = await s.score([{ context: ctx, continuation: c1 }, { context: ctx, continuation: c2 }]);
 */
export async function sessionScorer(model: EvalModel, maxPositions: number): Promise<Scorer> {
  const session: EvalSession = await model.session(maxPositions);
  const V = session.vocabSize;
  return {
    async score(requests, onProgress) {
      const out: ScoreResult[] = [];
      let ctx: readonly number[] | null = null;
      let lastRow: Float32Array | null = null;
      let mark: unknown = null;
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i];
        check(r, maxPositions);
        if (!ctx || !sameIds(ctx, r.context)) {
          session.reset();
          const logits = await session.forward(r.context);
          lastRow = logits.slice(logits.length - V);
          mark = model.mark(session);
          ctx = r.context;
        } else model.rewind(session, mark);
        let logProb = 0;
        let greedy = true;
        const first = tokenLogProb(lastRow!, r.continuation[0]);
        logProb += first.logProb;
        greedy &&= first.greedy;
        if (r.continuation.length > 1) {
          const logits = await session.forward(r.continuation.slice(0, -1));
          for (let t = 1; t < r.continuation.length; t++) {
            const x = tokenLogProb(logits.subarray((t - 1) * V, t * V), r.continuation[t]);
            logProb += x.logProb;
            greedy &&= x.greedy;
          }
        }
        out.push({ logProb, greedy, tokens: r.continuation.length });
        onProgress?.(i + 1, requests.length);
      }
      return out;
    },
    release: () => session.release(),
  };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface BatchScorerOptions {
  /** Rows per run (default 8). */
  batch?: number;
  /** Longest row (context + continuation). */
  maxPositions: number;
}

/**
 * Scores through one full-sequence graph that outputs per-position target log-probabilities: requests are sorted
 * by length and run `batch` rows per call, right-padded (padding after a causal row changes nothing before it).
 *
 * @example
 * const s = await batchScorer(model, { batch: 16, maxPositions: 512 });
 * const results = await s.score(requests);
 */
export async function batchScorer(model: EvalModel, opts: BatchScorerOptions): Promise<Scorer> {
  const g = new Graph('score');
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const logits = model.logitsGraph(g, opts.maxPositions);
  // log p(target) = (logit − max) − lse, where lse = log Σ exp(logit − max); the argmax's log p is −lse. No
  // [batch, seq, vocab] log-softmax or one-hot is materialised.
  const rowMax = reduceMax(logits, [-1], true);
  const lse = squeeze(log(reduceSum(exp(sub(logits, rowMax)), [-1], true)), [-1]);
  const top = squeeze(rowMax, [-1]);
  const lp = sub(sub(squeeze(gatherElements(logits, unsqueeze(targets, [-1]), -1), [-1]), top), lse);
  const built = g.toModel({
    outputs: { lp, lse },
    weights: 'initializers',
    weightData: (n) => {
      const w = model.graphWeights.get(n);
      if (!w) throw new EvalError('BAD_MODEL_FOLDER', `${model.dir}: no weight ${n}`);
      return w;
    },
  });
  const runner = await Runner.create(built, { ep: model.run.ep, threads: model.run.threads, spinning: model.run.spinning });
  const batch = opts.batch ?? 8;
  return {
    async score(requests, onProgress) {
      requests.forEach((r) => check(r, opts.maxPositions));
      const order = requests.map((_, i) => i).sort((a, b) => len(requests[b]) - len(requests[a]));
      const out: ScoreResult[] = new Array(requests.length);
      let done = 0;
      for (let s = 0; s < order.length; s += batch) {
        const rows = order.slice(s, s + batch);
        const L = Math.max(...rows.map((i) => len(requests[i]) - 1));
        const b = rows.length;
        const ids = new BigInt64Array(b * L);
        const tg = new BigInt64Array(b * L);
        const pos = new BigInt64Array(b * L);
        rows.forEach((ri, k) => {
          const all = [...requests[ri].context, ...requests[ri].continuation];
          for (let t = 0; t < L; t++) {
            pos[k * L + t] = BigInt(t);
            if (t < all.length - 1) {
              ids[k * L + t] = BigInt(all[t]);
              tg[k * L + t] = BigInt(all[t + 1]);
            }
          }
        });
        const feeds: Record<string, { data: BigInt64Array; dims: number[] }> = { input_ids: { data: ids, dims: [b, L] }, targets: { data: tg, dims: [b, L] } };
        if (runner.inputNames.includes('position_ids')) feeds.position_ids = { data: pos, dims: [b, L] };
        const res = await runner.run(feeds);
        const lpd = res.lp.data as Float32Array;
        const lsed = res.lse.data as Float32Array;
        rows.forEach((ri, k) => {
          const r = requests[ri];
          const n = r.continuation.length;
          const from = r.context.length - 1; // position whose target is the first continuation token
          let logProb = 0;
          let greedy = true;
          for (let t = from; t < from + n; t++) {
            logProb += lpd[k * L + t];
            greedy &&= lpd[k * L + t] >= -lsed[k * L + t] - 1e-6; // target logit = row max
          }
          out[ri] = { logProb, greedy, tokens: n };
        });
        done += b;
        onProgress?.(done, requests.length);
      }
      return out;
    },
    release: () => runner.release(),
  };
}

const len = (r: ScoreRequest) => r.context.length + r.continuation.length;
