import { describe, it, expect } from 'vitest';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { f32ToBf16, loadModelFolder, parseLlamaConfig, parseMambaHybridConfig, saveModelFolder, type TensorToWrite } from '@mil/checkpoint';
import { expectCode } from './helpers/expect-code';
import { llamaTokenizerJsonFromGguf } from './helpers/gguf-vocab';
import { makeRng } from './helpers/rng';
import { withTempDir } from './helpers/tmp';

const config = parseLlamaConfig({ model_type: 'llama', vocab_size: 32000, // the tokenizer fixture's vocabulary
  hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 500000, torch_dtype: 'bfloat16' });

function weights(seed: number): Map<string, TensorToWrite & { data: Float32Array }> {
  const rng = makeRng(seed);
  const m = new Map<string, TensorToWrite & { data: Float32Array }>();
  const add = (name: string, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    m.set(name, { dtype: 'BF16', shape, data: new Float32Array(n).map(() => rng.next() * 2 - 1) });
  };
  const { hiddenSize: d, intermediateSize: f, vocabSize: v, numKeyValueHeads: kv, headDim: hd } = config;
  add('model.embed_tokens.weight', [v, d]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    add(`${p}.self_attn.q_proj.weight`, [d, d]);
    add(`${p}.self_attn.k_proj.weight`, [kv * hd, d]);
    add(`${p}.self_attn.v_proj.weight`, [kv * hd, d]);
    add(`${p}.self_attn.o_proj.weight`, [d, d]);
    add(`${p}.mlp.gate_proj.weight`, [f, d]);
    add(`${p}.mlp.up_proj.weight`, [f, d]);
    add(`${p}.mlp.down_proj.weight`, [d, f]);
    add(`${p}.input_layernorm.weight`, [d]);
    add(`${p}.post_attention_layernorm.weight`, [d]);
  }
  add('model.norm.weight', [d]);
  add('lm_head.weight', [v, d]);
  return m;
}

async function tokenizerDir(dir: string): Promise<string> {
  const tdir = join(dir, 'tok');
  await mkdir(tdir);
  const { tokenizer, config: tcfg } = llamaTokenizerJsonFromGguf(new URL('./fixtures/llama-cpp/ggml-vocab-llama-spm.gguf', import.meta.url).pathname);
  await writeFile(join(tdir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(tdir, 'tokenizer_config.json'), JSON.stringify({ ...tcfg, chat_template: "{% for m in messages %}{{ bos_token + m['content'] }}{% endfor %}" }));
  return tdir;
}

describe('model folders', () => {
  it('save → load gives the config, every tensor by HF name (bf16 → f32 exact), and the tokenizer', async () => {
    await withTempDir(async (dir) => {
      const w = weights(41);
      const out = join(dir, 'model');
      const res = await saveModelFolder(out, { config, tensors: w }, { tokenizerFrom: await tokenizerDir(dir), maxShardBytes: 8000 });
      expect(res.files.length).toBeGreaterThan(1);
      expect((await readdir(out)).sort()).toEqual([...res.files.map((f) => f.slice(out.length + 1)), 'config.json', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json'].sort());
      const cfgText = await readFile(join(out, 'config.json'), 'utf8');
      expect(JSON.parse(cfgText)).toMatchObject({ model_type: 'llama', num_key_value_heads: 2, torch_dtype: 'bfloat16', architectures: ['LlamaForCausalLM'] });

      const m = await loadModelFolder(out);
      expect(m.config.numKeyValueHeads).toBe(2);
      expect(m.hybrid).toBeNull();
      expect(m.tensors.metadata).toEqual({ format: 'pt' });
      expect([...m.tensors.names].sort()).toEqual([...w.keys()].sort());
      for (const [name, t] of w) {
        const got = await m.tensors.read(name, { as: 'float32' });
        const want = new Float32Array(new Uint32Array(Array.from(f32ToBf16(t.data), (b) => b << 16)).buffer);
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), name).toBe(true);
        expect(m.tensors.info(name)).toEqual({ dtype: 'BF16', shape: t.shape, byteLength: t.data.length * 2 });
      }
      expect(m.tokenizer?.encode('Hello world')).toEqual([1, 15043, 3186]);
      expect(m.tokenizer?.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('<s>x');
      await m.close();
    });
  });

  it('a hybrid folder carries mamba_config.json, checked against config.json', async () => {
    await withTempDir(async (dir) => {
      const hybrid = parseMambaHybridConfig({ d_model: 32, ssm_cfg: { expand: 1 }, rms_norm_eps: 1e-5, vocab_size: 32000, d_inner: 32, d_xb: 16, intermediate_size: 48, hidden_act: 'silu', n_layer: 2, attn_layers: [1] });
      const out = join(dir, 'hybrid');
      await saveModelFolder(out, { config, hybrid, tensors: weights(42) });
      expect(JSON.parse(await readFile(join(out, 'mamba_config.json'), 'utf8'))).toEqual({ d_model: 32, ssm_cfg: { expand: 1 }, rms_norm_eps: 1e-5, vocab_size: 32000, d_inner: 32, d_xb: 16, intermediate_size: 48, hidden_act: 'silu', n_layer: 2, attn_layers: [1] });
      const m = await loadModelFolder(out);
      expect(m.hybrid?.ssmLayers).toEqual([0]);
      expect(m.tokenizer).toBeNull();
      await m.close();
      await writeFile(join(out, 'mamba_config.json'), JSON.stringify({ ...JSON.parse(await readFile(join(out, 'mamba_config.json'), 'utf8')), n_layer: 3 }));
      await expectCode(loadModelFolder(out), 'BAD_CONFIG', /n_layer = 3 but the teacher config has num_hidden_layers = 2/);
      await expectCode(saveModelFolder(join(dir, 'bad'), { config, hybrid: { ...hybrid, vocabSize: 65 }, tensors: {} }), 'BAD_CONFIG', /vocab_size/);
    });
  });

  it('missing pieces are named', async () => {
    await withTempDir(async (dir) => {
      await expectCode(loadModelFolder(dir), 'NOT_FOUND', /config\.json/);
      await saveModelFolder(dir, { config, tensors: weights(43) });
      await expectCode(loadModelFolder(dir, { tokenizer: true }), 'NOT_FOUND', /no tokenizer\.json/);
      const m = await loadModelFolder(dir, { tokenizer: false });
      expect(m.tensors.files).toEqual([join(dir, 'model.safetensors')]);
      await m.close();
    });
  });
});

describe('error codes', () => {
  it('every code of CheckpointErrorCode is asserted somewhere in the tests', async () => {
    const src = await readFile(new URL('../src/errors.ts', import.meta.url), 'utf8');
    const union = src.slice(src.indexOf('export type CheckpointErrorCode'), src.indexOf(';', src.indexOf('export type CheckpointErrorCode')));
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(25);
    const dir = new URL('.', import.meta.url).pathname;
    const tests = (await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.test.ts')).map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    const untested = codes.filter((c) => !new RegExp(`(expectCode\\([\\s\\S]{0,400}?'${c}'|code: '${c}'|'${c}',)`).test(tests));
    expect(untested).toEqual([]);
  });
});
