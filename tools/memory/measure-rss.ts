// Peak resident memory of loading a Llama checkpoint (tensors streamed from disk, bf16/f16 → f32 one at a time,
// against reading the whole file first) and of one forward and one student training step, each in a fresh
// process, with the memory plan printed first and checked against the machine's available memory.
//
//   node --conditions=source --import tsx tools/memory/measure-rss.ts --dir /tmp/llama-1b-random [--seq 64] [--batch 1] [--modes load-stream,load-whole,forward] [--train-step]
//
// Prints a table; the last line is one JSON object. Modes run as child processes (`--mode load-stream` …) so each
// peak (getrusage maxrss) is its own.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSafetensors, parseLlamaConfig } from '@mil/checkpoint';
import { crossEntropy, compileTrainStep, assertMemoryFits, formatMemoryPlan, memoryPlan, MemoryPlanError, type TokenBatch } from '@mil/distill';
import { buildHybridTrainGraph, buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';

const { values: a } = parseArgs({
  options: {
    dir: { type: 'string' },
    /** Also run one student training step (needs teacher + student weights in memory: ~11 GiB for 1B). */
    'train-step': { type: 'boolean', default: false },
    /** Comma-separated subset of load-stream, load-whole, forward, train-step (default: the first three). */
    modes: { type: 'string', default: 'load-stream,load-whole,forward' },
    mode: { type: 'string' },
    seq: { type: 'string', default: '64' },
    batch: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
  },
});
if (!a.dir) throw new Error('--dir is required');
const dir = a.dir;
const seq = Number(a.seq);
const batch = Number(a.batch);
const GiB = 2 ** 30;
const peak = () => (process.resourceUsage().maxRSS * 1024) / GiB;

function randomBatch(vocab: number): TokenBatch {
  const n = batch * seq;
  const inputIds = new BigInt64Array(n);
  const targets = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    inputIds[i] = BigInt((i * 7919 + 13) % vocab);
    targets[i] = BigInt((i * 104729 + 7) % vocab);
  }
  return { inputIds, targets, batch, seq };
}

async function child(mode: string): Promise<Record<string, number | string>> {
  const t0 = performance.now();
  const secs = () => (performance.now() - t0) / 1000;
  if (mode === 'load-whole') {
    // the naive way: the whole file in memory, then every tensor converted
    // (readFile stops at 2 GiB: read into one buffer in chunks)
    const path = join(dir, 'model.safetensors');
    const fd = openSync(path, 'r');
    const bytes = Buffer.allocUnsafe(fstatSync(fd).size);
    for (let at = 0; at < bytes.length; ) at += readSync(fd, bytes, at, Math.min(1 << 28, bytes.length - at), at);
    closeSync(fd);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
    const weights = new Map<string, Float32Array>();
    for (const [name, info] of Object.entries(header) as [string, { dtype: string; data_offsets: [number, number] }][]) {
      if (name === '__metadata__') continue;
      const raw = bytes.subarray(8 + headerLen + info.data_offsets[0], 8 + headerLen + info.data_offsets[1]);
      const u16 = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const f = new Float32Array(u16.length);
      const u32 = new Uint32Array(f.buffer);
      for (let i = 0; i < u16.length; i++) u32[i] = u16[i] << 16;
      weights.set(name, f);
    }
    return { mode, tensors: weights.size, seconds: secs(), peakGiB: peak() };
  }
  const { config, weights } = await loadLlama(dir);
  const loaded = peak();
  if (mode === 'load-stream') return { mode, tensors: weights.size, seconds: secs(), peakGiB: loaded };
  const vocab = config.vocabSize;
  if (mode === 'forward') {
    // the teacher's forward and loss, weights fed by reference (no gradient requested)
    const step = await compileTrainStep({ build: (g, { targets }) => { const m = buildLlamaTrainGraph(g, config, { maxPositions: seq }); return { loss: crossEntropy(m.logits, targets), params: m.params }; }, trainable: () => false }, { threads: Number(a.threads) });
    const t1 = performance.now();
    const { loss } = await step.lossAndGrads(weights, randomBatch(vocab));
    return { mode, loss, seconds: secs(), stepSeconds: (performance.now() - t1) / 1000, loadPeakGiB: loaded, peakGiB: peak() };
  }
  if (mode === 'train-step') {
    // one step of the 50%-attention Mamba-2 student, CE on the data, gradients for the Mamba mixers
    const hybrid = makeHybridConfig(config, 'mamba2', layerSchedule(config.numHiddenLayers, { attentionFraction: 0.5 }).attnLayers);
    const student = initStudentFromTeacher(weights, config, hybrid, { seed: 0, init: 'attention' });
    const step = await compileTrainStep({ build: (g, { targets }) => { const m = buildHybridTrainGraph(g, config, hybrid, { maxPositions: seq }); return { loss: crossEntropy(m.logits, targets), params: m.params }; }, trainable: (n) => n.includes('.mamba.') }, { threads: Number(a.threads) });
    const t1 = performance.now();
    const { loss, grads } = await step.lossAndGrads(student, randomBatch(vocab));
    let norm = 0;
    for (const g of grads.values()) for (const x of g) norm += x * x;
    return { mode, loss, gradNorm: Math.sqrt(norm), seconds: secs(), stepSeconds: (performance.now() - t1) / 1000, loadPeakGiB: loaded, peakGiB: peak() };
  }
  throw new Error(`unknown --mode ${mode}`);
}

if (a.mode) {
  console.log(JSON.stringify(await child(a.mode)));
} else {
  const config = parseLlamaConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), join(dir, 'config.json'));
  const f = await openSafetensors(join(dir, 'model.safetensors'));
  const fileGiB = f.names.reduce((s, n) => s + f.info(n).byteLength, 0) / GiB;
  await f.close();
  const hybrid = makeHybridConfig(config, 'mamba2', layerSchedule(config.numHiddenLayers, { attentionFraction: 0.5 }).attnLayers);
  const plan = memoryPlan({ teacher: config, student: hybrid, trainable: 'mamba', batch, seq });
  for (const l of formatMemoryPlan(plan)) console.log(l);
  const rows: Record<string, number | string>[] = [];
  for (const mode of [...a.modes!.split(','), ...(a['train-step'] ? ['train-step'] : [])]) {
    if (mode === 'train-step') {
      // the student step holds teacher + student weights: check the plan (without the teacher session) first
      const need = plan.totalBytes - plan.items.find((i) => i.name.startsWith('teacher session'))!.bytes;
      try {
        assertMemoryFits({ ...plan, totalBytes: need, fits: need <= plan.budgetBytes });
      } catch (e) {
        if (!(e instanceof MemoryPlanError)) throw e;
        rows.push({ mode, refused: e.message });
        console.log(`${mode}: refused by the memory plan: ${e.message}`);
        continue;
      }
    }
    const out = execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--dir', dir, '--mode', mode, '--seq', String(seq), '--batch', String(batch), '--threads', a.threads!], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    rows.push(r);
    console.log(`${mode.padEnd(12)} peak RSS ${Number(r.peakGiB).toFixed(2)} GiB  (${Number(r.seconds).toFixed(1)} s${r.stepSeconds !== undefined ? `, step ${Number(r.stepSeconds).toFixed(1)} s` : ''}${r.loss !== undefined ? `, loss ${Number(r.loss).toFixed(3)}` : ''})`);
  }
  console.log(JSON.stringify({ checkpointGiB: fileGiB, f32GiB: (plan.teacherParams * 4) / GiB, batch, seq, planGiB: plan.totalBytes / GiB, budgetGiB: plan.budgetBytes / GiB, rows }));
}
