// mil distill --recipe <file.json>: a recipe file run end to end (see @mil/distill runRecipeJob), with progress
// bars, the held-out table and, with --stage-evals, the table of the student after each group of stages.
import { join } from 'node:path';
import { loadRecipeFile, recipeFileOf, runRecipeJob, type RecipeJobOptions } from '@mil/distill';
import { progressBar, trainingBars, type ProgressBar } from '../progress';
import { formatTable } from '../table';
import { intFlag, MAX_SEED, numberFlag, parseFlags } from '../options';
import { parseRunFlags, runFlagSpecs } from '../run-flags';

const FLAGS = {
  recipe: { type: 'string' },
  teacher: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  ...runFlagSpecs,
  'eval-tokens': { type: 'string' },
  'stage-evals': { type: 'string' },
  'cache-dir': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'checkpoint-seconds': { type: 'string' },
  'keep-checkpoints': { type: 'boolean' },
} as const;

export const distillRecipeHelp = `mil distill --recipe <file.json>|default-three-stage [--teacher models/sotu-tiny] [--out runs/distill-<time>]
            [--seed 0] [--eval-tokens 16384] [--stage-evals 0] [--cache-dir .cache/mil-data] [--ep …] [--threads 2]
            [--checkpoint-every 50] [--checkpoint-seconds 60] [--keep-checkpoints]
  runs every stage of a recipe file ("format": "mil-recipe/1") on its own data; --stage-evals N measures the
  student after each group of stages on N held-out SOTU chat prompts (KL to the teacher, win rate, perplexity).`;

/**
 * Parses the flags of a recipe-file run (the recipe itself is read by `distillRecipeCommand`).
 *
 * @example recipeFlags(['--recipe', 'r.json', '--seed', '3']).seed; // 3
 */
export function recipeFlags(argv: string[]): Omit<RecipeJobOptions, 'recipe'> & { recipePath: string; out: string } {
  const a = parseFlags(argv, FLAGS, 'mil distill --recipe <file>');
  return {
    recipePath: a.recipe!,
    teacher: a.teacher ?? 'models/sotu-tiny',
    out: a.out ?? join('runs', `distill-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    seed: intFlag('--seed', a.seed ?? '0', { min: 0, max: MAX_SEED }),
    ...parseRunFlags({ ep: a.ep, threads: a.threads }),
    evalTokens: intFlag('--eval-tokens', a['eval-tokens'] ?? '16384', { min: 1, max: 100_000_000 }),
    stageEvalPrompts: intFlag('--stage-evals', a['stage-evals'] ?? '0', { min: 0, max: 100_000 }),
    cacheDir: a['cache-dir'] ?? '.cache/mil-data',
    checkpointEvery: intFlag('--checkpoint-every', a['checkpoint-every'] ?? '50', { min: 0, max: 1_000_000 }),
    checkpointSeconds: numberFlag('--checkpoint-seconds', a['checkpoint-seconds'] ?? '60', { min: 0, max: 1e7 }),
    keepCheckpoints: a['keep-checkpoints'] === true,
  };
}

/**
 * Runs a recipe job with progress on stderr and its tables on stdout.
 *
 * @example await runRecipeCli({ ...recipeFlags(argv), recipe: await loadRecipeFile(path) });
 */
export async function runRecipeCli(opts: RecipeJobOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const bars = trainingBars();
  const tokenizing = new Map<string, ProgressBar>();
  const r = await runRecipeJob(opts, {
    log,
    onTokenize: (path, p) => {
      if (p.phase !== 'tokenizing') return;
      const b = tokenizing.get(path) ?? tokenizing.set(path, progressBar(`tokenize ${path}`)).get(path)!;
      // per mille of the files, short of the end, so a non-TTY log gets a line every few seconds, not per example
      b.update(Math.min(p.files * 1000 - 1, Math.floor((p.fileIndex + p.fileFraction) * 1000)), p.files * 1000, `${p.examples} examples, ${p.tokens} tokens`);
    },
    onStageStart: (st, i, n) => bars.stage(`${i + 1}/${n} ${st.name}`),
    onProgress: (st, e) => bars.step(e, st.steps),
    onEval: (model, set, d, t) => bars.eval(`${model}/${set}`, d, t),
  });
  const held = formatTable(['held-out data', 'tokens', 'teacher ppl', 'student ppl', 'ratio'], r.heldOut.map((h) => [h.data, String(h.tokens), h.teacher.toFixed(2), h.student.toFixed(2), h.ratio.toFixed(3)]));
  process.stdout.write(r.heldOut.length ? `\n${held}\n` : '\n(no held-out data: the files held out no example, and no stage trains on the embedded corpus)\n');
  if (r.stageEvals.length) {
    const t = formatTable(
      ['after', 'SOTU ppl ratio', 'KL(teacher‖student)', 'win rate vs teacher', 'student logp/token', 'teacher logp/token'],
      r.stageEvals.map((s) => [s.after, s.sotuPplRatio.toFixed(3), s.klToTeacher.toFixed(4), s.winRate.toFixed(3), s.studentLogp.toFixed(3), s.teacherLogp.toFixed(3)]),
    );
    process.stdout.write(`\n${t}\n`);
  }
  process.stdout.write('\n');
  log(`run folder: ${opts.out} (student/, metrics.json, loss-curve.svg) in ${Number(r.metrics.wallSeconds).toFixed(0)} s`);
}

/**
 * `mil distill --recipe <file.json> …`.
 *
 * @example await distillRecipeCommand(['--recipe', 'my-recipe.json', '--teacher', 'models/my-llama', '--out', 'runs/x']);
 */
export async function distillRecipeCommand(argv: string[]): Promise<void> {
  const { recipePath, ...flags } = recipeFlags(argv);
  const file = recipeFileOf(recipePath);
  const recipe = await loadRecipeFile(file);
  await runRecipeCli({ ...flags, recipe, recipeSource: file === recipePath ? recipePath : `${recipePath} (${file})` });
}
