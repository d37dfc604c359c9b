// The parts of a new Mamba decoder layer around its mixer (MLP and the two RMSNorms) at the reference module's
// own initial values: what `init_with_kqvo = false` leaves in place (MambaInLlama's MambaDecoderLayer builds its MLP
// from nn.Linear, so PyTorch's default U(±1/√fan_in), and its norms start at 1).
import { tensorRng, torchDefault } from './seeded-init';

/** Matches the non-mixer tensors of decoder layer i: `model.layers.{i}.mlp.*` and its two norms. @internal */
export const LAYER_BODY = /^model\.layers\.(\d+)\.(mlp\.(gate|up|down)_proj\.(weight|bias)|input_layernorm\.weight|post_attention_layernorm\.weight)$/;

/**
 * A freshly initialised MLP / norm tensor of a Mamba decoder layer, from its own seeded stream (so its values depend
 * only on the seed and the name). `inFeatures` is the fan-in of the projection the tensor belongs to. @internal
 */
export function freshLayerTensor(name: string, size: number, inFeatures: number, seed: number): Float32Array {
  if (name.endsWith('layernorm.weight')) return new Float32Array(size).fill(1);
  return torchDefault(tensorRng(seed, name), size, inFeatures);
}
