// Exported ONNX files run in plain onnxruntime-node (no @mil/* code) and give the session's logits.
import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx, LlamaSession, HybridSession, randomLlamaWeights, hybridConfigForTeacher, randomHybridWeights } from '../src/index';

const teacher = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
});
const ids = [5, 9, 2, 33, 17];

async function runExported(dir: string): Promise<Float32Array> {
  const io = JSON.parse(readFileSync(join(dir, 'io.json'), 'utf8')) as { inputs: { name: string; shape: (number | string)[] }[] };
  const s = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
  // Empty caches: KV with past 0; conv/ssm states zero-filled at their static sizes.
  for (const v of io.inputs) {
    if (v.name in feeds) continue;
    const dims = v.shape.map((d) => (d === 'batch_size' ? 1 : typeof d === 'number' ? d : 0));
    feeds[v.name] = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }
  const out = await s.run(feeds);
  return out.logits.data as Float32Array;
}

describe('exportOnnx', () => {
  it('Llama: plain onnxruntime reproduces the session logits', async () => {
    const w = randomLlamaWeights(teacher, 1);
    const dir = mkdtempSync(join(tmpdir(), 'mil-export-'));
    const e = await exportOnnx({ teacher, weights: w }, dir);
    expect(e.inputs.map((i) => i.name)).toContain('past_key_values.1.value');
    expect(e.outputs.map((o) => o.name)).toContain('present.0.key');
    const got = await runExported(dir);
    const ref = await (await LlamaSession.create(teacher, w, { threads: 1 })).forward(ids);
    expect(got.length).toBe(ref.length);
    for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
  });

  it('Mamba-2 hybrid: conv/ssm caches named as transformers.js expects', async () => {
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1]);
    const w = randomHybridWeights(teacher, hybrid, 2);
    const dir = mkdtempSync(join(tmpdir(), 'mil-export-'));
    const e = await exportOnnx({ teacher, hybrid, weights: w }, dir);
    for (const n of ['past_conv.0', 'past_ssm.0', 'past_key_values.1.key']) expect(e.inputs.map((i) => i.name)).toContain(n);
    for (const n of ['present_conv.0', 'present_ssm.0', 'present.1.key']) expect(e.outputs.map((o) => o.name)).toContain(n);
    const got = await runExported(dir);
    const ref = await (await HybridSession.create(teacher, hybrid, w, { threads: 1 })).forward(ids);
    for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
  });
});
