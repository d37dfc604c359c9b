// Child process of bench:decode: one runtime, one model, in a process of its own (transformers.js brings
// onnxruntime-node 1.30.0, whose libonnxruntime.so.1 cannot share a process with our 1.29.0). Every runtime is
// measured the same way on the same token ids:
//   prefill — a fresh sequence, the first `prefill` tokens in one call, until the first new token: prefill tokens/s;
//   decode  — per context c: fill c tokens (untimed), then `steps` greedy decode steps timed one by one: tokens/s
//             from the median step.
// Request as JSON on argv[2]; prints one JSON line { prefillMs: number[], decode: { [c]: number[] } }.
import { readFileSync } from 'node:fs';
import type { LlamaSession, HybridSession } from '@mil/models';

export interface WorkerRequest {
  runtime: 'ours' | 'transformers.js' | 'llama.cpp';
  /** ours: model folder (Llama or hybrid, hybrid given by `hybrid`); transformers.js: exported folder; llama.cpp: .gguf. */
  model: string;
  /** ours: a hybrid student built in-process from the teacher (weights do not change the speed). */
  hybrid?: { variant: 'mamba1' | 'mamba2'; attnLayers: number[] };
  tokensFile: string;
  prefill: number;
  prefillReps: number;
  contexts: number[];
  steps: number;
  threads: number;
  spinning: boolean;
  maxPositions: number;
}

export interface WorkerResult {
  prefillMs: number[];
  decode: Record<string, number[]>;
}

/** One runtime behind the two operations the bench times. */
interface Runner {
  /** Runs `prompt` on a fresh sequence, then `newTokens` greedy tokens; calls `tick` after the prompt's first new
   * token and after every later token. */
  generate(prompt: number[], newTokens: number, tick: () => void): Promise<void>;
  close(): Promise<void>;
}

const req = JSON.parse(process.argv[2]) as WorkerRequest;
const tokens = JSON.parse(readFileSync(req.tokensFile, 'utf8')) as number[];

function argmax(a: Float32Array, from: number): number {
  let k = from;
  for (let i = from + 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k - from;
}

async function oursRunner(): Promise<Runner> {
  const { loadLlama, LlamaSession, HybridSession } = await import('@mil/models');
  const { initStudentFromTeacher, makeHybridConfig } = await import('@mil/weight-transfer');
  const t = await loadLlama(req.model);
  const opts = { ep: 'cpu' as const, threads: req.threads, spinning: req.spinning, maxPositions: req.maxPositions };
  const vocab = t.config.vocabSize;
  let session: LlamaSession | HybridSession;
  if (req.hybrid) {
    const h = makeHybridConfig(t.config, req.hybrid.variant, req.hybrid.attnLayers);
    session = await HybridSession.create(t.config, h, initStudentFromTeacher(t.weights, t.config, h, { seed: 0 }), opts);
  } else session = await LlamaSession.create(t.config, t.weights, opts);
  const fresh = session;
  return {
    async generate(prompt, n, tick) {
      fresh.reset();
      // Long prompts in 512-token chunks (the teacher's single-call limit is memory, not correctness).
      let logits: Float32Array = new Float32Array(0);
      for (let i = 0; i < prompt.length; i += 512) logits = await fresh.forward(prompt.slice(i, i + 512));
      let next = argmax(logits, logits.length - vocab);
      tick();
      for (let s = 1; s < n; s++) {
        const l = await fresh.decode(next);
        next = argmax(l, l.length - vocab);
        tick();
      }
    },
    close: () => fresh.release(),
  };
}

async function transformersJsRunner(): Promise<Runner> {
  const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
  const { dirname, basename } = await import('node:path');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(req.model);
  const model = await AutoModelForCausalLM.from_pretrained(basename(req.model), {
    dtype: 'fp32',
    session_options: {
      intraOpNumThreads: req.threads,
      interOpNumThreads: 1,
      ...(req.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
    },
  });
  return {
    async generate(prompt, n, tick) {
      const ids = new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
      const mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
      let puts = 0;
      // transformers.js calls put() once with the prompt, then once per new token.
      const streamer = { put: () => void (puts++ > 0 && tick()), end: () => undefined };
      await model.generate({ input_ids: ids, attention_mask: mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer } as never);
    },
    async close() {
      await model.dispose();
    },
  };
}

async function llamaCppRunner(): Promise<Runner> {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: req.model });
  const ctx = await model.createContext({ contextSize: req.maxPositions, threads: req.threads, sequences: 1 });
  const seq = ctx.getSequence();
  return {
    async generate(prompt, n, tick) {
      await seq.clearHistory();
      let got = 0;
      for await (const _ of seq.evaluate(prompt as never, { temperature: 0 })) {
        tick();
        if (++got >= n) break;
      }
    },
    async close() {
      await ctx.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function main(): Promise<void> {
  const runner = req.runtime === 'ours' ? await oursRunner() : req.runtime === 'transformers.js' ? await transformersJsRunner() : await llamaCppRunner();
  const res: WorkerResult = { prefillMs: [], decode: {} };
  const prompt = tokens.slice(0, req.prefill);
  for (let r = 0; r < req.prefillReps + 1; r++) {
    const t0 = performance.now();
    let t1 = 0;
    await runner.generate(prompt, 1, () => (t1 = performance.now()));
    if (r > 0) res.prefillMs.push(t1 - t0); // the first run warms up
  }
  for (const c of req.contexts) {
    const stamps: number[] = [];
    await runner.generate(tokens.slice(0, c), req.steps + 2, () => stamps.push(performance.now()));
    // stamps[0]: after the prompt; stamps[1]: after the first decode step (warm-up); then the timed steps.
    res.decode[c] = stamps.slice(2).map((t, i) => t - stamps[i + 1]);
  }
  await runner.close();
  process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => {
  process.stderr.write(`decode-worker (${req.runtime}) failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
