// The quality curve of the main job: the student's held-out perplexity ratio (SOTU 2001–2021 and Brown, vs the
// teacher) against the training tokens it saw, for one or more attention shares. Each point is one `mil distill`
// run (no ablation students) at a budget scale s: the batch grows first (8·min(s, 8)), then the steps (× s/8 past
// 8), so s = 30 is exactly `--preset h200`'s shape (batch 64, 3.75× the steps). A point whose run folder already has
// metrics.json is read, not re-run, so the tool can be stopped and started again. Prints a table and writes
// runs/curve/curve.json (atomically).
//
//   node --conditions=source --import tsx tools/curve/ratio-vs-tokens.ts --attention 0.5,0.25 --scales 1,2,4 \
//     [--variant mamba2] [--init attention|random-layer] [--ep cpu] [--threads 2] [--out runs/curve] [--cli <bundled cli.mjs>]
// --init random-layer: the students start from fresh Mamba layers instead of the attention weights (the ablation).
// --cli: run a bundled `mil` (tools/device: the GPU machine has no tsx) instead of packages/mamba-in-llama/src/cli.ts.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN_JOB_DEFAULTS as D, mainJobTrainingTokens } from '@mil/distill';
import { writeFileAtomic } from '@mil/checkpoint';

const { values: a } = parseArgs({
  options: {
    attention: { type: 'string', default: '0.5' },
    scales: { type: 'string', default: '1,2,4' },
    variant: { type: 'string', default: D.variant },
    init: { type: 'string', default: D.init },
    ep: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: String(D.threads) },
    out: { type: 'string', default: 'runs/curve' },
    cli: { type: 'string' },
  },
});
const list = (s: string, name: string, min: number) =>
  s.split(',').map((v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`--${name} expects numbers ≥ ${min} separated by commas, got ${s}`);
    return n;
  });
const fractions = list(a.attention!, 'attention', 0);
const scales = list(a.scales!, 'scales', 0.125);
const MAX_BATCH_SCALE = 8;

/** The flags of a budget scale: the batch first, then the steps; tokens = s × the default's. */
function scaledBudget(s: number): { batch: number; alignSteps: number; stage1Steps: number; stage2Steps: number } {
  const b = Math.min(s, MAX_BATCH_SCALE);
  const st = s / b;
  return { batch: Math.round(D.batch * b), alignSteps: Math.round(D.alignSteps * st), stage1Steps: Math.round(D.stage1Steps * st), stage2Steps: Math.round(D.stage2Steps * st) };
}

interface Point { attention: number; scale: number; tokens: number; sotuRatio: number; brownRatio: number; wallSeconds: number; run: string }
const points: Point[] = [];
await mkdir(a.out!, { recursive: true });
for (const f of fractions) {
  for (const s of scales) {
    const budget = scaledBudget(s);
    const run = join(a.out!, `${a.variant}-attn${f}-x${s}${a.init === D.init ? '' : `-${a.init}`}`);
    const metricsFile = join(run, 'metrics.json');
    if (!existsSync(metricsFile)) {
      const args = ['distill', '--no-ablations', '--variant', a.variant!, '--init', a.init!, '--attention', String(f), '--batch', String(budget.batch), '--align-steps', String(budget.alignSteps), '--stage1-steps', String(budget.stage1Steps), '--stage2-steps', String(budget.stage2Steps), '--ep', a.ep!, '--threads', a.threads!, '--out', run];
      console.log(`\n== attention ${f}, ${s}× the default budget: mil ${args.join(' ')}`);
      const mil = a.cli ? [a.cli] : ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts'];
      const r = spawnSync(process.execPath, [...mil, ...args], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`mil distill failed (exit ${r.status}) for attention ${f} at ${s}×; the run folder is ${run}`);
    }
    const m = JSON.parse(readFileSync(metricsFile, 'utf8')) as { ppl_ratio_sotu: number; ppl_ratio_brown: number; wallSeconds: number; options: { batch: number; seq: number; alignSteps: number; stage1Steps: number; stage2Steps: number } };
    points.push({ attention: f, scale: s, tokens: mainJobTrainingTokens(m.options), sotuRatio: m.ppl_ratio_sotu, brownRatio: m.ppl_ratio_brown, wallSeconds: m.wallSeconds, run });
  }
}
console.log(`\n| ${a.variant} (${a.init} init) attention | budget | training tokens per student | SOTU ratio | Brown ratio | wall s |\n|---|---|---|---|---|---|`);
for (const p of points) console.log(`| ${p.attention * 100}% | ${p.scale}× | ${p.tokens.toLocaleString('en-US')} | ${p.sotuRatio.toFixed(3)} | ${p.brownRatio.toFixed(3)} | ${p.wallSeconds.toFixed(0)} |`);
await writeFileAtomic(join(a.out!, 'curve.json'), JSON.stringify({ variant: a.variant, init: a.init, ep: a.ep, points }, null, 2) + '\n');
