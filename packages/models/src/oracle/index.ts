// Public API of the Llama/Mistral oracle (re-exported by the package entry).
export { ModelsError, type ModelsErrorCode } from '../errors';
export { ropeInvFreq, applyRopeInPlace } from './rope';
export { rmsNormRow } from './rms-norm';
export { emptyKvCache, truncateKvCache, type KvCache, type KvCacheLayer } from './kv-cache';
export { llamaWeightSpecs, randomLlamaWeights, type WeightSource, type WeightSpec } from './llama-weights';
export { llamaOracleForward, type LlamaOracleOptions, type LlamaOracleOutput } from './llama-oracle';
export { createOracleStepModel, type OracleStepModel } from './oracle-step-model';
