// Benchmark `decode`: the embedded teacher (models/sotu-tiny) in three runtimes on the CPU, same token ids, same
// thread count, in one run: ours (onnxruntime-node 1.29 via @mil/models), transformers.js 4.3.1 (its own
// onnxruntime-node 1.30, loading `mil export --format transformers.js`) and llama.cpp (node-llama-cpp 3.21.1, prebuilt
// CPU binary, loading `mil export --format gguf` as f32 and q8_0); plus our 50%-attention Mamba-2 / Mamba-1 students
// (initialised from the teacher, untrained: speed does not depend on training) in ours and, for Mamba-2, in
// transformers.js (as granitemoehybrid) and llama.cpp (as granitehybrid, whose mixer is padded to 2 × hidden).
//
//   npm run bench:decode [-- --contexts 128,1024,4096] [--steps 32] [--prefill 512] [--prefill-reps 3]
//                        [--threads 1] [--spinning off|on] [--rounds 1]
//
// Each (runtime, model) runs in a child process of its own (benchmarks/decode-worker.ts says what is timed), one
// after another, in an order rotated each round; a value is the median over steps and rounds. Prefill tokens/s:
// --prefill tokens in one call until the first new token. Decode tokens/s at context c: median of --steps single-token
// steps after a c-token prompt. Held-out SOTU text (2001–2021) gives the ids. The exports are built with positions for
// the longest context: past the teacher's trained 1024 the outputs degrade, the work per token does not change.
// Every thread count in --threads (default 1) gets its own table. llama.cpp's threads wait for each other by spinning:
// on a busy machine with as many threads as cores that costs it far more than ORT (whose spinning is off here) —
// on the shared 2-core dev machine, 2 threads made llama.cpp's decode ~1000× slower than 1 thread.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportGguf, exportTransformersJs, loadLlama } from '@mil/models';
import { loadSotu } from '@mil/corpora';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig } from '@mil/weight-transfer';
import { flag, fmt, formatTable, median, numberFlag, reportResult, runBench, timeOnce, hostInfo, type Cell } from './lib';
import type { WorkerRequest, WorkerResult } from './decode-worker';

const MODEL_DIR = 'models/sotu-tiny';
const CONTEXTS = String(flag('contexts') ?? '128,1024,4096').split(',').map(Number);
const STEPS = numberFlag('steps', 32);
const PREFILL = numberFlag('prefill', 512);
const PREFILL_REPS = numberFlag('prefill-reps', 3);
const THREADS = String(flag('threads') ?? '1').split(',').map(Number);
if (THREADS.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads expects positive integers like 1,2, got ${String(flag('threads'))}`);
const ROUNDS = numberFlag('rounds', 1);
const SPINNING = String(flag('spinning') ?? 'off') === 'on';
const MAX_POSITIONS = Math.max(...CONTEXTS, PREFILL) + STEPS + 8;
if (CONTEXTS.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--contexts expects positive integers, got ${String(flag('contexts'))}`);

const log = (s = '') => process.stdout.write(s + '\n');

interface Subject {
  key: string;
  label: string;
  threads: number;
  runtime: WorkerRequest['runtime'];
  model: string;
  hybrid?: WorkerRequest['hybrid'];
  prefillMs: number[];
  decodeMs: Map<number, number[]>;
}

function heldOutTokens(encode: (t: string) => number[], n: number): number[] {
  const ids: number[] = [];
  for (const s of loadSotu({ fromYear: 2001 })) {
    ids.push(...encode(s.text));
    if (ids.length >= n) return ids.slice(0, n);
  }
  throw new Error(`bench:decode: held-out text gave ${ids.length} tokens, need ${n}`);
}

function runWorker(s: Subject, tokensFile: string): WorkerResult {
  const req: WorkerRequest = {
    runtime: s.runtime, model: s.model, hybrid: s.hybrid, tokensFile, prefill: PREFILL, prefillReps: PREFILL_REPS,
    contexts: CONTEXTS, steps: STEPS, threads: s.threads, spinning: SPINNING, maxPositions: MAX_POSITIONS,
  };
  const out = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'benchmarks/decode-worker.ts', JSON.stringify(req)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as WorkerResult;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const teacher = await loadLlama(MODEL_DIR);
  if (!teacher.tokenizer) throw new Error(`${MODEL_DIR}: no tokenizer`);
  const work = mkdtempSync(join(tmpdir(), 'mil-bench-decode-'));
  const tokensFile = join(work, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(heldOutTokens((t) => teacher.tokenizer!.encode(t), MAX_POSITIONS)));
  const attn = [...layerSchedule(teacher.config.numHiddenLayers, { attentionFraction: 0.5 }).attnLayers];
  const m2 = makeHybridConfig(teacher.config, 'mamba2', attn);
  const src = { teacher: teacher.config, weights: teacher.weights };
  const w2 = initStudentFromTeacher(teacher.weights, teacher.config, m2, { seed: 0 });
  const exportMs = await timeOnce(async () => {
    await exportTransformersJs(src, join(work, 'tjs-teacher'), { tokenizerDir: MODEL_DIR, dtypes: ['float32'], maxPositions: MAX_POSITIONS });
    await exportTransformersJs({ teacher: teacher.config, hybrid: m2, weights: w2 }, join(work, 'tjs-mamba2'), { tokenizerDir: MODEL_DIR, maxPositions: MAX_POSITIONS });
    for (const dtype of ['f32', 'q8_0'] as const) {
      await exportGguf(src, join(work, `teacher.${dtype}.gguf`), { tokenizerDir: MODEL_DIR, dtype, contextLength: MAX_POSITIONS });
      await exportGguf({ teacher: teacher.config, hybrid: m2, weights: w2 }, join(work, `mamba2.${dtype}.gguf`), { tokenizerDir: MODEL_DIR, dtype, contextLength: MAX_POSITIONS });
    }
  });
  const mk = (key: string, label: string, runtime: Subject['runtime'], model: string, hybrid?: Subject['hybrid']) => ({ key, label, runtime, model, hybrid });
  const kinds = [
    mk('ours', 'ours: teacher f32', 'ours', MODEL_DIR),
    mk('tjs', 'transformers.js: teacher fp32', 'transformers.js', join(work, 'tjs-teacher')),
    mk('llama_f32', 'llama.cpp: teacher f32', 'llama.cpp', join(work, 'teacher.f32.gguf')),
    mk('llama_q8_0', 'llama.cpp: teacher q8_0', 'llama.cpp', join(work, 'teacher.q8_0.gguf')),
    mk('ours_mamba2', `ours: Mamba-2 student (attn ${attn.join(',')}) f32`, 'ours', MODEL_DIR, { variant: 'mamba2', attnLayers: attn }),
    mk('ours_mamba1', `ours: Mamba-1 student (attn ${attn.join(',')}) f32`, 'ours', MODEL_DIR, { variant: 'mamba1', attnLayers: attn }),
    mk('tjs_mamba2', 'transformers.js: Mamba-2 student fp32', 'transformers.js', join(work, 'tjs-mamba2')),
    mk('llama_mamba2_f32', 'llama.cpp: Mamba-2 student f32 (granitehybrid)', 'llama.cpp', join(work, 'mamba2.f32.gguf')),
    mk('llama_mamba2_q8_0', 'llama.cpp: Mamba-2 student q8_0 (granitehybrid)', 'llama.cpp', join(work, 'mamba2.q8_0.gguf')),
  ];
  const subjects: Subject[] = THREADS.flatMap((threads) => kinds.map((k) => ({ ...k, threads, prefillMs: [], decodeMs: new Map<number, number[]>() })));
  const t1 = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[(k + r) % subjects.length];
      process.stderr.write(`bench:decode round ${r + 1}/${ROUNDS}: ${s.label}, ${s.threads} threads\n`);
      const res = runWorker(s, tokensFile);
      s.prefillMs.push(...res.prefillMs);
      for (const c of CONTEXTS) s.decodeMs.set(c, [...(s.decodeMs.get(c) ?? []), ...res.decode[c]]);
    }
  }
  const measureMs = performance.now() - t1;
  rmSync(work, { recursive: true, force: true });

  const prefillTps = (s: Subject) => PREFILL / (median(s.prefillMs) / 1e3);
  const decodeTps = (s: Subject, c: number) => 1e3 / median(s.decodeMs.get(c)!);
  log(`bench:decode — ${MODEL_DIR} (${teacher.config.numHiddenLayers} layers, d ${teacher.config.hiddenSize}), spinning ${SPINNING ? 'on' : 'off'} (ORT), ${STEPS} decode steps per context, held-out SOTU ids`);
  const header = ['runtime: model', `prefill ${PREFILL} tok/s`, ...CONTEXTS.map((c) => `decode @${c} tok/s`)];
  const find = (key: string, threads: number) => subjects.find((s) => s.key === key && s.threads === threads)!;
  for (const threads of THREADS) {
    const rows = subjects.filter((s) => s.threads === threads);
    const ours = find('ours', threads);
    log();
    log(`${threads} thread${threads > 1 ? 's' : ''} — tokens/s, and (in brackets) ÷ ours: teacher f32 at the same threads`);
    log(formatTable(header, rows.map((s): Cell[] => [
      s.label,
      `${Math.round(prefillTps(s))} (${fmt(prefillTps(s) / prefillTps(ours), 2)})`,
      ...CONTEXTS.map((c) => `${fmt(decodeTps(s, c), 3)} (${fmt(decodeTps(s, c) / decodeTps(ours, c), 2)})`),
    ])));
  }
  const tMax = Math.max(...THREADS);
  const cMax = Math.max(...CONTEXTS);
  const headline = decodeTps(find('ours_mamba2', tMax), cMax) / decodeTps(find('llama_f32', tMax), cMax);
  log();
  log(`headline: ours Mamba-2 student ÷ llama.cpp teacher (both f32), decode @${cMax}, ${tMax} threads = ${fmt(headline)}`);
  reportResult({
    bench: 'decode',
    metric: `ours_mamba2_over_llama_cpp_f32_decode_tps_at_${cMax}_${tMax}_threads`,
    value: Number(headline.toFixed(3)),
    unit: 'ratio',
    threads: THREADS,
    spinning: SPINNING,
    metric_threads: tMax,
    steps: STEPS,
    prefill_tokens: PREFILL,
    contexts: CONTEXTS,
    subjects: subjects.map((s) => ({
      key: s.key,
      label: s.label,
      threads: s.threads,
      prefill_tps: Number(prefillTps(s).toFixed(1)),
      decode_tps: Object.fromEntries(CONTEXTS.map((c) => [c, Number(decodeTps(s, c).toFixed(2))])),
      ratio_to_ours: {
        prefill: Number((prefillTps(s) / prefillTps(find('ours', s.threads))).toFixed(3)),
        ...Object.fromEntries(CONTEXTS.map((c) => [`decode_${c}`, Number((decodeTps(s, c) / decodeTps(find('ours', s.threads), c)).toFixed(3))])),
      },
    })),
    runs: { rounds: ROUNDS, prefill_reps: PREFILL_REPS },
    export_s: Number((exportMs / 1e3).toFixed(2)),
    setup_s: Number(((t1 - t0) / 1e3).toFixed(2)),
    measure_s: Number((measureMs / 1e3).toFixed(2)),
    host: hostInfo(),
  });
}

runBench('decode', main);
