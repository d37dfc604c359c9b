// Runs the README example (with a temporary folder) and reads the written checkpoint back.
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLlamaConfig, hybridConfigToJson, openSafetensors, parseMambaHybridConfig, writeFileAtomic, writeSafetensors, type LlamaConfig } from '@mil/checkpoint';
import { randomLlamaWeights } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig, progressiveReinit, studentWeightSpecs } from '@mil/weight-transfer';
import { sameBits } from './fixtures';

describe('README example', () => {
  it('initialises, saves, reloads and re-initialises progressively', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mil-wt-'));
    try {
      const teacherConfig = parseLlamaConfig({
  model_type: 'llama',
        vocab_size: 50, hidden_size: 48, intermediate_size: 80, num_hidden_layers: 8, num_attention_heads: 4,
        num_key_value_heads: 2, head_dim: 16, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
        max_position_embeddings: 64,
      });
      const teacher = randomLlamaWeights(teacherConfig, 0);
      const { attnLayers } = layerSchedule(teacherConfig.numHiddenLayers, { attentionFraction: 0.5 });
      const hybrid = makeHybridConfig(teacherConfig, 'mamba2', attnLayers);
      const student = initStudentFromTeacher(teacher, teacherConfig, hybrid, { seed: 0 });
      const tensors = studentWeightSpecs(teacherConfig, hybrid).map(({ name, shape }) =>
        [name, { dtype: 'F32' as const, shape, data: student.get(name)! }] as const);
      await writeSafetensors(`${dir}/model.safetensors`, tensors);
      await writeFileAtomic(`${dir}/mamba_config.json`, JSON.stringify(hybridConfigToJson(hybrid), null, 2));
      const hybrid25 = makeHybridConfig(teacherConfig, 'mamba2', layerSchedule(8, { attentionFraction: 0.25 }).attnLayers);
      const student25 = progressiveReinit(student, hybrid, hybrid25, teacherConfig, { seed: 1 });

      // read back: same names, shapes and bits; config parses to the same layers
      const file = await openSafetensors(`${dir}/model.safetensors`);
      try {
        expect([...file.names].sort()).toEqual([...student.keys()].sort());
        expect(file.info('model.layers.0.mamba.in_proj.weight').shape).toEqual([64 + 32 + 32 + 64 + 4, 48]);
        expect(sameBits(await file.read('model.layers.0.mamba.A_log', { as: 'float32' }), student.get('model.layers.0.mamba.A_log')!)).toBe(true);
      } finally {
        await file.close();
      }
      const back = parseMambaHybridConfig(JSON.parse(await readFile(`${dir}/mamba_config.json`, 'utf8')));
      expect(back.attnLayers).toEqual([1, 3, 5, 7]);
      expect(back.variant).toBe('mamba2');
      expect([...student25.keys()].filter((n) => n.endsWith('mamba.out_proj.weight'))).toHaveLength(6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
