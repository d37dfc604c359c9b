import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { MilError } from '@mil/core';
import { layerSchedule } from '@mil/weight-transfer';
import { builtInRecipePath, stageEvalPoints, RECIPES, recipeStages, hybridStageSpecs, loadRecipeFile, MAIN_JOB_DEFAULTS, parseRecipe, RecipeError, resolveRecipe, type RecipeErrorCode } from '@mil/distill';

const D = MAIN_JOB_DEFAULTS;
const defaultJson = () => JSON.parse(readFileSync(builtInRecipePath('default'), 'utf8'));

function expectRecipeError(f: () => unknown, code: RecipeErrorCode, path: string, message: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RecipeError);
  expect(err).toBeInstanceOf(MilError);
  const re = err as RecipeError;
  expect([re.code, re.path]).toEqual([code, path]);
  expect(re.message).toMatch(message);
}

describe('recipe files', () => {
  it('the built-in default recipe resolves to exactly the stages the main job builds from MAIN_JOB_DEFAULTS', async () => {
    for (const layers of [8, 16]) {
      const recipe = await loadRecipeFile(builtInRecipePath('default'));
      expect([recipe.batch, recipe.seq, recipe.student.variant]).toEqual([D.batch, D.seq, D.variant]);
      const fromFile = hybridStageSpecs(resolveRecipe(recipe, { numLayers: layers }));
      // What the main job runs: the typed default recipe (pipeline/recipes.ts) over the same schedules and budgets.
      const inCode = recipeStages(RECIPES.default, {
        attn75: layerSchedule(layers, { attentionFraction: 0.75 }).attnLayers, attn50: layerSchedule(layers, { attentionFraction: D.attentionFraction }).attnLayers,
        numLayers: layers, stage1Steps: D.stage1Steps, stage2Steps: D.stage2Steps, alignSteps: D.alignSteps,
      });
      // The file format states the schedule, budget, lr, loss weights and trainable set; optimizer constants stay in code.
      const core = (ss: typeof inCode) => ss.map((x) => ({ name: x.name, kind: x.kind, attnLayers: x.attnLayers, steps: x.steps, lr: x.lr, trainable: x.trainable, kl: x.loss?.kl, ce: x.loss?.ce }));
      expect(core(fromFile)).toEqual(core(inCode));
    }
  });

  it('the paper recipe: SeqKD 75% → 50% at lr 8e-5 (0.1·KL + CE), SFT at 2e-5, DPO β 0.01 at 5e-7; epochs need the data size', async () => {
    const recipe = await loadRecipeFile(builtInRecipePath('paper'));
    expect(recipe.stages.map((s) => s.kind)).toEqual(['seqkd', 'seqkd', 'sft', 'dpo']);
    expect(() => resolveRecipe(recipe, { numLayers: 32 })).toThrow(/stages\[0\]\.epochs: a length in epochs needs the data's size/);
    const runs = resolveRecipe(recipe, { numLayers: 32, stepsPerEpoch: (s) => (s.kind === 'dpo' ? 1900 : 10000) });
    expect(runs.map((r) => [r.spec.steps, r.spec.warmupSteps, r.spec.lr])).toEqual([[10000, 1500, 8e-5], [10000, 500, 8e-5], [10000, 100, 2e-5], [1900, 190, 5e-7]]);
    expect(runs[0].spec.attnLayers).toEqual(layerSchedule(32, { attentionFraction: 0.75 }).attnLayers);
    expect(runs[1].spec.attnLayers.length).toBe(16);
    expect(runs[0].spec.loss).toEqual({ kl: 0.1, ce: 1 });
    expect(runs[3]).toMatchObject({ kind: 'dpo', beta: 0.01, batch: 32, seq: 1024 });
    const specs = hybridStageSpecs(runs);
    expect(specs.map((s) => s.trainable)).toEqual(['mamba', 'mamba', 'all', 'all']);
    expect(specs[3]).toMatchObject({ kind: 'dpo', loss: { beta: 0.01 } });
  });

  it('the typed paper recipe\'s stage 1 is the paper file\'s: lr, clipping, loss weights, trainable set, sampling', async () => {
    const file = await loadRecipeFile(builtInRecipePath('paper'));
    const P = RECIPES.paper;
    for (const [typed, s] of [[P.stage1First, file.stages[0]], [P.stage1Target, file.stages[1]]] as const) {
      expect([typed.lr, typed.maxGradNorm, typed.loss.kl, typed.loss.ce, typed.trainable, typed.data]).toEqual([s.lr, s.maxGradNorm, s.loss.kl, s.loss.ce, s.trainable, 'teacher-pseudo-labels']);
      expect(s.kind).toBe('seqkd');
      const p = (s.data as { pseudoLabels: { temperature: number; topP: number; topK: number } }).pseudoLabels;
      expect([P.pseudoLabels!.temperature, P.pseudoLabels!.topP, P.pseudoLabels!.topK]).toEqual([p.temperature, p.topP, p.topK]);
    }
    // the file's warmups (1500 and 500 optimizer steps) are the typed fractions of a ≈ 4,950-step epoch, rounded
    expect([Math.round(P.stage1First.warmupFraction * 4950 / 100) * 100, Math.round(P.stage1Target.warmupFraction * 4950 / 100) * 100]).toEqual([file.stages[0].warmupSteps, file.stages[1].warmupSteps]);
  });

  it('default-three-stage: the default\'s five stages, then SFT and DPO on data built from the corpus', async () => {
    const three = await loadRecipeFile(builtInRecipePath('default-three-stage'));
    const def = await loadRecipeFile(builtInRecipePath('default'));
    expect(three.stages.slice(0, 5)).toEqual(def.stages);
    expect(three.stages.slice(5).map((s) => [s.kind, s.data, s.trainable])).toEqual([['sft', { corpus: 'sotu' }, 'all'], ['dpo', { corpus: 'sotu' }, 'all']]);
    const runs = resolveRecipe(three, { numLayers: 8 });
    expect(runs.at(-1)).toMatchObject({ kind: 'dpo', batch: 4, spec: { kind: 'dpo', loss: { beta: 0.1 } } });
    // measured after stage 2 (the last KD run), after SFT and after DPO; not between the KD runs or after alignment
    expect(stageEvalPoints(runs)).toEqual([4, 5, 6]);
    expect(stageEvalPoints(resolveRecipe(def, { numLayers: 8 }))).toEqual([4]);
  });

  it('a progressive stage runs once per attention fraction with its share of the steps; tokens become steps', () => {
    const j = defaultJson();
    j.stages = [{ ...j.stages[1], name: 'stage1', steps: undefined, tokens: 80 * 8 * 128, layers: { attentionFraction: [0.75, 0.5], split: [1, 3] } }];
    const runs = resolveRecipe(parseRecipe(JSON.parse(JSON.stringify(j))), { numLayers: 8 });
    expect(runs.map((r) => [r.spec.name, r.spec.steps, r.spec.warmupSteps, r.spec.attnLayers.length])).toEqual([['stage1 (25% Mamba)', 20, 2, 6], ['stage1 (50% Mamba)', 60, 6, 4]]);
  });

  it('errors name the JSON path of the bad field and what was expected', () => {
    const withStage = (i: number, patch: Record<string, unknown>) => {
      const j = defaultJson();
      j.stages[i] = { ...j.stages[i], ...patch };
      return j;
    };
    expectRecipeError(() => parseRecipe(withStage(1, { lr: -1 })), 'RECIPE_INVALID', 'stages[1].lr', /^stages\[1\]\.lr: expected a positive number, got -1$/);
    expectRecipeError(() => parseRecipe(withStage(0, { kind: 'rlhf' })), 'RECIPE_INVALID', 'stages[0].kind', /expected one of "align", "kd", "seqkd", "sft", "dpo", got "rlhf"/);
    expectRecipeError(() => parseRecipe(withStage(2, { steps: 1.5 })), 'RECIPE_INVALID', 'stages[2].steps', /positive integer, got 1.5/);
    expectRecipeError(() => parseRecipe(withStage(2, { tokens: 1000 })), 'RECIPE_INVALID', 'stages[2]', /exactly one of "steps", "tokens", "epochs", got steps, tokens/);
    expectRecipeError(() => parseRecipe(withStage(4, { trainable: 'mlp' })), 'RECIPE_INVALID', 'stages[4].trainable', /"mamba", "all"/);
    expectRecipeError(() => parseRecipe(withStage(4, { loss: { kl: 1, ce: 0, beta: 0.1 } })), 'RECIPE_INVALID', 'stages[4].loss.beta', /only a "dpo" stage/);
    expectRecipeError(() => parseRecipe(withStage(4, { loss: { kl: 0, ce: 0 } })), 'RECIPE_INVALID', 'stages[4].loss', /both 0/);
    expectRecipeError(() => parseRecipe(withStage(3, { layers: { attentionFraction: 1.5 } })), 'RECIPE_INVALID', 'stages[3].layers.attentionFraction', /\[0, 1\], got 1.5/);
    expectRecipeError(() => parseRecipe(withStage(3, { layers: { attentionFraction: [0.75, 0.5], split: [1] } })), 'RECIPE_INVALID', 'stages[3].layers.split', /2 shares/);
    expectRecipeError(() => parseRecipe(withStage(3, { data: { paths: ['a.jsonl', 3] } })), 'RECIPE_INVALID', 'stages[3].data.paths[1]', /non-empty string, got 3/);
    expectRecipeError(() => parseRecipe(withStage(3, { data: { pseudoLabels: { prompts: ['p.jsonl'], maxNewTokens: 8, temperature: 1 } } })), 'RECIPE_INVALID', 'stages[3].data.pseudoLabels', /"seqkd" stage, not "kd"/);
    expectRecipeError(() => parseRecipe(withStage(3, { lerning_rate: 1 })), 'RECIPE_INVALID', 'stages[3].lerning_rate', /unknown field/);
    expectRecipeError(() => parseRecipe({ ...defaultJson(), format: 'v0' }), 'RECIPE_INVALID', 'format', /"mil-recipe\/1", got "v0"/);
    expectRecipeError(() => parseRecipe({ ...defaultJson(), stages: [] }), 'RECIPE_INVALID', 'stages', /at least 1/);
    expectRecipeError(() => parseRecipe(withStage(1, { lr: 0 }), 'mine.json'), 'RECIPE_INVALID', 'stages[1].lr', /^mine\.json: stages\[1\]\.lr: expected a positive number, got 0$/);
    // resolving against the teacher
    expectRecipeError(() => resolveRecipe(parseRecipe(withStage(3, { layers: { attnLayers: [1, 9] } })), { numLayers: 8 }), 'RECIPE_INVALID', 'stages[3].layers.attnLayers[1]', /layer 9 does not exist in a 8-layer teacher/);
    expectRecipeError(() => resolveRecipe(parseRecipe(withStage(3, { layers: { attentionFraction: 0.3 } })), { numLayers: 8 }), 'RECIPE_INVALID', 'stages[3].layers.attentionFraction', /0\.3/);
    expect(hybridStageSpecs(resolveRecipe(parseRecipe(withStage(3, { decay: 'linear' })), { numLayers: 8 }))[3].decay).toBe('linear');
  });

  it('RECIPE_NOT_FOUND and RECIPE_INVALID_JSON name the file', async () => {
    await expect(loadRecipeFile('/nonexistent/r.json')).rejects.toMatchObject({ code: 'RECIPE_NOT_FOUND', message: expect.stringMatching(/\/nonexistent\/r\.json/) });
    await expect(loadRecipeFile(new URL('./recipe-file.test.ts', import.meta.url).pathname)).rejects.toMatchObject({ code: 'RECIPE_INVALID_JSON' });
  });
});
