// The sessions' float16 KV cache (`kvDtype: 'float16'`) against the oracles: with the oracle rounding its cached keys
// / values to float16 the same way, the logits agree as tightly as the float32 path agrees with the exact oracle; the
// error against the exact (float64) oracle is what float16 storage costs, bounded here and measured on the real
// model by bench:hybrid. Also: `forward(ids, { logits: 'last' })` is the last row of the full logits.
import { describe, it, expect } from 'vitest';
import { createRng } from '@mil/core';
import { parseLlamaConfig, type HybridConfig } from '@mil/checkpoint';
import { HybridSession } from '../src/hybrid/hybrid-session';
import { LlamaSession } from '../src/llama/session';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { llamaOracleForward, randomLlamaWeights } from '../src/oracle';
import { buildLlamaInferenceGraph } from '../src/llama/inference-graph';
import { Graph } from '@mil/graph';
import { isMilError } from '@mil/core';

const teacher = parseLlamaConfig({ model_type: 'llama',
  vocab_size: 53, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 256,
});
const V = teacher.vocabSize;
const hybridOf = (v: 'mamba1' | 'mamba2'): HybridConfig => hybridConfigForTeacher(teacher, v, [1, 3]);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

const argmaxRows = (x: ArrayLike<number>) => Array.from({ length: x.length / V }, (_, r) => {
  let best = 0;
  for (let j = 1; j < V; j++) if (x[r * V + j] > x[r * V + best]) best = j;
  return best;
});

/** Runs `ids` through a session in uneven chunks; returns every row's logits. */
async function chunked(s: LlamaSession | HybridSession, ids: number[]): Promise<Float32Array> {
  const out = new Float32Array(ids.length * V);
  let at = 0;
  for (const n of [17, 1, 1, 9, ids.length]) {
    const part = ids.slice(at, at + n);
    if (part.length === 0) break;
    out.set(await s.forward(part), at * V);
    at += part.length;
  }
  return out;
}

const cases = [
  {
    name: 'teacher',
    make: (kvDtype: 'float32' | 'float16', prefillChunk?: number) => LlamaSession.create(teacher, randomLlamaWeights(teacher, 21), { threads: 1, kvDtype, prefillChunk }),
    oracle: (ids: number[], kvDtype: 'float32' | 'float16') => {
      const w = randomLlamaWeights(teacher, 21);
      return llamaOracleForward(teacher, (n) => w.get(n), [ids], { kvDtype }).logits;
    },
  },
  ...(['mamba2', 'mamba1'] as const).map((variant) => ({
    name: `${variant} 50% hybrid`,
    make: (kvDtype: 'float32' | 'float16', prefillChunk?: number) =>
      HybridSession.create(teacher, hybridOf(variant), randomHybridWeights(teacher, hybridOf(variant), 22), { threads: 1, kvDtype, prefillChunk }),
    oracle: (ids: number[], kvDtype: 'float32' | 'float16') => {
      const w = randomHybridWeights(teacher, hybridOf(variant), 22);
      return hybridOracleForward(teacher, hybridOf(variant), (n) => w.get(n), [ids], { kvDtype }).logits;
    },
  })),
];

describe('float16 KV cache against the oracles', () => {
  for (const c of cases) {
    it(`${c.name}: chunked forwards match the float16-rounding oracle; bounded error against the exact one`, async () => {
      const rng = createRng(8);
      const ids = Array.from({ length: 60 }, () => Math.floor(rng() * V));
      const s16 = await c.make('float16');
      const s32 = await c.make('float32');
      const got16 = await chunked(s16, ids);
      const got32 = await chunked(s32, ids);
      const ref16 = c.oracle(ids, 'float16');
      const ref32 = c.oracle(ids, 'float32');
      // The float32 path's agreement with the exact oracle is the bar for float16 against its own oracle.
      expect(maxAbs(got32, ref32)).toBeLessThanOrEqual(1e-4);
      // Against the float16-rounding oracle: well inside the effect of the rounding itself (a float32 key that lies
      // next to a float16 rounding boundary can round the other way than the float64 one, so not to 1e-5).
      const rounding = maxAbs(ref16, ref32);
      expect(rounding).toBeGreaterThan(1e-4);
      expect(maxAbs(got16, ref16)).toBeLessThanOrEqual(Math.min(5e-4, 0.5 * rounding));
      // What storing float16 costs against the exact oracle: small (logits here reach ±3).
      expect(maxAbs(got16, ref32)).toBeLessThanOrEqual(5e-3);
      expect(argmaxRows(got16)).toEqual(argmaxRows(ref16));
      // Half the cache bytes for the same tokens.
      expect(s16.kvBuffer.bytes * 2).toBe(s32.kvBuffer.bytes);
      expect(s32.cacheBytes - s16.cacheBytes).toBe(s16.kvBuffer.bytes);
      await s16.release();
      await s32.release();
    });
  }

  it('refuses float16 storage where the graph cannot honour it', () => {
    const mistral = parseLlamaConfig({ ...teacher.raw, model_type: 'mistral', sliding_window: 8 });
    const build = (o: Parameters<typeof buildLlamaInferenceGraph>[2]) => () => buildLlamaInferenceGraph(new Graph('x'), mistral, o);
    for (const f of [build({ kvDtype: 'float16' }), build({ kvDtype: 'float16', kvCache: 'buffer' })]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isMilError(e) && e.code).toBe('BAD_OPTION');
      }
    }
  });
});

describe("forward(ids, { logits: 'last' }) and prefill", () => {
  for (const c of cases) {
    for (const kvDtype of ['float32', 'float16'] as const) {
      it(`${c.name}, KV ${kvDtype}: the last row of the full logits, and the same state after`, async () => {
        const rng = createRng(9);
        const prompt = Array.from({ length: 33 }, () => Math.floor(rng() * V));
        const a = await c.make(kvDtype);
        const b = await c.make(kvDtype);
        const all = await a.forward(prompt);
        const last = await b.forward(prompt, { logits: 'last' });
        expect(last.length).toBe(V);
        expect(maxAbs(last, all.subarray(all.length - V))).toBeLessThanOrEqual(1e-6);
        expect(maxAbs(await b.prefill(prompt), last)).toBeLessThanOrEqual(1e-6);
        // The next step sees the same cache either way.
        expect(maxAbs(await a.decode(5), await b.decode(5))).toBeLessThanOrEqual(1e-6);
        await a.release();
        await b.release();
      });
    }
    it(`${c.name}: prefill in chunks of 7 equals one run of the whole prompt, and decoding goes on the same`, async () => {
      const rng = createRng(10);
      const prompt = Array.from({ length: 30 }, () => Math.floor(rng() * V));
      const whole = await c.make('float32');
      const chunked7 = await c.make('float32', 7);
      const all = await whole.forward(prompt);
      expect(maxAbs(await chunked7.prefill(prompt), all.subarray(all.length - V))).toBeLessThanOrEqual(1e-5);
      expect(chunked7.length).toBe(prompt.length);
      // Rolling back into the prompt's last chunk (28 … 29) works for every session.
      chunked7.truncate(prompt.length - 1);
      whole.truncate(prompt.length - 1);
      expect(maxAbs(await chunked7.decode(9), await whole.decode(9))).toBeLessThanOrEqual(1e-5);
      expect(maxAbs(await chunked7.forward([4, 5, 6]), await whole.forward([4, 5, 6]))).toBeLessThanOrEqual(1e-5);
      await whole.release();
      await chunked7.release();
    });
  }
  it('refuses a prefillChunk that is not a positive integer', async () => {
    for (const bad of [0, 2.5]) await expect(cases[0].make('float32', bad)).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
