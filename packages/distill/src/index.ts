/**
 * @mil/distill: distillation losses, the trainer and the stage pipeline.
 */
export {
  arrayDataSource,
  type ArrayDataSourceOptions,
  checkpointDirName,
  type CheckpointOptions,
  type DataSource,
  DistillError,
  type DistillErrorCode,
  type EvalRecord,
  type FileDigest,
  listCheckpoints,
  type LossAndGrads,
  type LossAndGradsFn,
  type MicroBatchContext,
  type ProgressEvent,
  seededPermutation,
  type StepRecord,
  train,
  Trainer,
  type TrainerOptimizer,
  type TrainerOptions,
  type TrainerSchedule,
  type TrainerStateJson,
  type TrainResult,
} from './trainer/index';
export {
  crossEntropy,
  dpoLoss,
  forwardKl,
  IGNORE_INDEX,
  type KlOptions,
  klPlusCe,
  reverseKl,
  sequenceLogProb,
  validMask,
} from './losses/index';
export {
  AdamW,
  type AdamWOptions,
  clipGradNorm,
  type ClipGradNormOptions,
  compileParamFilter,
  defaultNoDecay,
  globalGradNorm,
  type GradSource,
  type GradTensors,
  type LrScale,
  lrSchedule,
  type NamedParam,
  type Optimizer,
  type OptimizerState,
  type ParamFilter,
  type ParamSource,
  scheduleFactor,
  type ScheduleSpec,
  SGD,
  type SgdOptions,
  validateSchedule,
} from './optim/index';
export { compileTrainStep, type TokenBatch, type StepDefinition, type CompiledStep } from './train-step';
export { tokenWindows, collateWindows, type TokenWindow } from './data/token-windows';
export { pretrainLlama, type PretrainOptions } from './jobs/pretrain-llama';
export { TeacherSignal } from './teacher-signal';
export { compileKdStep, type KdLossOptions, type KdStep } from './kd-step';
export { defaultRecipe, isTrainable, type StageSpec, type TrainableSet } from './pipeline/stages';
export {
  RECIPES,
  RECIPE_NAMES,
  recipeStages,
  withOverrides,
  type Recipe,
  type RecipeName,
  type RecipeBudget,
  type RecipeOverrides,
  type StageSettings,
  type PseudoLabelSettings,
} from './pipeline/recipes';
export { distillHybrid, type DistillHybridOptions, type DistillHybridResult } from './pipeline/distill-hybrid';
export { generatePseudoLabels, savePseudoLabels, collatePseudoLabels, type PseudoLabel, type PseudoLabelOptions } from './pseudo-labels';
export { compileDpoStep, ReferenceLogProbs, collatePairs, type PairBatch } from './dpo-step';
export { compileAlignStep, type AlignStep } from './align-step';
export { runMainJob, checkMainJobFits, readTeacherConfig, MAIN_JOB_DEFAULTS, MAIN_JOB_PRESETS, mainJobTrainingTokens, type MainJobPreset, type MainJobOptions, type MainJobEvents, type MainJobResult, type MainJobRow } from './jobs/main-job';
export { prepareRunFolder, readRunOptions, writeRunOptions, removeInterruptedWrites, RUN_OPTIONS_FILE } from './jobs/run-folder';
export { loadMainJobData, tokenizeDocuments, type MainJobData } from './jobs/main-job-data';
export { compileTopKKdStep } from './kd-step';
export { cacheTeacherTopK, readTeacherTopK, topKKl } from './teacher-topk-cache';
export { parseRecipe, loadRecipeFile, builtInRecipePath, recipeFileOf, BUILT_IN_RECIPES, RecipeError, RECIPE_FORMAT, STAGE_KINDS, type Recipe as RecipeFile, type RecipeStage, type RecipeData, type RecipeStageKind, type RecipeErrorCode } from './recipe/recipe-file';
export { resolveRecipe, hybridStageSpecs, type ResolvedStage, type ResolveOptions } from './recipe/recipe-stages';
export { memoryPlan, formatMemoryPlan, assertMemoryFits, checkRunFits, type PlannedStage, availableMemory, MemoryPlanError, type MemoryPlan, type MemoryPlanInput, type MemoryItem, type MemoryErrorCode } from './memory/memory-plan';
export { runRecipeJob, stageEvalPoints, type RecipeJobOptions, type RecipeJobEvents, type RecipeJobResult, type HeldOutRow, type StageEvalRow } from './jobs/recipe-job';
export { sotuTurns, sotuConversation, sotuChatWindows, sotuChatPrompts, chatTemplateOf, SOTU_CHAT_INSTRUCTION, type SotuTurn } from './jobs/sotu-chat';
export { compareToTeacher, continuations, maskedPerplexity, rowScores, logitsModel, EVAL_SAMPLING, type TeacherComparison, type RowScores, type SampleSettings } from './jobs/stage-eval';
export { writeStudentFolder, stageLossCurves } from './jobs/run-folder';
