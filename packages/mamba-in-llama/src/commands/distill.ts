// mil distill — the main job (see @mil/distill runMainJob): argument parsing, progress bars, the results table.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN_JOB_DEFAULTS, runMainJob, type MainJobOptions } from '@mil/distill';
import { progressBar, type ProgressBar } from '../progress';
import { formatTable } from '../table';
import { CliError } from '../errors';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';
import { printRecipe } from './print-recipe';
import { checkMainJobMemory } from './memory-check';

const D = MAIN_JOB_DEFAULTS;
export const distillHelp = `mil distill [--teacher ${D.teacher}] [--variant mamba2|mamba1] [--attention 0.5|0.25|0.125]
            [--align-steps ${D.alignSteps}] [--stage1-steps ${D.stage1Steps}] [--stage2-steps ${D.stage2Steps}]
            [--lr ${D.lr}] [--stage2-lr ${D.stage2Lr}] [--stage1-kl ${D.stage1Loss.kl}] [--stage1-ce ${D.stage1Loss.ce}]
            [--batch ${D.batch}] [--seq ${D.seq}] [--eval-tokens ${D.evalTokens}] [--no-ablations]
            [--out runs/distill-<time>] [--seed ${D.seed}] ${runFlagsHelp}
mil distill --print-recipe [--recipe default|paper|file.json] [--teacher …]   the recipe resolved against the teacher, and its memory plan
  The reference's stage-1 loss is --stage1-kl 0.1 --stage1-ce 1; --align-steps 0 skips layer-wise alignment (the paper).`;

export async function distillCommand(argv: string[]): Promise<void> {
  const s = (v: number) => String(v);
  const { values: a } = parseArgs({
    args: argv,
    options: {
      teacher: { type: 'string', default: D.teacher },
      variant: { type: 'string', default: D.variant },
      attention: { type: 'string', default: s(D.attentionFraction) },
      'align-steps': { type: 'string', default: s(D.alignSteps) },
      'stage1-steps': { type: 'string', default: s(D.stage1Steps) },
      'stage2-steps': { type: 'string', default: s(D.stage2Steps) },
      lr: { type: 'string', default: s(D.lr) },
      'stage2-lr': { type: 'string', default: s(D.stage2Lr) },
      'stage1-kl': { type: 'string', default: s(D.stage1Loss.kl) },
      'stage1-ce': { type: 'string', default: s(D.stage1Loss.ce) },
      batch: { type: 'string', default: s(D.batch) },
      seq: { type: 'string', default: s(D.seq) },
      ...runFlagSpecs,
      'eval-tokens': { type: 'string', default: s(D.evalTokens) },
      'no-ablations': { type: 'boolean', default: false },
      out: { type: 'string' },
      seed: { type: 'string', default: s(D.seed) },
      recipe: { type: 'string' },
      'print-recipe': { type: 'boolean', default: false },
    },
  });
  if (a['print-recipe']) return printRecipe({ recipe: a.recipe ?? 'default', teacher: a.teacher! }, (l) => process.stderr.write(`${l}\n`));
  if (a.recipe !== undefined) throw new CliError('BAD_OPTION', '--recipe is read by --print-recipe only for now (the main job runs the built-in default recipe)');
  const num = (k: keyof typeof a, integer = true) => {
    const v = Number(a[k]);
    if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) throw new CliError('BAD_OPTION', `--${String(k)} must be a non-negative ${integer ? 'integer' : 'number'}, got ${a[k]}`);
    return v;
  };
  if (a.variant !== 'mamba1' && a.variant !== 'mamba2') throw new CliError('BAD_OPTION', `--variant must be mamba1 or mamba2, got ${a.variant}`);
  const fraction = ({ '0.5': 0.5, '0.25': 0.25, '0.125': 0.125 } as const)[a.attention as '0.5'];
  if (fraction === undefined) throw new CliError('BAD_OPTION', `--attention must be 0.5, 0.25 or 0.125, got ${a.attention}`);
  const opts: MainJobOptions = {
    teacher: a.teacher!, variant: a.variant, attentionFraction: fraction,
    alignSteps: num('align-steps'), stage1Steps: num('stage1-steps'), stage2Steps: num('stage2-steps'),
    lr: num('lr', false), stage2Lr: num('stage2-lr', false), stage1Loss: { kl: num('stage1-kl', false), ce: num('stage1-ce', false) },
    batch: num('batch'), seq: num('seq'), ...parseRunFlags(a), evalTokens: num('eval-tokens'),
    ablations: !a['no-ablations'], seed: num('seed'),
    out: a.out ?? join('runs', `distill-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`teacher: ${opts.teacher}; student: ${opts.variant}, ${fraction * 100}% attention; run folder: ${opts.out}`);
  await checkMainJobMemory(opts, log);
  let bar: ProgressBar = progressBar('');
  const evalBars = new Map<string, ProgressBar>();
  const r = await runMainJob(opts, {
    log,
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
