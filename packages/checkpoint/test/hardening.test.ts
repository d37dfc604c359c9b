// Hostile model folders: absurd config sizes, files that are FIFOs, devices, symlink loops or huge, tokenizers whose
// ids do not fit the model, duplicate fields inside a safetensors tensor entry. Each must end in a coded error that
// names the file — quickly, and before anything large is allocated.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, truncate, writeFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  checkLlamaConfigBounds,
  loadModelFolder,
  modelMemory,
  parseLlamaConfig,
  parseMambaHybridConfig,
  parseSafetensors,
  saveModelFolder,
  serializeSafetensors,
  type TensorToWrite,
} from '@mil/checkpoint';
import { findDuplicateNestedKey } from '../src/json-text';
import { expectCode } from './helpers/expect-code';
import { makeRng } from './helpers/rng';
import { withTempDir } from './helpers/tmp';

const teacherDir = resolve(__dirname, '../../../models/sotu-tiny');
const base = { model_type: 'llama', vocab_size: 2048, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 64, rms_norm_eps: 1e-5 };

async function tinyFolder(dir: string): Promise<string> {
  const config = parseLlamaConfig(base);
  const rng = makeRng(5);
  const tensors = new Map<string, TensorToWrite>();
  tensors.set('model.embed_tokens.weight', { dtype: 'F32', shape: [2048, 8], data: new Float32Array(2048 * 8).map(() => rng.next() - 0.5) });
  tensors.set('model.norm.weight', { dtype: 'F32', shape: [8], data: new Float32Array(8).fill(1) });
  const out = join(dir, 'model');
  await saveModelFolder(out, { config, tensors }, { tokenizerFrom: teacherDir, fsync: false });
  return out;
}

describe('config bounds', () => {
  it('refuses absurd sizes with the file, the field, the value and the range', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ num_hidden_layers: 1e9 }, /cfg\.json: "num_hidden_layers" = 1000000000 is out of range; expected an integer in \[1, 4096\]/],
      [{ max_position_embeddings: 1e12 }, /"max_position_embeddings" = 1000000000000 is out of range/],
      [{ vocab_size: 2 ** 40 }, /"vocab_size"/],
      [{ head_dim: 63 }, /cfg\.json: head_dim = 63 must be even/],
      [{ eos_token_id: 2048 }, /cfg\.json: eos_token_id = 2048 is not a token id; expected an integer in \[0, 2047\]/],
      [{ eos_token_id: [2, 5000] }, /eos_token_id = 5000/],
    ];
    for (const [patch, msg] of cases) await expectCode(() => parseLlamaConfig({ ...base, ...patch }, 'cfg.json'), 'BAD_CONFIG', msg);
    expect(checkLlamaConfigBounds(parseLlamaConfig(base), 'x')).toBeTruthy();
  });

  it('refuses a hybrid n_layer of 1e9 before building per-layer lists', async () => {
    await expectCode(
      () => parseMambaHybridConfig({ d_model: 8, ssm_cfg: { expand: 1 }, vocab_size: 2048, d_inner: 8, d_xb: 4, intermediate_size: 12, n_layer: 1e9, attn_layers: [1] }, 'm.json'),
      'BAD_CONFIG',
      /m\.json: "n_layer" = 1000000000 is out of range/,
    );
    await expectCode(() => parseMambaHybridConfig({ d_model: 8, ssm_cfg: { d_state: 1e7 }, n_layer: 2 }, 'm.json'), 'BAD_CONFIG', /"ssm_cfg\.d_state" = 10000000/);
  });

  it('computes the memory a config implies and refuses a model that does not fit, with the figure', async () => {
    const m = modelMemory(parseLlamaConfig(base));
    // embed + lm_head (untied) + 2 layers × (q,o 8×8 + k,v 8×4 + mlp 3×8×12 + 2 norms) + final norm, by hand
    const params = 2 * 2048 * 8 + 2 * (2 * 64 + 2 * 32 + 288 + 16) + 8;
    expect(m.params).toBe(params);
    expect(m.weightBytes).toBe(params * 4);
    expect(m.kvBytesPerToken).toBe(2 * 2 * 4 * 4);
    expect(m.ropeTableBytes).toBe(64 * 4 * 16);
    await withTempDir(async (dir) => {
      const folder = await tinyFolder(dir);
      await expectCode(loadModelFolder(folder, { memoryLimitBytes: 1000 }), 'TOO_LARGE_FOR_MEMORY', /config\.json: this model needs about 139168 bytes \(3\.377e\+4 float32 weights: 135072 bytes; RoPE tables at max_position_embeddings 64: 4096 bytes\) but the memory limit is 1000 bytes/);
      const cfg = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
      await writeFile(join(folder, 'config.json'), JSON.stringify({ ...cfg, max_position_embeddings: 5e7, hidden_size: 4096, num_attention_heads: 32, num_key_value_heads: 8 }));
      // 5e7 positions × head_dim 128 × 16 bytes of RoPE tables alone are 95 GiB
      await expectCode(loadModelFolder(folder), 'TOO_LARGE_FOR_MEMORY', /RoPE tables at max_position_embeddings 50000000: 95\.4 GiB/);
    });
  });
});

describe('files that are not what they claim', () => {
  it('refuses FIFOs, devices, symlink loops and huge files at once, naming the file', async () => {
    await withTempDir(async (dir) => {
      const folder = await tinyFolder(dir);
      const cfg = join(folder, 'config.json');
      await rm(cfg);
      execFileSync('mkfifo', [cfg]);
      await expectCode(loadModelFolder(folder), 'NOT_REGULAR_FILE', new RegExp(`${cfg} is a FIFO`));
      await rm(cfg);
      await symlink('/dev/urandom', cfg);
      await expectCode(loadModelFolder(folder), 'NOT_REGULAR_FILE', /config\.json is a device/);
      await rm(cfg);
      await symlink(join(folder, 'loop-b'), cfg);
      await symlink(cfg, join(folder, 'loop-b'));
      await expectCode(loadModelFolder(folder), 'SYMLINK_LOOP', /config\.json is a symbolic link loop/);
      await rm(cfg);
      await writeFile(cfg, '{}');
      await truncate(cfg, 64 << 20); // sparse: 64 MiB of zeros
      await expectCode(loadModelFolder(folder), 'FILE_TOO_LARGE', /config\.json has 67108864 bytes/);
      await expectCode(loadModelFolder(cfg), 'IO_ERROR', /config\.json\/config\.json: ENOTDIR/);
    });
  });

  it('refuses a FIFO or a loop in place of the weights or the tokenizer', async () => {
    await withTempDir(async (dir) => {
      const folder = await tinyFolder(dir);
      const w = join(folder, 'model.safetensors');
      await rm(w);
      execFileSync('mkfifo', [w]);
      await expectCode(loadModelFolder(folder), 'NOT_REGULAR_FILE', /model\.safetensors is a FIFO/);
      await rm(w);
      const tok = join(folder, 'tokenizer.json');
      await rm(tok);
      await symlink(tok, tok);
      await expectCode(loadModelFolder(folder), 'SYMLINK_LOOP', /tokenizer\.json/);
    });
  });
});

describe('tokenizer cross-checks', () => {
  it('refuses ids beyond vocab_size, negative ids, an empty vocabulary and an unknown model type', async () => {
    await withTempDir(async (dir) => {
      const folder = await tinyFolder(dir);
      const path = join(folder, 'tokenizer.json');
      const tok = JSON.parse(await readFile(path, 'utf8'));
      const put = (t: unknown) => writeFile(path, JSON.stringify(t));
      expect((await loadModelFolder(folder)).tokenizer?.vocabSize).toBe(2048);
      await put({ ...tok, added_tokens: [...tok.added_tokens, { ...tok.added_tokens[0], id: 4000, content: '<x>' }] });
      await expectCode(loadModelFolder(folder), 'BAD_TOKENIZER', /tokenizer\.json: token "<x>" has id 4000, but the model has vocab_size 2048/);
      await put({ ...tok, model: { ...tok.model, vocab: { ...tok.model.vocab, zz: -3 } } });
      await expectCode(loadModelFolder(folder), 'BAD_TOKENIZER', /model\.vocab: token "zz" has id -3; expected an integer ≥ 0/);
      await put({ ...tok, model: { ...tok.model, vocab: {} } });
      await expectCode(loadModelFolder(folder), 'BAD_TOKENIZER', /tokenizer\.json: model\.vocab is empty/);
      await put({ ...tok, model: { ...tok.model, type: 'Mystery' } });
      await expectCode(loadModelFolder(folder), 'BAD_TOKENIZER', /model\.type "Mystery"/);
    });
  });
});

describe('finiteness while converting', () => {
  it('names the element of a NaN in a later chunk of a bf16 → float32 read (checked chunk by chunk)', async () => {
    const n = 1_500_000; // 3 MB of bf16: more than one 2 MiB read chunk
    const bits = new Uint16Array(n).fill(0x3f80); // 1.0
    const at = 1_200_000 + Math.floor(makeRng(9).next() * 200_000);
    bits[at] = 0x7fc0; // NaN
    const f = await parseSafetensors(serializeSafetensors({ w: { dtype: 'BF16', shape: [n], data: bits } }), { label: 'big.safetensors' });
    await expectCode(f.read('w', { as: 'float32', checkFinite: true }), 'NON_FINITE', new RegExp(`"w" \\(BF16\\) has a non-finite value at element ${at} \\(NaN\\)`));
    expect((await f.read('w', { as: 'float32' }))[at]).toBeNaN();
  });
});

describe('safetensors header', () => {
  it('rejects a field that appears twice inside one tensor entry', async () => {
    const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const twice = header.replace('"dtype":"F32"', '"dtype":"F16","dtype":"F32"');
    expect(twice).not.toBe(header);
    const hb = new TextEncoder().encode(twice.padEnd(Math.ceil(twice.length / 8) * 8, ' '));
    const out = new Uint8Array(8 + hb.length + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(bytes.subarray(8 + n), 8 + hb.length);
    await expectCode(parseSafetensors(out, { label: 'dup.safetensors' }), 'BAD_TENSOR_INFO', /dup\.safetensors.*"w" has the field "dtype" twice/);
    expect(findDuplicateNestedKey('{"a":{"x":1,"y":[{"x":2}],"z":{"x":3}},"b":{"x":1}}')).toBeUndefined();
    expect(findDuplicateNestedKey('{"a":{"x":1},"b":{"q":{"k":1,"k":2}}}')).toEqual({ parent: 'b', key: 'k' });
  });
});
