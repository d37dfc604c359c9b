export { MilError, isMilError } from './errors';
export { EXECUTION_PROVIDERS, type ExecutionProvider, type RunOptions } from './run-options';
