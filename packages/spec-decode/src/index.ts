// Public API of @mil/spec-decode.
export type {
  VerifyTarget,
  DraftModel,
  DraftProposal,
  Drafter,
  SamplingOptions,
  DecodeOptions,
  SpeculativeOptions,
  RoundStats,
  DecodeSummary,
  FinishReason,
  RoundEvent,
  DoneEvent,
  DecodeEvent,
} from './types';
export { SpecDecodeError, type SpecDecodeErrorCode } from './errors';
export {
  resolveSampling,
  isSampling,
  argmax,
  processedDistribution,
  sampleFromProbs,
  acceptProbability,
  residualDistribution,
} from './sampling';
export { earliestStop, unsafeTailLength } from './stop-strings';
export { speculativeDecode, plainDecode, decodeAll, mergeSummaries } from './decode';
export { modelDrafter, type ModelDrafter, type ModelDrafterOptions, type ModelDrafterStats } from './model-drafter';
export { stepModelDrafter, type StepLike, type StepModelDrafterStats } from './step-model-drafter';
export { ngramDrafter, lookupContinuation, type NgramDrafterOptions } from './ngram-drafter';
export { fallbackDrafter, type FallbackDrafter, type FallbackDrafterStats } from './fallback-drafter';
