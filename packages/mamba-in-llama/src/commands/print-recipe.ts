// mil distill --print-recipe [--recipe default|paper|file.json]: the recipe resolved against the teacher (stage
// lengths in steps, warmup, attention layers) and the memory plan of its largest stage, as JSON on stdout.
import { formatMemoryPlan, recipeFileOf, loadRecipeFile, memoryPlan, resolveRecipe, type ResolvedStage } from '@mil/distill';
import { loadModelFolder } from '@mil/checkpoint';
import { makeHybridConfig } from '@mil/weight-transfer';

/**
 * Prints the resolved recipe (stdout, JSON) and the memory plan of each run (stderr).
 * @example await printRecipe({ recipe: 'paper', teacher: 'models/sotu-tiny' });
 */
export async function printRecipe(o: { recipe: string; teacher: string; variant?: 'mamba1' | 'mamba2' }, log: (line: string) => void): Promise<void> {
  const path = recipeFileOf(o.recipe);
  const recipe = await loadRecipeFile(path);
  const folder = await loadModelFolder(o.teacher, { tokenizer: false });
  const teacher = folder.config;
  await folder.close();
  // epochs are printed as they are; their steps depend on the data
  const runs: (ResolvedStage | { path: string; epochs: number })[] = [];
  recipe.stages.forEach((s, i) => {
    if (s.epochs !== undefined) runs.push({ path: `stages[${i}]`, epochs: s.epochs });
    else runs.push(...resolveRecipe({ ...recipe, stages: [s] }, { numLayers: teacher.numHiddenLayers }).map((r) => ({ ...r, path: `stages[${i}]` })));
  });
  process.stdout.write(`${JSON.stringify({ file: path, teacher: o.teacher, recipe, runs }, null, 2)}\n`);
  for (const r of runs) {
    if (!('spec' in r)) continue;
    const student = makeHybridConfig(teacher, o.variant ?? recipe.student.variant, r.spec.attnLayers);
    log(`${r.path} ${r.spec.name}:`);
    for (const l of formatMemoryPlan(memoryPlan({ teacher, student, trainable: r.spec.trainable, batch: r.batch, seq: r.seq }))) log(`  ${l}`);
  }
}
