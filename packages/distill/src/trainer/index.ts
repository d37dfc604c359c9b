// Public API of the trainer.
export { Trainer, train } from './trainer';
export type {
  TrainerOptions,
  TrainResult,
  LossAndGrads,
  LossAndGradsFn,
  MicroBatchContext,
  ProgressEvent,
  CheckpointOptions,
  TrainerSchedule,
  TrainerOptimizer,
} from './trainer-options';
export type { StepRecord, EvalRecord, TrainerStateJson, FileDigest } from './trainer-state';
export { arrayDataSource, type DataSource, type ArrayDataSourceOptions } from './data-source';
export { seededPermutation } from './seeds';
export { listCheckpoints, checkpointDirName } from './checkpoint-dir';
export { DistillError, type DistillErrorCode } from '../errors';
