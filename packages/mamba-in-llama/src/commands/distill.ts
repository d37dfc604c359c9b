// mil distill — the main job: distil the embedded teacher into a 50%-attention hybrid (attention-initialised), train
// the random-init ablation on the same budget, drop the replaced layers for the other ablation, evaluate all four
// by held-out perplexity and write a run folder.
import { mkdir, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama, saveHybrid, type LlamaOracleConfig } from '@mil/models';
import { defaultRecipe, distillHybrid, type DistillHybridResult, type StageSpec } from '@mil/distill';
import { dropLayers, layerSchedule } from '@mil/weight-transfer';
import { lossCurveSvg, perplexity } from '@mil/eval';
import type { Graph, Tensor } from '@mil/graph';
import { loadMainJobData } from '../data';
import { progressBar } from '../progress';
import { formatTable } from '../table';

export const distillHelp = `mil distill [--teacher models/sotu-tiny] [--variant mamba2|mamba1] [--attention 0.5|0.25|0.125]
            [--stage1-steps 120] [--stage2-steps 40] [--batch 8] [--seq 128] [--lr 2e-3] [--threads 2]
            [--eval-tokens 16384] [--no-ablations] [--out runs/distill-<time>] [--seed 0]`;

const FRACTION: Record<string, 0.5 | 0.25 | 0.125> = { '0.5': 0.5, '0.25': 0.25, '0.125': 0.125 };

export async function distillCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      teacher: { type: 'string', default: 'models/sotu-tiny' },
      variant: { type: 'string', default: 'mamba2' },
      attention: { type: 'string', default: '0.5' },
      'stage1-steps': { type: 'string', default: '120' },
      'stage2-steps': { type: 'string', default: '40' },
      batch: { type: 'string', default: '8' },
      seq: { type: 'string', default: '128' },
      lr: { type: 'string', default: '2e-3' },
      'stage2-lr': { type: 'string' },
      'stage1-kl': { type: 'string', default: '0.1' },
      'stage1-ce': { type: 'string', default: '1' },
      'align-steps': { type: 'string', default: '0' },
      threads: { type: 'string', default: '2' },
      'eval-tokens': { type: 'string', default: '16384' },
      'no-ablations': { type: 'boolean', default: false },
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
    },
  });
  const variant = a.variant as 'mamba1' | 'mamba2';
  if (variant !== 'mamba1' && variant !== 'mamba2') throw new Error(`--variant must be mamba1 or mamba2, got ${a.variant}`);
  const fraction = FRACTION[a.attention!];
  if (fraction === undefined) throw new Error(`--attention must be 0.5, 0.25 or 0.125, got ${a.attention}`);
  const num = (k: keyof typeof a) => {
    const v = Number(a[k]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${String(k)} must be a non-negative number, got ${a[k]}`);
    return v;
  };
  const seq = num('seq');
  const batch = num('batch');
  const threads = num('threads');
  const seed = num('seed');
  const out = a.out ?? join('runs', `distill-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(out, { recursive: true });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const started = performance.now();

  log(`teacher: ${a.teacher}`);
  const { config: teacherConfig, weights: teacherWeights, tokenizer } = await loadLlama(a.teacher!);
  if (!tokenizer) throw new Error(`${a.teacher}: no tokenizer.json`);
  const layers = teacherConfig.num_hidden_layers;
  const target = layerSchedule(layers, { attentionFraction: fraction });
  const first = layerSchedule(layers, { attentionFraction: 0.75 });
  const stages: StageSpec[] = defaultRecipe({ attn75: first.attnLayers, attn50: target.attnLayers, stage1Steps: num('stage1-steps'), stage2Steps: num('stage2-steps'), lr: num('lr'),
    stage2Lr: a['stage2-lr'] ? num('stage2-lr') : undefined, stage1Loss: { kl: num('stage1-kl'), ce: num('stage1-ce') }, alignSteps: num('align-steps') });
  const totalSteps = stages.reduce((s, x) => s + x.steps, 0);
  log(`tokenizing SOTU 1790–2000 (${totalSteps * batch * seq} training tokens) and held-out prefixes (${num('eval-tokens')} tokens each)…`);
  const data = loadMainJobData(tokenizer, { trainTokens: totalSteps * batch * (seq + 1) + seq + 1, evalTokens: num('eval-tokens'), seed });

  const runStudent = async (init: 'attention' | 'random'): Promise<DistillHybridResult> => {
    let bar = progressBar('');
    return distillHybrid({
      teacherConfig, teacherWeights, variant, stages, init, seed, tokens: data.train, seq, batch, threads,
      onStageStart: (s, i) => {
        bar = progressBar(`[${init}-init] ${i + 1}/${stages.length} ${s.name}`);
      },
      onProgress: (s, e) => {
        bar.update(e.step, e.totalSteps, `loss ${e.loss.toFixed(3)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${e.etaSec.toFixed(0)}s`);
        if (e.step === e.totalSteps) bar.done(`${s.steps} steps, final loss ${e.loss.toFixed(3)}`);
      },
    });
  };

  const student = await runStudent('attention');
  const random = a['no-ablations'] ? null : await runStudent('random');
  const dropped = a['no-ablations'] ? null : dropLayers(teacherWeights, teacherConfig, target.ssmLayers);

  // Held-out perplexity of every model on the same windows.
  const evalOne = async (name: string, build: (g: Graph) => Tensor, weights: Map<string, Float32Array>) => {
    const r: Record<string, number> = {};
    for (const [set, tokens] of Object.entries(data.heldOut)) {
      const bar = progressBar(`eval ${name} / ${set}`);
      r[set] = (await perplexity(build, weights, tokens, { seq, batch: 8, threads, onProgress: (d, t) => bar.update(d, t) })).perplexity;
      bar.done();
    }
    return r;
  };
  const hybridLogits = (cfg: DistillHybridResult['hybridConfig']) => (g: Graph) => buildHybridTrainGraph(g, teacherConfig, cfg, { maxPositions: seq }).logits;
  const rows: { model: string; params: number; sotu: number; brown: number }[] = [];
  const count = (w: Map<string, Float32Array>) => [...w.values()].reduce((s, x) => s + x.length, 0);
  const tPpl = await evalOne('teacher', (g) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: seq }).logits, teacherWeights);
  rows.push({ model: 'teacher (Llama)', params: count(teacherWeights), ...(tPpl as { sotu: number; brown: number }) });
  const sPpl = await evalOne('student', hybridLogits(student.hybridConfig), student.weights);
  rows.push({ model: `student ${variant}, ${fraction * 100}% attn, attention-init`, params: count(student.weights), ...(sPpl as { sotu: number; brown: number }) });
  if (random) {
    const rPpl = await evalOne('random-init', hybridLogits(random.hybridConfig), random.weights);
    rows.push({ model: `ablation: random-init ${variant}`, params: count(random.weights), ...(rPpl as { sotu: number; brown: number }) });
  }
  if (dropped) {
    const dPpl = await evalOne('dropped', (g) => buildLlamaTrainGraph(g, dropped.config as LlamaOracleConfig, { maxPositions: seq }).logits, dropped.weights);
    rows.push({ model: `ablation: teacher minus layers [${target.ssmLayers}]`, params: count(dropped.weights), ...(dPpl as { sotu: number; brown: number }) });
  }

  const table = formatTable(
    ['model', 'params', 'ppl SOTU 2001–2021', 'ppl Brown', 'ratio vs teacher (SOTU)'],
    rows.map((r) => [r.model, r.params.toLocaleString('en-US'), r.sotu.toFixed(2), r.brown.toFixed(2), (r.sotu / rows[0].sotu).toFixed(3)]),
  );
  process.stdout.write(`\n${table}\n`);

  // Run folder: student in the reference layout, metrics, loss curves.
  const studentDir = join(out, 'student');
  await saveHybrid(studentDir, { teacher: teacherConfig, hybrid: student.hybridConfig, weights: student.weights });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(a.teacher!, f), join(studentDir, f));
  const curve = (r: DistillHybridResult, label: string) => {
    let offset = 0;
    return r.stages.map((s) => {
      const pts = s.history.map((h) => ({ x: offset + h.step, y: h.loss }));
      offset += s.history.length;
      return { name: `${label}: ${s.name}`, points: pts };
    });
  };
  await writeFile(join(out, 'loss-curve.svg'), lossCurveSvg([...curve(student, 'attn-init'), ...(random ? curve(random, 'random-init') : [])], { title: `distillation loss (${variant}, ${fraction * 100}% attention)` }));
  const metrics = {
    teacher: a.teacher, variant, attentionFraction: fraction, attnLayers: target.attnLayers, ssmLayers: target.ssmLayers,
    seq, batch, threads, seed, evalTokens: num('eval-tokens'),
    stages: student.stages.map((s) => ({ name: s.name, steps: s.history.length, seconds: s.seconds, tokens: s.tokens, finalLoss: s.history.at(-1)?.loss })),
    perplexity: rows,
    ppl_ratio_sotu: rows[1].sotu / rows[0].sotu,
    ppl_ratio_random_init_sotu: random ? rows[2].sotu / rows[0].sotu : null,
    wallSeconds: (performance.now() - started) / 1000,
  };
  await writeFile(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  await writeFile(join(out, 'run-config.json'), JSON.stringify({ argv, stages }, null, 2) + '\n');
  log(`run folder: ${out} (student/, metrics.json, loss-curve.svg) in ${metrics.wallSeconds.toFixed(0)} s`);
}
