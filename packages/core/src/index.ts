export { MilError, isMilError } from './errors';
export { EXECUTION_PROVIDERS, type ExecutionProvider, type RunOptions } from './run-options';
export { createRng, Xoshiro128StarStar, mulberry32, randn, mixSeeds, type Rng } from './rng';
export { f16ToF32Table, f32BitsToF16, float32ToFloat16Bits, float16BitsToFloat32 } from './float16';
