// mil teacher-signal / mil worker: the teacher's top-k log-probabilities over a corpus, cut into shards that run
// here (default) or on any number of BullMQ workers through Redis (--queue).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXECUTION_PROVIDERS, MilError, type ExecutionProvider, type RunOptions } from '@mil/core';
import { loadModelFolder } from '@mil/checkpoint';
import { tokenizeDocuments } from '@mil/distill';
import { FanoutError, runShardedPerplexity, runTeacherSignal, startShardWorker } from '@mil/fanout';
import { loadSplits } from '@mil/corpora';
import { progressBar } from '../progress';

export const teacherSignalHelp = `mil teacher-signal --teacher <dir> --out <dir> [--text <file> ...] [--tokens 200000] [--seq 128] [--batch 4]
                   [--top-k 32] [--shards 12] [--queue redis://host:port] [--ep cpu|webgpu|cuda] [--threads N]
    top-k teacher log-probabilities as safetensors shards + manifest.json (default corpus: SOTU 1790–2000);
    with --queue the shards go to the workers below
mil eval-shards --model <dir> --out <dir> [--text <file> ...] [--tokens 16384] [--seq 128] [--batch 8] [--shards 8]
                [--queue redis://host:port] [--ep …] [--threads N]
    held-out perplexity (default: SOTU 2001–2021) of a teacher or student folder, in shards, here or on the workers
mil worker --queue redis://host:port [--ep cpu|webgpu|cuda] [--threads N] [--concurrency 1]
    takes teacher-signal and eval shards from the queue until stopped (Ctrl-C)`;

function int(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new FanoutError('BAD_OPTION', `--${flag}: expected an integer ≥ ${min}, got ${v}`);
  return n;
}

function runOptions(ep: string | undefined, threads: string | undefined): RunOptions {
  if (ep !== undefined && !EXECUTION_PROVIDERS.includes(ep as ExecutionProvider))
    throw new MilError('BAD_OPTION', `--ep: expected one of ${EXECUTION_PROVIDERS.join(', ')}, got ${ep}`);
  return { ep: (ep ?? 'cpu') as ExecutionProvider, ...(threads !== undefined ? { threads: int('threads', threads, 1) } : {}) };
}

export async function teacherSignalCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      teacher: { type: 'string', default: 'models/sotu-tiny' },
      out: { type: 'string' },
      text: { type: 'string', multiple: true },
      tokens: { type: 'string', default: '200000' },
      seq: { type: 'string', default: '128' },
      batch: { type: 'string', default: '4' },
      'top-k': { type: 'string', default: '32' },
      shards: { type: 'string', default: '12' },
      queue: { type: 'string' },
      ep: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (!a.out) throw new FanoutError('BAD_OPTION', 'mil teacher-signal needs --out <dir>');
  const run = runOptions(a.ep, a.threads);
  const folder = await loadModelFolder(a.teacher!);
  const tokenizer = folder.tokenizer;
  await folder.close();
  if (!tokenizer) throw new FanoutError('BAD_OPTION', `--teacher ${a.teacher}: no tokenizer.json`);
  const docs = a.text?.length ? a.text.map((f) => ({ id: f, text: readFileSync(f, 'utf8') })) : loadSplits().train;
  const tokens = tokenizeDocuments(tokenizer, docs, int('tokens', a.tokens, 2));
  const bar = progressBar(a.queue ? `shards via ${a.queue}` : 'shards');
  const t0 = performance.now();
  const m = await runTeacherSignal({
    teacherDir: a.teacher!,
    outDir: a.out,
    tokens,
    seq: int('seq', a.seq, 1),
    batch: int('batch', a.batch, 1),
    topK: int('top-k', a['top-k'], 1),
    shards: int('shards', a.shards, 1),
    queue: a.queue,
    run,
    onProgress: (p) => {
      const partial = [...p.inFlight.values()].reduce((s, f) => s + f, 0);
      bar.update(p.done, p.total, `${p.inFlight.size} in flight (${(((p.done + partial) / p.total) * 100).toFixed(0)}%)`);
    },
  });
  const s = (performance.now() - t0) / 1000;
  bar.done(`${m.shards.length} shards, ${m.corpus.tokens} tokens in ${s.toFixed(1)} s (${(m.corpus.tokens / s).toFixed(0)} tokens/s); manifest ${a.out}/manifest.json`);
}

export async function workerCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: { queue: { type: 'string' }, 'queue-name': { type: 'string' }, ep: { type: 'string' }, threads: { type: 'string' }, concurrency: { type: 'string', default: '1' }, 'lock-ms': { type: 'string', default: '30000' } },
  });
  if (!a.queue) throw new FanoutError('BAD_OPTION', 'mil worker needs --queue redis://host:port');
  const lock = int('lock-ms', a['lock-ms'], 500);
  const w = await startShardWorker({
    url: a.queue,
    queueName: a['queue-name'],
    run: runOptions(a.ep, a.threads),
    concurrency: int('concurrency', a.concurrency, 1),
    lockDurationMs: lock,
    stalledIntervalMs: Math.max(250, Math.floor(lock / 2)),
    onEvent: (e) => process.stderr.write(`worker ${process.pid}: ${e.kind}${e.shard ? ` ${e.shard}` : ''}${e.message ? `: ${e.message}` : ''}\n`),
  });
  process.stderr.write(`worker ${process.pid}: listening on ${a.queue}\n`);
  await new Promise<void>((done) => {
    const stop = () => void w.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function evalShardsCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'models/sotu-tiny' },
      out: { type: 'string' },
      text: { type: 'string', multiple: true },
      tokens: { type: 'string', default: '16384' },
      seq: { type: 'string', default: '128' },
      batch: { type: 'string', default: '8' },
      shards: { type: 'string', default: '8' },
      queue: { type: 'string' },
      ep: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (!a.out) throw new FanoutError('BAD_OPTION', 'mil eval-shards needs --out <dir>');
  const run = runOptions(a.ep, a.threads);
  const folder = await loadModelFolder(a.model!);
  const tokenizer = folder.tokenizer;
  await folder.close();
  if (!tokenizer) throw new FanoutError('BAD_OPTION', `--model ${a.model}: no tokenizer.json`);
  const docs = a.text?.length ? a.text.map((f) => ({ id: f, text: readFileSync(f, 'utf8') })) : loadSplits().heldOut.sotu;
  const tokens = tokenizeDocuments(tokenizer, docs, int('tokens', a.tokens, 2) + 1);
  const bar = progressBar(a.queue ? `ppl shards via ${a.queue}` : 'ppl shards');
  const r = await runShardedPerplexity({
    modelDir: a.model!, outDir: a.out, tokens, seq: int('seq', a.seq, 1), batch: int('batch', a.batch, 1), shards: int('shards', a.shards, 1), queue: a.queue, run,
    onProgress: (p) => bar.update(p.done, p.total),
  });
  bar.done(`${r.shards.length} shards`);
  process.stdout.write(`perplexity ${r.perplexity.toFixed(3)} (nll ${r.nll.toFixed(4)} nats over ${r.tokens} tokens, windows of ${r.seq}); ${a.out}/ppl-result.json\n`);
}
