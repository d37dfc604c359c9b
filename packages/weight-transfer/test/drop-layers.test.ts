import { describe, it, expect } from 'vitest';
import { parseLlamaConfig } from '@mil/checkpoint';
import { llamaOracleForward, llamaWeightSpecs, randomLlamaWeights } from '@mil/models';
import { dropLayers, layerSchedule, makeHybridConfig, WeightTransferError } from '@mil/weight-transfer';
import { sameBits, tinyTeacher } from './fixtures';

const cfg = tinyTeacher;
const teacher = randomLlamaWeights(cfg, 4);

describe('dropLayers', () => {
  it('removes the layers, renumbers the rest, and gives a consistent config', () => {
    const { config, weights, keptLayers } = dropLayers(teacher, cfg, [0, 2]);
    expect(keptLayers).toEqual([1, 3]);
    expect(config.numHiddenLayers).toBe(2);
    expect({ ...config, numHiddenLayers: 4 }).toEqual(cfg);
    expect(config.numHiddenLayers).toBe(2);
    expect([...weights.keys()]).toEqual(llamaWeightSpecs(config).map((s) => s.name));
    for (const [newI, oldI] of keptLayers.entries()) {
      for (const { name } of llamaWeightSpecs(cfg).filter((s) => s.name.startsWith(`model.layers.${oldI}.`))) {
        const renamed = name.replace(`model.layers.${oldI}.`, `model.layers.${newI}.`);
        expect(sameBits(weights.get(renamed)!, teacher.get(name)!), renamed).toBe(true);
      }
    }
    for (const n of ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']) expect(sameBits(weights.get(n)!, teacher.get(n)!)).toBe(true);
  });

  it("equals the teacher with those layers made identity (o_proj and down_proj zeroed) — an independent forward check", () => {
    const dropped = layerSchedule(4, { attentionFraction: 0.5 }).ssmLayers; // [0, 2], the baseline for a 50% hybrid
    const small = dropLayers(teacher, cfg, dropped);
    const identity = new Map(teacher);
    for (const i of dropped) {
      for (const n of ['self_attn.o_proj.weight', 'mlp.down_proj.weight']) identity.set(`model.layers.${i}.${n}`, new Float32Array(teacher.get(`model.layers.${i}.${n}`)!.length));
    }
    const ids = [[3, 17, 42, 8, 0, 25]];
    const a = llamaOracleForward(small.config, (n) => small.weights.get(n), ids).logits;
    const b = llamaOracleForward(cfg, (n) => identity.get(n), ids).logits;
    const full = llamaOracleForward(cfg, (n) => teacher.get(n), ids).logits;
    let maxDiff = 0;
    let maxFull = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxFull = Math.max(maxFull, Math.abs(a[i] - full[i]));
    }
    expect(maxDiff).toBeLessThan(1e-9);
    expect(maxFull).toBeGreaterThan(1e-3); // dropping layers does change the model
  });

  it('works for tied embeddings, dropping nothing copies everything', () => {
    const tied = parseLlamaConfig({ ...cfg.raw, tie_word_embeddings: true });
    const w = randomLlamaWeights(tied, 5);
    const { weights, config } = dropLayers(w, tied, []);
    expect(config.numHiddenLayers).toBe(4);
    expect(weights.has('lm_head.weight')).toBe(false);
    for (const [n, v] of w) expect(sameBits(weights.get(n)!, v)).toBe(true);
  });

  it('rejects bad layer lists and names a missing teacher tensor', () => {
    expect(() => dropLayers(teacher, cfg, [4])).toThrowError(/4 is not a layer index/);
    expect(() => dropLayers(teacher, cfg, [1, 1])).toThrowError(/distinct/);
    expect(() => dropLayers(teacher, cfg, [0, 1, 2, 3])).toThrowError(/cannot drop all 4 layers/);
    const w = new Map(teacher);
    w.delete('model.layers.3.mlp.gate_proj.weight');
    try {
      dropLayers(w, cfg, [0]);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(WeightTransferError);
      expect((e as WeightTransferError).tensor).toBe('model.layers.3.mlp.gate_proj.weight');
    }
  });

  it('the baseline of a hybrid: drop its Mamba layers, keep its attention layers', () => {
    const hybrid = makeHybridConfig(cfg, 'mamba2', [1, 3]);
    const { keptLayers } = dropLayers(teacher, cfg, hybrid.ssmLayers);
    expect(keptLayers).toEqual([...hybrid.attnLayers]);
  });
});
