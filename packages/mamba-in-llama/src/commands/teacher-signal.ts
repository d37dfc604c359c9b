// mil teacher-signal / mil worker: the teacher's top-k log-probabilities over a corpus, cut into shards that run
// here (default) or on any number of BullMQ workers through Redis (--queue).
import { readFileSync } from 'node:fs';
import { EXECUTION_PROVIDERS, type RunOptions } from '@mil/core';
import { loadModelFolder } from '@mil/checkpoint';
import { tokenizeDocuments } from '@mil/distill';
import { runShardedPerplexity, runTeacherSignal, startShardWorker } from '@mil/fanout';
import { loadSplits, type CorpusDocument } from '@mil/corpora';
import { CliError } from '../errors';
import { choiceFlag, intFlag, MAX_THREADS, parseFlags, requiredFlag } from '../options';
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

const int = (flag: string, v: string | undefined, min: number) => intFlag(`--${flag}`, v, { min, max: 1_000_000_000 });

/** --ep (default cpu) and --threads (default: onnxruntime's choice, so a worker uses its machine's cores). */
function runOptions(ep: string | undefined, threads: string | undefined): RunOptions {
  return { ep: choiceFlag('--ep', ep ?? 'cpu', EXECUTION_PROVIDERS), ...(threads !== undefined ? { threads: intFlag('--threads', threads, { min: 1, max: MAX_THREADS }) } : {}) };
}

/** The model folder's tokenizer over `--text` files, or over `fallback` documents, up to `maxTokens`. */
async function corpusTokens(modelFlag: string, dir: string, texts: string[] | undefined, fallback: readonly CorpusDocument[], maxTokens: number): Promise<Int32Array> {
  const folder = await loadModelFolder(dir);
  const tokenizer = folder.tokenizer;
  await folder.close();
  if (!tokenizer) throw new CliError('NO_TOKENIZER', `${modelFlag} ${dir}: no tokenizer.json`);
  const docs = texts?.length ? texts.map((f) => ({ id: f, text: readFileSync(f, 'utf8') })) : fallback;
  return tokenizeDocuments(tokenizer, docs, maxTokens);
}

export async function teacherSignalCommand(argv: string[]): Promise<void> {
  const a = parseFlags(argv, {
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
  }, 'mil teacher-signal');
  const out = requiredFlag('--out', a.out, 'mil teacher-signal');
  const run = runOptions(a.ep, a.threads);
  const tokens = await corpusTokens('--teacher', a.teacher!, a.text, loadSplits().train, int('tokens', a.tokens, 2));
  const bar = progressBar(a.queue ? `shards via ${a.queue}` : 'shards');
  const t0 = performance.now();
  const m = await runTeacherSignal({
    teacherDir: a.teacher!,
    outDir: out,
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
  bar.done(`${m.shards.length} shards, ${m.corpus.tokens} tokens in ${s.toFixed(1)} s (${(m.corpus.tokens / s).toFixed(0)} tokens/s); manifest ${out}/manifest.json`);
}

export async function workerCommand(argv: string[]): Promise<void> {
  const a = parseFlags(
    argv,
    { queue: { type: 'string' }, 'queue-name': { type: 'string' }, ep: { type: 'string' }, threads: { type: 'string' }, concurrency: { type: 'string', default: '1' }, 'lock-ms': { type: 'string', default: '30000' } },
    'mil worker',
  );
  const queue = requiredFlag('--queue', a.queue, 'mil worker');
  const lock = int('lock-ms', a['lock-ms'], 500);
  const w = await startShardWorker({
    url: queue,
    queueName: a['queue-name'],
    run: runOptions(a.ep, a.threads),
    concurrency: int('concurrency', a.concurrency, 1),
    lockDurationMs: lock,
    stalledIntervalMs: Math.max(250, Math.floor(lock / 2)),
    onEvent: (e) => process.stderr.write(`worker ${process.pid}: ${e.kind}${e.shard ? ` ${e.shard}` : ''}${e.message ? `: ${e.message}` : ''}\n`),
  });
  process.stderr.write(`worker ${process.pid}: listening on ${queue}\n`);
  await new Promise<void>((done) => {
    const stop = () => void w.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function evalShardsCommand(argv: string[]): Promise<void> {
  const a = parseFlags(
    argv,
    {
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
    'mil eval-shards',
  );
  const out = requiredFlag('--out', a.out, 'mil eval-shards');
  const run = runOptions(a.ep, a.threads);
  const tokens = await corpusTokens('--model', a.model!, a.text, loadSplits().heldOut.sotu, int('tokens', a.tokens, 2) + 1);
  const bar = progressBar(a.queue ? `ppl shards via ${a.queue}` : 'ppl shards');
  const r = await runShardedPerplexity({
    modelDir: a.model!, outDir: out, tokens, seq: int('seq', a.seq, 1), batch: int('batch', a.batch, 1), shards: int('shards', a.shards, 1), queue: a.queue, run,
    onProgress: (p) => bar.update(p.done, p.total),
  });
  bar.done(`${r.shards.length} shards`);
  process.stdout.write(`perplexity ${r.perplexity.toFixed(3)} (nll ${r.nll.toFixed(4)} nats over ${r.tokens} tokens, windows of ${r.seq}); ${out}/ppl-result.json\n`);
}
