// A parsed recipe → the stage specs the hybrid pipeline runs (and the DPO stages it hands to the DPO step).
import { layerSchedule } from '@mil/weight-transfer';
import type { StageSpec } from '../pipeline/stages';
import { RecipeError, type Recipe, type RecipeData, type RecipeStage, type RecipeStageKind } from './recipe-file';

/** One run of a stage at one layer schedule (a progressive stage gives several). */
export interface ResolvedStage {
  /** JSON path of the recipe stage it came from, e.g. `stages[2]`. */
  path: string;
  kind: RecipeStageKind;
  data: RecipeData;
  batch: number;
  seq: number;
  decay: RecipeStage['decay'];
  /** DPO only. */
  beta?: number;
  spec: StageSpec;
}

export interface ResolveOptions {
  /** Teacher depth. */
  numLayers: number;
  /** Optimizer steps of one pass over a stage's data; needed for stages whose length is in epochs. */
  stepsPerEpoch?: (stage: RecipeStage, path: string) => number;
}

/** ceil, ignoring float noise such as 0.1 × 60 = 6.000000000000001. */
const ceil = (x: number): number => Math.ceil(x - 1e-9);

function stageSteps(s: RecipeStage, path: string, batch: number, seq: number, o: ResolveOptions): number {
  if (s.steps !== undefined) return s.steps;
  if (s.tokens !== undefined) return Math.max(1, ceil(s.tokens / (batch * seq)));
  if (!o.stepsPerEpoch) throw new RecipeError('RECIPE_UNSUPPORTED', `${path}.epochs`, `${path}.epochs: a length in epochs needs the data's size (pass stepsPerEpoch), or give steps or tokens`);
  return Math.max(1, ceil(s.epochs! * o.stepsPerEpoch(s, path)));
}

function attnLayersOf(fraction: number, numLayers: number, path: string): number[] {
  try {
    return layerSchedule(numLayers, { attentionFraction: fraction as 0.5 }).attnLayers;
  } catch (e) {
    throw new RecipeError('RECIPE_INVALID', path, `${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Resolves every stage: lengths in steps (tokens ÷ (batch × seq), epochs × stepsPerEpoch), warmup in steps
 * (warmupRatio rounded up per run, as Hugging Face's warmup_ratio), layer schedules from the teacher depth;
 * a progressive stage becomes one run per attention fraction, named `<name> (<p>% Mamba)`, with its share of the steps.
 *
 * @example
 * const runs = resolveRecipe(await loadRecipeFile(builtInRecipePath('default')), { numLayers: 8 });
 * const specs = hybridStageSpecs(runs); // for distillHybrid
 */
export function resolveRecipe(r: Recipe, o: ResolveOptions): ResolvedStage[] {
  const out: ResolvedStage[] = [];
  r.stages.forEach((s, i) => {
    const path = `stages[${i}]`;
    const batch = s.batch ?? r.batch;
    const seq = s.seq ?? r.seq;
    const steps = stageSteps(s, path, batch, seq, o);
    const runs: { name: string; attnLayers: number[]; steps: number }[] = [];
    const pct = (attn: number[]) => `${Math.round(((o.numLayers - attn.length) / o.numLayers) * 1000) / 10}% Mamba`;
    if ('attnLayers' in s.layers) {
      s.layers.attnLayers.forEach((l, j) => {
        if (l >= o.numLayers) throw new RecipeError('RECIPE_INVALID', `${path}.layers.attnLayers[${j}]`, `${path}.layers.attnLayers[${j}]: layer ${l} does not exist in a ${o.numLayers}-layer teacher`);
      });
      runs.push({ name: s.name, attnLayers: [...s.layers.attnLayers], steps });
    } else if (!Array.isArray(s.layers.attentionFraction)) {
      runs.push({ name: s.name, attnLayers: attnLayersOf(s.layers.attentionFraction, o.numLayers, `${path}.layers.attentionFraction`), steps });
    } else {
      const fr = s.layers.attentionFraction;
      const split = s.layers.split ?? fr.map(() => 1);
      const total = split.reduce((a, b) => a + b, 0);
      if (steps < fr.length) throw new RecipeError('RECIPE_INVALID', path, `${path}: ${steps} steps cannot be split over ${fr.length} layer schedules`);
      let left = steps;
      fr.forEach((f, j) => {
        const attnLayers = attnLayersOf(f, o.numLayers, `${path}.layers.attentionFraction[${j}]`);
        const n = j === fr.length - 1 ? left : Math.max(1, Math.round((steps * split[j]) / total));
        left -= n;
        runs.push({ name: `${s.name} (${pct(attnLayers)})`, attnLayers, steps: n });
      });
    }
    for (const run of runs) {
      const warmupSteps = s.warmupSteps ?? (s.warmupRatio !== undefined ? ceil(s.warmupRatio * run.steps) : 0);
      const loss: StageSpec['loss'] = { kl: s.loss.kl, ce: s.loss.ce };
      if (s.loss.temperature !== undefined) loss.temperature = s.loss.temperature;
      const spec: StageSpec = { name: run.name, attnLayers: run.attnLayers, trainable: s.trainable, steps: run.steps, lr: s.lr, warmupSteps, loss };
      if (s.kind === 'align' || s.kind === 'dpo') spec.kind = s.kind;
      if (s.loss.beta !== undefined) spec.loss.beta = s.loss.beta;
      if (s.decay !== 'cosine') spec.decay = s.decay;
      if (s.maxGradNorm !== undefined) spec.maxGradNorm = s.maxGradNorm;
      const resolved: ResolvedStage = { path, kind: s.kind, data: s.data, batch, seq, decay: s.decay, spec };
      if (s.loss.beta !== undefined) resolved.beta = s.loss.beta;
      out.push(resolved);
    }
  });
  return out;
}

/**
 * The stage specs of the runs, as the hybrid pipeline (`distillHybrid`) trains them: align, KD, SeqKD and SFT runs
 * (SeqKD and SFT are KD/CE on their own data, with targets −100 where no loss applies) and DPO runs.
 *
 * @example const stages = hybridStageSpecs(resolveRecipe(recipe, { numLayers }));
 */
export function hybridStageSpecs(runs: readonly ResolvedStage[]): StageSpec[] {
  return runs.map((r) => r.spec);
}
