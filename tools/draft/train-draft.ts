// Trains the tiny Llama draft of the embedded default teacher by knowledge distillation: a small Llama with the
// teacher's tokenizer and vocabulary, random init, trained on SOTU 1790–2000 with KL(teacher‖draft) on the teacher's
// logits computed on the fly (the @mil/distill KD step), then evaluated on held-out SOTU 2001–2021: perplexity and
// the top-1 agreement with the teacher (the greedy acceptance rate a draft can expect per token).
// Usage (the exact command that made models/sotu-tiny-draft is in its README):
//   node --conditions=source --import tsx tools/draft/train-draft.ts --out models/sotu-tiny-draft --steps 600
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildLlamaTrainGraph, initLlamaWeights, llamaWeightSpecs, loadLlama } from '@mil/models';
import { parseLlamaConfig } from '@mil/checkpoint';
import { TeacherSignal, arrayDataSource, collateWindows, compileKdStep, loadMainJobData, tokenWindows, train, type TokenBatch, type TokenWindow } from '@mil/distill';
import { perplexity } from '@mil/eval';
import { f32ToF16, writeFileAtomic, writeSafetensors } from '@mil/checkpoint';

const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: 'models/sotu-tiny' },
    out: { type: 'string', default: 'models/sotu-tiny-draft' },
    hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '2' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    ffn: { type: 'string', default: '384' },
    'max-positions': { type: 'string', default: '4096' },
    steps: { type: 'string', default: '600' },
    batch: { type: 'string', default: '16' },
    seq: { type: 'string', default: '128' },
    lr: { type: 'string', default: '5e-3' },
    warmup: { type: 'string', default: '30' },
    kl: { type: 'string', default: '1' },
    ce: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    'eval-tokens': { type: 'string', default: '16384' },
    seed: { type: 'string', default: '0' },
    // "Shrink and fine-tune": start from the teacher's embeddings (tied LM head), final norm and these layers, each
    // MLP cut to its --ffn strongest neurons; hidden size and heads are then the teacher's. Empty: random init.
    'init-from-teacher-layers': { type: 'string', default: '' },
  },
});
const num = (k: keyof typeof a) => Number(a[k]);
const seq = num('seq');
const batch = num('batch');
const steps = num('steps');
const threads = num('threads');
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}`);

const teacher = await loadLlama(a.teacher!);
if (!teacher.tokenizer) throw new Error(`${a.teacher}: no tokenizer.json`);
const tc = teacher.config;
const keepLayers = a['init-from-teacher-layers'] ? a['init-from-teacher-layers'].split(',').map(Number) : [];
const fromTeacher = keepLayers.length > 0;
const hidden = fromTeacher ? tc.hiddenSize : num('hidden');
const configJson: Record<string, unknown> = {
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
const config = parseLlamaConfig(configJson, 'draft config');

log(`tokenizing SOTU 1790–2000 (${steps * batch * seq} training tokens) and the held-out SOTU 2001–2021 prefix…`);
const data = loadMainJobData(teacher.tokenizer, { trainTokens: steps * batch * (seq + 1) + seq + 1, evalTokens: num('eval-tokens'), seed: num('seed') });
const heldOut = data.heldOut.sotu;

const teacherLogits = (g: Parameters<typeof buildLlamaTrainGraph>[0]) => buildLlamaTrainGraph(g, teacher.config, { maxPositions: seq }).logits;
const signal = await TeacherSignal.create(teacherLogits, teacher.weights, { threads });
const weights = fromTeacher ? shrinkTeacher(teacher.weights, keepLayers, config.intermediateSize, tc.intermediateSize, hidden) : initLlamaWeights(config, num('seed'));
const shapes = new Map(llamaWeightSpecs(config).map((w) => [w.name, w.shape]));
const kd = await compileKdStep((g) => buildLlamaTrainGraph(g, config, { maxPositions: seq }), signal, { klWeight: num('kl'), ceWeight: num('ce') }, { threads });
const windows = tokenWindows(data.train.length, seq);
const source = arrayDataSource<TokenWindow, TokenBatch>(windows, { batchSize: batch, dropLast: true, collate: collateWindows(data.train, seq) });
log(`draft: hidden ${hidden}, ${config.numHiddenLayers} layers, ${[...weights.values()].reduce((s, w) => s + w.length, 0)} parameters; ${steps} KD steps of ${batch}×${seq}`);
const result = await train<TokenBatch>({
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
    if (e.step % 10 === 0 || e.step === e.totalSteps)
      log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${(e.etaSec / 60).toFixed(1)} min`);
  },
});
await kd.release();

log('evaluating on held-out SOTU 2001–2021…');
const draftLogits = (g: Parameters<typeof buildLlamaTrainGraph>[0]) => buildLlamaTrainGraph(g, config, { maxPositions: seq }).logits;
const pplDraft = (await perplexity(draftLogits, weights, heldOut, { seq, batch: 8, threads })).perplexity;
const pplTeacher = (await perplexity(teacherLogits, teacher.weights, heldOut, { seq, batch: 8, threads })).perplexity;
// Top-1 agreement: teacher-forced, the fraction of held-out positions where the draft's argmax is the teacher's.
const draftSignal = await TeacherSignal.create(draftLogits, weights, { threads });
let agree = 0;
let total = 0;
const v = config.vocabSize;
const argmax = (x: Float32Array, o: number) => {
  let best = 0;
  for (let j = 1; j < v; j++) if (x[o + j] > x[o + best]) best = j;
  return best;
};
for (let start = 0; start + seq <= heldOut.length; start += seq * 8) {
  const rows = Math.min(8, Math.floor((heldOut.length - start) / seq));
  const ids = new BigInt64Array(rows * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(heldOut[start + i]);
  const b: TokenBatch = { inputIds: ids, targets: ids, batch: rows, seq };
  const [lt, ld] = [await signal.logits(b), await draftSignal.logits(b)];
  for (let p = 0; p < rows * seq; p++) {
    if (argmax(lt, p * v) === argmax(ld, p * v)) agree++;
    total++;
  }
}
await signal.release();
await draftSignal.release();
const metrics = {
  steps: result.step, tokensSeen: result.step * batch * seq, seq, batch, lr: num('lr'), kl: num('kl'), ce: num('ce'), threads,
  wallSec: Math.round((performance.now() - t0) / 1000), finalLoss: result.history.at(-1)?.loss,
  heldOutTokens: heldOut.length - 1, ppl_sotu_heldout: pplDraft, ppl_sotu_heldout_teacher: pplTeacher, top1_agreement_with_teacher: agree / total,
};
log(JSON.stringify(metrics));

await mkdir(a.out!, { recursive: true });
const tensors: Record<string, { dtype: 'F16'; shape: number[]; data: Uint16Array }> = {};
for (const s of llamaWeightSpecs(config)) tensors[s.name] = { dtype: 'F16', shape: s.shape, data: f32ToF16(weights.get(s.name)!) };
await writeSafetensors(join(a.out!, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
await writeFileAtomic(join(a.out!, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
await writeFileAtomic(join(a.out!, 'generation_config.json'), JSON.stringify({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId }, null, 2) + '\n');
for (const f of ['tokenizer.json', 'tokenizer_config.json']) await writeFileAtomic(join(a.out!, f), await readFile(join(a.teacher!, f)));
await writeFileAtomic(join(a.out!, 'training.json'), JSON.stringify(metrics, null, 2) + '\n');
log(`wrote ${a.out}`);

/**
 * The teacher's embeddings, final norm and `layers` (renumbered 0…), each MLP cut to the `ffn` neurons with the
 * largest ‖gate row‖·‖up row‖·‖down column‖.
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
