// loadLlama checks every weight is finite and names the tensor and element of the first NaN / Inf.
import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLlamaConfig, saveModelFolder, type TensorToWrite } from '@mil/checkpoint';
import { createRng } from '@mil/core';
import { initLlamaWeights, llamaWeightSpecs, loadLlama } from '@mil/models';

const raw = { model_type: 'llama', vocab_size: 32, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 16, rms_norm_eps: 1e-5, rope_theta: 10000 };
const cfg = parseLlamaConfig(raw);

describe('loadLlama finiteness', () => {
  it('refuses a NaN or an Inf anywhere, naming the tensor and the index; checkFinite: false skips the pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mil-finite-'));
    try {
      const rng = createRng(11);
      const clean = initLlamaWeights(cfg, 3);
      const names = [...clean.keys()];
      for (const bad of [NaN, Infinity, -Infinity]) {
        const name = names[Math.floor(rng() * names.length)];
        const w = new Map([...clean].map(([k, v]) => [k, Float32Array.from(v)]));
        const index = Math.floor(rng() * w.get(name)!.length);
        w.get(name)![index] = bad;
        const tensors = new Map<string, TensorToWrite>();
        for (const s of llamaWeightSpecs(cfg)) tensors.set(s.name, { dtype: 'F32', shape: s.shape, data: w.get(s.name)! });
        const folder = join(dir, `m-${String(bad)}`);
        await saveModelFolder(folder, { config: cfg, tensors }, { fsync: false });
        const err = await loadLlama(folder).then(() => null, (e: unknown) => e as Error & { code: string });
        expect(err?.code).toBe('NON_FINITE');
        expect(err?.message).toContain(name);
        expect(err?.message).toContain(`at element ${index} (${String(bad)})`);
        const loaded = await loadLlama(folder, { checkFinite: false });
        expect(loaded.weights.get(name)![index]).toBe(bad);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
