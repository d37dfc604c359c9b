import type { LlamaConfig } from '@mil/checkpoint';
// Conformance against checkpoints written by the real libraries (transformers 5 and the MambaInLlama reference code;
// provenance in fixtures/reference/README.md): each folder loads through the public loaders unchanged, and the
// training graph, the inference session and the oracle reproduce the reference's float32 logits of two sequences
// and its 24 greedy tokens.
import { describe, it, expect, afterAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelFolder, openSafetensors } from '@mil/checkpoint';
import { Graph, Runner } from '@mil/graph';
import {
  argmax,
  buildHybridTrainGraph,
  buildLlamaTrainGraph,
  createOracleStepModel,
  HybridSession,
  hybridOracleForward,
  LlamaSession,
  llamaOracleForward,
  loadHybrid,
  loadLlama,
  type HybridOracleState,
  type StepModel,
} from '../src/index';
import type { HybridConfig } from '@mil/checkpoint';

const ROOT = new URL('./fixtures/reference/', import.meta.url).pathname;

interface Inputs {
  sequences: number[][];
  prompt: number[];
  max_new_tokens: number;
}
interface Expected {
  inputs: Inputs;
  logits: Float32Array[];
  stepLogits: Float32Array;
  tokens: number[];
}

async function expected(dir: string): Promise<Expected> {
  const inputs = JSON.parse(await readFile(join(dir, 'reference-inputs.json'), 'utf8')) as Inputs;
  const greedy = JSON.parse(await readFile(join(dir, 'reference-greedy.json'), 'utf8')) as { tokens: number[] };
  const lf = await openSafetensors(join(dir, 'reference-logits.safetensors'));
  const gf = await openSafetensors(join(dir, 'reference-greedy-logits.safetensors'));
  try {
    const logits = [(await lf.read('logits_0', { as: 'float32' })) as Float32Array, (await lf.read('logits_1', { as: 'float32' })) as Float32Array];
    const stepLogits = (await gf.read('step_logits', { as: 'float32' })) as Float32Array;
    return { inputs, logits, stepLogits, tokens: greedy.tokens };
  } finally {
    await lf.close();
    await gf.close();
  }
}

/** Largest |a - b| and the positions whose argmax differs, for row-major [rows, vocab] logits. */
function compare(got: ArrayLike<number>, ref: Float32Array, vocab: number): { maxAbs: number; argmaxMismatches: number } {
  expect(got.length).toBe(ref.length);
  let maxAbs = 0;
  let argmaxMismatches = 0;
  for (let r = 0; r < ref.length / vocab; r++) {
    const a = Array.prototype.slice.call(got, r * vocab, (r + 1) * vocab) as number[];
    const b = ref.subarray(r * vocab, (r + 1) * vocab);
    for (let i = 0; i < vocab; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    if (argmax(a) !== argmax(b)) argmaxMismatches++;
  }
  return { maxAbs, argmaxMismatches };
}

/** Greedy decoding through a stateful model: the tokens and, row by row, the logits each was taken from. */
async function greedy(model: StepModel, prompt: number[], n: number, vocab: number): Promise<{ tokens: number[]; logits: Float64Array }> {
  const rows = new Float64Array(n * vocab);
  const tokens: number[] = [];
  let logits = await model.prefill(prompt);
  for (let i = 0; i < n; i++) {
    rows.set(logits, i * vocab);
    tokens.push(argmax(logits));
    if (i + 1 < n) logits = await model.decode(tokens[i]);
  }
  return { tokens, logits: rows };
}

/** Greedy decoding by recomputing the whole sequence each step (for the training graph, which has no cache). */
async function greedyRecompute(forward: (ids: number[]) => Promise<ArrayLike<number>>, prompt: number[], n: number, vocab: number) {
  const rows = new Float64Array(n * vocab);
  const seq = [...prompt];
  const tokens: number[] = [];
  for (let i = 0; i < n; i++) {
    const all = await forward(seq);
    const last = Array.prototype.slice.call(all, all.length - vocab) as number[];
    rows.set(last, i * vocab);
    tokens.push(argmax(last));
    seq.push(tokens[i]);
  }
  return { tokens, logits: rows };
}

/** A training graph run on one sequence at a time (batch 1, positions 0..T-1). */
async function trainGraphForward(build: (g: Graph) => string, weights: ReadonlyMap<string, Float32Array>) {
  const g = new Graph();
  const logits = build(g);
  const model = g.toModel({ outputs: { logits: g.tensor(logits) } });
  const run = await Runner.create(model, { threads: 1 });
  const forward = async (ids: number[]): Promise<Float32Array> => {
    const feeds: Record<string, { data: Float32Array | BigInt64Array; dims: readonly number[] }> = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
    };
    if (model.inputNames.includes('position_ids')) feeds.position_ids = { data: BigInt64Array.from(ids.map((_, t) => BigInt(t))), dims: [1, ids.length] };
    for (const name of model.paramNames) {
      const w = weights.get(name);
      if (!w) throw new Error(`no weight ${name}`);
      feeds[name] = { data: w, dims: g.tensor(name).shape as number[] };
    }
    return (await run.run(feeds)).logits.data as Float32Array;
  };
  return { forward, release: () => run.release() };
}

/** A StepModel over the hybrid oracle, carrying its state between calls. */
function hybridOracleStepModel(teacher: LlamaConfig, hybrid: HybridConfig, weights: ReadonlyMap<string, Float32Array>): StepModel {
  let state: HybridOracleState | undefined;
  const vocab = hybrid.vocabSize;
  const step = async (ids: number[]) => {
    const out = hybridOracleForward(teacher, hybrid, (n) => weights.get(n), [ids], { state });
    state = out.state;
    return out.logits.slice(out.logits.length - vocab);
  };
  return {
    prefill: (ids) => {
      state = undefined;
      return step([...ids]);
    },
    decode: (id) => step([id]),
  };
}

type Path = 'train graph' | 'session' | 'oracle';
/** max |Δlogit| per fixture and path, over logits_0, logits_1 and step_logits (printed once at the end). */
const table: Record<string, Partial<Record<Path, number>>> = {};

/** Checks one path: both sequences' logits, the greedy tokens and the logits each greedy token came from. */
async function checkPath(
  fixture: string,
  path: Path,
  exp: Expected,
  vocab: number,
  tol: number,
  forward: (ids: number[]) => Promise<ArrayLike<number>>,
  decodeGreedy: () => Promise<{ tokens: number[]; logits: Float64Array }>,
) {
  let worst = 0;
  for (let s = 0; s < exp.inputs.sequences.length; s++) {
    const r = compare(await forward(exp.inputs.sequences[s]), exp.logits[s], vocab);
    expect(r.argmaxMismatches, `${fixture} ${path} logits_${s} argmax`).toBe(0);
    worst = Math.max(worst, r.maxAbs);
  }
  const gen = await decodeGreedy();
  expect(gen.tokens, `${fixture} ${path} greedy tokens`).toEqual(exp.tokens);
  const r = compare(gen.logits, exp.stepLogits, vocab);
  expect(r.argmaxMismatches).toBe(0);
  worst = Math.max(worst, r.maxAbs);
  (table[fixture] ??= {})[path] = worst;
  expect(worst, `${fixture} ${path} max |Δlogit|`).toBeLessThanOrEqual(tol);
}

afterAll(() => {
  // the per-path table for the record (vitest shows console output only with --reporter=verbose or on failure)
  const rows = Object.entries(table).map(([f, p]) => `${f}: ${Object.entries(p).map(([k, v]) => `${k} ${v!.toExponential(2)}`).join(', ')}`);
  if (process.env.MIL_PRINT_CONFORMANCE) console.log(rows.join('\n'));
});

const LLAMA_FIXTURES = ['hf-llama-tied', 'hf-llama3-untied', 'hf-mistral-sliding'] as const;
const HYBRID_FIXTURES = [
  { name: 'ref-mamba2-hybrid', variant: 'mamba2', trainTol: 1e-4 },
  { name: 'ref-mamba1-hybrid', variant: 'mamba1', trainTol: 2e-4 }, // Mamba-1's chunked scan sums in another order
] as const;

describe('the files hold what real checkpoints hold (so the loaders below are tested on it)', () => {
  it('tied Llama without lm_head.weight; a 5-shard index with total_parameters whose layer 1 straddles two shards; Mistral window 16; reference configs with vocab_size null', async () => {
    const tied = await loadModelFolder(join(ROOT, 'hf-llama-tied'));
    expect([tied.config.tieWordEmbeddings, tied.tensors.has('lm_head.weight'), tied.config.ropeTheta]).toEqual([true, false, 10000]);
    expect(tied.config.raw.rope_parameters).toEqual({ rope_theta: 10000, rope_type: 'default' });
    await tied.close();
    const sharded = await loadModelFolder(join(ROOT, 'hf-llama3-untied'));
    const index = JSON.parse(await readFile(join(ROOT, 'hf-llama3-untied', 'model.safetensors.index.json'), 'utf8')) as { metadata: Record<string, number>; weight_map: Record<string, string> };
    expect(Object.keys(index.metadata).sort()).toEqual(['total_parameters', 'total_size']);
    expect(new Set(Object.values(index.weight_map)).size).toBe(5);
    const l1 = Object.entries(index.weight_map).filter(([k]) => k.startsWith('model.layers.1.'));
    expect(new Set(l1.map(([, f]) => f)).size).toBeGreaterThan(1);
    expect(sharded.config.ropeScaling).toMatchObject({ type: 'llama3', factor: 8, originalMaxPositionEmbeddings: 64 });
    await sharded.close();
    const mistral = await loadModelFolder(join(ROOT, 'hf-mistral-sliding'));
    expect([mistral.config.modelType, mistral.config.slidingWindow]).toEqual(['mistral', 16]);
    await mistral.close();
    for (const name of ['ref-mamba2-hybrid', 'ref-mamba1-hybrid']) {
      const raw = JSON.parse(await readFile(join(ROOT, name, 'mamba_config.json'), 'utf8')) as Record<string, unknown>;
      expect(raw.vocab_size).toBeNull();
      const folder = await loadModelFolder(join(ROOT, name));
      expect(folder.hybrid?.vocabSize).toBe(512);
      await folder.close();
    }
  });
});

describe('HF checkpoints written by transformers 5 (Llama tied, Llama 3 RoPE in 5 shards, Mistral sliding window)', () => {
  for (const fixture of LLAMA_FIXTURES) {
    it(`${fixture}: loads, and train graph / session / oracle reproduce the reference logits and greedy tokens`, async () => {
      const dir = join(ROOT, fixture);
      const exp = await expected(dir);
      const { config, weights } = await loadLlama(dir);
      const vocab = config.vocabSize;
      const { prompt, max_new_tokens: n } = exp.inputs;

      const train = await trainGraphForward((g) => buildLlamaTrainGraph(g, config).logits.name, weights);
      await checkPath(fixture, 'train graph', exp, vocab, 1e-4, train.forward, () => greedyRecompute(train.forward, prompt, n, vocab));
      await train.release();

      const session = await LlamaSession.create(config, weights, { threads: 1 });
      const sessionForward = async (ids: number[]) => {
        session.reset();
        return session.forward(ids);
      };
      await checkPath(fixture, 'session', exp, vocab, 1e-4, sessionForward, () => greedy(session, prompt, n, vocab));
      await session.release();

      const oracleForward = async (ids: number[]) => llamaOracleForward(config, (name) => weights.get(name), [ids]).logits;
      await checkPath(fixture, 'oracle', exp, vocab, 1e-4, oracleForward, () => greedy(createOracleStepModel(config, (name) => weights.get(name)), prompt, n, vocab));
    }, 60_000);
  }
});

describe('hybrid students written by the MambaInLlama reference (vocab_size null, teacher config with rope_parameters)', () => {
  for (const { name: fixture, variant, trainTol } of HYBRID_FIXTURES) {
    it(`${fixture}: loads as ${variant}, and train graph / session / oracle reproduce the reference logits and greedy tokens`, async () => {
      const dir = join(ROOT, fixture);
      const exp = await expected(dir);
      const { teacher, hybrid, weights, unused } = await loadHybrid(dir);
      expect(hybrid.variant).toBe(variant);
      expect(unused).toEqual([]);
      const vocab = hybrid.vocabSize;
      expect(vocab).toBe(teacher.vocabSize);
      const { prompt, max_new_tokens: n } = exp.inputs;

      const train = await trainGraphForward((g) => buildHybridTrainGraph(g, teacher, hybrid).logits.name, weights);
      await checkPath(fixture, 'train graph', exp, vocab, trainTol, train.forward, () => greedyRecompute(train.forward, prompt, n, vocab));
      await train.release();

      const session = await HybridSession.create(teacher, hybrid, weights, { threads: 1 });
      const sessionForward = async (ids: number[]) => {
        session.reset();
        return session.forward(ids);
      };
      await checkPath(fixture, 'session', exp, vocab, 1e-4, sessionForward, () => greedy(session, prompt, n, vocab));
      await session.release();

      const oracleForward = async (ids: number[]) => hybridOracleForward(teacher, hybrid, (name) => weights.get(name), [ids]).logits;
      await checkPath(fixture, 'oracle', exp, vocab, 1e-4, oracleForward, () => greedy(hybridOracleStepModel(teacher, hybrid, weights), prompt, n, vocab));
    }, 60_000);
  }
});
