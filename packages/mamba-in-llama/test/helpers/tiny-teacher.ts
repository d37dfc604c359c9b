// A 4-layer, 32-wide Llama teacher with the embedded teacher's tokenizer and seeded random weights: the main job
// runs on it in seconds, so tests can run it (and kill it) many times.
import { join, resolve } from 'node:path';
import { parseLlamaConfig, saveModelFolder, type TensorToWrite } from '@mil/checkpoint';
import { initLlamaWeights, llamaWeightSpecs } from '@mil/models';

export const TINY_TEACHER_CONFIG = {
  model_type: 'llama', vocab_size: 2048, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 4, num_attention_heads: 2,
  num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 64, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
  bos_token_id: 1, eos_token_id: 2,
};

/** Writes the tiny teacher folder under `dir` and returns its path. */
export async function writeTinyTeacher(dir: string, seed = 1): Promise<string> {
  const root = resolve(new URL('.', import.meta.url).pathname, '../../../..');
  const config = parseLlamaConfig(TINY_TEACHER_CONFIG);
  const weights = initLlamaWeights(config, seed, 0.1);
  const tensors = new Map<string, TensorToWrite>();
  for (const s of llamaWeightSpecs(config)) tensors.set(s.name, { dtype: 'F32', shape: s.shape, data: weights.get(s.name)! });
  const out = join(dir, 'tiny-teacher');
  await saveModelFolder(out, { config, tensors }, { tokenizerFrom: join(root, 'models/sotu-tiny'), fsync: false });
  return out;
}
