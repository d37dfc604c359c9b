// Device smoke job: can @mil/graph run on the GPU machine, and how fast, on onnxruntime's cpu vs webgpu EPs?
//  1. a chain of float32 MatMuls (weights embedded as initializers, so they are uploaded once) timed on each EP,
//     GFLOP/s from the median run (host input and output each run; --resident-only keeps the output on the GPU);
//  2. one training step (forward + `gradients`) of a 2-layer MLP with softmax cross-entropy on each EP, the webgpu
//     loss and gradients compared with cpu (max |webgpu - cpu| / max |cpu| per tensor must stay under 1e-3),
//     plus which EP each node ran on (from an ORT profile).
//
//   bundle + run: see tools/device/README.md.   Locally: node --conditions=source --import tsx tools/device/smoke.ts --m 256
//   --probe: only check that webgpu opens an adapter and computes one small MatMul (exit code 0/1)
//   --resident-only: only the MatMul chain on webgpu with the output kept on the GPU (Runner gpuOutputs)
//   flags: --m 2048 --k 2048 --layers 8 --threads 16 --reps 10 --eps cpu,webgpu --batch 1024 --din 1024 --hidden 4096 --classes 1024
// Writes smoke.json under $OUT when OUT is set.
import { mkdtempSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '@mil/core';
import {
  Graph,
  Runner,
  add,
  div,
  encodeModel,
  gradients,
  logSoftmax,
  matmul,
  mul,
  neg,
  reduceSum,
  relu,
  type BuiltModel,
  type HostTensor,
} from '@mil/graph';
import { mulberry32, randn } from '@mil/core';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const epsArg = process.argv.indexOf('--eps');
const EPS = (epsArg >= 0 ? process.argv[epsArg + 1] : 'cpu,webgpu').split(',') as ExecutionProvider[];
const M = flag('m', 2048);
const K = flag('k', 2048);
const LAYERS = flag('layers', 8);
const THREADS = flag('threads', Math.min(16, cpus().length));
const REPS = flag('reps', 10);
const B = flag('batch', 1024);
const DIN = flag('din', 1024);
const HID = flag('hidden', 4096);
const CLS = flag('classes', 1024);
const RESIDENT_ONLY = process.argv.includes('--resident-only');

const report: Record<string, unknown> = {
  node: process.version,
  cpus: cpus().length,
  ortBackends: ort.listSupportedBackends(),
  config: { M, K, LAYERS, THREADS, REPS, B, DIN, HID, CLS, EPS },
};
const log = (...a: unknown[]): void => console.log(...a);
const errMsg = (e: unknown): string => {
  const err = e as Error & { cause?: unknown };
  return err.cause ? `${err.message} | cause: ${(err.cause as Error).message ?? String(err.cause)}` : String(err?.message ?? e);
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** max |a - b| / max |b|: one number per tensor that is stable where single entries are near zero. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

function runnerOpts(ep: ExecutionProvider, extra: { gpuOutputs?: string[] } = {}) {
  return ep === 'cpu' ? { ep, threads: THREADS } : { ep, ...extra };
}

// ---------- 1. MatMul chain ----------
async function matmulChain(): Promise<void> {
  const rand = mulberry32(1234);
  const g = new Graph('matmul_chain');
  const x = g.input('x', 'float32', [M, K]);
  const weights = new Map<string, Float32Array>();
  let y = x;
  for (let i = 0; i < LAYERS; i++) {
    const w = g.param(`w${i}`, 'float32', [K, K]);
    weights.set(w.name, randn(rand, K * K, 1 / Math.sqrt(K))); // keeps activations O(1) down the chain
    y = matmul(y, w);
  }
  const model = g.toModel({ outputs: { y }, weights: 'initializers', weightData: (n) => weights.get(n) });
  const xIn: HostTensor = { data: randn(rand, M * K), dims: [M, K] };
  const flops = 2 * M * K * K * LAYERS;
  const results: Record<string, unknown> = { flops };
  report.matmul = results;
  log(`\n== MatMul chain: ${LAYERS} x [${M}x${K}]·[${K}x${K}] float32, ${(flops / 1e9).toFixed(1)} GFLOP per run ==`);
  let ref: Float32Array | undefined;
  const variants: [string, ExecutionProvider, boolean][] = [];
  // webgpu-resident (Runner's gpuOutputs) aborted the whole Node process on the device with ORT 1.29
  // ("terminate called after throwing an instance of 'char const*'"), so it runs only when asked, on its own.
  if (RESIDENT_ONLY) variants.push(['webgpu-resident', 'webgpu', true]);
  else for (const ep of EPS) variants.push([ep, ep, false]);
  for (const [label, ep, resident] of variants) {
    try {
      const t0 = performance.now();
      if (resident) log('resident: creating session with gpuOutputs [y]');
      const run = await Runner.create(model, runnerOpts(ep, resident ? { gpuOutputs: ['y'] } : {}));
      const createMs = performance.now() - t0;
      const reps = ep === 'cpu' ? Math.max(3, Math.min(REPS, 5)) : REPS;
      const times: number[] = [];
      let out: Float32Array | undefined;
      if (resident) {
        // Outputs stay on the GPU and run() may return before the GPU is done, so time the whole batch of runs
        // and read the last output back (which waits for the queue) inside the timed span.
        for (let r = 0; r < 2; r++) {
          log(`resident: run ${r}`);
          const res = await run.run({ x: xIn });
          log(`resident: output location ${res.y.tensor.location}, reading back`);
          out = (await res.y.tensor.getData(true)) as Float32Array;
        }
        const s = performance.now();
        for (let r = 0; r < reps; r++) {
          const t = (await run.run({ x: xIn })).y.tensor;
          if (r === reps - 1) out = (await t.getData(true)) as Float32Array;
          else t.dispose();
        }
        times.push((performance.now() - s) / reps);
      } else {
        for (let r = 0; r < reps + 2; r++) {
          const s = performance.now();
          const res = await run.run({ x: xIn });
          out = res.y.data as Float32Array;
          if (r >= 2) times.push(performance.now() - s);
        }
      }
      const med = median(times);
      const entry: Record<string, unknown> = {
        createMs: Math.round(createMs),
        medianMs: +med.toFixed(2),
        minMs: +Math.min(...times).toFixed(2),
        gflops: +(flops / (med / 1000) / 1e9).toFixed(1),
        ...(resident ? { timing: 'mean over a batch of runs, last output read back' } : {}),
      };
      if (out && ref) entry.relDiffVsCpu = relDiff(out, ref);
      if (out && ep === 'cpu') ref = out;
      results[label] = entry;
      log(`${label.padEnd(16)} ${JSON.stringify(entry)}`);
      await run.release();
    } catch (e) {
      results[label] = { error: errMsg(e) };
      log(`${label.padEnd(16)} FAILED: ${errMsg(e)}`);
    }
  }
}

// ---------- 2. Training step: 2-layer MLP + softmax cross-entropy ----------
function buildMlp(): BuiltModel {
  const g = new Graph('mlp_train');
  const x = g.input('x', 'float32', [B, DIN]);
  const onehot = g.input('onehot', 'float32', [B, CLS]);
  const w1 = g.param('w1', 'float32', [DIN, HID]);
  const b1 = g.param('b1', 'float32', [HID]);
  const w2 = g.param('w2', 'float32', [HID, CLS]);
  const b2 = g.param('b2', 'float32', [CLS]);
  const h = relu(add(matmul(x, w1), b1));
  const logits = add(matmul(h, w2), b2);
  // mean over the batch of -sum_c onehot * log softmax(logits)
  const loss = div(neg(reduceSum(mul(onehot, logSoftmax(logits, -1)))), B);
  const grads = gradients(loss, [w1, b1, w2, b2]);
  return g.toModel({
    outputs: { loss, gw1: grads.get(w1)!, gb1: grads.get(b1)!, gw2: grads.get(w2)!, gb2: grads.get(b2)! },
  });
}

/** Runs once with ORT profiling and counts kernel events per execution provider. */
async function providerCounts(model: BuiltModel, ep: ExecutionProvider, feeds: Record<string, ort.Tensor>): Promise<Record<string, Record<string, number>>> {
  const dir = mkdtempSync(join(tmpdir(), 'ortprof-'));
  try {
    const session = await ort.InferenceSession.create(encodeModel(model.spec), {
      executionProviders: [ep],
      enableProfiling: true,
      profileFilePrefix: join(dir, 'p'),
      ...(ep === 'cpu' ? { intraOpNumThreads: THREADS } : {}),
    });
    await session.run(feeds);
    session.endProfiling();
    await session.release();
    const { readdirSync } = await import('node:fs');
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) return {};
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; args?: { provider?: string; op_name?: string } }[];
    const byEp: Record<string, Record<string, number>> = {};
    for (const ev of events) {
      if (ev.cat !== 'Node' || !ev.name.endsWith('_kernel_time') || !ev.args?.provider) continue;
      const p = ev.args.provider.replace('ExecutionProvider', '');
      byEp[p] ??= {};
      const op = ev.args.op_name ?? '?';
      byEp[p][op] = (byEp[p][op] ?? 0) + 1;
    }
    return byEp;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function trainingStep(): Promise<void> {
  const model = buildMlp();
  const rand = mulberry32(99);
  const labels = new Float32Array(B * CLS);
  for (let b = 0; b < B; b++) labels[b * CLS + Math.floor(rand() * CLS)] = 1;
  const feeds: Record<string, HostTensor> = {
    x: { data: randn(rand, B * DIN), dims: [B, DIN] },
    onehot: { data: labels, dims: [B, CLS] },
    w1: { data: randn(rand, DIN * HID, 1 / Math.sqrt(DIN)), dims: [DIN, HID] },
    b1: { data: randn(rand, HID, 0.1), dims: [HID] },
    w2: { data: randn(rand, HID * CLS, 1 / Math.sqrt(HID)), dims: [HID, CLS] },
    b2: { data: randn(rand, CLS, 0.1), dims: [CLS] },
  };
  const flops = 3 * 2 * B * (DIN * HID + HID * CLS); // forward matmuls + two gradient matmuls each
  const results: Record<string, unknown> = { flops };
  report.train = results;
  log(`\n== Training step: MLP ${DIN}->${HID}->${CLS}, batch ${B}, softmax CE + gradients, ${(flops / 1e9).toFixed(1)} GFLOP ==`);
  let ref: Record<string, Float32Array> | undefined;
  for (const ep of EPS) {
    try {
      const run = await Runner.create(model, runnerOpts(ep));
      const reps = ep === 'cpu' ? Math.max(3, Math.min(REPS, 5)) : REPS;
      const times: number[] = [];
      let out: Record<string, Float32Array> = {};
      for (let r = 0; r < reps + 2; r++) {
        const s = performance.now();
        const res = await run.run(feeds);
        if (r >= 2) times.push(performance.now() - s);
        out = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.data as Float32Array]));
      }
      await run.release();
      const med = median(times);
      const entry: Record<string, unknown> = {
        loss: out.loss[0],
        medianMs: +med.toFixed(2),
        gflops: +(flops / (med / 1000) / 1e9).toFixed(1),
      };
      if (ref) {
        const diffs = Object.fromEntries(Object.keys(ref).map((k) => [k, relDiff(out[k], ref![k])]));
        entry.relDiffVsCpu = diffs;
        entry.matchesCpu = Object.values(diffs).every((d) => d < 1e-3);
      }
      if (ep === 'cpu') ref = out;
      try {
        const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data as Float32Array, v.dims as number[])]));
        entry.kernelsByProvider = await providerCounts(model, ep, ortFeeds);
      } catch (e) {
        entry.kernelsByProvider = { error: errMsg(e) };
      }
      results[ep] = entry;
      log(`${ep.padEnd(16)} ${JSON.stringify(entry)}`);
    } catch (e) {
      results[ep] = { error: errMsg(e) };
      log(`${ep.padEnd(16)} FAILED: ${errMsg(e)}`);
    }
  }
}

/** --probe: can the webgpu EP open an adapter and run one small MatMul? Exit code 0 when it can. */
async function probe(): Promise<boolean> {
  const g = new Graph('probe');
  const x = g.input('x', 'float32', [4, 4]);
  const model = g.toModel({ outputs: { y: add(matmul(x, x), 1) } });
  const data = Float32Array.from({ length: 16 }, (_, i) => i / 16);
  try {
    const run = await Runner.create(model, { ep: 'webgpu' });
    const y = (await run.run({ x: { data, dims: [4, 4] } })).y.data as Float32Array;
    const want = 1 + (4 * (0 + 1 + 4 + 9)) / 256; // y[0][0] = 1 + sum_k x[0][k] x[k][0] = 1 + sum_k (k/16)(4k/16)
    const ok = Math.abs(y[0] - want) < 1e-5;
    log(`webgpu probe: ${ok ? 'ok' : `wrong result ${y[0]} (want ${want})`}`);
    return ok;
  } catch (e) {
    log(`webgpu probe: FAILED: ${errMsg(e).split('\n')[0].slice(0, 300)}`);
    return false;
  }
}

if (process.argv.includes('--probe')) process.exit((await probe()) ? 0 : 1);
await matmulChain();
if (!RESIDENT_ONLY) await trainingStep();
if (process.env.OUT) {
  const file = join(process.env.OUT, RESIDENT_ONLY ? 'smoke-resident.json' : 'smoke.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(report, null, 2));
  renameSync(`${file}.tmp`, file);
  log(`\nwrote ${file}`);
}
