import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  parseLlamaConfig,
  llamaConfigToJson,
  parseMambaHybridConfig,
  hybridConfigToJson,
  checkHybridMatchesTeacher,
  type LlamaConfig,
} from '@mil/checkpoint';
import { expectCode } from './helpers/expect-code';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/configs/${name}`, import.meta.url), 'utf8'));
const withoutRaw = ({ raw: _raw, ...rest }: LlamaConfig) => rest;

describe('Llama / Mistral config.json', () => {
  it('Llama-3-8B-Instruct: GQA 32/8, head dim 128, rope θ 500000, no scaling', () => {
    const c = parseLlamaConfig(fixture('llama-3-8b-instruct.json'));
    expect(withoutRaw(c)).toEqual({
      modelType: 'llama', vocabSize: 128256, hiddenSize: 4096, intermediateSize: 14336, numHiddenLayers: 32,
      numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, maxPositionEmbeddings: 8192, rmsNormEps: 1e-5,
      ropeTheta: 500000, ropeScaling: null, tieWordEmbeddings: false, slidingWindow: null, hiddenAct: 'silu',
      attentionBias: false, mlpBias: false, bosTokenId: 128000, eosTokenId: 128009, padTokenId: null, torchDtype: 'bfloat16',
    });
  });

  it('Llama-3.1 / 3.2: llama3 rope scaling, several EOS ids, explicit head_dim, tied embeddings', () => {
    const c31 = parseLlamaConfig(fixture('llama-3.1-8b-instruct.json'));
    expect(c31.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(c31.eosTokenId).toEqual([128001, 128008, 128009]);
    const c32 = parseLlamaConfig(fixture('llama-3.2-3b-instruct.json'));
    expect([c32.numHiddenLayers, c32.numAttentionHeads, c32.numKeyValueHeads, c32.headDim, c32.tieWordEmbeddings]).toEqual([28, 24, 8, 128, true]);
    expect(c32.ropeScaling).toMatchObject({ type: 'llama3', factor: 32 });
  });

  it('Zephyr (Mistral): sliding window 4096; Llama-2: MHA (kv = heads) and default rope θ', () => {
    const z = parseLlamaConfig(fixture('zephyr-7b-beta.json'));
    expect([z.modelType, z.slidingWindow, z.numKeyValueHeads, z.padTokenId, z.ropeTheta]).toEqual(['mistral', 4096, 8, 2, 10000]);
    const l2 = parseLlamaConfig(fixture('llama-2-7b.json'));
    expect([l2.numKeyValueHeads, l2.ropeTheta, l2.headDim, l2.torchDtype, l2.slidingWindow]).toEqual([32, 10000, 128, 'float16', null]);
  });

  it('fills transformers defaults for absent fields (per model type)', () => {
    const base = { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 };
    const l = parseLlamaConfig({ model_type: 'llama', ...base });
    expect([l.numKeyValueHeads, l.headDim, l.rmsNormEps, l.ropeTheta, l.maxPositionEmbeddings, l.slidingWindow, l.bosTokenId, l.eosTokenId]).toEqual([4, 16, 1e-6, 10000, 2048, null, 1, 2]);
    const m = parseLlamaConfig({ model_type: 'mistral', ...base, num_attention_heads: 8 });
    expect([m.numKeyValueHeads, m.slidingWindow, m.maxPositionEmbeddings]).toEqual([8, 4096, 131072]);
    expect(parseLlamaConfig({ architectures: ['LlamaForCausalLM'], ...base }).modelType).toBe('llama');
    expect(parseLlamaConfig(JSON.stringify({ model_type: 'llama', ...base, sliding_window: null })).slidingWindow).toBeNull();
  });

  it('reads transformers-5 style rope_parameters', () => {
    const c = parseLlamaConfig({ model_type: 'llama', vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
    expect(c.ropeTheta).toBe(500000);
    expect(c.ropeScaling).toMatchObject({ type: 'llama3', factor: 8 });
    const back = llamaConfigToJson({ ...c, ropeTheta: 10000 });
    expect(back.rope_parameters).toMatchObject({ rope_theta: 10000, rope_type: 'llama3', factor: 8 });
    expect(back.rope_theta).toBeUndefined();
  });

  it('serialises back to the same JSON, and typed edits show up under HF names', () => {
    for (const name of ['llama-3-8b-instruct.json', 'llama-3.1-8b-instruct.json', 'llama-3.2-3b-instruct.json', 'zephyr-7b-beta.json', 'llama-2-7b.json']) {
      const json = fixture(name);
      const c = parseLlamaConfig(json, name);
      expect(llamaConfigToJson(c), name).toEqual(json);
      expect(withoutRaw(parseLlamaConfig(llamaConfigToJson(c))), name).toEqual(withoutRaw(c));
    }
    const c = parseLlamaConfig(fixture('llama-3-8b-instruct.json'));
    const edited = llamaConfigToJson({ ...c, numHiddenLayers: 4, numKeyValueHeads: 4, ropeScaling: { type: 'linear', factor: 2 } });
    expect(edited).toMatchObject({ num_hidden_layers: 4, num_key_value_heads: 4, rope_scaling: { rope_type: 'linear', factor: 2 } });
    expect(parseLlamaConfig(edited).ropeScaling).toEqual({ type: 'linear', factor: 2 });
  });

  it('writes a config built in code with only non-default fields', () => {
    const tiny = parseLlamaConfig({ model_type: 'llama', vocab_size: 2048, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2 });
    const json = llamaConfigToJson({ ...tiny, raw: {} });
    expect(json).toEqual({ architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 2048, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2 });
  });

  it('errors say which field and what is expected', async () => {
    const ok = fixture('llama-3-8b-instruct.json');
    await expectCode(() => parseLlamaConfig({ ...ok, hidden_size: undefined }, 'x/config.json'), 'BAD_CONFIG', /x\/config\.json: "hidden_size" must be an integer ≥ 1; it is missing/);
    await expectCode(() => parseLlamaConfig({ ...ok, num_hidden_layers: '32' }), 'BAD_CONFIG', /"num_hidden_layers".*found "32"/);
    await expectCode(() => parseLlamaConfig({ ...ok, model_type: 'gpt2' }), 'UNKNOWN_MODEL_TYPE', /"gpt2"; expected "llama" or "mistral"/);
    await expectCode(() => parseLlamaConfig({ ...ok, model_type: undefined, architectures: undefined }), 'UNKNOWN_MODEL_TYPE', /missing/);
    await expectCode(() => parseLlamaConfig({ ...ok, num_key_value_heads: 5 }), 'BAD_CONFIG', /divisor of num_attention_heads \(32\)/);
    await expectCode(() => parseLlamaConfig({ ...ok, hidden_size: 4001 }), 'BAD_CONFIG', /multiple of num_attention_heads/);
    await expectCode(() => parseLlamaConfig({ ...ok, rope_scaling: { rope_type: 'yarn', factor: 4 } }), 'UNSUPPORTED_CONFIG', /"yarn".*"linear" or "llama3"/);
    await expectCode(() => parseLlamaConfig({ ...ok, rope_scaling: { rope_type: 'llama3', factor: 8 } }), 'BAD_CONFIG', /rope_scaling: "low_freq_factor"/);
    await expectCode(() => parseLlamaConfig({ ...ok, hidden_act: 'gelu' }), 'UNSUPPORTED_CONFIG', /"gelu".*"silu"/);
    await expectCode(() => parseLlamaConfig({ ...ok, rms_norm_eps: 0 }), 'BAD_CONFIG', /rms_norm_eps/);
    await expectCode(() => parseLlamaConfig({ ...ok, eos_token_id: [1, 'x'] }), 'BAD_CONFIG', /eos_token_id/);
    await expectCode(() => parseLlamaConfig('{"model_type": '), 'BAD_CONFIG', /not valid JSON/);
    await expectCode(() => parseLlamaConfig([1]), 'BAD_CONFIG', /JSON object/);
  });
});

describe('what transformers 5 and the reference write', () => {
  // config.json of a transformers 5.17 Llama with llama3 RoPE (the conformance fixture's teacher), as written
  const t5 = {
    architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 1, dtype: 'bfloat16', eos_token_id: 2,
    head_dim: 16, hidden_act: 'silu', hidden_size: 64, initializer_range: 0.2, intermediate_size: 128, max_position_embeddings: 512,
    mlp_bias: false, model_type: 'llama', num_attention_heads: 4, num_hidden_layers: 4, num_key_value_heads: 2, pad_token_id: null,
    pretraining_tp: 1, rms_norm_eps: 1e-5, tie_word_embeddings: false, transformers_version: '5.17.0', use_cache: true, vocab_size: 512,
    rope_parameters: { factor: 8.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 64, rope_theta: 10000.0, rope_type: 'llama3' },
  };
  // the transformers 4 spelling of the same config
  const { rope_parameters: _rp, dtype: _dt, ...rest } = t5;
  const t4 = { ...rest, torch_dtype: 'bfloat16', rope_theta: 10000.0, rope_scaling: { factor: 8.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 64, rope_type: 'llama3' } };

  it('rope_parameters / dtype (transformers 5) parse to the same config as rope_theta + rope_scaling / torch_dtype (4)', () => {
    const a = withoutRaw(parseLlamaConfig(t5));
    expect(a).toEqual(withoutRaw(parseLlamaConfig(t4)));
    expect([a.ropeTheta, a.torchDtype, a.ropeScaling]).toEqual([10000, 'bfloat16', { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 }]);
    // plain RoPE in the 5 spelling, θ other than the default
    const plain = parseLlamaConfig({ ...t5, rope_parameters: { rope_theta: 500000.0, rope_type: 'default' } });
    expect([plain.ropeTheta, plain.ropeScaling]).toEqual([500000, null]);
    // each spelling is written back as it was read
    expect(llamaConfigToJson(parseLlamaConfig(t5))).toEqual(t5);
    expect(llamaConfigToJson(parseLlamaConfig(t4))).toEqual(t4);
  });

  it('Mistral with sliding_window 16 as transformers 5 writes it', () => {
    const m = parseLlamaConfig({ ...t5, architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 16, rope_parameters: { rope_theta: 10000.0, rope_type: 'default' } });
    expect([m.modelType, m.slidingWindow, m.ropeScaling]).toEqual(['mistral', 16, null]);
  });

  it('the reference\'s mamba_config.json has "vocab_size": null: the teacher\'s vocabulary is used, and null is written back', async () => {
    const ref = { d_model: 64, ssm_cfg: { expand: 1, ngroups: 4, d_state: 16 }, rms_norm_eps: 1e-5, vocab_size: null, d_inner: 64, d_xb: 32, intermediate_size: 128, hidden_act: 'silu', n_layer: 4, attn_layers: [1, 3] };
    const h = parseMambaHybridConfig(ref, 'mamba_config.json', { vocabSize: 512 });
    expect([h.variant, h.vocabSize, h.ssmLayers]).toEqual(['mamba2', 512, [0, 2]]);
    checkHybridMatchesTeacher(h, parseLlamaConfig(t5));
    expect(JSON.stringify(hybridConfigToJson(h))).toBe(JSON.stringify(ref));
    await expectCode(() => parseMambaHybridConfig(ref), 'BAD_CONFIG', /"vocab_size" must be an integer ≥ 1, or null with the teacher's vocab_size given/);
  });
});

describe('hybrid mamba_config.json', () => {
  const m1 = fixture('mamba-llama3-0.50.mamba_config.json');
  const m2 = fixture('mamba2-llama3-0.50.mamba_config.json');

  it('Mamba-1 50 %: attention at odd layers, Mamba at even; N = 16, dt_rank = 256', () => {
    const h = parseMambaHybridConfig(m1);
    expect(h.variant).toBe('mamba1');
    expect(h.attnLayers).toEqual(Array.from({ length: 16 }, (_, i) => 2 * i + 1));
    expect(h.ssmLayers).toEqual(Array.from({ length: 16 }, (_, i) => 2 * i));
    expect([h.dModel, h.dInner, h.dXb, h.nLayer, h.intermediateSize, h.rmsNormEps, h.vocabSize]).toEqual([4096, 4096, 1024, 32, 14336, 1e-5, 128256]);
    expect([h.ssm.expand, h.ssm.dState, h.ssm.dConv, h.ssm.dtRank, h.ssm.ngroups]).toEqual([1, 16, 4, 256, 1]);
    // 256 C groups, 64 B/x groups, repeat factor 4 (dossier §1.3.1)
    expect([h.dInner / h.ssm.dState, h.dXb / h.ssm.dState, h.dInner / h.dXb]).toEqual([256, 64, 4]);
  });

  it('Mamba-2 50 %: ngroups = heads = 32, d_state = head dim = 128', () => {
    const h = parseMambaHybridConfig(m2);
    expect(h.variant).toBe('mamba2');
    expect([h.ssm.ngroups, h.ssm.dState, h.ssm.headdim, h.dXb / h.ssm.dState]).toEqual([32, 128, 128, 8]);
    expect(parseMambaHybridConfig({ ...m2, ssm_cfg: { layer: 'Mamba2', expand: 1, d_state: 128 } }).ssm.ngroups).toBe(32);
    expect(parseMambaHybridConfig(m1, 'm', { variant: 'mamba2' }).ssm.dState).toBe(128);
  });

  it('serialises back exactly (field order included) and round-trips edits', () => {
    expect(JSON.stringify(hybridConfigToJson(parseMambaHybridConfig(m1)))).toBe(JSON.stringify(m1));
    expect(JSON.stringify(hybridConfigToJson(parseMambaHybridConfig(m2)))).toBe(JSON.stringify(m2));
    const h = parseMambaHybridConfig(m1);
    const quarter = { ...h, attnLayers: [3, 7, 11, 15, 19, 23, 27, 31] };
    expect(parseMambaHybridConfig(hybridConfigToJson(quarter)).ssmLayers.length).toBe(24);
    const withExtra = parseMambaHybridConfig({ ...m1, my_field: 'kept' });
    expect(hybridConfigToJson(withExtra).my_field).toBe('kept');
  });

  it('errors say which field and what is expected', async () => {
    await expectCode(() => parseMambaHybridConfig({ ...m1, attn_layers: [1, 32] }), 'BAD_CONFIG', /"attn_layers" must be a list of layer indices in \[0, 32\)/);
    await expectCode(() => parseMambaHybridConfig({ ...m1, attn_layers: [1, 1] }), 'BAD_CONFIG', /distinct/);
    await expectCode(() => parseMambaHybridConfig({ ...m1, d_xb: undefined }), 'BAD_CONFIG', /"d_xb".*missing/);
    await expectCode(() => parseMambaHybridConfig({ ...m1, d_xb: 1000 }), 'BAD_CONFIG', /d_xb.*divisor of d_inner/);
    await expectCode(() => parseMambaHybridConfig({ ...m2, ssm_cfg: { expand: 1, ngroups: 16, d_state: 128 } }), 'BAD_CONFIG', /ngroups \(16\) × head dim \(128\) must equal d_inner \(4096\)/);
    await expectCode(() => parseMambaHybridConfig({ ...m1, ssm_cfg: { layer: 'S4' } }), 'BAD_CONFIG', /"Mamba1" or "Mamba2"/);
    await expectCode(() => parseMambaHybridConfig('nope'), 'BAD_CONFIG', /not valid JSON/);
  });

  it('checks the hybrid against its teacher', async () => {
    const teacher = parseLlamaConfig(fixture('llama-3-8b-instruct.json'));
    checkHybridMatchesTeacher(parseMambaHybridConfig(m1), teacher);
    checkHybridMatchesTeacher(parseMambaHybridConfig(m2), teacher);
    await expectCode(() => checkHybridMatchesTeacher(parseMambaHybridConfig({ ...m1, vocab_size: 32000 }), teacher), 'BAD_CONFIG', /vocab_size = 32000 but the teacher config has vocab_size = 128256/);
    await expectCode(() => checkHybridMatchesTeacher(parseMambaHybridConfig(m1), parseLlamaConfig(fixture('llama-2-7b.json'))), 'BAD_CONFIG', /d_xb|intermediate_size|vocab_size/);
  });
});
