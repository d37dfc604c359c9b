import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, expect, it } from 'vitest';
import { llamaOracleForward, llamaWeightSpecs, createOracleStepModel, ModelsError, randomLlamaWeights, ropeInvFreq, truncateKvCache } from '../src/oracle/index';
import { createRng } from '@mil/core';

const base = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 37,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8, // != hidden / heads = 6
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  max_position_embeddings: 128,
});

const llama3Scaling = {
  rope_type: 'llama3',
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 16,
};

function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Math.floor(rng() * vocab));
}

const src = (w: Map<string, Float32Array>) => (name: string) => w.get(name);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Logits row [b, t] of an output. */
function row(out: { logits: Float64Array; dims: number[] }, b: number, t: number): Float64Array {
  const [, L, V] = out.dims;
  return out.logits.slice((b * L + t) * V, (b * L + t + 1) * V);
}

/**
 * An independent, deliberately naive transcription of HF's LlamaForCausalLM forward for one sequence
 * (number[] vectors, explicit repeat_kv, an additive -inf mask matrix, per-head softmax).
 * Shares only ropeInvFreq with the oracle, which is hand-checked on its own.
 */
function naiveHfForward(cfg: LlamaConfig, w: Map<string, Float32Array>, ids: number[]): number[][] {
  const d = cfg.hiddenSize;
  const nH = cfg.numAttentionHeads;
  const nKv = cfg.numKeyValueHeads ?? nH;
  const hd = cfg.headDim ?? d / nH;
  const get = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`missing ${n}`);
    return t;
  };
  const linear = (name: string, x: number[], bias: boolean): number[] => {
    const W = get(`${name}.weight`);
    const out = W.length / x.length;
    const b = bias ? get(`${name}.bias`) : null;
    return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + xi * W[o * x.length + i], b ? b[o] : 0));
  };
  const rms = (x: number[], name: string) => {
    const wt = get(name);
    const inv = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + cfg.rmsNormEps);
    return x.map((v, i) => v * inv * wt[i]);
  };
  const invFreq = ropeInvFreq(hd, cfg.ropeTheta, cfg.ropeScaling);
  const rope = (v: number[], pos: number) => {
    const half = hd / 2;
    const cos = Array.from({ length: hd }, (_, i) => Math.cos(pos * invFreq[i % half]));
    const sin = Array.from({ length: hd }, (_, i) => Math.sin(pos * invFreq[i % half]));
    const rotated = [...v.slice(half).map((x) => -x), ...v.slice(0, half)];
    return v.map((x, i) => x * cos[i] + rotated[i] * sin[i]);
  };
  const split = (x: number[], heads: number) => Array.from({ length: heads }, (_, h) => x.slice(h * hd, (h + 1) * hd));
  const L = ids.length;
  const emb = get('model.embed_tokens.weight');
  let hs = ids.map((id) => Array.from(emb.subarray(id * d, (id + 1) * d)));
  const ab = cfg.attentionBias === true;
  const mb = cfg.mlpBias === true;
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    const x = hs.map((h) => rms(h, `${p}.input_layernorm.weight`));
    const q = x.map((xi, t) => split(linear(`${p}.self_attn.q_proj`, xi, ab), nH).map((v) => rope(v, t)));
    const k = x.map((xi, t) => split(linear(`${p}.self_attn.k_proj`, xi, ab), nKv).map((v) => rope(v, t)));
    const v = x.map((xi) => split(linear(`${p}.self_attn.v_proj`, xi, ab), nKv));
    const nRep = nH / nKv;
    const kRep = k.map((heads) => Array.from({ length: nH }, (_, h) => heads[Math.floor(h / nRep)]));
    const vRep = v.map((heads) => Array.from({ length: nH }, (_, h) => heads[Math.floor(h / nRep)]));
    const sw = cfg.slidingWindow ?? null;
    const mask = (i: number, j: number) => (j > i || (sw !== null && i - j >= sw) ? -Infinity : 0);
    const attnOut = q.map((qi, i) => {
      const heads = qi.map((qh, h) => {
        const scores = kRep.map((kj, j) => qh.reduce((s, e, c) => s + e * kj[h][c], 0) / Math.sqrt(hd) + mask(i, j));
        const m = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - m));
        const z = ex.reduce((a, b) => a + b, 0);
        return Array.from({ length: hd }, (_, c) => ex.reduce((s, e, j) => s + (e / z) * vRep[j][h][c], 0));
      });
      return linear(`${p}.self_attn.o_proj`, heads.flat(), ab);
    });
    hs = hs.map((h, t) => h.map((e, i) => e + attnOut[t][i]));
    const y = hs.map((h) => {
      const n = rms(h, `${p}.post_attention_layernorm.weight`);
      const g = linear(`${p}.mlp.gate_proj`, n, mb);
      const u = linear(`${p}.mlp.up_proj`, n, mb);
      return linear(`${p}.mlp.down_proj`, g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]), mb);
    });
    hs = hs.map((h, t) => h.map((e, i) => e + y[t][i]));
  }
  const head = cfg.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
  return hs.map((h) => linear(head, rms(h, 'model.norm.weight'), false));
}

/** The JSON without its head_dim field, so the parser derives hidden_size / num_attention_heads. */
function withoutHeadDim(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { head_dim: _, ...rest } = raw;
  return rest;
}

describe('llamaOracleForward against a naive HF transcription', () => {
  const cases: [string, LlamaConfig][] = [
    ['GQA, head_dim != hidden/heads', base],
    ['llama3 rope scaling, biases, tied embeddings', parseLlamaConfig({ ...base.raw, rope_scaling: llama3Scaling, attention_bias: true, mlp_bias: true, tie_word_embeddings: true })],
    ['Mistral sliding window 3, MHA, 3 layers, head_dim from hidden/heads', parseLlamaConfig({ ...withoutHeadDim(base.raw), num_key_value_heads: 4, num_hidden_layers: 3, sliding_window: 3 })],
  ];
  for (const [name, cfg] of cases) {
    it(name, () => {
      const w = randomLlamaWeights(cfg, 11);
      const ids = [randomIds(9, cfg.vocabSize, 1), randomIds(9, cfg.vocabSize, 2)];
      const out = llamaOracleForward(cfg, src(w), ids);
      expect(out.dims).toEqual([2, 9, cfg.vocabSize]);
      for (let b = 0; b < 2; b++) {
        const ref = naiveHfForward(cfg, w, ids[b]);
        for (let t = 0; t < 9; t++) expect(maxAbsDiff(row(out, b, t), ref[t])).toBeLessThan(1e-10);
      }
      // Not degenerate: logits vary across positions and vocabulary.
      expect(maxAbsDiff(row(out, 0, 0), row(out, 0, 8))).toBeGreaterThan(0.1);
    });
  }
});

describe('KV cache', () => {
  const cfgs: [string, LlamaConfig][] = [
    ['plain', base],
    ['llama3 scaling', parseLlamaConfig({ ...base.raw, rope_scaling: llama3Scaling })],
    ['sliding window 4', parseLlamaConfig({ ...base.raw, sliding_window: 4 })],
  ];
  for (const [name, cfg] of cfgs) {
    it(`decode one token at a time equals the full forward at every position (${name})`, () => {
      const w = randomLlamaWeights(cfg, 5);
      const ids = [randomIds(12, cfg.vocabSize, 3), randomIds(12, cfg.vocabSize, 4)];
      const full = llamaOracleForward(cfg, src(w), ids);
      let step = llamaOracleForward(cfg, src(w), ids.map((r) => r.slice(0, 1)));
      for (let t = 0; ; t++) {
        for (let b = 0; b < 2; b++) expect(maxAbsDiff(row(step, b, 0), row(full, b, t))).toBeLessThan(1e-11);
        if (t === 11) break;
        step = llamaOracleForward(cfg, src(w), ids.map((r) => [r[t + 1]]), { cache: step.cache });
      }
      expect(step.cache.length).toBe(12);
      for (let l = 0; l < cfg.numHiddenLayers; l++) {
        expect(maxAbsDiff(step.cache.layers[l].key, full.cache.layers[l].key)).toBeLessThan(1e-12);
        expect(maxAbsDiff(step.cache.layers[l].value, full.cache.layers[l].value)).toBeLessThan(1e-12);
      }
    });
  }

  it('multi-token chunks (prefill 5, verify 4, verify 3) equal the full forward', () => {
    const w = randomLlamaWeights(base, 6);
    const ids = [randomIds(12, base.vocabSize, 8)];
    const full = llamaOracleForward(base, src(w), ids);
    const a = llamaOracleForward(base, src(w), [ids[0].slice(0, 5)]);
    const b = llamaOracleForward(base, src(w), [ids[0].slice(5, 9)], { cache: a.cache });
    const c = llamaOracleForward(base, src(w), [ids[0].slice(9)], { cache: b.cache });
    for (let t = 0; t < 12; t++) {
      const got = t < 5 ? row(a, 0, t) : t < 9 ? row(b, 0, t - 5) : row(c, 0, t - 9);
      expect(maxAbsDiff(got, row(full, 0, t))).toBeLessThan(1e-11);
    }
  });

  it('leaves the input cache untouched; truncateKvCache rolls back', () => {
    const w = randomLlamaWeights(base, 7);
    const ids = randomIds(8, base.vocabSize, 9);
    const a = llamaOracleForward(base, src(w), [ids.slice(0, 6)]);
    const keyBefore = Float64Array.from(a.cache.layers[1].key);
    llamaOracleForward(base, src(w), [[1, 2]], { cache: a.cache });
    expect(a.cache.length).toBe(6);
    expect(Array.from(a.cache.layers[1].key)).toEqual(Array.from(keyBefore));
    // Roll back to 4 cached tokens, then feed the real tokens 4..7.
    const rolled = truncateKvCache(a.cache, 4);
    const cont = llamaOracleForward(base, src(w), [ids.slice(4)], { cache: rolled });
    const full = llamaOracleForward(base, src(w), [ids]);
    for (let t = 0; t < 4; t++) expect(maxAbsDiff(row(cont, 0, t), row(full, 0, t + 4))).toBeLessThan(1e-11);
    expect(() => truncateKvCache(a.cache, 7)).toThrow(ModelsError);
  });
});

describe('createOracleStepModel', () => {
  it('prefill/decode give the last-position logits of the full forward; setCache rolls back', async () => {
    const w = randomLlamaWeights(base, 61);
    const ids = randomIds(7, base.vocabSize, 62);
    const full = llamaOracleForward(base, src(w), [ids]);
    const model = createOracleStepModel(base, src(w));
    await expect(model.decode(1)).rejects.toThrow(ModelsError);
    expect(maxAbsDiff(await model.prefill(ids.slice(0, 3)), row(full, 0, 2))).toBeLessThan(1e-11);
    expect(maxAbsDiff(await model.decode(ids[3]), row(full, 0, 3))).toBeLessThan(1e-11);
    await model.decode(0); // a rejected draft token
    model.setCache(truncateKvCache(model.cache!, 4));
    for (let t = 4; t < 7; t++) expect(maxAbsDiff(await model.decode(ids[t]), row(full, 0, t))).toBeLessThan(1e-11);
    expect(model.cache!.length).toBe(7);
  });
});

describe('positions', () => {
  it('shifting every RoPE position by a constant leaves logits unchanged (RoPE is relative)', () => {
    const w = randomLlamaWeights(base, 12);
    const ids = [randomIds(7, base.vocabSize, 13)];
    const a = llamaOracleForward(base, src(w), ids);
    const b = llamaOracleForward(base, src(w), ids, { positions: [ids[0].map((_, t) => t + 17)] });
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-10);
    // A non-uniform change of positions does change them.
    const c = llamaOracleForward(base, src(w), ids, { positions: [ids[0].map((_, t) => 2 * t)] });
    expect(maxAbsDiff(a.logits, c.logits)).toBeGreaterThan(1e-3);
  });
});

describe('sliding window', () => {
  function changedPositions(cfg: LlamaConfig): number[] {
    const w = randomLlamaWeights(cfg, 21);
    const ids = randomIds(10, cfg.vocabSize, 22);
    const other = [...ids];
    other[0] = (ids[0] + 1) % cfg.vocabSize;
    const a = llamaOracleForward(cfg, src(w), [ids]);
    const b = llamaOracleForward(cfg, src(w), [other]);
    return ids.map((_, t) => t).filter((t) => maxAbsDiff(row(a, 0, t), row(b, 0, t)) > 0);
  }

  it('one layer, window 3: token 0 reaches positions 0..2 only (i - j < window)', () => {
    expect(changedPositions(parseLlamaConfig({ ...base.raw, num_hidden_layers: 1, sliding_window: 3 }))).toEqual([0, 1, 2]);
  });

  it('two layers, window 3: token 0 reaches positions 0..4 (two hops of 2)', () => {
    expect(changedPositions(parseLlamaConfig({ ...base.raw, num_hidden_layers: 2, sliding_window: 3 }))).toEqual([0, 1, 2, 3, 4]);
  });

  it('without a window token 0 reaches every position; a window >= length changes nothing', () => {
    expect(changedPositions(parseLlamaConfig({ ...base.raw, num_hidden_layers: 1 }))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = randomLlamaWeights(base, 23);
    const ids = [randomIds(10, base.vocabSize, 24)];
    const a = llamaOracleForward(base, src(w), ids);
    const b = llamaOracleForward(parseLlamaConfig({ ...base.raw, sliding_window: 10 }), src(w), ids);
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
  });
});

describe('GQA and tied embeddings', () => {
  it('GQA equals MHA whose K/V projections repeat each kv head n_rep times', () => {
    const gqa = base; // 4 query heads, 2 kv heads → n_rep 2
    const mha = parseLlamaConfig({ ...base.raw, num_key_value_heads: 4 });
    const w = randomLlamaWeights(gqa, 31);
    const wm = new Map(w);
    const hd = 8;
    const d = base.hiddenSize;
    for (let l = 0; l < base.numHiddenLayers; l++) {
      for (const n of ['k_proj', 'v_proj']) {
        const name = `model.layers.${l}.self_attn.${n}.weight`;
        const src2 = w.get(name)!; // [2*hd, d]
        const rep = new Float32Array(4 * hd * d);
        for (let h = 0; h < 4; h++) rep.set(src2.subarray(Math.floor(h / 2) * hd * d, (Math.floor(h / 2) + 1) * hd * d), h * hd * d);
        wm.set(name, rep);
      }
    }
    const ids = [randomIds(9, base.vocabSize, 32)];
    const a = llamaOracleForward(gqa, src(w), ids);
    const b = llamaOracleForward(mha, src(wm), ids);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-11);
    expect(b.cache.numKvHeads).toBe(4);
  });

  it('tied embeddings use embed_tokens as the head and never ask for lm_head.weight', () => {
    const tied = parseLlamaConfig({ ...base.raw, tie_word_embeddings: true });
    expect(llamaWeightSpecs(tied).some((s) => s.name === 'lm_head.weight')).toBe(false);
    const w = randomLlamaWeights(tied, 41);
    const asked: string[] = [];
    const ids = [randomIds(6, base.vocabSize, 42)];
    const a = llamaOracleForward(tied, (n) => (asked.push(n), w.get(n)), ids);
    expect(asked).not.toContain('lm_head.weight');
    const untied = new Map(w);
    untied.set('lm_head.weight', w.get('model.embed_tokens.weight')!);
    const b = llamaOracleForward(base, src(untied), ids);
    expect(Array.from(a.logits)).toEqual(Array.from(b.logits));
    // A different head gives different logits (the test can fail).
    untied.set('lm_head.weight', randomLlamaWeights(base, 43).get('lm_head.weight')!);
    const c = llamaOracleForward(base, src(untied), ids);
    expect(maxAbsDiff(a.logits, c.logits)).toBeGreaterThan(0.1);
  });
});

describe('errors', () => {
  const w = randomLlamaWeights(base, 51);
  it('names the missing or mis-sized tensor', () => {
    const missing = (n: string) => (n === 'model.layers.1.mlp.up_proj.weight' ? undefined : w.get(n));
    expect(() => llamaOracleForward(base, missing, [[1]])).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight is missing/);
    const short = (n: string) => (n === 'model.norm.weight' ? new Float32Array(3) : w.get(n));
    expect(() => llamaOracleForward(base, short, [[1]])).toThrow(/model\.norm\.weight: expected 24 elements, got 3/);
  });
  it('rejects bad tokens, ragged batches, mismatched caches and bad configs', () => {
    expect(() => llamaOracleForward(base, src(w), [[37]])).toThrow(/not in \[0, 37\)/);
    expect(() => llamaOracleForward(base, src(w), [[1, 2], [3]])).toThrow(ModelsError);
    const c = llamaOracleForward(base, src(w), [[1, 2]]).cache;
    expect(() => llamaOracleForward(base, src(w), [[1], [2]], { cache: c })).toThrow(/cache: expected batch 2/);
    // configs are validated once, where they are parsed (@mil/checkpoint)
    expect(() => parseLlamaConfig({ ...base.raw, num_key_value_heads: 3 })).toThrow(/divisor of num_attention_heads/);
    expect(() => parseLlamaConfig({ ...base.raw, hidden_act: 'gelu' })).toThrow(/silu/);
  });
});
