// Distillation recipes as typed objects: every training setting of each stage, separate from the budget (steps,
// batch, sequence length). 'default' is what the main job tuned for minutes on 2 cores; 'paper' is what the
// reference's stage-1 YAMLs, its stage-1 script and its end-to-end distillation YAML set.
import type { StageSpec, TrainableSet } from './stages';

/** The training settings of one stage. */
export interface StageSettings {
  /**
   * kl · KL(teacher‖student) + ce · CE. reduction 'masked-mean': KL averaged over the positions that have a target;
   * 'reference': summed over every position of [batch, seq, vocab] and divided by the batch (PyTorch's
   * `kl_div(..., reduction="batchmean")` on a 3-D tensor, as the reference computes it).
   */
  loss: { kl: number; ce: number; reduction: 'masked-mean' | 'reference' };
  trainable: TrainableSet;
  lr: number;
  /** Linear warmup over this fraction of the stage's steps (rounded up), then cosine decay to 0. */
  warmupFraction: number;
  betas: readonly [number, number];
  weightDecay: number;
  maxGradNorm: number;
  /** 'text': windows of the training corpus; 'teacher-pseudo-labels': continuations sampled from the teacher (SeqKD). */
  data: 'text' | 'teacher-pseudo-labels';
}

/** How pseudo-labels are sampled: a prompt from the training text, then the teacher continues it to the sequence length. */
export interface PseudoLabelSettings {
  /** Prompt length as a fraction of the sequence length. */
  promptFraction: number;
  temperature: number;
  topP: number;
  topK: number;
}

export interface Recipe {
  name: RecipeName;
  /** Layer-wise alignment before each stage-1 schedule (each mixer regresses the attention output it replaces); null: none. */
  align: Pick<StageSettings, 'lr' | 'betas' | 'weightDecay' | 'maxGradNorm'> | null;
  /** Stage 1 on the first schedule (25% Mamba of the 50% target: 75% attention). */
  stage1First: StageSettings;
  /** Stage 1 on the target schedule, after progressive re-initialisation. */
  stage1Target: StageSettings;
  /** Stage 2: end-to-end, every parameter. */
  stage2: StageSettings;
  /** Needed when a stage's data is 'teacher-pseudo-labels'. */
  pseudoLabels: PseudoLabelSettings | null;
}

export type RecipeName = 'default' | 'paper';
export const RECIPE_NAMES: readonly RecipeName[] = ['default', 'paper'];

const DEFAULT_STAGE1: StageSettings = {
  loss: { kl: 1, ce: 0, reduction: 'masked-mean' },
  trainable: 'mamba',
  lr: 5e-3,
  warmupFraction: 0.1,
  betas: [0.9, 0.98],
  weightDecay: 0,
  maxGradNorm: 1,
  data: 'text',
};

// Stage 1 of the reference (`train_mamba{,2}/train_hybrid.py` with `llama3_0.25_mamba{,2}.yaml` then
// `llama3_0.50_mamba{,2}.yaml`): torch Adam β (0.9, 0.98) without weight decay on the parameters whose name contains
// "mamba", lr 8e-5 with cosine decay, clipping at 0.1, 0.1·KL (batchmean) + 1·CE, on teacher pseudo-labels.
// Warmup: the YAMLs give 1500 and 500 optimizer steps of a one-epoch run; at 64 sequences per step over the roughly
// 317k pseudo-labelled prompts of UltraChat-200k and UltraFeedback (train_gen splits) that is about 30% and 10%.
const PAPER_STAGE1: StageSettings = {
  loss: { kl: 0.1, ce: 1, reduction: 'reference' },
  trainable: 'mamba',
  lr: 8e-5,
  warmupFraction: 0.3,
  betas: [0.9, 0.98],
  weightDecay: 0,
  maxGradNorm: 0.1,
  data: 'teacher-pseudo-labels',
};

/** The recipes `--recipe` names. */
export const RECIPES: Readonly<Record<RecipeName, Recipe>> = {
  default: {
    name: 'default',
    align: { lr: 5e-3, betas: [0.9, 0.98], weightDecay: 0, maxGradNorm: 1 },
    stage1First: DEFAULT_STAGE1,
    stage1Target: DEFAULT_STAGE1,
    stage2: { ...DEFAULT_STAGE1, trainable: 'all', lr: 5e-4 },
    pseudoLabels: null,
  },
  paper: {
    name: 'paper',
    align: null,
    stage1First: PAPER_STAGE1,
    stage1Target: { ...PAPER_STAGE1, warmupFraction: 0.1 },
    // The reference's end-to-end distillation (`train_distill.py`, KDTrainer, `llama3.1_8B/*.yaml`): KL 1, CE 0
    // (batchmean), every parameter, lr 2e-5 cosine, warmup_ratio 0.01; the HF Trainer defaults for the rest
    // (AdamW β (0.9, 0.999), weight decay 0, max_grad_norm 1). Its data is instruction text, not pseudo-labels.
    stage2: {
      loss: { kl: 1, ce: 0, reduction: 'reference' },
      trainable: 'all',
      lr: 2e-5,
      warmupFraction: 0.01,
      betas: [0.9, 0.999],
      weightDecay: 0,
      maxGradNorm: 1,
      data: 'text',
    },
    // The maintainer's SeqKD sampling: temperature 0.7, top-p 0.95, top-k 10.
    pseudoLabels: { promptFraction: 0.25, temperature: 0.7, topP: 0.95, topK: 10 },
  },
};

/** The budget a recipe is scaled to. Stage 1 is split ¼ / ¾ between its two schedules, alignment likewise. */
export interface RecipeBudget {
  /** Attention layers of the first schedule (from @mil/weight-transfer's layerSchedule at 0.75). */
  attn75: number[];
  /** Attention layers of the target schedule. */
  attn50: number[];
  /** Teacher depth (stage names). */
  numLayers: number;
  stage1Steps: number;
  stage2Steps: number;
  /** Used only by recipes with alignment. */
  alignSteps?: number;
}

/** Values given on the command line that replace the recipe's. */
export interface RecipeOverrides {
  /** Stage-1 (and alignment) learning rate. */
  lr?: number;
  stage2Lr?: number;
  /** Stage-1 loss weights (the reduction stays the recipe's). */
  stage1Loss?: { kl: number; ce: number };
}

/**
 * A recipe with its overrides applied.
 *
 * @example
 * withOverrides(RECIPES.paper, { lr: 1e-3 }).stage1First.lr; // 1e-3
 */
export function withOverrides(recipe: Recipe, o: RecipeOverrides = {}): Recipe {
  const s1 = (s: StageSettings): StageSettings => ({
    ...s,
    lr: o.lr ?? s.lr,
    loss: o.stage1Loss ? { ...s.loss, ...o.stage1Loss } : s.loss,
  });
  return {
    ...recipe,
    align: recipe.align && { ...recipe.align, lr: o.lr ?? recipe.align.lr },
    stage1First: s1(recipe.stage1First),
    stage1Target: s1(recipe.stage1Target),
    stage2: { ...recipe.stage2, lr: o.stage2Lr ?? recipe.stage2.lr },
  };
}

/**
 * The stages of `recipe` at a budget: [align 25%] · stage 1 at 25% Mamba · [align 50%] · stage 1 at 50% · stage 2.
 *
 * @example
 * const stages = recipeStages(RECIPES.paper, { attn75, attn50, numLayers: 8, stage1Steps: 80, stage2Steps: 120 });
 */
export function recipeStages(recipe: Recipe, b: RecipeBudget): StageSpec[] {
  const mambaPct = (attn: number[]) => `${Math.round(((b.numLayers - attn.length) / b.numLayers) * 1000) / 10}% Mamba`;
  const stage = (name: string, attnLayers: number[], steps: number, s: StageSettings): StageSpec => ({
    name,
    attnLayers,
    trainable: s.trainable,
    steps,
    lr: s.lr,
    // toFixed: 30 × 0.1 is 3.0000000000000004 in floating point, which must round up to 3, not 4
    warmupSteps: Math.ceil(Number((steps * s.warmupFraction).toFixed(9))),
    loss: { kl: s.loss.kl, ce: s.loss.ce, reduction: s.loss.reduction },
    maxGradNorm: s.maxGradNorm,
    betas: s.betas,
    weightDecay: s.weightDecay,
    data: s.data,
  });
  const s1a = Math.max(1, Math.round(b.stage1Steps / 4));
  const stages: StageSpec[] = [
    stage(`stage1 (${mambaPct(b.attn75)})`, b.attn75, s1a, recipe.stage1First),
    stage(`stage1 (${mambaPct(b.attn50)})`, b.attn50, b.stage1Steps - s1a, recipe.stage1Target),
  ];
  const align = b.alignSteps ?? 0;
  if (recipe.align && align > 0) {
    const a = recipe.align;
    const a1 = Math.max(1, Math.round(align / 4));
    const alignStage = (attn: number[], steps: number): StageSpec => ({
      name: `align (${mambaPct(attn)})`, kind: 'align', attnLayers: attn, trainable: 'mamba', steps, lr: a.lr, warmupSteps: 0,
      loss: { kl: recipe.stage1First.loss.kl, ce: recipe.stage1First.loss.ce }, maxGradNorm: a.maxGradNorm, betas: a.betas, weightDecay: a.weightDecay,
    });
    stages.splice(1, 0, alignStage(b.attn50, align - a1));
    stages.splice(0, 0, alignStage(b.attn75, a1));
  }
  if (b.stage2Steps > 0) stages.push(stage(`stage2 (all params, ${recipe.stage2.loss.ce > 0 ? 'KL + CE' : 'KL'})`, b.attn50, b.stage2Steps, recipe.stage2));
  return stages;
}
