/**
 * mamba-in-llama: the umbrella package. Re-exports every @mil/* package under a namespace and ships the `mil` CLI.
 *
 * @example
 * import { models, distill } from 'mamba-in-llama';
 * const { config, weights } = await models.loadLlama('models/sotu-tiny');
 */
export * as core from '@mil/core';
export * as graph from '@mil/graph';
export * as checkpoint from '@mil/checkpoint';
export * as ssmKernels from '@mil/ssm-kernels';
export * as models from '@mil/models';
export * as corpora from '@mil/corpora';
export * as weightTransfer from '@mil/weight-transfer';
export * as distill from '@mil/distill';
export * as evaluation from '@mil/eval';
export * as specDecode from '@mil/spec-decode';
export { specModel } from './spec-model';
