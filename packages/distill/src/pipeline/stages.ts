// The paper's distillation recipe as a list of stages over one student (reference §3): stage 1 trains only the
// Mamba mixers with 0.1·KL + CE while the schedule goes 25% → 50% Mamba; stage 2 trains everything with KL;
// each change of schedule re-initialises the newly replaced layers from the previous stage's weights.

/** Which parameters a stage trains. 'mamba': names containing ".mamba." (the reference's stage-1 rule). */
export type TrainableSet = 'mamba' | 'all';

export interface StageSpec {
  name: string;
  /** 'kd' (default): end-to-end distillation with `loss`. 'align': layer-wise alignment of each Mamba mixer to the
   * teacher attention output it replaces (normalised MSE; `loss` is ignored). */
  kind?: 'kd' | 'align';
  /** Attention layers kept in this stage (indices of the teacher's layers). */
  attnLayers: number[];
  trainable: TrainableSet;
  steps: number;
  lr: number;
  warmupSteps?: number;
  /** Loss weights: reference stage 1 = {kl: 0.1, ce: 1}; stage 2 KD = {kl: 1, ce: 0}. */
  loss: { kl: number; ce: number; temperature?: number; reduction?: 'masked-mean' | 'reference' };
  maxGradNorm?: number;
}

export const isTrainable = (set: TrainableSet) => (name: string): boolean => set === 'all' || name.includes('.mamba.');

/**
 * The default recipe scaled to a budget of optimizer steps: stage 1 at 25% Mamba (¼ of stage-1 steps), then 50%
 * (¾), then stage 2 on all parameters. `attnLayers25`/`attnLayers50` come from @mil/weight-transfer's layerSchedule.
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
  const layers = o.numLayers ?? 2 * o.attn50.length;
  const mambaPct = (attn: number[]) => `${Math.round(((layers - attn.length) / layers) * 1000) / 10}% Mamba`;
  const s1loss = o.stage1Loss ?? { kl: 0.1, ce: 1 };
  const s1a = Math.max(1, Math.round(o.stage1Steps / 4));
  const stages: StageSpec[] = [
    { name: `stage1 (${mambaPct(o.attn75)})`, attnLayers: o.attn75, trainable: 'mamba', steps: s1a, lr, warmupSteps: Math.ceil(s1a / 10), loss: s1loss, maxGradNorm: 1 },
    { name: `stage1 (${mambaPct(o.attn50)})`, attnLayers: o.attn50, trainable: 'mamba', steps: o.stage1Steps - s1a, lr, warmupSteps: Math.ceil((o.stage1Steps - s1a) / 10), loss: s1loss, maxGradNorm: 1 },
  ];
  const align = o.alignSteps ?? 0;
  if (align > 0) {
    const a1 = Math.max(1, Math.round(align / 4));
    stages.splice(1, 0, { name: `align (${mambaPct(o.attn50)})`, kind: 'align', attnLayers: o.attn50, trainable: 'mamba', steps: align - a1, lr, warmupSteps: 0, loss: s1loss, maxGradNorm: 1 });
    stages.splice(0, 0, { name: `align (${mambaPct(o.attn75)})`, kind: 'align', attnLayers: o.attn75, trainable: 'mamba', steps: a1, lr, warmupSteps: 0, loss: s1loss, maxGradNorm: 1 });
  }
  if (o.stage2Steps > 0)
    stages.push({ name: 'stage2 (all params, KL)', attnLayers: o.attn50, trainable: 'all', steps: o.stage2Steps, lr: o.stage2Lr ?? lr / 4, warmupSteps: Math.ceil(o.stage2Steps / 10), loss: { kl: 1, ce: 0 }, maxGradNorm: 1 });
  return stages;
}
