// Save / load in the reference layout: byte-identical round trips, both Mamba-1 layouts, bf16, and the files'
// contents (config.json = teacher, mamba_config.json fields, model.layers.{i}.mamba.* tensors).
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, f32ToBf16, bf16ToF32 } from '@mil/checkpoint';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { loadHybrid, saveHybrid } from '../src/hybrid/hybrid-io';
import { hybridOracleForward } from '../src/hybrid/hybrid-oracle';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';

const teacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});
const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mil-hybrid-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function sameFiles(a: string, b: string): Promise<void> {
  const fa = (await readdir(a)).sort();
  expect((await readdir(b)).sort()).toEqual(fa);
  expect(fa).toEqual(['config.json', 'mamba_config.json', 'model.safetensors']);
  for (const f of fa) expect(Buffer.compare(await readFile(join(a, f)), await readFile(join(b, f)))).toBe(0);
}

describe('saveHybrid / loadHybrid', () => {
  for (const variant of ['mamba1', 'mamba2'] as const) {
    it(`${variant}: save → load → save is byte-identical (F32 and BF16)`, async () => {
      const hybrid = hybridConfigForTeacher(teacher, variant, [1, 3]);
      const weights = randomHybridWeights(teacher, hybrid, 9);
      for (const dtype of ['F32', 'BF16'] as const) {
        const a = await tmp();
        const b = await tmp();
        await saveHybrid(a, { teacher, hybrid, weights }, { dtype, fsync: false });
        const loaded = await loadHybrid(a);
        expect(loaded.hybrid.variant).toBe(variant);
        expect(loaded.unused).toEqual([]);
        await saveHybrid(b, loaded, { dtype, fsync: false });
        await sameFiles(a, b);
        // values: exact for F32, bf16-rounded for BF16
        for (const [name, w] of weights) {
          const got = loaded.weights.get(name)!;
          const want = dtype === 'F32' ? w : bf16ToF32(f32ToBf16(w));
          expect(got.length).toBe(w.length);
          expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(0);
        }
      }
    });
  }

  it('writes the reference files: teacher config.json, mamba_config.json fields, mamba.* tensor names', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1, 3]);
    const dir = await tmp();
    await saveHybrid(dir, { teacher, hybrid, weights: randomHybridWeights(teacher, hybrid, 1) }, { fsync: false });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', hidden_size: 64, num_hidden_layers: 4, num_key_value_heads: 2 });
    const mc = JSON.parse(await readFile(join(dir, 'mamba_config.json'), 'utf8'));
    expect(Object.keys(mc)).toEqual(['d_model', 'ssm_cfg', 'rms_norm_eps', 'vocab_size', 'd_inner', 'd_xb', 'intermediate_size', 'hidden_act', 'n_layer', 'attn_layers']);
    expect(mc).toMatchObject({ d_model: 64, d_inner: 64, d_xb: 32, n_layer: 4, attn_layers: [1, 3], ssm_cfg: { expand: 1, ngroups: 4, d_state: 16 } });
    const ck = await openCheckpoint(dir);
    expect(ck.has('model.layers.0.mamba.in_proj.weight')).toBe(true);
    expect(ck.info('model.layers.2.mamba.conv1d.weight').shape).toEqual([128, 1, 4]);
    expect(ck.has('model.layers.0.self_attn.q_proj.weight')).toBe(false);
    expect(ck.has('model.layers.1.self_attn.q_proj.weight')).toBe(true);
    await ck.close();
  });

  it('Mamba-1: a fused (inference layout) checkpoint loads to the same weights as the separate one', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba1', [1, 3]);
    const weights = randomHybridWeights(teacher, hybrid, 4);
    const sep = await tmp();
    const fus = await tmp();
    await saveHybrid(sep, { teacher, hybrid, weights }, { fsync: false });
    await saveHybrid(fus, { teacher, hybrid, weights }, { mamba1Layout: 'fused', fsync: false });
    const ck = await openCheckpoint(fus);
    expect(ck.info('model.layers.0.mamba.in_proj.weight').shape).toEqual([64 + 32 + 32 + 64 + 4, 64]);
    expect(ck.has('model.layers.0.mamba.in_proj_x.weight')).toBe(false);
    await ck.close();
    const a = await loadHybrid(sep);
    const b = await loadHybrid(fus);
    expect(a.storedMamba1Layout).toBe('separate');
    expect(b.storedMamba1Layout).toBe('fused');
    expect([...b.weights.keys()].sort()).toEqual([...a.weights.keys()].sort());
    for (const [k, v] of a.weights) expect(Array.from(b.weights.get(k)!)).toEqual(Array.from(v));
    const ids = [[3, 1, 4, 1, 5]];
    const la = hybridOracleForward(a.teacher, a.hybrid, (n) => a.weights.get(n), ids).logits;
    const lb = hybridOracleForward(b.teacher, b.hybrid, (n) => b.weights.get(n), ids).logits;
    expect(Array.from(lb)).toEqual(Array.from(la));
    // and a fused load can be asked for in the fused layout, then saved separate = the separate file
    const c = await loadHybrid(fus, { mamba1Layout: 'fused' });
    expect(c.weights.has('model.layers.2.mamba.in_proj.weight')).toBe(true);
    const again = await tmp();
    await saveHybrid(again, c, { fsync: false });
    await sameFiles(sep, again);
  });
});
