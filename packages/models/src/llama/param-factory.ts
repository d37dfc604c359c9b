// The parameter factory both decoder graphs hand to their layers (and to hybrid mixers): one graph parameter per
// HF name, created on first use, shaped as the checkpoint has it.
import type { LlamaConfig } from '@mil/checkpoint';
import type { DType, Graph, Tensor } from '@mil/graph';
import { llamaWeightSpecs } from '../oracle/llama-weights';

/** What `llamaParamFactory` returns: the parameters made so far, by name, and the factory itself. */
export interface LlamaParamFactory {
  params: Map<string, Tensor>;
  /** The parameter `name`: the teacher's shape for a teacher parameter, else `shape` (a hybrid mixer's own). */
  param: (name: string, shape: number[]) => Tensor;
}

/**
 * A parameter factory over `g` for `config`'s decoder: asking twice for a name gives the same tensor.
 *
 * @example
 * const { params, param } = llamaParamFactory(g, config, 'float32');
 * const embed = param('model.embed_tokens.weight', []); // shape [vocab, hidden] from llamaWeightSpecs
 */
export function llamaParamFactory(g: Graph, config: LlamaConfig, dtype: DType): LlamaParamFactory {
  const shapes = new Map(llamaWeightSpecs(config).map((w) => [w.name, w.shape]));
  const params = new Map<string, Tensor>();
  const param = (name: string, shape: number[]): Tensor => {
    const hit = params.get(name);
    if (hit) return hit;
    const t = g.param(name, dtype, shapes.get(name) ?? shape);
    params.set(name, t);
    return t;
  };
  return { params, param };
}
