// The typed-array optimizers, gradient clipping and LR schedules the trainer uses (re-exported by @mil/distill).
export type {
  NamedParam,
  ParamSource,
  GradSource,
  ParamFilter,
  LrScale,
  OptimizerState,
  Optimizer,
} from './types';
export { AdamW, type AdamWOptions } from './adamw';
export { SGD, type SgdOptions } from './sgd';
export { clipGradNorm, globalGradNorm, type ClipGradNormOptions, type GradTensors } from './clip-grad-norm';
export { scheduleFactor, lrSchedule, validateSchedule, type ScheduleSpec } from './lr-schedule';
export { defaultNoDecay, compileParamFilter } from './param-filter';
