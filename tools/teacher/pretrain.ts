// Pretrains the embedded default teacher (a small Llama) on SOTU 1790–2000 and writes a standard HF model folder.
// Usage (the exact command that made models/sotu-tiny is in its README):
//   node --conditions=source --import tsx tools/teacher/pretrain.ts --data runs/teacher-data --out models/sotu-tiny \
//     --steps 3000 --batch 16 --seq 256 --lr 3e-3 --threads 2
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildLlamaTrainGraph } from '@mil/models';
import { pretrainLlama } from '@mil/distill';
import { perplexity } from '@mil/eval';
import { writeSafetensors, f32ToF16, writeFileAtomic, parseLlamaConfig } from '@mil/checkpoint';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: 'runs/teacher-data' },
    out: { type: 'string', default: 'models/sotu-tiny' },
    ckpt: { type: 'string', default: 'runs/teacher-ckpt' },
    steps: { type: 'string', default: '3000' },
    batch: { type: 'string', default: '16' },
    seq: { type: 'string', default: '256' },
    lr: { type: 'string', default: '3e-3' },
    warmup: { type: 'string', default: '100' },
    threads: { type: 'string', default: '2' },
    ep: { type: 'string', default: 'cpu' },
    hidden: { type: 'string', default: '256' },
    layers: { type: 'string', default: '6' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    ffn: { type: 'string', default: '768' },
    'eval-tokens': { type: 'string', default: '65536' },
    'eval-every': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    'stop-after-sec': { type: 'string' },
    'no-final-eval': { type: 'boolean', default: false },
  },
});
const num = (k: keyof typeof a) => Number(a[k]);
const readTokens = async (name: string) => {
  const b = await readFile(join(a.data!, `${name}.i32`)).catch(() => null);
  return b ? new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4) : null;
};
const train = (await readTokens('train'))!;
const heldOut = { sotu: await readTokens('sotu-heldout'), brown: await readTokens('brown'), mobyDick: await readTokens('moby-dick') };
const seq = num('seq');
const configJson = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 2048,
  hidden_size: num('hidden'),
  intermediate_size: num('ffn'),
  num_hidden_layers: num('layers'),
  num_attention_heads: num('heads'),
  num_key_value_heads: num('kv-heads'),
  head_dim: num('hidden') / num('heads'),
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 1024,
  tie_word_embeddings: true,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'float16',
};
const config = parseLlamaConfig(configJson, 'config.json');
const threads = num('threads');
const ep = a.ep as 'cpu' | 'webgpu' | 'cuda';
const evalSet = async (w: ReadonlyMap<string, Float32Array>, tokens: Int32Array, maxTokens: number) =>
  (await perplexity((g) => buildLlamaTrainGraph(g, config, { maxPositions: seq }).logits, w as Map<string, Float32Array>, tokens, { seq, batch: 8, threads, ep, maxTokens })).perplexity;
const ac = new AbortController();
if (a['stop-after-sec']) setTimeout(() => ac.abort(), num('stop-after-sec') * 1000).unref();
const t0 = Date.now();
const { weights, result } = await pretrainLlama({
  config, tokens: train, seq, batch: num('batch'), totalSteps: num('steps'), lr: num('lr'), warmupSteps: num('warmup'),
  seed: num('seed'), threads, ep, checkpointDir: a.ckpt, checkpointEvery: 100, resume: true, signal: ac.signal,
  evalEvery: num('eval-every'),
  evaluate: async (w) => ({ ppl_sotu_heldout: await evalSet(w, heldOut.sotu!, num('eval-tokens')) }),
  onProgress: (e) => {
    if (e.step % 10 === 0 || e.eval)
      console.log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(2)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${(e.etaSec / 60).toFixed(1)} min${e.eval ? ' ' + JSON.stringify(e.eval) : ''}`);
  },
});
if (result.stopped || a['no-final-eval']) {
  console.log(`stopped at step ${result.step}; resume with the same command`);
  process.exit(0);
}
console.log('evaluating held-out perplexity (full sets)…');
// A held-out file that is absent (e.g. not carried to the device) is skipped.
const ppl: Record<string, number> = {};
for (const [name, toks] of [['sotu_2001_2021', heldOut.sotu], ['brown', heldOut.brown], ['moby_dick', heldOut.mobyDick]] as const)
  if (toks) ppl[name] = await evalSet(weights, toks, Infinity);
console.log(JSON.stringify(ppl));
await mkdir(a.out!, { recursive: true });
const tensors: Record<string, { dtype: 'F16'; shape: number[]; data: Uint16Array }> = {};
for (const [name, w] of weights) tensors[name] = { dtype: 'F16', shape: [], data: f32ToF16(w) };
const { llamaWeightSpecs } = await import('@mil/models');
for (const s of llamaWeightSpecs(config)) tensors[s.name].shape = s.shape;
await writeSafetensors(join(a.out!, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
await writeFileAtomic(join(a.out!, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
await writeFileAtomic(join(a.out!, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }, null, 2) + '\n');
const tokensSeen = result.step * num('batch') * seq;
await writeFile(join(a.out!, 'training.json'), JSON.stringify({ steps: result.step, tokensSeen, seq, batch: num('batch'), lr: num('lr'), threads, ep, wallSec: (Date.now() - t0) / 1000, perplexity: ppl, finalLoss: result.history.at(-1)?.loss, evals: result.evals }, null, 2) + '\n');
console.log(`wrote ${a.out}: ${tokensSeen} tokens seen`);
