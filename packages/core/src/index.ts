export { MilError, isMilError } from './errors';
export { EXECUTION_PROVIDERS, type ExecutionProvider, type RunOptions } from './run-options';
export { createRng, Xoshiro128StarStar, mulberry32, randn, mixSeeds, type Rng } from './rng';
