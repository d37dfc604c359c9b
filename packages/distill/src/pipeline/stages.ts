// A distillation run as a list of stages over one student (reference §3): stage 1 trains only the Mamba mixers
// while the schedule goes 25% → 50% Mamba; stage 2 trains everything; each change of schedule re-initialises the
// newly replaced layers from the previous stage's weights. The recipes themselves are in recipes.ts.
import { RECIPES, recipeStages, type Recipe } from './recipes';

/** Which parameters a stage trains. 'mamba': names containing ".mamba." (the reference's stage-1 rule). */
export type TrainableSet = 'mamba' | 'all';

export interface StageSpec {
  name: string;
  /** 'kd' (default): end-to-end distillation with `loss` (SeqKD and SFT are this on their own data: targets −100
   * where no loss applies, e.g. outside assistant turns). 'align': layer-wise alignment of each Mamba mixer to the
   * teacher attention output it replaces (normalised MSE; `loss` is ignored). 'dpo': DPO (sigmoid) on pair batches
   * (`collatePairs`) with `loss.beta`, against the student as it enters the stage, frozen (the reference model). */
  kind?: 'kd' | 'align' | 'dpo';
  /** Attention layers kept in this stage (indices of the teacher's layers). */
  attnLayers: number[];
  trainable: TrainableSet;
  steps: number;
  lr: number;
  warmupSteps?: number;
  /** Loss weights: reference stage 1 = {kl: 0.1, ce: 1}; stage 2 KD = {kl: 1, ce: 0}. */
  loss: { kl: number; ce: number; temperature?: number; reduction?: 'masked-mean' | 'reference'; beta?: number };
  /** Learning-rate decay after warmup (default 'cosine'). */
  decay?: 'cosine' | 'linear' | 'constant';
  maxGradNorm?: number;
  /** AdamW betas (default [0.9, 0.98], the reference's stage 1). */
  betas?: readonly [number, number];
  /** AdamW weight decay (default 0). */
  weightDecay?: number;
  /** Training data (default 'text'); 'teacher-pseudo-labels' needs `pseudoLabels` in distillHybrid's options. */
  data?: 'text' | 'teacher-pseudo-labels';
}

export const isTrainable = (set: TrainableSet) => (name: string): boolean => set === 'all' || name.includes('.mamba.');

/**
 * The default recipe scaled to a budget of optimizer steps: stage 1 at 25% Mamba (¼ of stage-1 steps), then 50%
 * (¾), then stage 2 on all parameters (`recipeStages` of `RECIPES.default` with these values). `attn75`/`attn50`
 * come from @mil/weight-transfer's layerSchedule.
 *
 * @example
 * const stages = defaultRecipe({ attn75: layerSchedule(8, { attentionFraction: 0.75 }).attnLayers,
 *   attn50: layerSchedule(8, { attentionFraction: 0.5 }).attnLayers, stage1Steps: 200, stage2Steps: 60 });
 */
export function defaultRecipe(o: {
  attn75: number[];
  /** The target schedule (50% attention in the paper's main models; 25% / 12.5% also work). */
  attn50: number[];
  /** Teacher depth, for stage names (default 2 × attn50.length, i.e. 50%). */
  numLayers?: number;
  stage1Steps: number;
  stage2Steps: number;
  lr?: number;
  /** Stage-1 loss weights (reference: kl 0.1, ce 1). */
  stage1Loss?: { kl: number; ce: number };
  /** Stage-2 learning rate (default lr / 4). */
  stage2Lr?: number;
  /** Layer-wise alignment steps before each stage-1 schedule (split ¼ / ¾ like stage 1); 0 = none (the paper). */
  alignSteps?: number;
}): StageSpec[] {
  const lr = o.lr ?? 2e-3;
  const base = RECIPES.default;
  const stage1 = { ...base.stage1First, lr, loss: { ...(o.stage1Loss ?? { kl: 0.1, ce: 1 }), reduction: 'masked-mean' as const } };
  const recipe: Recipe = { ...base, align: { ...base.align!, lr }, stage1First: stage1, stage1Target: stage1, stage2: { ...base.stage2, lr: o.stage2Lr ?? lr / 4 } };
  return recipeStages(recipe, { attn75: o.attn75, attn50: o.attn50, numLayers: o.numLayers ?? 2 * o.attn50.length, stage1Steps: o.stage1Steps, stage2Steps: o.stage2Steps, alignSteps: o.alignSteps });
}
