import type { StepModel } from '../generate/step-model';
import type { LlamaConfig } from '@mil/checkpoint';
import { llamaOracleForward } from './llama-oracle';
import { llamaWeightSpecs, readWeight, type WeightSource } from './llama-weights';
import type { KvCache } from './kv-cache';
import { ModelsError } from '../errors';

/** A `StepModel` over the oracle, with its current cache exposed for tests and rollback. */
export interface OracleStepModel extends StepModel {
  /** The KV cache after the last call (null before `prefill`). */
  readonly cache: KvCache | null;
  /** Replaces the cache, e.g. with `truncateKvCache(model.cache!, n)` to roll back. */
  setCache(cache: KvCache): void;
}

/**
 * Wraps `llamaOracleForward` as a single-sequence `StepModel` (prefill, then one token at a time with the KV
 * cache). Weights are read and converted to float64 once, here.
 *
 * @example
 * const model = createOracleStepModel(cfg, (n) => weights.get(n));
 * const { tokens } = await generateAll(model, [1, 2, 3], { maxNewTokens: 8 });
 */
export function createOracleStepModel(config: LlamaConfig, weights: WeightSource): OracleStepModel {
  const loaded = new Map<string, Float64Array>();
  for (const { name, shape } of llamaWeightSpecs(config)) {
    loaded.set(name, readWeight(weights, name, shape.reduce((a, b) => a * b, 1)));
  }
  const source: WeightSource = (name) => loaded.get(name);
  let cache: KvCache | null = null;
  const lastRow = (logits: Float64Array, vocab: number): Float64Array => logits.slice(logits.length - vocab);
  return {
    get cache() {
      return cache;
    },
    setCache(next: KvCache) {
      cache = next;
    },
    async prefill(ids) {
      const out = llamaOracleForward(config, source, [Array.from(ids)]);
      cache = out.cache;
      return lastRow(out.logits, out.dims[2]);
    },
    async decode(id) {
      if (cache === null) throw new ModelsError('BAD_CACHE', 'decode() called before prefill()');
      const out = llamaOracleForward(config, source, [[id]], { cache });
      cache = out.cache;
      return lastRow(out.logits, out.dims[2]);
    },
  };
}
