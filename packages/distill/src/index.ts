/**
 * @mil/distill: distillation losses, the trainer and the stage pipeline.
 */
export * from './trainer/index';
export * from './losses/index';
export { compileTrainStep, type TokenBatch, type StepDefinition, type CompiledStep } from './train-step';
export { tokenWindows, collateWindows, type TokenWindow } from './data/token-windows';
export { pretrainLlama, type PretrainOptions } from './jobs/pretrain-llama';
export { TeacherSignal } from './teacher-signal';
export { compileKdStep, type KdLossOptions, type KdStep } from './kd-step';
export { defaultRecipe, isTrainable, type StageSpec, type TrainableSet } from './pipeline/stages';
export { distillHybrid, type DistillHybridOptions, type DistillHybridResult } from './pipeline/distill-hybrid';
export { generatePseudoLabels, savePseudoLabels, collatePseudoLabels, type PseudoLabel, type PseudoLabelOptions } from './pseudo-labels';
export { compileDpoStep, ReferenceLogProbs, collatePairs, type PairBatch } from './dpo-step';
export { compileAlignStep, type AlignStep } from './align-step';
export { runMainJob, MAIN_JOB_DEFAULTS, type MainJobOptions, type MainJobEvents, type MainJobResult, type MainJobRow } from './jobs/main-job';
export { prepareRunFolder, readRunOptions, writeRunOptions, removeInterruptedWrites, RUN_OPTIONS_FILE } from './jobs/run-folder';
export { loadMainJobData, tokenizeDocuments, type MainJobData } from './jobs/main-job-data';
export { compileTopKKdStep } from './kd-step';
export { cacheTeacherTopK, readTeacherTopK, topKKl } from './teacher-topk-cache';
