// mil distill — the main job (see @mil/distill runMainJob): argument parsing, progress bars, the results table.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN_JOB_DEFAULTS, RECIPE_NAMES, RECIPES, runMainJob, type MainJobOptions, type RecipeName } from '@mil/distill';
import { MAMBA_LAYER_INITS, type MambaLayerInit } from '@mil/weight-transfer';
import { progressBar, type ProgressBar } from '../progress';
import { formatTable } from '../table';
import { CliError } from '../errors';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';
import { printRecipe } from './print-recipe';
import { checkMainJobMemory } from './memory-check';

const D = MAIN_JOB_DEFAULTS;
const R = RECIPES.default;
const P = RECIPES.paper;
export const distillHelp = `mil distill [--teacher ${D.teacher}] [--variant mamba2|mamba1] [--attention 0.5|0.25|0.125]
            [--recipe default|paper] [--init attention|random-layer|random-mixer] [--ablation-init random-layer|random-mixer]
            [--align-steps ${D.alignSteps}] [--stage1-steps ${D.stage1Steps}] [--stage2-steps ${D.stage2Steps}]
            [--lr <recipe's>] [--stage2-lr <recipe's>] [--stage1-kl <recipe's>] [--stage1-ce <recipe's>]
            [--batch ${D.batch}] [--seq ${D.seq}] [--eval-tokens ${D.evalTokens}] [--no-ablations]
            [--out runs/distill-<time>] [--seed ${D.seed}] ${runFlagsHelp}
mil distill --print-recipe [--recipe default|paper|file.json] [--teacher …]   the recipe file format resolved against the teacher, and its memory plan
  --recipe default: alignment, stage-1 KL ${R.stage1First.loss.kl} / CE ${R.stage1First.loss.ce} (per-token mean), lr ${R.stage1First.lr}, stage-2 lr ${R.stage2.lr}, clip ${R.stage1First.maxGradNorm}.
  --recipe paper: the reference's settings: no alignment, stage 1 on teacher pseudo-labels with KL ${P.stage1First.loss.kl} (batchmean) + CE ${P.stage1First.loss.ce},
    lr ${P.stage1First.lr}, clip ${P.stage1First.maxGradNorm}; stage 2 KL (batchmean), lr ${P.stage2.lr} (packages/distill/README.md). --lr etc. replace the recipe's values.
  --init: how the student's Mamba layers start at every stage; the ablation student (unless --no-ablations) uses
    --ablation-init (default ${D.ablationInit}: the whole new layer fresh, as the reference's init_with_kqvo=False).`;

export async function distillCommand(argv: string[]): Promise<void> {
  const s = (v: number) => String(v);
  const { values: a } = parseArgs({
    args: argv,
    options: {
      teacher: { type: 'string', default: D.teacher },
      variant: { type: 'string', default: D.variant },
      attention: { type: 'string', default: s(D.attentionFraction) },
      recipe: { type: 'string', default: D.recipe },
      init: { type: 'string', default: D.init },
      'ablation-init': { type: 'string', default: D.ablationInit },
      'align-steps': { type: 'string', default: s(D.alignSteps) },
      'stage1-steps': { type: 'string', default: s(D.stage1Steps) },
      'stage2-steps': { type: 'string', default: s(D.stage2Steps) },
      lr: { type: 'string' },
      'stage2-lr': { type: 'string' },
      'stage1-kl': { type: 'string' },
      'stage1-ce': { type: 'string' },
      batch: { type: 'string', default: s(D.batch) },
      seq: { type: 'string', default: s(D.seq) },
      ...runFlagSpecs,
      'eval-tokens': { type: 'string', default: s(D.evalTokens) },
      'no-ablations': { type: 'boolean', default: false },
      out: { type: 'string' },
      seed: { type: 'string', default: s(D.seed) },
      'print-recipe': { type: 'boolean', default: false },
    },
  });
  if (a['print-recipe']) return printRecipe({ recipe: a.recipe ?? 'default', teacher: a.teacher! }, (l) => process.stderr.write(`${l}\n`));
  const num = (k: keyof typeof a, integer = true) => {
    const v = Number(a[k]);
    if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) throw new CliError('BAD_OPTION', `--${String(k)} must be a non-negative ${integer ? 'integer' : 'number'}, got ${a[k]}`);
    return v;
  };
  if (a.variant !== 'mamba1' && a.variant !== 'mamba2') throw new CliError('BAD_OPTION', `--variant must be mamba1 or mamba2, got ${a.variant}`);
  const fraction = ({ '0.5': 0.5, '0.25': 0.25, '0.125': 0.125 } as const)[a.attention as '0.5'];
  if (fraction === undefined) throw new CliError('BAD_OPTION', `--attention must be 0.5, 0.25 or 0.125, got ${a.attention}`);
  const oneOf = <T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T)) throw new CliError('BAD_OPTION', `--${flag} must be ${allowed.join(', ')}; got ${v}`);
    return v as T;
  };
  const recipe = oneOf<RecipeName>('recipe', a.recipe, RECIPE_NAMES);
  const init = oneOf<MambaLayerInit>('init', a.init, MAMBA_LAYER_INITS);
  const ablationInit = oneOf('ablation-init', a['ablation-init'], ['random-layer', 'random-mixer'] as const);
  const given = (k: keyof typeof a) => (a[k] === undefined ? undefined : num(k, false));
  const kl = given('stage1-kl');
  const ce = given('stage1-ce');
  const base = RECIPES[recipe].stage1First.loss;
  const opts: MainJobOptions = {
    teacher: a.teacher!, variant: a.variant, attentionFraction: fraction, recipe, init, ablationInit,
    alignSteps: num('align-steps'), stage1Steps: num('stage1-steps'), stage2Steps: num('stage2-steps'),
    lr: given('lr'), stage2Lr: given('stage2-lr'),
    stage1Loss: kl === undefined && ce === undefined ? undefined : { kl: kl ?? base.kl, ce: ce ?? base.ce },
    batch: num('batch'), seq: num('seq'), ...parseRunFlags(a), evalTokens: num('eval-tokens'),
    ablations: !a['no-ablations'], seed: num('seed'),
    out: a.out ?? join('runs', `distill-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`teacher: ${opts.teacher}; student: ${opts.variant}, ${fraction * 100}% attention, ${init}-init, recipe ${recipe}; run folder: ${opts.out}`);
  await checkMainJobMemory(opts, log);
  let bar: ProgressBar = progressBar('');
  const labelBar = progressBar('teacher pseudo-labels');
  const evalBars = new Map<string, ProgressBar>();
  const r = await runMainJob(opts, {
    log,
    onPseudoLabels: (d, t) => {
      labelBar.update(d, t);
      if (d === t) labelBar.done();
    },
    onStageStart: (run, st, i, n) => {
      bar = progressBar(`[${run}-init] ${i + 1}/${n} ${st.name}`);
    },
    onProgress: (_run, st, e) => {
      bar.update(e.step, e.totalSteps, `loss ${e.loss.toFixed(3)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${e.etaSec.toFixed(0)}s`);
      if (e.step === e.totalSteps) bar.done(`${st.steps} steps, final loss ${e.loss.toFixed(3)}`);
    },
    onEval: (model, set, d, t) => {
      const key = `${model}/${set}`;
      if (!evalBars.has(key)) evalBars.set(key, progressBar(`eval ${key}`));
      evalBars.get(key)!.update(d, t);
      if (d === t) evalBars.get(key)!.done();
    },
  });
  const t0 = r.rows[0];
  const table = formatTable(
    ['model', 'params', 'ppl SOTU 2001–2021', 'ppl Brown', 'ratio vs teacher (SOTU)'],
    r.rows.map((x) => [x.model, x.params.toLocaleString('en-US'), x.sotu.toFixed(2), x.brown.toFixed(2), (x.sotu / t0.sotu).toFixed(3)]),
  );
  process.stdout.write(`\n${table}\n\n`);
  log(`run folder: ${opts.out} (student/, metrics.json, loss-curve.svg) in ${Number(r.metrics.wallSeconds).toFixed(0)} s`);
}
