// Initialisation for pretraining from scratch (HF LlamaPreTrainedModel._init_weights: N(0, 0.02) for linears and
// embeddings, ones for RMSNorm weights, zeros for biases).
import type { LlamaConfig } from '@mil/checkpoint';
import { createRng, randn } from '@mil/core';
import { llamaWeightSpecs } from '../oracle/llama-weights';

/**
 * Fresh weights for training a Llama/Mistral config, seeded. `std` defaults to HF's initializer_range 0.02.
 *
 * @example
 * const weights = initLlamaWeights(config, 0); // Map<HF name, Float32Array>
 */
export function initLlamaWeights(config: LlamaConfig, seed: number, std = 0.02): Map<string, Float32Array> {
  const rng = createRng(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of llamaWeightSpecs(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('norm.weight')) out.set(name, new Float32Array(n).fill(1));
    else if (name.endsWith('.bias')) out.set(name, new Float32Array(n));
    else out.set(name, randn(rng, n, std));
  }
  return out;
}
