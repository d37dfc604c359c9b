/**
 * @mil/distill: distillation losses, the trainer and the stage pipeline.
 */
export * from './trainer/index';
