// Public API of the generation loop and logits processors (re-exported by the package entry).
export type { StepModel, Logits, ForwardOptions } from './step-model';
export { softmax, argmax, sampleFromLogits, sampleFromProbs } from './sampling';
export {
  applyRepetitionPenalty,
  applyTemperature,
  topK,
  topP,
  processLogits,
  isSampling,
  type SamplingOptions,
} from './logits-processors';
export {
  generate,
  generateAll,
  type GenerateOptions,
  type GeneratedToken,
  type GenerationResult,
  type FinishReason,
} from './generate';
