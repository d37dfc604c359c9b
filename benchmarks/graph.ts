// Benchmark `graph`: one training step (forward + backward + AdamW) of a small Llama-style block through
// @mil/graph (ONNX graph + our autodiff, run by onnxruntime-node on the CPU with 2 threads), measured in one run
// against (a) ORT's own fp32 MatMul throughput on this machine (the ceiling) and (c) the identical step in
// @tensorflow/tfjs's pure-JS CPU backend (the JS peer).
//
//   npm run bench:graph [-- --runs 9] [--tfjs-runs 1] [--skip-tfjs] [--explore]   (flags: see benchmarks/README.md)
//
// FLOPs are counted analytically: 2·M·N·K per matmul of the forward pass (dense causal scores: the full T×T
// product is computed by both implementations), times 3 for forward + backward (each matmul has two gradient
// matmuls of the same size). Elementwise work (norms, RoPE, softmax, SiLU, AdamW) is not counted.
import * as tf from '@tensorflow/tfjs';
import {
  Graph,
  Runner,
  add,
  concat,
  matmul,
  mul,
  neg,
  reciprocal,
  reduceMean,
  reshape,
  silu,
  softmax,
  split,
  sqrt,
  transpose,
  gradients,
  type BuiltModel,
  type Tensor,
} from '@mil/graph';
import { MiB, flag, fmt, formatTable, hostInfo, median, numberFlag, reportResult, startRssSampler, summarise, timeOnce, type Cell, createMatmulProbe, type MatmulProbe, forwardFlops, gflops, type MatmulCount, sig } from './lib';
import { mulberry32, randn } from '@mil/core';
import { AdamW } from '@mil/distill';

// ---------------------------------------------------------------- configuration

const BLOCK = { batch: 8, seq: 256, dModel: 256, heads: 4, ffn: 768, normEps: 1e-5, ropeTheta: 10000 };
const HEAD_DIM = BLOCK.dModel / BLOCK.heads;
const ADAMW = { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0.01 };
const THREADS = 2;
const CEILING_N = 1024;
const SEED = 20241129;

const RUNS = numberFlag('runs', 9); // interleaved rounds: each times the ceiling and one @mil/graph step
const WARMUP = numberFlag('warmup', 2);
const TFJS_RUNS = numberFlag('tfjs-runs', 1);
const SKIP_TFJS = flag('skip-tfjs') === true;
const EXPLORE = flag('explore') === true;
const EXPLORE_ROUNDS = numberFlag('explore-rounds', 7);
const MASK_VALUE = -1e9; // additive causal mask (exp underflows to exactly 0 in fp32 either way)

const log = (s = '') => process.stdout.write(s + '\n');

// ---------------------------------------------------------------- parameters and constants

/** Block parameters. Projections are stored [in, out] so both frameworks compute x·W without a transpose. */
interface ParamDef {
  name: string;
  shape: number[];
  kind: 'norm' | 'proj';
}

const { dModel: D, ffn: F, heads: H, batch: B, seq: T } = BLOCK;
const PARAMS: ParamDef[] = [
  { name: 'layers.0.input_layernorm.weight', shape: [D], kind: 'norm' },
  { name: 'layers.0.self_attn.q_proj.weight', shape: [D, D], kind: 'proj' },
  { name: 'layers.0.self_attn.k_proj.weight', shape: [D, D], kind: 'proj' },
  { name: 'layers.0.self_attn.v_proj.weight', shape: [D, D], kind: 'proj' },
  { name: 'layers.0.self_attn.o_proj.weight', shape: [D, D], kind: 'proj' },
  { name: 'layers.0.post_attention_layernorm.weight', shape: [D], kind: 'norm' },
  { name: 'layers.0.mlp.gate_proj.weight', shape: [D, F], kind: 'proj' },
  { name: 'layers.0.mlp.up_proj.weight', shape: [D, F], kind: 'proj' },
  { name: 'layers.0.mlp.down_proj.weight', shape: [F, D], kind: 'proj' },
];
const [P_NORM1, P_Q, P_K, P_V, P_O, P_NORM2, P_GATE, P_UP, P_DOWN] = PARAMS.map((p) => p.name);

/** Seeded initial weights (projections N(0, 1/fan_in); norm gains 1 + 0.1·N(0,1) so they matter) and input. */
function initialData(): { weights: Map<string, Float32Array>; x: Float32Array } {
  const rand = mulberry32(SEED);
  const weights = new Map<string, Float32Array>();
  for (const p of PARAMS) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (p.kind === 'norm') weights.set(p.name, randn(rand, n, 0.1).map((v) => 1 + v));
    else weights.set(p.name, randn(rand, n, 1 / Math.sqrt(p.shape[0])));
  }
  return { weights, x: randn(rand, B * T * D) };
}

/** Rotate-half RoPE tables [T, hd]: angle(t, i) = t·θ^(−2i/hd), the two halves share frequencies. */
function ropeTables(): { cos: Float32Array; sin: Float32Array } {
  const half = HEAD_DIM / 2;
  const cos = new Float32Array(T * HEAD_DIM);
  const sin = new Float32Array(T * HEAD_DIM);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(BLOCK.ropeTheta, (-2 * i) / HEAD_DIM);
      cos[t * HEAD_DIM + i] = cos[t * HEAD_DIM + i + half] = Math.cos(a);
      sin[t * HEAD_DIM + i] = sin[t * HEAD_DIM + i + half] = Math.sin(a);
    }
  return { cos, sin };
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, MASK_VALUE above. */
function causalMask(): Float32Array {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASK_VALUE;
  return m;
}

/** Repeats a [T, hd] table over `heads` heads as [T, heads, hd], scaling the first `scaledHeads` by `scale`. */
function headTable(table: Float32Array, heads: number, scaledHeads: number, scale: number): Float32Array {
  const out = new Float32Array(T * heads * HEAD_DIM);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < HEAD_DIM; i++) out[(t * heads + h) * HEAD_DIM + i] = table[t * HEAD_DIM + i] * (h < scaledHeads ? scale : 1);
  return out;
}

// ---------------------------------------------------------------- FLOP count

const N_TOK = B * T;
const FWD_MATMULS: MatmulCount[] = [
  { what: 'q,k,v projections', m: N_TOK, n: 3 * D, k: D, batch: 1 },
  { what: 'scores Q·Kᵀ', m: T, n: T, k: HEAD_DIM, batch: B * H },
  { what: 'probs·V', m: T, n: HEAD_DIM, k: T, batch: B * H },
  { what: 'o projection', m: N_TOK, n: D, k: D, batch: 1 },
  { what: 'gate,up projections', m: N_TOK, n: 2 * F, k: D, batch: 1 },
  { what: 'down projection', m: N_TOK, n: D, k: F, batch: 1 },
];
const FWD_FLOPS = forwardFlops(FWD_MATMULS);
const STEP_FLOPS = 3 * FWD_FLOPS;
const FLOP_COUNTING =
  '2·M·N·K per forward matmul (q/k/v/o, dense T×T scores and probs·V, gate/up/down), ×3 for forward+backward; ' +
  'elementwise ops, softmax, norms, RoPE and AdamW not counted';
const CEILING_FLOPS = 2 * CEILING_N ** 3;

// ---------------------------------------------------------------- @mil/graph: the training step as one ONNX graph

interface MilVariant {
  /** One [D, 3D] matmul for q, k, v (weights concatenated in the graph) instead of three. */
  fuseQkv: boolean;
  /** One [D, 2F] matmul for gate and up instead of two. */
  fuseGateUp: boolean;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
}

const BEST_VARIANT: MilVariant = { fuseQkv: true, fuseGateUp: true, optimization: 'all' };

function rmsNormMil(x: Tensor, w: Tensor): Tensor {
  const inv = reciprocal(sqrt(add(reduceMean(mul(x, x), [-1], true), BLOCK.normEps)));
  return mul(mul(x, inv), w);
}

/** x·cos + rotate_half(x)·sin on the last axis, rotate_half(x) = [−x₂, x₁]. */
function ropeMil(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const [x1, x2] = split(x, [HEAD_DIM / 2, HEAD_DIM / 2], -1);
  return add(mul(x, cos), mul(concat([neg(x2), x1], -1), sin));
}

/** Builds loss + gradients of every parameter; returns the model and the output name of each gradient. */
function buildMilStep(v: MilVariant): { model: BuiltModel; gradOutput: Map<string, string>; nodeCount: number } {
  const g = new Graph('llama_block_train');
  const x = g.input('x', 'float32', [B, T, D]);
  const p = new Map(PARAMS.map((d) => [d.name, g.param(d.name, 'float32', d.shape)]));
  const w = (name: string) => p.get(name)!;
  const { cos, sin } = ropeTables();
  const scale = 1 / Math.sqrt(HEAD_DIM); // a power of two here, so folding it into q's RoPE tables is exact

  const h1 = rmsNormMil(x, w(P_NORM1));
  let q: Tensor;
  let k: Tensor;
  let val: Tensor;
  if (v.fuseQkv) {
    const qkv = reshape(matmul(h1, concat([w(P_Q), w(P_K), w(P_V)], 1)), [B, T, 3 * H, HEAD_DIM]);
    const [qk, vv] = split(qkv, [2 * H, H], 2);
    const cosT = g.constant(headTable(cos, 2 * H, H, scale), 'float32', [T, 2 * H, HEAD_DIM]);
    const sinT = g.constant(headTable(sin, 2 * H, H, scale), 'float32', [T, 2 * H, HEAD_DIM]);
    [q, k] = split(ropeMil(qk, cosT, sinT), [H, H], 2);
    val = vv;
  } else {
    const heads = (t: Tensor) => reshape(t, [B, T, H, HEAD_DIM]);
    const c1 = (tab: Float32Array, s: number) => g.constant(headTable(tab, 1, 1, s), 'float32', [T, 1, HEAD_DIM]);
    q = ropeMil(heads(matmul(h1, w(P_Q))), c1(cos, scale), c1(sin, scale));
    k = ropeMil(heads(matmul(h1, w(P_K))), c1(cos, 1), c1(sin, 1));
    val = heads(matmul(h1, w(P_V)));
  }
  const mask = g.constant(causalMask(), 'float32', [T, T]);
  const scores = add(matmul(transpose(q, [0, 2, 1, 3]), transpose(k, [0, 2, 3, 1])), mask); // [B,H,T,T]
  const ctx = matmul(softmax(scores, -1), transpose(val, [0, 2, 1, 3])); // [B,H,T,hd]
  const h = add(x, matmul(reshape(transpose(ctx, [0, 2, 1, 3]), [B, T, D]), w(P_O)));

  const h2 = rmsNormMil(h, w(P_NORM2));
  let gate: Tensor;
  let up: Tensor;
  if (v.fuseGateUp) [gate, up] = split(matmul(h2, concat([w(P_GATE), w(P_UP)], 1)), [F, F], 2);
  else [gate, up] = [matmul(h2, w(P_GATE)), matmul(h2, w(P_UP))];
  const y = add(h, matmul(mul(silu(gate), up), w(P_DOWN)));
  const loss = reduceMean(mul(y, y));

  const grads = gradients(loss, g.params);
  const gradOutput = new Map(PARAMS.map((d) => [d.name, `grad.${d.name}`]));
  const outputs: Record<string, Tensor> = { loss };
  for (const [param, grad] of grads) outputs[gradOutput.get(param.name)!] = grad;
  const model = g.toModel({ outputs, weights: 'inputs' });
  return { model, gradOutput, nodeCount: model.spec.graph.nodes.length };
}

interface MilTrainer {
  step(): Promise<number>;
  /** L2 norm over all gradients of the last step. */
  lastGradNorm(): number;
  /** Milliseconds of the last step spent in the ORT session run and in AdamW. */
  lastSplit(): { runMs: number; adamwMs: number };
  nodeCount: number;
  release(): Promise<void>;
}

async function createMilTrainer(v: MilVariant, init: { weights: Map<string, Float32Array>; x: Float32Array }): Promise<MilTrainer> {
  const { model, gradOutput, nodeCount } = buildMilStep(v);
  const runner = await Runner.create(model, { ep: 'cpu', threads: THREADS, optimization: v.optimization });
  const weights = new Map([...init.weights].map(([n, d]) => [n, d.slice()]));
  runner.setPersistent(Object.fromEntries(PARAMS.map((p) => [p.name, { data: weights.get(p.name)!, dims: p.shape }])));
  const opt = new AdamW(
    PARAMS.map((p) => ({ name: p.name, data: weights.get(p.name)!, shape: p.shape })),
    { lr: ADAMW.lr, betas: ADAMW.betas, eps: ADAMW.eps, weightDecay: ADAMW.weightDecay },
  );
  const xFeed = { data: init.x, dims: [B, T, D] };
  let grads = new Map<string, Float32Array>();
  let adamwMs = 0;
  return {
    nodeCount,
    async step() {
      const out = await runner.run({ x: xFeed });
      grads = new Map(PARAMS.map((p) => [p.name, out[gradOutput.get(p.name)!].data as Float32Array]));
      const t0 = performance.now();
      opt.step(grads);
      adamwMs = performance.now() - t0;
      return (out.loss.data as Float32Array)[0];
    },
    lastSplit: () => ({ runMs: runner.lastRunMs, adamwMs }),
    lastGradNorm: () => Math.sqrt([...grads.values()].reduce((s, a) => s + a.reduce((t, u) => t + u * u, 0), 0)),
    release: () => runner.release(),
  };
}

/** (a) A single fp32 MatMul n×n×n; `prepacked` embeds B as an initializer (ORT pre-packs it at load). */
function createMatmul(prepacked: boolean): Promise<MatmulProbe> {
  return createMatmulProbe({ n: CEILING_N, threads: THREADS, prepacked, seed: SEED + 1 });
}

// ---------------------------------------------------------------- tfjs: the identical step, pure-JS CPU backend

interface TfjsTrainer {
  step(): number;
  lastGradNorm(): number;
  dispose(): void;
}

function createTfjsTrainer(init: { weights: Map<string, Float32Array>; x: Float32Array }): TfjsTrainer {
  const vars = new Map(
    PARAMS.map((p) => [p.name, tf.variable(tf.tensor(init.weights.get(p.name)!.slice(), p.shape, 'float32'), true, `tfjs.${p.name}`)]),
  );
  const m = new Map(PARAMS.map((p) => [p.name, tf.variable(tf.zeros(p.shape), false)]));
  const s2 = new Map(PARAMS.map((p) => [p.name, tf.variable(tf.zeros(p.shape), false)]));
  const x = tf.tensor(init.x, [B * T, D], 'float32');
  const { cos, sin } = ropeTables();
  const cosT = tf.tensor(cos, [T, 1, HEAD_DIM]);
  const sinT = tf.tensor(sin, [T, 1, HEAD_DIM]);
  const mask = tf.tensor(causalMask(), [T, T]);
  const W = (name: string) => vars.get(name)!;
  const rms = (t: tf.Tensor, w: tf.Tensor) => t.mul(t.mul(t).mean(-1, true).add(BLOCK.normEps).sqrt().reciprocal()).mul(w);
  const rope = (t: tf.Tensor) => {
    const [t1, t2] = tf.split(t, 2, -1);
    return t.mul(cosT).add(tf.concat([t2.neg(), t1], -1).mul(sinT));
  };
  const heads = (t: tf.Tensor) => t.reshape([B, T, H, HEAD_DIM]);

  const lossFn = (): tf.Scalar => {
    const h1 = rms(x, W(P_NORM1));
    const q = rope(heads(tf.matMul(h1, W(P_Q)))).transpose([0, 2, 1, 3]);
    const k = rope(heads(tf.matMul(h1, W(P_K)))).transpose([0, 2, 1, 3]);
    const v = heads(tf.matMul(h1, W(P_V))).transpose([0, 2, 1, 3]);
    const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(HEAD_DIM)).add(mask);
    const ctx = tf.matMul(tf.softmax(scores, -1), v).transpose([0, 2, 1, 3]).reshape([B * T, D]);
    const h = x.add(tf.matMul(ctx, W(P_O)));
    const h2 = rms(h, W(P_NORM2));
    const gate = tf.matMul(h2, W(P_GATE));
    const up = tf.matMul(h2, W(P_UP));
    const y = h.add(tf.matMul(gate.mul(tf.sigmoid(gate)).mul(up), W(P_DOWN)));
    return y.mul(y).mean() as tf.Scalar;
  };

  let t = 0;
  let gradNorm = NaN;
  const [b1, b2] = ADAMW.betas;
  return {
    step() {
      const { value, grads } = tf.variableGrads(lossFn, [...vars.values()]);
      const loss = value.dataSync()[0];
      t += 1;
      // AdamW with torch's equations (as @mil/graph's AdamW): decoupled decay on 2-D weights only.
      const stepSize = ADAMW.lr / (1 - Math.pow(b1, t));
      const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
      tf.tidy(() => {
        let sq = tf.scalar(0);
        for (const p of PARAMS) {
          const g = grads[vars.get(p.name)!.name];
          sq = sq.add(g.square().sum());
          const mNew = m.get(p.name)!.mul(b1).add(g.mul(1 - b1));
          const vNew = s2.get(p.name)!.mul(b2).add(g.square().mul(1 - b2));
          m.get(p.name)!.assign(mNew);
          s2.get(p.name)!.assign(vNew);
          const decay = p.shape.length > 1 ? 1 - ADAMW.lr * ADAMW.weightDecay : 1;
          W(p.name).assign(W(p.name).mul(decay).sub(mNew.mul(stepSize).div(vNew.sqrt().div(bc2Sqrt).add(ADAMW.eps))));
        }
        gradNorm = Math.sqrt(sq.dataSync()[0]);
      });
      value.dispose();
      tf.dispose(grads);
      return loss;
    },
    lastGradNorm: () => gradNorm,
    dispose() {
      tf.dispose([...vars.values(), ...m.values(), ...s2.values(), x, cosT, sinT, mask]);
    },
  };
}

// ---------------------------------------------------------------- measurement

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

/** Graph variants stepped round-robin (same load for all); min and median ms per variant. */
async function explore(init: ReturnType<typeof initialData>): Promise<Cell[][]> {
  const variants: MilVariant[] = [
    BEST_VARIANT,
    { ...BEST_VARIANT, fuseQkv: false, fuseGateUp: false },
    { ...BEST_VARIANT, optimization: 'extended' },
    { ...BEST_VARIANT, optimization: 'basic' },
    { ...BEST_VARIANT, optimization: 'disabled' },
  ];
  const trainers = [];
  for (const v of variants) {
    const trainer = await createMilTrainer(v, init);
    for (let i = 0; i < WARMUP; i++) await trainer.step();
    trainers.push({ v, trainer, ms: [] as number[] });
  }
  for (let r = 0; r < EXPLORE_ROUNDS; r++) for (const t of trainers) t.ms.push(await timeOnce(() => t.trainer.step()));
  const rows: Cell[][] = [];
  for (const { v, trainer, ms } of trainers) {
    await trainer.release();
    const med = median(ms);
    const fusion = v.fuseQkv ? 'fused qkv, fused gate/up' : 'separate q/k/v/gate/up matmuls';
    rows.push([`opt=${v.optimization}, ${fusion}`, trainer.nodeCount, Math.min(...ms), med, gflops(STEP_FLOPS, med)]);
  }
  return rows;
}

async function main(): Promise<void> {
  const rss = startRssSampler();
  const init = initialData();
  log(`bench:graph — Llama-style block d=${D}, ${H} heads, SwiGLU ${F}, seq ${T}, batch ${B}; ORT cpu, ${THREADS} threads`);
  log(`FLOPs per training step: ${fmt(STEP_FLOPS / 1e9, 4)} GFLOP (${FLOP_COUNTING})`);

  const exploreRows = EXPLORE ? await explore(init) : [];

  // (a) and (b) are measured in rounds (3 + 3 MatMul runs, one training step) so that both see the same machine
  // load; more rounds follow each tfjs step, so the medians span the window in which (c) was timed too.
  const mmFed = await createMatmul(false);
  const mmPacked = await createMatmul(true);
  const mil = await createMilTrainer(BEST_VARIANT, init);
  const milLosses: number[] = [];
  let milGradNorm0 = NaN;
  for (let i = 0; i < Math.max(WARMUP, 2); i++) {
    milLosses.push(await mil.step());
    if (i === 0) milGradNorm0 = mil.lastGradNorm();
    await mmFed.run();
    await mmPacked.run();
  }
  const fedMs: number[] = [];
  const packedMs: number[] = [];
  const stepMs: number[] = [];
  const runMs: number[] = [];
  const adamwMs: number[] = [];
  const measureRound = async () => {
    for (let i = 0; i < 3; i++) fedMs.push(await timeOnce(() => mmFed.run()));
    for (let i = 0; i < 3; i++) packedMs.push(await timeOnce(() => mmPacked.run()));
    stepMs.push(await timeOnce(async () => milLosses.push(await mil.step())));
    runMs.push(mil.lastSplit().runMs);
    adamwMs.push(mil.lastSplit().adamwMs);
    rss.sample();
  };
  for (let r = 0; r < RUNS; r++) await measureRound();
  log(`@mil/graph step: ${stepMs.map((v) => fmt(v)).join(', ')} ms`);

  // (c) tfjs: 1 warm-up (step 1 at the initial weights: the loss check) + TFJS_RUNS timed steps.
  const tfjsLosses: number[] = [];
  let tfjsGradNorm0 = NaN;
  const tfjsSamples: number[] = [];
  if (!SKIP_TFJS) {
    await tf.setBackend('cpu');
    await tf.ready();
    const tfj = createTfjsTrainer(init);
    for (let i = 0; i <= TFJS_RUNS; i++) {
      const ms = await timeOnce(() => tfjsLosses.push(tfj.step()));
      if (i === 0) tfjsGradNorm0 = tfj.lastGradNorm();
      else tfjsSamples.push(ms);
      log(`tfjs (${tf.getBackend()} backend) ${i === 0 ? 'warm-up' : 'timed'} step: ${fmt(ms)} ms`);
      rss.sample();
      await measureRound();
    }
    tfj.dispose();
  }
  await Promise.all([mmFed.release(), mmPacked.release(), mil.release()]);
  const { peakBytes } = rss.stop();
  const fed = summarise(fedMs);
  const packed = summarise(packedMs);
  const step = summarise(stepMs);
  const ceilingGflops = Math.max(gflops(CEILING_FLOPS, fed.medianMs), gflops(CEILING_FLOPS, packed.medianMs));
  const milGflops = gflops(STEP_FLOPS, step.medianMs);
  const tfjsMs = tfjsSamples.length ? median(tfjsSamples) : NaN;
  const tfjsGflops = gflops(STEP_FLOPS, tfjsMs);

  // Guard: both implementations compute the same loss (step 1: initial weights; step 2: after one AdamW step).
  const lossRel = tfjsLosses.slice(0, 2).map((l, i) => relDiff(l, milLosses[i]));
  const lossesAgree = lossRel.length > 0 && lossRel.every((d) => d < 1e-4);

  log();
  log(
    formatTable(
      ['what', 'ms', 'GFLOP/s', 'vs ceiling', 'vs tfjs', 'runs'],
      [
        [`(a) ORT MatMul ${CEILING_N}³ fp32, B fed as input`, fed.medianMs, gflops(CEILING_FLOPS, fed.medianMs), gflops(CEILING_FLOPS, fed.medianMs) / ceilingGflops, null, fedMs.length],
        [`(a) ORT MatMul ${CEILING_N}³ fp32, B pre-packed`, packed.medianMs, gflops(CEILING_FLOPS, packed.medianMs), gflops(CEILING_FLOPS, packed.medianMs) / ceilingGflops, null, packedMs.length],
        ['(b) @mil/graph train step (fwd+bwd+AdamW)', step.medianMs, milGflops, milGflops / ceilingGflops, tfjsMs / step.medianMs, stepMs.length],
        ['(c) tfjs cpu train step (fwd+bwd+AdamW)', tfjsMs, tfjsGflops, tfjsGflops / ceilingGflops, 1, tfjsSamples.length],
      ],
    ),
  );
  log();
  log(formatTable(['loss check', '@mil/graph', 'tfjs', 'rel diff'], [
    ['loss at initial weights', milLosses[0], tfjsLosses[0], lossRel[0]],
    ['loss after one AdamW step', milLosses[1], tfjsLosses[1], lossRel[1]],
    ['grad L2 norm at initial weights', milGradNorm0, tfjsGradNorm0, relDiff(milGradNorm0, tfjsGradNorm0)],
  ].map((r) => r.map((c) => (typeof c === 'number' && !Number.isNaN(c) ? Number(c.toPrecision(7)) : c)))));
  if (exploreRows.length) {
    log();
    log(formatTable(['@mil/graph variant (round-robin)', 'nodes', 'min ms', 'median ms', 'GFLOP/s'], exploreRows));
  }
  log();
  log(`@mil/graph step split (medians): ORT session run ${fmt(median(runMs))} ms, AdamW ${fmt(median(adamwMs))} ms`);
  log(`peak RSS ${fmt(peakBytes / MiB)} MiB`);
  if (!SKIP_TFJS && !lossesAgree) log(`WARNING: @mil/graph and tfjs losses differ by more than 1e-4 relative`);

  reportResult({
    bench: 'graph',
    metric: 'fraction_of_matmul_ceiling',
    value: sig(milGflops / ceilingGflops)!,
    unit: 'ratio',
    ratio_vs_tfjs: sig(tfjsMs / step.medianMs),
    goal: { ratio_vs_tfjs: 20, fraction_of_matmul_ceiling: 0.35 },
    fraction_from_min_times: sig(gflops(STEP_FLOPS, step.minMs) / gflops(CEILING_FLOPS, Math.min(fed.minMs, packed.minMs))),
    graph_gflops: sig(milGflops),
    graph_ms_per_step: sig(step.medianMs),
    graph_ms_samples: step.samplesMs.map((v) => sig(v, 5)),
    graph_ms_split: { ort_run: sig(median(runMs)), adamw: sig(median(adamwMs)) },
    tfjs_gflops: sig(tfjsGflops),
    tfjs_ms_per_step: sig(tfjsMs),
    tfjs_ms_samples: tfjsSamples.map((v) => sig(v, 5)),
    matmul_ceiling_gflops: sig(ceilingGflops),
    matmul_fed_gflops: sig(gflops(CEILING_FLOPS, fed.medianMs)),
    matmul_prepacked_gflops: sig(gflops(CEILING_FLOPS, packed.medianMs)),
    matmul_ceiling_shape: `${CEILING_N}x${CEILING_N}x${CEILING_N} fp32, ${THREADS} threads; ceiling = faster of B fed / B pre-packed`,
    flops_per_step: STEP_FLOPS,
    flops_forward: FWD_FLOPS,
    flop_counting: FLOP_COUNTING,
    flops_forward_by_matmul: Object.fromEntries(FWD_MATMULS.map((c) => [`${c.what} (${c.batch > 1 ? `${c.batch}×` : ''}${c.m}×${c.n}×${c.k})`, 2 * c.m * c.n * c.k * c.batch])),
    loss_graph: milLosses.slice(0, 2),
    loss_tfjs: tfjsLosses.slice(0, 2),
    loss_rel_diff: lossRel.map((v) => sig(v, 3)),
    losses_agree: lossesAgree,
    block: { ...BLOCK, headDim: HEAD_DIM, loss: 'mean(y²) of the block output', causalMask: 'additive -1e9' },
    adamw: ADAMW,
    graph_variant: { ...BEST_VARIANT, threads: THREADS, ep: 'cpu', nodes: mil.nodeCount },
    explore: exploreRows.length
      ? exploreRows.map(([what, nodes, min, med, gf]) => ({ what, nodes, min_ms: sig(min as number), median_ms: sig(med as number), gflops: sig(gf as number) }))
      : undefined,
    peak_rss_mib: sig(peakBytes / MiB),
    runs: { rounds: RUNS, warmup: WARMUP, tfjs_warmup: 1, tfjs_timed: tfjsSamples.length },
    host: hostInfo(),
  });
}

main().catch((e) => {
  process.stderr.write(`bench:graph failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
