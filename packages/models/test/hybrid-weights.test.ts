// Parameter names, shapes and counts of the students, and the Mamba-1 fused ↔ separate in_proj layouts.
import { describe, it, expect } from 'vitest';
import { hybridConfigForTeacher, resolveHybridDims } from '../src/hybrid/hybrid-dims';
import { hybridParamCount, hybridWeightSpecs, randomHybridWeights, toMamba1Layout } from '../src/hybrid/hybrid-weights';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { llamaWeightSpecs } from '../src/oracle';
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../src/errors';

const llama3_8b = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 128256, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
  num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: false, max_position_embeddings: 8192,
});
const odd = Array.from({ length: 16 }, (_, k) => 2 * k + 1);

describe('parameter counts from the Llama-3-8B config (no allocation)', () => {
  const teacherTotal = llamaWeightSpecs(llama3_8b).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  it('teacher is 8,030,261,248', () => expect(teacherTotal).toBe(8_030_261_248));
  it('Mamba-1: 60,911,616 per Mamba layer, ≈ 8.33 B at 50%', () => {
    const c = hybridParamCount(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba1', odd));
    expect(c.perMambaLayer).toBe(60_911_616);
    expect(c.perAttentionLayer).toBe(41_943_040);
    expect(c.mambaLayers).toBe(16);
    expect(c.total).toBe(teacherTotal + 16 * (60_911_616 - 41_943_040));
    expect(c.total).toBe(8_333_758_464);
    expect((c.total / 1e9).toFixed(2)).toBe('8.33');
  });
  it('Mamba-2: 58,886,240 per Mamba layer, ≈ 8.30 B at 50%', () => {
    const c = hybridParamCount(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba2', odd));
    expect(c.perMambaLayer).toBe(58_886_240);
    expect(c.total).toBe(8_301_352_448);
    expect((c.total / 1e9).toFixed(2)).toBe('8.30');
  });
  it('dossier shapes of the 8B Mamba-1 and Mamba-2 layers', () => {
    const m1 = new Map(hybridWeightSpecs(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba1', odd)).map((s) => [s.name, s.shape]));
    expect(m1.get('model.layers.0.mamba.in_proj_x.weight')).toEqual([1024, 4096]);
    expect(m1.get('model.layers.0.mamba.B_proj.weight')).toEqual([1024, 4096]);
    expect(m1.get('model.layers.0.mamba.C_proj.weight')).toEqual([4096, 4096]);
    expect(m1.get('model.layers.0.mamba.dt_proj_down.weight')).toEqual([256, 4096]);
    expect(m1.get('model.layers.0.mamba.dt_proj.weight')).toEqual([4096, 256]);
    expect(m1.get('model.layers.0.mamba.A_log')).toEqual([4096, 16]);
    expect(m1.get('model.layers.0.mamba.conv1d.weight')).toEqual([4096, 1, 4]);
    expect(m1.has('model.layers.0.self_attn.q_proj.weight')).toBe(false);
    expect(m1.get('model.layers.1.self_attn.q_proj.weight')).toEqual([4096, 4096]);
    const fused = new Map(hybridWeightSpecs(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba1', odd), { mamba1Layout: 'fused' }).map((s) => [s.name, s.shape]));
    expect(fused.get('model.layers.0.mamba.in_proj.weight')).toEqual([10496, 4096]);
    expect(fused.has('model.layers.0.mamba.in_proj_x.weight')).toBe(false);
    const m2 = new Map(hybridWeightSpecs(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba2', odd)).map((s) => [s.name, s.shape]));
    expect(m2.get('model.layers.30.mamba.in_proj.weight')).toEqual([10272, 4096]);
    expect(m2.get('model.layers.30.mamba.conv1d.weight')).toEqual([6144, 1, 4]);
    expect(m2.get('model.layers.30.mamba.dt_bias')).toEqual([32]);
    expect(m2.get('model.layers.30.mamba.norm.weight')).toEqual([4096]);
    const d2 = resolveHybridDims(llama3_8b, hybridConfigForTeacher(llama3_8b, 'mamba2', odd));
    expect([d2.nHeads, d2.headDim, d2.dState, d2.nGroups, d2.xbGroups]).toEqual([32, 128, 128, 32, 8]);
  });
  it('refuses a hybrid config that does not fit the teacher', () => {
    const h = hybridConfigForTeacher(llama3_8b, 'mamba1', odd);
    expect(() => resolveHybridDims(parseLlamaConfig({ ...llama3_8b.raw, intermediate_size: 1000 }), h)).toThrow(/intermediate_size = 14336 but the teacher config has intermediate_size = 1000; they must match/);
    expect(() => hybridConfigForTeacher(llama3_8b, 'mamba2', [40])).toThrow(/attn_layers/);
  });
});

describe('Mamba-1 layouts', () => {
  const teacher = parseLlamaConfig({
  model_type: 'llama',
    vocab_size: 23, hidden_size: 32, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2,
    num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, max_position_embeddings: 32,
  });
  const hybrid = hybridConfigForTeacher(teacher, 'mamba1', [1]);
  it('fused rows are [z, x, B, C, dt_down] and convert back exactly', () => {
    const w = randomHybridWeights(teacher, hybrid, 2);
    const fused = toMamba1Layout(teacher, hybrid, w, 'fused');
    const p = 'model.layers.0.mamba';
    const f = fused.get(`${p}.in_proj.weight`)!;
    const D = 32;
    expect(f.length).toBe((32 + 16 + 16 + 32 + 2) * D);
    expect(Array.from(f.subarray(0, 32 * D))).toEqual(Array.from(w.get(`${p}.in_proj_z.weight`)!));
    expect(Array.from(f.subarray(32 * D, 48 * D))).toEqual(Array.from(w.get(`${p}.in_proj_x.weight`)!));
    expect(Array.from(f.subarray(48 * D, 64 * D))).toEqual(Array.from(w.get(`${p}.B_proj.weight`)!));
    expect(Array.from(f.subarray(64 * D, 96 * D))).toEqual(Array.from(w.get(`${p}.C_proj.weight`)!));
    expect(Array.from(f.subarray(96 * D))).toEqual(Array.from(w.get(`${p}.dt_proj_down.weight`)!));
    expect(fused.has(`${p}.in_proj_x.weight`)).toBe(false);
    const back = toMamba1Layout(teacher, hybrid, fused, 'separate');
    expect([...back.keys()].sort()).toEqual([...w.keys()].sort());
    for (const [k, v] of w) expect(Array.from(back.get(k)!)).toEqual(Array.from(v));
    // The oracle reads either layout to the same logits.
    const a = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [[1, 2, 3]]).logits;
    const b = hybridOracleForward(teacher, hybrid, (n) => fused.get(n), [[1, 2, 3]]).logits;
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
