// Benchmark `gpu-speed`: prefill and decode speed of a Llama teacher and its 50%-attention Mamba-2 hybrid through an
// onnxruntime-node provider, side by side in one run with PyTorch + Hugging Face transformers (eager attention) on the
// same checkpoint. Made for the GPU machine (`--ep cuda|webgpu`), where the embedded 6.8M teacher is launch-bound, so
// it also takes any HF folder, e.g. a random-weight checkpoint with Llama-3.2-1B's shapes
// (`python3 tools/device/hf_speed.py --make /tmp/llama-1b`, never committed). It runs on the CPU too.
//
//   npm run bench:gpu-speed -- --teacher <HF folder> [--ep cpu|cuda|webgpu] [--dtype float32|float16]
//        [--contexts 1024,8192] [--decode-steps 32] [--prefill-chunk 2048] [--rounds 3] [--threads N]
//        [--hf python3|none] [--hf-dtype float32|bfloat16|float16]
//
// Per model and context c: prefill = c random token ids (seed 0) in --prefill-chunk forwards from an empty state,
// timed once per round; decode = --decode-steps single-token steps after it, timed together (tokens/s); then the state
// goes back to c (truncate / restore). The hybrid is the teacher's layers with every other attention replaced by
// Mamba-2 initialised from it (untrained: speed does not depend on training). HF: the same ids, prefill as one forward,
// decode with its KV cache (tools/device/hf_speed.py, one child process; `--hf none` skips it). With --dtype float16
// the teacher runs in float16 (weights and KV cache; the hybrid stays float32) and the largest |Δ logit| of the last
// prefill position against a float32 session is reported (what fp16 costs).
// Head: decode_vs_hf_at_max_context = our teacher's decode tokens/s ÷ HF eager's at the largest context.
import { spawnSync } from 'node:child_process';
import type { ExecutionProvider } from '@mil/core';
import { HybridSession, LlamaSession, loadLlama } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';
import { createRng } from '@mil/core';
import { flag, fmt, formatTable, median, numberFlag, reportResult, runBench, runFields, startRssSampler, timeOnce, type Cell } from './lib';

const TEACHER = String(flag('teacher') ?? 'models/sotu-tiny');
const EP = String(flag('ep') ?? 'cpu') as ExecutionProvider;
const DTYPE = String(flag('dtype') ?? 'float32') as 'float32' | 'float16';
const CONTEXTS = String(flag('contexts') ?? '1024,8192').split(',').map(Number);
const STEPS = numberFlag('decode-steps', 32);
const CHUNK = numberFlag('prefill-chunk', 2048);
const ROUNDS = numberFlag('rounds', 3);
const THREADS = numberFlag('threads', 0);
const HF = String(flag('hf') ?? 'python3');
const HF_DTYPE = String(flag('hf-dtype') ?? (DTYPE === 'float16' ? 'float16' : 'float32'));

interface Speed {
  model: string;
  impl: string;
  context: number;
  prefillTokPerS: number;
  decodeTokPerS: number;
}

/** The session interface both of ours share for this bench. */
interface Steppable {
  forward(ids: readonly number[]): Promise<Float32Array>;
  decode(id: number): Promise<Float32Array>;
  reset(): void;
  release(): Promise<void>;
}

function randomIds(n: number, vocab: number): number[] {
  const rng = createRng(0);
  return Array.from({ length: n }, () => Math.floor(rng() * vocab));
}

async function prefill(s: Steppable, ids: readonly number[]): Promise<Float32Array> {
  let logits: Float32Array = new Float32Array(0);
  for (let i = 0; i < ids.length; i += CHUNK) logits = await s.forward(ids.slice(i, i + CHUNK));
  return logits;
}

async function measure(name: string, dtype: string, s: Steppable, vocab: number, log: (l: string) => void): Promise<Speed[]> {
  const out: Speed[] = [];
  for (const c of CONTEXTS) {
    const ids = randomIds(c + STEPS, vocab);
    const pre: number[] = [];
    const dec: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      s.reset();
      pre.push(await timeOnce(() => prefill(s, ids.slice(0, c))));
      dec.push(await timeOnce(async () => {
        for (let i = 0; i < STEPS; i++) await s.decode(ids[c + i]);
      }));
    }
    const row = { model: name, impl: `ours (${EP}, ${dtype})`, context: c, prefillTokPerS: (c * 1000) / median(pre), decodeTokPerS: (STEPS * 1000) / median(dec) };
    log(`${name} @${c}: prefill ${row.prefillTokPerS.toFixed(0)} tok/s, decode ${row.decodeTokPerS.toFixed(1)} tok/s`);
    out.push(row);
  }
  return out;
}

function hfSpeeds(log: (l: string) => void): Speed[] {
  if (HF === 'none') return [];
  const args = ['tools/device/hf_speed.py', '--model', TEACHER, '--contexts', CONTEXTS.join(','), '--decode-steps', String(STEPS), '--rounds', String(ROUNDS), '--dtype', HF_DTYPE, '--device', EP === 'cpu' ? 'cpu' : 'cuda'];
  log(`${HF} ${args.join(' ')}`);
  const r = spawnSync(HF, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    log(`HF eager side failed (exit ${r.status}): ${(r.stderr || String(r.error ?? '')).trim().split('\n').slice(-3).join(' | ')}`);
    return [];
  }
  return r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => {
    const j = JSON.parse(l) as { context: number; prefill_tok_per_s: number; decode_tok_per_s: number };
    return { model: 'teacher', impl: `HF eager (${EP === 'cpu' ? 'cpu' : 'cuda'}, ${HF_DTYPE})`, context: j.context, prefillTokPerS: j.prefill_tok_per_s, decodeTokPerS: j.decode_tok_per_s };
  });
}

async function main(): Promise<void> {
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const rss = startRssSampler();
  const t0 = performance.now();
  const { config, weights } = await loadLlama(TEACHER);
  const run = { ep: EP, ...(THREADS > 0 ? { threads: THREADS } : {}), maxPositions: Math.max(...CONTEXTS) + STEPS + 1 };
  const attn = layerSchedule(config.numHiddenLayers, { attentionFraction: 0.5 }).attnLayers;
  const hybridConfig = makeHybridConfig(config, 'mamba2', attn);
  const setupMs = performance.now() - t0;
  const rows: Speed[] = [];
  let fp16Error: number | null = null;

  const teacher = await LlamaSession.create(config, weights, { ...run, dtype: DTYPE });
  if (DTYPE === 'float16') {
    const ref = await LlamaSession.create(config, weights, { ...run, dtype: 'float32' });
    const ids = randomIds(Math.min(CONTEXTS[0], 512), config.vocabSize);
    const [a, b] = [await prefill(ref, ids), await prefill(teacher, ids)];
    const last = (x: Float32Array) => x.subarray(x.length - config.vocabSize);
    fp16Error = last(a).reduce((m, v, i) => Math.max(m, Math.abs(v - last(b)[i])), 0);
    log(`float16 vs float32 teacher, last prefill position: max |Δ logit| ${fp16Error.toExponential(2)}`);
    await ref.release();
    teacher.reset();
  }
  rows.push(...(await measure('teacher', DTYPE, teacher, config.vocabSize, log)));
  await teacher.release();
  const student = initStudentFromTeacher(weights, config, hybridConfig, { seed: 0, init: 'attention' });
  const hybrid = await HybridSession.create(config, hybridConfig, student, run);
  // HybridSession runs float32 only
  rows.push(...(await measure('hybrid 50% Mamba-2', 'float32', hybrid, config.vocabSize, log)));
  await hybrid.release();
  rows.push(...hfSpeeds(log));

  const measureMs = performance.now() - t0 - setupMs;
  const find = (model: string, impl: string, c: number) => rows.find((r) => r.model === model && r.impl.startsWith(impl) && r.context === c);
  const table: Cell[][] = rows.map((r) => [r.model, r.impl, r.context, fmt(r.prefillTokPerS), fmt(r.decodeTokPerS)]);
  process.stdout.write(`\n${formatTable(['model', 'implementation', 'context', 'prefill tok/s', 'decode tok/s'], table)}\n\n`);
  const cMax = Math.max(...CONTEXTS);
  const ratio = (a?: Speed, b?: Speed) => (a && b ? Number((a.decodeTokPerS / b.decodeTokPerS).toPrecision(3)) : null);
  const ours = find('teacher', 'ours', cMax);
  const hf = find('teacher', 'HF', cMax);
  reportResult({
    bench: `gpu-speed-${EP}`,
    metric: 'decode_vs_hf_at_max_context',
    value: ratio(ours, hf) ?? Number.NaN,
    unit: 'ratio',
    teacher: TEACHER,
    params: [...weights.values()].reduce((s, w) => s + w.length, 0),
    ep: EP,
    dtype: DTYPE,
    fp16_max_abs_logit_error: fp16Error,
    hybrid_vs_teacher_decode: Object.fromEntries(CONTEXTS.map((c) => [c, ratio(find('hybrid 50% Mamba-2', 'ours', c), find('teacher', 'ours', c))])),
    teacher_vs_hf_decode: Object.fromEntries(CONTEXTS.map((c) => [c, ratio(find('teacher', 'ours', c), find('teacher', 'HF', c))])),
    rows,
    ...runFields({ rounds: ROUNDS, warmup: 0, setupMs, measureMs, peakBytes: rss.stop().peakBytes }),
  });
}

runBench('gpu-speed', main);
