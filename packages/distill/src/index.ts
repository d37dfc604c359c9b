/**
 * @mil/distill: distillation losses, the trainer and the stage pipeline.
 */
export * from './trainer/index';
export * from './losses/index';
export { compileTrainStep, type TokenBatch, type StepDefinition, type CompiledStep } from './train-step';
export { tokenWindows, collateWindows, type TokenWindow } from './data/token-windows';
export { pretrainLlama, type PretrainOptions } from './jobs/pretrain-llama';
