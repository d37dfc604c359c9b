// mil distill — the main job (see @mil/distill runMainJob): argument parsing, progress bars, the results table.
import { join } from 'node:path';
import { BUILT_IN_RECIPES, MAIN_JOB_DEFAULTS, MAIN_JOB_PRESETS, mainJobTrainingTokens, parseRecipe, RECIPE_NAMES, RECIPES, readRunOptions, runMainJob, type MainJobOptions, type MainJobPreset, type RecipeJobOptions } from '@mil/distill';
import { distillRecipeCommand, distillRecipeHelp, runRecipeCli } from './distill-recipe';
import { MAMBA_LAYER_INITS } from '@mil/weight-transfer';
import { progressBar, trainingBars } from '../progress';
import { formatTable } from '../table';
import { choiceFlag, CliError, intFlag, MAX_SEED, numberFlag, parseFlags } from '../options';
import { parseRunFlags, runFlagsHelp } from '../run-flags';
import { printRecipe } from './print-recipe';

const D = MAIN_JOB_DEFAULTS;
const R = RECIPES.default;
const P = RECIPES.paper;
export const distillHelp = `mil distill [--teacher ${D.teacher}] [--variant mamba2|mamba1] [--attention 0.5|0.25|0.125|0] [--preset h200]
            [--recipe default|paper|default-three-stage|file.json] [--init attention|random-layer|random-mixer] [--ablation-init random-layer|random-mixer]
            [--align-steps ${D.alignSteps}] [--stage1-steps ${D.stage1Steps}] [--stage2-steps ${D.stage2Steps}]
            [--lr <recipe's>] [--stage2-lr <recipe's>] [--stage1-kl <recipe's>] [--stage1-ce <recipe's>]
            [--batch ${D.batch}] [--seq ${D.seq}] [--eval-tokens ${D.evalTokens}] [--no-ablations]
            [--out runs/distill-<time>] [--seed ${D.seed}] ${runFlagsHelp}
            [--checkpoint-every ${D.checkpointEvery ?? 50}] [--checkpoint-seconds ${D.checkpointSeconds ?? 60}] [--keep-checkpoints]
  mil distill --resume <run folder> [--threads N] [--ep …]   (a main-job or a recipe-file run)
  ${distillRecipeHelp}
  mil distill --print-recipe [--recipe default|paper|default-three-stage|file.json] [--teacher …]   a recipe file resolved against the teacher, and its memory plan
  --recipe default: alignment, stage-1 KL ${R.stage1First.loss.kl} / CE ${R.stage1First.loss.ce} (per-token mean), lr ${R.stage1First.lr}, stage-2 lr ${R.stage2.lr}, clip ${R.stage1First.maxGradNorm}.
  --recipe paper: the reference's settings: no alignment, stage 1 on teacher pseudo-labels with KL ${P.stage1First.loss.kl} (batchmean) + CE ${P.stage1First.loss.ce},
    lr ${P.stage1First.lr}, clip ${P.stage1First.maxGradNorm}; stage 2 KL (batchmean), lr ${P.stage2.lr} (packages/distill/README.md). --lr etc. replace the recipe's values.
  --preset h200: ${presetLine('h200')}; flags given still win.
  --init: how the student's Mamba layers start at every stage; the ablation student (unless --no-ablations) uses
    --ablation-init (default ${D.ablationInit}: the whole new layer fresh, as the reference's init_with_kqvo=False).
  The run folder is created first and holds resumable checkpoints (every --checkpoint-every steps and every
  --checkpoint-seconds seconds, 0 = off); after a crash or kill, --resume continues bit-exactly where it stopped.
  The checkpoints are removed when the run completes unless --keep-checkpoints.`;

function presetLine(name: MainJobPreset): string {
  const p = { ...D, ...MAIN_JOB_PRESETS[name] };
  return `--ep ${p.ep} --batch ${p.batch} --align-steps ${p.alignSteps} --stage1-steps ${p.stage1Steps} --stage2-steps ${p.stage2Steps} --eval-tokens ${p.evalTokens} (${(mainJobTrainingTokens(p) / mainJobTrainingTokens(D)).toFixed(0)}× the default's training tokens)`;
}

const FLAGS = {
  preset: { type: 'string' },
  teacher: { type: 'string' },
  variant: { type: 'string' },
  attention: { type: 'string' },
  recipe: { type: 'string' },
  init: { type: 'string' },
  'ablation-init': { type: 'string' },
  'align-steps': { type: 'string' },
  'stage1-steps': { type: 'string' },
  'stage2-steps': { type: 'string' },
  lr: { type: 'string' },
  'stage2-lr': { type: 'string' },
  'stage1-kl': { type: 'string' },
  'stage1-ce': { type: 'string' },
  batch: { type: 'string' },
  seq: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
  'eval-tokens': { type: 'string' },
  'no-ablations': { type: 'boolean' },
  out: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'checkpoint-seconds': { type: 'string' },
  resume: { type: 'string' },
  'keep-checkpoints': { type: 'boolean' },
  'print-recipe': { type: 'boolean' },
} as const;

const STEPS = { min: 0, max: 1_000_000 };
/** Flags that may change between a run and its resumption (they do not change what is computed). */
const RESUMABLE = new Set(['ep', 'threads', 'checkpoint-every', 'checkpoint-seconds', 'keep-checkpoints', 'resume']);

/**
 * Parses and range-checks the flags of `mil distill` into main-job options (no file is touched).
 *
 * @example distillOptions(['--seq', '64']).seq; // 64
 */
export function distillOptions(argv: string[]): MainJobOptions & { resume?: string } {
  const a = parseFlags(argv, FLAGS, 'mil distill');
  const preset: Record<string, unknown> = a.preset === undefined ? {} : MAIN_JOB_PRESETS[choiceFlag('--preset', a.preset, Object.keys(MAIN_JOB_PRESETS) as MainJobPreset[])];
  const presetKey = (k: string) => k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  // a flag given wins over the preset, which wins over the default
  const str = (k: keyof typeof FLAGS, d: number | string) => (a[k] as string | undefined) ?? String(preset[presetKey(k)] ?? d);
  const opt = (k: keyof typeof FLAGS, r: { min: number; max: number; minExclusive?: boolean }) => (a[k] === undefined ? undefined : numberFlag(`--${k}`, a[k] as string, r));
  const steps = (k: 'align-steps' | 'stage1-steps' | 'stage2-steps', d: number, min = 0) => intFlag(`--${k}`, str(k, d), { ...STEPS, min });
  const positiveLr = { min: 0, minExclusive: true, max: 10 };
  const seq = intFlag('--seq', str('seq', D.seq), { min: 2, max: 65536 });
  const alignSteps = steps('align-steps', D.alignSteps);
  // alignment splits its steps ¼ / ¾ over two schedules, so 1 step would leave one of them empty
  if (alignSteps === 1) throw new CliError('BAD_FLAG', '--align-steps must be 0 (no alignment) or an integer in [2, 1000000]; got "1"');
  const recipe = choiceFlag('--recipe', str('recipe', D.recipe), RECIPE_NAMES);
  const kl = opt('stage1-kl', { min: 0, max: 1000 });
  const ce = opt('stage1-ce', { min: 0, max: 1000 });
  const base = RECIPES[recipe].stage1First.loss;
  const stage1Loss = kl === undefined && ce === undefined ? undefined : { kl: kl ?? base.kl, ce: ce ?? base.ce };
  if (stage1Loss && stage1Loss.kl + stage1Loss.ce === 0) throw new CliError('BAD_FLAG', '--stage1-kl and --stage1-ce are both 0; at least one loss weight must be positive');
  const fraction = Number(choiceFlag('--attention', str('attention', D.attentionFraction), ['0.5', '0.25', '0.125', '0'] as const)) as MainJobOptions['attentionFraction'];
  const opts: MainJobOptions & { resume?: string } = {
    teacher: str('teacher', D.teacher),
    variant: choiceFlag('--variant', str('variant', D.variant), ['mamba2', 'mamba1'] as const),
    attentionFraction: fraction,
    recipe,
    init: choiceFlag('--init', str('init', D.init), MAMBA_LAYER_INITS),
    ablationInit: choiceFlag('--ablation-init', str('ablation-init', D.ablationInit), ['random-layer', 'random-mixer'] as const),
    alignSteps,
    stage1Steps: steps('stage1-steps', D.stage1Steps, 2), // split ¼ / ¾ over the 25% and 50% schedules
    stage2Steps: steps('stage2-steps', D.stage2Steps),
    lr: opt('lr', positiveLr),
    stage2Lr: opt('stage2-lr', positiveLr),
    stage1Loss,
    batch: intFlag('--batch', str('batch', D.batch), { min: 1, max: 4096 }),
    seq,
    ...parseRunFlags({ ep: a.ep ?? (preset.ep as string | undefined), threads: str('threads', D.threads) }),
    evalTokens: intFlag('--eval-tokens', str('eval-tokens', D.evalTokens), { min: seq, max: 100_000_000 }),
    ablations: !a['no-ablations'],
    seed: intFlag('--seed', str('seed', D.seed), { min: 0, max: MAX_SEED }),
    checkpointEvery: intFlag('--checkpoint-every', str('checkpoint-every', D.checkpointEvery ?? 50), STEPS),
    checkpointSeconds: numberFlag('--checkpoint-seconds', str('checkpoint-seconds', D.checkpointSeconds ?? 60), { min: 0, max: 1e7 }),
    keepCheckpoints: a['keep-checkpoints'] === true,
    out: a.out ?? join('runs', `distill-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  };
  if (a.resume !== undefined) {
    const fixed = Object.keys(a).filter((k) => !RESUMABLE.has(k));
    if (fixed.length) throw new CliError('BAD_FLAG', `--resume continues a run with the options it was started with; drop --${fixed.join(', --')} (only --ep, --threads, --checkpoint-every and --checkpoint-seconds may change)`);
    if (a.resume === '') throw new CliError('BAD_FLAG', '--resume needs the run folder to continue');
    opts.resume = a.resume;
  }
  return opts;
}

/** The flags that reproduce recorded options (so a resumed run's job.json goes through the same checks). */
function flagsOf(o: MainJobOptions): string[] {
  const f = (k: string, v: unknown) => (v === undefined ? [] : [`--${k}`, String(v)]);
  return [
    ...f('teacher', o.teacher), ...f('variant', o.variant), ...f('attention', o.attentionFraction), ...f('recipe', o.recipe), ...f('init', o.init),
    ...f('ablation-init', o.ablationInit), ...f('align-steps', o.alignSteps), ...f('stage1-steps', o.stage1Steps), ...f('stage2-steps', o.stage2Steps),
    ...f('lr', o.lr), ...f('stage2-lr', o.stage2Lr), ...f('stage1-kl', o.stage1Loss?.kl), ...f('stage1-ce', o.stage1Loss?.ce), ...f('batch', o.batch),
    ...f('seq', o.seq), ...f('eval-tokens', o.evalTokens), ...f('seed', o.seed), ...(o.ablations ? [] : ['--no-ablations']),
  ];
}

export async function distillCommand(argv: string[]): Promise<void> {
  if (argv.includes('--print-recipe')) {
    const a = parseFlags(argv, { 'print-recipe': { type: 'boolean' }, recipe: { type: 'string' }, teacher: { type: 'string' } }, 'mil distill --print-recipe');
    return printRecipe({ recipe: a.recipe ?? 'default', teacher: a.teacher ?? D.teacher }, (l) => process.stderr.write(`${l}\n`));
  }
  const recipeArg = argv.find((x, i) => argv[i - 1] === '--recipe') ?? argv.find((x) => x.startsWith('--recipe='))?.slice('--recipe='.length);
  // a path (…/x or x.json) names a recipe file, as do the built-in recipe files that have no typed form
  // (default-three-stage); default and paper run as the main job
  const isFile = (x: string) => x.includes('/') || x.endsWith('.json') || ((BUILT_IN_RECIPES as readonly string[]).includes(x) && !(RECIPE_NAMES as readonly string[]).includes(x));
  if (recipeArg !== undefined && isFile(recipeArg)) return distillRecipeCommand(argv);
  let opts = distillOptions(argv);
  if (opts.resume !== undefined) {
    const given = opts;
    const recorded = await readRunOptions<MainJobOptions | (RecipeJobOptions & { job: 'recipe' })>(given.resume!);
    if ('job' in recorded && recorded.job === 'recipe') {
      // a recipe-file run: the recipe is recorded with it (re-validated), only where it runs may change
      const recipe = parseRecipe(recorded.recipe, join(given.resume!, 'job.json'));
      return runRecipeCli({
        ...recorded, recipe, ep: given.ep, threads: given.threads, spinning: given.spinning, checkpointEvery: given.checkpointEvery,
        checkpointSeconds: given.checkpointSeconds, keepCheckpoints: given.keepCheckpoints, out: given.resume, resume: true,
      });
    }
    let checked: MainJobOptions;
    try {
      checked = distillOptions(flagsOf(recorded as MainJobOptions));
    } catch (e) {
      throw new CliError('BAD_ARGUMENT', `${join(given.resume!, 'job.json')} records options this version refuses: ${(e as Error).message}`);
    }
    opts = { ...checked, ep: given.ep, threads: given.threads, spinning: given.spinning, checkpointEvery: given.checkpointEvery, checkpointSeconds: given.checkpointSeconds, keepCheckpoints: given.keepCheckpoints, out: given.resume, resume: given.resume };
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const bars = trainingBars();
  const labelBar = progressBar('teacher pseudo-labels');
  const r = await runMainJob(opts, {
    log,
    onPseudoLabels: (d, t) => {
      labelBar.update(d, t);
      if (d === t) labelBar.done();
    },
    onStageStart: (run, st, i, n) => bars.stage(`[${run}-init] ${i + 1}/${n} ${st.name}`),
    onProgress: (_run, st, e) => bars.step(e, st.steps),
    onEval: (model, set, d, t) => bars.eval(`${model}/${set}`, d, t),
  });
  const t0 = r.rows[0];
  const table = formatTable(
    ['model', 'params', 'ppl SOTU 2001–2021', 'ppl Brown', 'ratio vs teacher (SOTU)', 'ppl SOTU @1k–2k', 'needle acc'],
    r.rows.map((x) => [
      x.model, x.params.toLocaleString('en-US'), x.sotu.toFixed(2), x.brown.toFixed(2), (x.sotu / t0.sotu).toFixed(3),
      x.pplLong === null ? '—' : x.pplLong.toFixed(2), x.needle === null ? '—' : x.needle.toFixed(2),
    ]),
  );
  process.stdout.write(`\n${table}\n\n`);
  const trained = r.student.stages.reduce((s, x) => s + x.tokens, 0), seconds = r.student.stages.reduce((s, x) => s + x.seconds, 0);
  log(`training: ${trained.toLocaleString('en-US')} tokens per student at ${(trained / seconds).toFixed(0)} tok/s (--ep ${opts.ep ?? 'cpu'})`);
  log(`run folder: ${opts.out} (student/, metrics.json, loss-curve.svg, report.html) in ${Number(r.metrics.wallSeconds).toFixed(0)} s`);
}
