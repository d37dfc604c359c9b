// Distils a Llama folder into a hybrid (or 0%-attention, pure Mamba) student with the main job's pipeline
// (@mil/distill distillHybrid + defaultRecipe: layer-wise alignment, stage 1 on the Mamba mixers at 25% then the
// target share of Mamba layers, stage 2 on all parameters, KL to the teacher), on SOTU 1790–2000, and writes the
// student folder (config.json + mamba_config.json + model.safetensors + tokenizer) with its held-out perplexity.
// Used for the speculative-decoding students (their READMEs give the exact commands; the drafts are made by
// train-draft.ts):
//   node --conditions=source --import tsx tools/draft/distill-student.ts --teacher models/sotu-tiny --variant mamba2 \
//     --attention 0.5 --out models/sotu-tiny-mamba2-50
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama, saveHybrid } from '@mil/models';
import { MAIN_JOB_DEFAULTS as D, defaultRecipe, distillHybrid, loadMainJobData } from '@mil/distill';
import { layerSchedule } from '@mil/weight-transfer';
import { perplexity } from '@mil/eval';
import { writeFileAtomic } from '@mil/checkpoint';

const s = (v: number) => String(v);
const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: D.teacher },
    variant: { type: 'string', default: D.variant },
    attention: { type: 'string', default: s(D.attentionFraction) },
    out: { type: 'string' },
    'align-steps': { type: 'string', default: s(D.alignSteps) },
    'stage1-steps': { type: 'string', default: s(D.stage1Steps) },
    'stage2-steps': { type: 'string', default: s(D.stage2Steps) },
    lr: { type: 'string', default: s(D.lr ?? 5e-3) },
    'stage2-lr': { type: 'string', default: s(D.stage2Lr ?? 5e-4) },
    batch: { type: 'string', default: s(D.batch) },
    seq: { type: 'string', default: s(D.seq) },
    threads: { type: 'string', default: s(D.threads) },
    'eval-tokens': { type: 'string', default: s(D.evalTokens) },
    dtype: { type: 'string', default: 'F16' },
    seed: { type: 'string', default: s(D.seed) },
  },
});
if (!a.out) throw new Error('--out <dir> is required');
if (a.variant !== 'mamba1' && a.variant !== 'mamba2') throw new Error(`--variant must be mamba1 or mamba2, got ${a.variant}`);
if (a.dtype !== 'F16' && a.dtype !== 'F32' && a.dtype !== 'BF16') throw new Error(`--dtype must be F16, BF16 or F32, got ${a.dtype}`);
const fraction = Number(a.attention);
if (![0, 0.125, 0.25, 0.5].includes(fraction)) throw new Error(`--attention must be 0, 0.125, 0.25 or 0.5, got ${a.attention}`);
const num = (k: keyof typeof a) => Number(a[k]);
const t0 = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${line}`);

const { config: teacherConfig, weights: teacherWeights, tokenizer } = await loadLlama(a.teacher!);
if (!tokenizer) throw new Error(`${a.teacher}: no tokenizer.json`);
const layers = teacherConfig.numHiddenLayers;
const target = layerSchedule(layers, { attentionFraction: fraction as 0.5 });
const first = layerSchedule(layers, { attentionFraction: 0.75 });
const stages = defaultRecipe({
  attn75: first.attnLayers, attn50: target.attnLayers, numLayers: layers, stage1Steps: num('stage1-steps'), stage2Steps: num('stage2-steps'),
  lr: num('lr'), stage2Lr: num('stage2-lr'), stage1Loss: D.stage1Loss, alignSteps: num('align-steps'),
});
const seq = num('seq');
const batch = num('batch');
const threads = num('threads');
const totalSteps = stages.reduce((x, st) => x + st.steps, 0);
log(`tokenizing ${totalSteps * batch * seq} training tokens; student ${a.variant}, attention layers [${target.attnLayers}] of ${layers}`);
const data = loadMainJobData(tokenizer, { trainTokens: totalSteps * batch * (seq + 1) + seq + 1, evalTokens: num('eval-tokens'), seed: num('seed') });
const r = await distillHybrid({
  teacherConfig, teacherWeights, variant: a.variant, stages, init: 'attention', seed: num('seed'), tokens: data.train, seq, batch, threads,
  onStageStart: (st, i) => log(`stage ${i + 1}/${stages.length}: ${st.name}, ${st.steps} steps`),
  onProgress: (_st, e) => {
    if (e.step % 20 === 0 || e.step === e.totalSteps) log(`  step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} ${e.tokensPerSec.toFixed(0)} tok/s`);
  },
});
const opts = { seq, batch: 8, threads };
const pplStudent = (await perplexity((g) => buildHybridTrainGraph(g, teacherConfig, r.hybridConfig, { maxPositions: seq }).logits, r.weights, data.heldOut.sotu, opts)).perplexity;
const pplTeacher = (await perplexity((g) => buildLlamaTrainGraph(g, teacherConfig, { maxPositions: seq }).logits, teacherWeights, data.heldOut.sotu, opts)).perplexity;
const metrics = {
  teacher: a.teacher, variant: a.variant, attentionFraction: fraction, attnLayers: target.attnLayers, ssmLayers: target.ssmLayers,
  stages: r.stages.map((x) => ({ name: x.name, steps: x.history.length, seconds: Math.round(x.seconds), finalLoss: x.history.at(-1)?.loss })),
  params: [...r.weights.values()].reduce((x, w) => x + w.length, 0),
  heldOutTokens: data.heldOut.sotu.length - 1, ppl_sotu_heldout: pplStudent, ppl_sotu_heldout_teacher: pplTeacher, ppl_ratio_sotu: pplStudent / pplTeacher,
  wallSec: Math.round((performance.now() - t0) / 1000),
};
log(JSON.stringify(metrics));
await mkdir(a.out, { recursive: true });
await saveHybrid(a.out, { teacher: teacherConfig, hybrid: r.hybridConfig, weights: r.weights }, { dtype: a.dtype, tokenizerFrom: a.teacher });
await writeFileAtomic(join(a.out, 'training.json'), JSON.stringify(metrics, null, 2) + '\n');
log(`wrote ${a.out}`);
