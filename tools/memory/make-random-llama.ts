// Writes a random-weight Llama checkpoint in bf16 (config.json + model.safetensors) with Llama-3.2-1B's shapes by
// default, one tensor at a time (memory stays at one tensor). For memory measurements; never commit the output.
//
//   node --conditions=source --import tsx tools/memory/make-random-llama.ts --out /tmp/llama-1b-random
//
// Options: --hidden 2048 --layers 16 --heads 32 --kv-heads 8 --intermediate 8192 --vocab 128256 (tied), --seed 0.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '@mil/core';
import { writeSafetensors } from '@mil/checkpoint';
import { parseLlamaConfig } from '@mil/checkpoint';
import { llamaWeightSpecs } from '@mil/models';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string' },
    hidden: { type: 'string', default: '2048' },
    layers: { type: 'string', default: '16' },
    heads: { type: 'string', default: '32' },
    'kv-heads': { type: 'string', default: '8' },
    intermediate: { type: 'string', default: '8192' },
    vocab: { type: 'string', default: '128256' },
    seed: { type: 'string', default: '0' },
  },
});
if (!a.out) throw new Error('--out is required');
const config: Record<string, unknown> = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: Number(a.vocab),
  hidden_size: Number(a.hidden),
  intermediate_size: Number(a.intermediate),
  num_hidden_layers: Number(a.layers),
  num_attention_heads: Number(a.heads),
  num_key_value_heads: Number(a['kv-heads']),
  head_dim: Number(a.hidden) / Number(a.heads),
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  tie_word_embeddings: true,
  max_position_embeddings: 131072,
  hidden_act: 'silu',
  torch_dtype: 'bfloat16',
  bos_token_id: 128000,
  eos_token_id: 128001,
};
await mkdir(a.out, { recursive: true });
await writeFile(join(a.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
const rng = createRng(Number(a.seed));
const specs = llamaWeightSpecs(parseLlamaConfig(config));
const params = specs.reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1), 0);
const t0 = performance.now();
const r = await writeSafetensors(
  join(a.out, 'model.safetensors'),
  specs.map((w) => [
    w.name,
    {
      dtype: 'BF16',
      shape: w.shape,
      data: () => {
        const n = w.shape.reduce((x, y) => x * y, 1);
        const x = new Float32Array(n);
        if (w.shape.length === 1) x.fill(1);
        else {
          const scale = 1 / Math.sqrt(w.shape[w.shape.length - 1]);
          for (let i = 0; i < n; i++) x[i] = (rng() * 2 - 1) * scale;
        }
        return x;
      },
    },
  ] as const),
  { metadata: { format: 'pt' }, onProgress: (p) => process.stderr.write(`\r${p.tensor.padEnd(50)} ${((p.bytesWritten / p.totalBytes) * 100).toFixed(0)}%`) },
);
process.stderr.write('\n');
console.log(`${a.out}: ${params} params, ${r.totalBytes} bytes of bf16 in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
