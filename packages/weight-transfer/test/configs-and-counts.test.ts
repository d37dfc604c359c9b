import { describe, it, expect } from 'vitest';
import { hybridConfigToJson, parseMambaHybridConfig } from '@mil/checkpoint';
import { llamaWeightSpecs } from '@mil/models';
import { layerSchedule, makeHybridConfig, studentParamCount, studentWeightSpecs, WeightTransferError } from '@mil/weight-transfer';
import { contractMixerShapes, llama32_3b, llama3_8b, prod, tinyTeacher } from './fixtures';

const half = (n: number) => layerSchedule(n, { attentionFraction: 0.5 }).attnLayers;

describe('makeHybridConfig', () => {
  it('writes the reference mamba_config.json fields for Llama-3-8B (Mamba-1)', () => {
    const h = makeHybridConfig(llama3_8b, 'mamba1', half(32));
    expect(hybridConfigToJson(h)).toEqual({
      d_model: 4096,
      ssm_cfg: { expand: 1 },
      rms_norm_eps: 1e-5,
      vocab_size: 128256,
      d_inner: 4096,
      d_xb: 1024,
      intermediate_size: 14336,
      hidden_act: 'silu',
      n_layer: 32,
      attn_layers: half(32),
    });
    expect(h.ssm).toMatchObject({ dState: 16, dConv: 4, dtRank: 256 });
  });
  it('Mamba-2: ngroups = heads, d_state = head dim, and it round-trips through the checkpoint parser', () => {
    const h = makeHybridConfig(llama32_3b, 'mamba2', half(28));
    const json = hybridConfigToJson(h);
    expect(json.ssm_cfg).toEqual({ expand: 1, ngroups: 24, d_state: 128 });
    expect(json).toMatchObject({ d_model: 3072, d_inner: 3072, d_xb: 1024, n_layer: 28 });
    const back = parseMambaHybridConfig(JSON.parse(JSON.stringify(json)));
    expect(back.variant).toBe('mamba2');
    expect(back.attnLayers).toEqual(half(28));
    expect(back.ssm.headdim).toBe(128);
  });
  it('rejects a layer index beyond the teacher depth and an unknown variant', () => {
    expect(() => makeHybridConfig(tinyTeacher, 'mamba1', [4])).toThrowError(/4 is not a layer index in \[0, 4\)/);
    expect(() => makeHybridConfig(tinyTeacher, 'mamba3' as 'mamba1', [])).toThrowError(WeightTransferError);
  });
});

describe('parameter counts from shapes (no allocation)', () => {
  // Independent oracle: the contract's shapes, summed.
  const perMixer = (v: 'mamba1' | 'mamba2', cfg = llama3_8b) => Object.values(contractMixerShapes(v, cfg)).reduce((n, s) => n + prod(s), 0);
  const teacher = llamaWeightSpecs(llama3_8b).reduce((n, s) => n + prod(s.shape), 0);
  const attention = 4096 * 4096 * 2 + 1024 * 4096 * 2;

  it('Llama-3-8B teacher: 8,030,261,248', () => {
    expect(teacher).toBe(8_030_261_248);
  });
  it('per Mamba layer: 60,911,616 (Mamba-1) and 58,886,240 (Mamba-2)', () => {
    expect(perMixer('mamba1')).toBe(60_911_616);
    expect(perMixer('mamba2')).toBe(58_886_240);
    expect(perMixer('mamba1') - attention).toBe(18_968_576);
    expect(perMixer('mamba2') - attention).toBe(16_943_200);
  });
  it('studentWeightSpecs gives the contract shapes for every Mamba tensor', () => {
    for (const v of ['mamba1', 'mamba2'] as const) {
      const specs = studentWeightSpecs(llama3_8b, makeHybridConfig(llama3_8b, v, half(32)));
      const shapes = contractMixerShapes(v, llama3_8b);
      const layer0 = specs.filter((s) => s.name.startsWith('model.layers.0.mamba.'));
      expect(Object.fromEntries(layer0.map((s) => [s.name.slice('model.layers.0.mamba.'.length), s.shape]))).toEqual(shapes);
      expect(specs.some((s) => s.name.startsWith('model.layers.0.self_attn'))).toBe(false);
      expect(specs.some((s) => s.name === 'model.layers.1.self_attn.q_proj.weight')).toBe(true);
    }
  });
  it('50% hybrids: 8,333,758,464 (≈ 8.33B, Mamba-1) and 8,301,352,448 (≈ 8.30B, Mamba-2)', () => {
    const m1 = studentParamCount(llama3_8b, makeHybridConfig(llama3_8b, 'mamba1', half(32)));
    const m2 = studentParamCount(llama3_8b, makeHybridConfig(llama3_8b, 'mamba2', half(32)));
    expect(m1).toBe(teacher + 16 * (perMixer('mamba1') - attention));
    expect(m2).toBe(teacher + 16 * (perMixer('mamba2') - attention));
    expect(m1).toBe(8_333_758_464);
    expect(m2).toBe(8_301_352_448);
    expect((m1 / 1e9).toFixed(2)).toBe('8.33');
    expect((m2 / 1e9).toFixed(2)).toBe('8.30');
  });
  it('the other reference sizes: Mamba-1 8.49B (25%) / 8.56B (12.5%); Mamba-2 8.44B (25%) / 8.57B (0%)', () => {
    const size = (v: 'mamba1' | 'mamba2', f: 0.25 | 0.125 | 0) =>
      (studentParamCount(llama3_8b, makeHybridConfig(llama3_8b, v, layerSchedule(32, { attentionFraction: f }).attnLayers)) / 1e9).toFixed(2);
    expect(size('mamba1', 0.25)).toBe('8.49');
    expect(size('mamba1', 0.125)).toBe('8.56');
    expect(size('mamba2', 0.25)).toBe('8.44');
    expect(size('mamba2', 0)).toBe('8.57');
  });
  it('tied embeddings (Llama-3.2-3B) have no lm_head in the student either', () => {
    const specs = studentWeightSpecs(llama32_3b, makeHybridConfig(llama32_3b, 'mamba1', half(28)));
    expect(specs.some((s) => s.name === 'lm_head.weight')).toBe(false);
    expect(specs.filter((s) => s.name.endsWith('.mamba.in_proj_x.weight'))).toHaveLength(14);
  });
});
