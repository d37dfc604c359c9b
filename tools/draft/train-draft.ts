// Trains a draft of the embedded default teacher by knowledge distillation: a small model with the teacher's
// tokenizer and vocabulary — a Llama (random init, or "shrink and fine-tune" from teacher layers, or continued from a
// Llama draft folder) or a pure-Mamba / hybrid draft initialised from a Llama draft by this repo's weight transfer
// (--arch mamba2|mamba1 --init-from <llama draft>: V→x, K→B, Q→C, O→out), or continued from a hybrid draft folder —
// trained with KL(teacher‖draft) on the teacher's logits computed on the fly (the @mil/distill KD step); --teacher may
// be a hybrid student too (a draft distilled from the target it serves). The data are SOTU 1790–2000 windows and, with
// --generations, the teacher's own continuations (sequence-level KD: tools/draft/generate-teacher.ts) mixed in at
// --gen-share of the windows. It then reports held-out SOTU 2001–2021 perplexity and the top-1 agreement with the
// teacher (teacher-forced, at --eval-seq): the greedy acceptance rate a draft can expect per token.
// Usage (the exact commands that made models/sotu-tiny-draft and models/sotu-tiny-draft-mamba are in their READMEs):
//   node --conditions=source --import tsx tools/draft/train-draft.ts --out models/sotu-tiny-draft --steps 600
//   … --arch mamba2 --init-from models/sotu-tiny-draft --out runs/mamba-draft --budget-s 300   (steps fitted to 300 s)
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHybridTrainGraph, buildLlamaTrainGraph, initLlamaWeights, llamaWeightSpecs, loadHybrid, loadLlama, saveHybrid } from '@mil/models';
import { parseLlamaConfig, type HybridConfig, type LlamaConfig } from '@mil/checkpoint';
import { TeacherSignal, arrayDataSource, collateWindows, compileKdStep, loadMainJobData, tokenWindows, train, type TokenBatch, type TokenWindow } from '@mil/distill';
import { perplexity } from '@mil/eval';
import { f32ToF16, writeFileAtomic, writeSafetensors } from '@mil/checkpoint';
import { initStudentFromTeacher, makeHybridConfig, studentWeightSpecs } from '@mil/weight-transfer';
import type { Graph } from '@mil/graph';
import type { ExecutionProvider } from '@mil/core';

const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: 'models/sotu-tiny' },
    out: { type: 'string', default: 'models/sotu-tiny-draft' },
    arch: { type: 'string', default: 'llama' },
    'init-from': { type: 'string', default: '' },
    // With --init-from: cut each MLP of the starting model to its N strongest neurons first (0: keep), e.g. to fit a
    // Mamba draft (whose mixer is larger than the attention it replaces) into 2 MB.
    'cut-ffn': { type: 'string', default: '0' },
    hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '2' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    ffn: { type: 'string', default: '384' },
    'max-positions': { type: 'string', default: '4096' },
    steps: { type: 'string', default: '600' },
    'budget-s': { type: 'string', default: '0' },
    batch: { type: 'string', default: '16' },
    seq: { type: 'string', default: '128' },
    'eval-seq': { type: 'string', default: '128' },
    lr: { type: 'string', default: '5e-3' },
    warmup: { type: 'string', default: '30' },
    kl: { type: 'string', default: '1' },
    ce: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    ep: { type: 'string', default: 'cpu' },
    'eval-tokens': { type: 'string', default: '16384' },
    generations: { type: 'string', default: '' },
    'gen-share': { type: 'string', default: '0.4' },
    seed: { type: 'string', default: '0' },
    // "Shrink and fine-tune": start from the teacher's embeddings (tied LM head), final norm and these layers, each
    // MLP cut to its --ffn strongest neurons; hidden size and heads are then the teacher's. Empty: random init.
    'init-from-teacher-layers': { type: 'string', default: '' },
  },
});
const num = (k: keyof typeof a) => Number(a[k]);
const seq = num('seq');
const evalSeq = num('eval-seq');
const batch = num('batch');
const threads = num('threads');
const ep = a.ep as ExecutionProvider;
const arch = a.arch!;
if (!['llama', 'mamba1', 'mamba2'].includes(arch)) throw new Error(`--arch must be llama, mamba1 or mamba2, got ${arch}`);
if (arch !== 'llama' && !a['init-from']) throw new Error(`--arch ${arch} needs --init-from <Llama draft folder> (its attention becomes the Mamba mixers)`);
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}`);

// The teacher: a Llama folder, or a hybrid student folder (a draft distilled from the target it will serve).
const isHybrid = (dir: string) => existsSync(join(dir, 'mamba_config.json'));
const teacher = isHybrid(a.teacher!)
  ? await loadHybrid(a.teacher!).then((h) => ({ config: h.teacher, hybrid: h.hybrid, weights: h.weights, tokenizer: h.tokenizer }))
  : await loadLlama(a.teacher!).then((m) => ({ ...m, hybrid: null }));
if (!teacher.tokenizer) throw new Error(`${a.teacher}: no tokenizer.json`);
const tc = teacher.config;

// The draft: its Llama skeleton (config), the hybrid layout when it has Mamba layers, and its starting weights.
let configJson: Record<string, unknown>;
let config: LlamaConfig;
let hybrid: HybridConfig | null = null;
let weights: Map<string, Float32Array>;
if (a['init-from'] && isHybrid(a['init-from'])) {
  // continue training a hybrid (or pure-Mamba) draft
  const base = await loadHybrid(a['init-from']);
  configJson = JSON.parse(await readFile(join(a['init-from'], 'config.json'), 'utf8')) as Record<string, unknown>;
  config = base.teacher;
  hybrid = base.hybrid;
  weights = new Map([...base.weights].map(([n, w]) => [n, w.slice()]));
} else if (a['init-from']) {
  const base = await loadLlama(a['init-from']);
  configJson = JSON.parse(await readFile(join(a['init-from'], 'config.json'), 'utf8')) as Record<string, unknown>;
  let baseWeights: Map<string, Float32Array> = base.weights;
  if (num('cut-ffn') > 0) {
    const all = Array.from({ length: base.config.numHiddenLayers }, (_, i) => i);
    baseWeights = shrinkTeacher(base.weights, all, num('cut-ffn'), base.config.intermediateSize, base.config.hiddenSize);
    configJson = { ...configJson, intermediate_size: num('cut-ffn') };
  }
  config = parseLlamaConfig(configJson, `${a['init-from']}/config.json`);
  if (arch === 'llama') weights = new Map([...baseWeights].map(([n, w]) => [n, w.slice()]));
  else {
    // 0% attention: every layer becomes a Mamba mixer initialised from the attention it replaces.
    hybrid = makeHybridConfig(config, arch as 'mamba1' | 'mamba2', []);
    weights = initStudentFromTeacher(baseWeights, config, hybrid, { seed: num('seed') });
  }
} else {
  const keepLayers = a['init-from-teacher-layers'] ? a['init-from-teacher-layers'].split(',').map(Number) : [];
  const fromTeacher = keepLayers.length > 0;
  const hidden = fromTeacher ? tc.hiddenSize : num('hidden');
  configJson = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tc.vocabSize,
    hidden_size: hidden,
    intermediate_size: num('ffn'),
    num_hidden_layers: fromTeacher ? keepLayers.length : num('layers'),
    num_attention_heads: fromTeacher ? tc.numAttentionHeads : num('heads'),
    num_key_value_heads: fromTeacher ? tc.numKeyValueHeads : num('kv-heads'),
    head_dim: fromTeacher ? tc.headDim : hidden / num('heads'),
    rms_norm_eps: 1e-5,
    rope_theta: tc.ropeTheta,
    max_position_embeddings: num('max-positions'),
    tie_word_embeddings: true,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: tc.bosTokenId ?? 1,
    eos_token_id: tc.eosTokenId ?? 2,
    torch_dtype: 'float16',
  };
  config = parseLlamaConfig(configJson, 'draft config');
  weights = fromTeacher ? shrinkTeacher(teacher.weights, keepLayers, config.intermediateSize, tc.intermediateSize, hidden) : initLlamaWeights(config, num('seed'));
}
const specs = hybrid ? studentWeightSpecs(config, hybrid) : llamaWeightSpecs(config);
const shapes = new Map(specs.map((w) => [w.name, w.shape]));
const buildDraft = (g: Graph, maxPositions: number) =>
  hybrid ? buildHybridTrainGraph(g, config, hybrid, { maxPositions }) : buildLlamaTrainGraph(g, config, { maxPositions });
const teacherLogits = (n: number) => (g: Graph) =>
  (teacher.hybrid ? buildHybridTrainGraph(g, teacher.config, teacher.hybrid, { maxPositions: n }) : buildLlamaTrainGraph(g, teacher.config, { maxPositions: n })).logits;
const draftLogits = (n: number) => (g: Graph) => buildDraft(g, n).logits;
const run = { ep, threads };
const signal = await TeacherSignal.create(teacherLogits(seq), teacher.weights, run);
const kd = await compileKdStep((g) => buildDraft(g, seq), signal, { klWeight: num('kl'), ceWeight: num('ce') }, run);
const describe = `${hybrid ? hybrid.variant : 'llama'} draft: hidden ${config.hiddenSize}, ${config.numHiddenLayers} layers${hybrid ? ' (0% attention)' : ''}, ${[...weights.values()].reduce((s, w) => s + w.length, 0)} parameters`;

// --budget-s: fit the step count to the time (a few timed KD steps on a fixed batch first; the optimizer is cheap).
let steps = num('steps');
if (num('budget-s') > 0) {
  const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 7919) % tc.vocabSize));
  const probe: TokenBatch = { inputIds: ids, targets: ids, batch, seq };
  await kd.lossAndGrads(weights, probe);
  const tp = performance.now();
  for (let i = 0; i < 3; i++) await kd.lossAndGrads(weights, probe);
  const stepSec = ((performance.now() - tp) / 3000) * 1.15;
  steps = Math.max(1, Math.min(steps, Math.floor(num('budget-s') / stepSec)));
  log(`budget ${num('budget-s')} s at ${stepSec.toFixed(3)} s per step: ${steps} steps`);
}

log(`tokenizing SOTU 1790–2000 (${steps * batch * seq} training tokens) and the held-out SOTU 2001–2021 prefix…`);
const data = loadMainJobData(teacher.tokenizer, { trainTokens: Math.min(steps * batch * (seq + 1) + seq + 1, 4_000_000), evalTokens: num('eval-tokens'), seed: num('seed') });
const heldOut = data.heldOut.sotu;
// The training stream: the corpus, then the teacher's generations; windows of each, the generations repeated so
// that they make up about --gen-share of the windows.
const gens: number[] = [];
for (const f of a.generations ? a.generations.split(',').filter(Boolean) : []) {
  const b = await readFile(f);
  gens.push(...new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2));
}
const stream = new Int32Array(data.train.length + gens.length);
stream.set(data.train);
stream.set(gens, data.train.length);
const windows = tokenWindows(data.train.length, seq);
const corpusWindows = windows.length;
const genWindows = tokenWindows(gens.length, seq).map((w) => ({ start: w.start + data.train.length }));
const share = num('gen-share');
const repeat = genWindows.length > 0 ? Math.max(1, Math.round(((share / (1 - share)) * corpusWindows) / genWindows.length)) : 0;
for (let r = 0; r < repeat; r++) windows.push(...genWindows);
const source = arrayDataSource<TokenWindow, TokenBatch>(windows, { batchSize: batch, dropLast: true, collate: collateWindows(stream, seq) });
log(`${describe}; ${steps} KD steps of ${batch}×${seq}; ${corpusWindows} corpus windows + ${genWindows.length} × ${repeat} windows of ${gens.length} generated tokens`);
const result =
  steps > 0
    ? await train<TokenBatch>({
        params: weights,
        shapes,
        lossAndGrads: (p, b) => kd.lossAndGrads(p as Map<string, Float32Array>, b),
        data: source,
        totalSteps: steps,
        optimizer: { kind: 'adamw', lr: num('lr'), betas: [0.9, 0.95], weightDecay: 0.1 },
        schedule: { kind: 'cosine', warmupSteps: num('warmup'), minLrRatio: 0.1 },
        maxGradNorm: 1,
        seed: num('seed'),
        onProgress: (e) => {
          if (e.step % 50 === 0 || e.step === e.totalSteps)
            log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${(e.etaSec / 60).toFixed(1)} min`);
        },
      })
    : null;
await kd.release();
await signal.release();
const trainSec = Math.round((performance.now() - t0) / 1000);

log(`evaluating on held-out SOTU 2001–2021 (windows of ${evalSeq})…`);
const pplDraft = (await perplexity(draftLogits(evalSeq), weights, heldOut, { seq: evalSeq, batch: 8, ...run })).perplexity;
const pplTeacher = (await perplexity(teacherLogits(evalSeq), teacher.weights, heldOut, { seq: evalSeq, batch: 8, ...run })).perplexity;
// Top-1 agreement: teacher-forced, the fraction of held-out positions where the draft's argmax is the teacher's.
const teacherEval = await TeacherSignal.create(teacherLogits(evalSeq), teacher.weights, run);
const draftEval = await TeacherSignal.create(draftLogits(evalSeq), weights, run);
let agree = 0;
let total = 0;
const v = config.vocabSize;
const argmax = (x: Float32Array, o: number) => {
  let best = 0;
  for (let j = 1; j < v; j++) if (x[o + j] > x[o + best]) best = j;
  return best;
};
for (let start = 0; start + evalSeq <= heldOut.length; start += evalSeq * 8) {
  const rows = Math.min(8, Math.floor((heldOut.length - start) / evalSeq));
  const ids = new BigInt64Array(rows * evalSeq);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(heldOut[start + i]);
  const b: TokenBatch = { inputIds: ids, targets: ids, batch: rows, seq: evalSeq };
  const [lt, ld] = [await teacherEval.logits(b), await draftEval.logits(b)];
  for (let p = 0; p < rows * evalSeq; p++) {
    if (argmax(lt, p * v) === argmax(ld, p * v)) agree++;
    total++;
  }
}
await teacherEval.release();
await draftEval.release();
const metrics = {
  arch: hybrid ? `${hybrid.variant}, ${hybrid.attnLayers.length} of ${config.numHiddenLayers} layers attention` : 'llama', teacher: a.teacher, initFrom: a['init-from'] || null, steps: result?.step ?? 0, tokensSeen: (result?.step ?? 0) * batch * seq, seq, batch, lr: num('lr'), kl: num('kl'), ce: num('ce'), threads, ep,
  generatedTokens: gens.length, genWindowShare: windows.length > 0 ? (genWindows.length * repeat) / windows.length : 0,
  trainSec, wallSec: Math.round((performance.now() - t0) / 1000), finalLoss: result?.history.at(-1)?.loss ?? null,
  evalSeq, heldOutTokens: heldOut.length - 1, ppl_sotu_heldout: pplDraft, ppl_sotu_heldout_teacher: pplTeacher, top1_agreement_with_teacher: agree / total,
};
log(JSON.stringify(metrics));
if (steps === 0) process.exit(0); // evaluation only: nothing new to write

await mkdir(a.out!, { recursive: true });
if (hybrid) await saveHybrid(a.out!, { teacher: config, hybrid, weights }, { dtype: 'F16', tokenizerFrom: a.teacher, tiedLmHead: false }); // tied head not stored twice (≤ 2 MB)
else {
  const tensors: Record<string, { dtype: 'F16'; shape: number[]; data: Uint16Array }> = {};
  for (const s of specs) tensors[s.name] = { dtype: 'F16', shape: s.shape, data: f32ToF16(weights.get(s.name)!) };
  await writeSafetensors(join(a.out!, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
  await writeFileAtomic(join(a.out!, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
  await writeFileAtomic(join(a.out!, 'generation_config.json'), JSON.stringify({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId }, null, 2) + '\n');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await writeFileAtomic(join(a.out!, f), await readFile(join(a.teacher!, f)));
}
await writeFileAtomic(join(a.out!, 'training.json'), JSON.stringify(metrics, null, 2) + '\n');
log(`wrote ${a.out}`);

/**
 * A Llama's (the teacher's, or a draft's) embeddings, final norm and `layers` (renumbered 0…), each MLP cut to the
 * `ffn` neurons with the largest ‖gate row‖·‖up row‖·‖down column‖.
 */
function shrinkTeacher(w: ReadonlyMap<string, Float32Array>, layers: number[], ffn: number, teacherFfn: number, d: number): Map<string, Float32Array> {
  const get = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`teacher has no ${n}`);
    return t;
  };
  const out = new Map<string, Float32Array>([['model.embed_tokens.weight', get('model.embed_tokens.weight').slice()], ['model.norm.weight', get('model.norm.weight').slice()]]);
  layers.forEach((src, dst) => {
    const p = `model.layers.${src}`;
    const q = `model.layers.${dst}`;
    for (const n of ['input_layernorm', 'post_attention_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj'])
      out.set(`${q}.${n}.weight`, get(`${p}.${n}.weight`).slice());
    const gate = get(`${p}.mlp.gate_proj.weight`);
    const up = get(`${p}.mlp.up_proj.weight`);
    const down = get(`${p}.mlp.down_proj.weight`); // [d, teacherFfn]
    const rowNorm = (m: Float32Array, i: number) => Math.hypot(...m.subarray(i * d, (i + 1) * d));
    const score = Array.from({ length: teacherFfn }, (_, i) => {
      let c = 0;
      for (let r = 0; r < d; r++) c += down[r * teacherFfn + i] ** 2;
      return rowNorm(gate, i) * rowNorm(up, i) * Math.sqrt(c);
    });
    const keep = score.map((s, i) => [s, i] as const).sort((x, y) => y[0] - x[0]).slice(0, ffn).map(([, i]) => i).sort((x, y) => x - y);
    const g = new Float32Array(ffn * d);
    const u = new Float32Array(ffn * d);
    const dn = new Float32Array(d * ffn);
    keep.forEach((i, j) => {
      g.set(gate.subarray(i * d, (i + 1) * d), j * d);
      u.set(up.subarray(i * d, (i + 1) * d), j * d);
      for (let r = 0; r < d; r++) dn[r * ffn + j] = down[r * teacherFfn + i];
    });
    out.set(`${q}.mlp.gate_proj.weight`, g);
    out.set(`${q}.mlp.up_proj.weight`, u);
    out.set(`${q}.mlp.down_proj.weight`, dn);
  });
  return out;
}
