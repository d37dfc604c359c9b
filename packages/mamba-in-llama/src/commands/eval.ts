// mil eval: evaluate one or more teacher / hybrid folders (perplexity, long-context curve, multiple choice, needle,
// speed); prints one table (or JSON), writes results.json and report.html into the output folder.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@mil/checkpoint';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '@mil/core';
import { compareTable, EVAL_TASKS, EvalError, evalReportSections, evaluateModel, writeReport, type EvalTask, type EvaluateOptions, type ModelEvalResult } from '@mil/eval';
import { progressBar, type ProgressBar } from '../progress';
import { formatTable } from '../table';

export const evalHelp = `mil eval --model <dir> | --compare <dir> <dir> …  [task …]   tasks: ${EVAL_TASKS.join(' ')} (default all)
            [--ep cpu|webgpu|cuda] [--threads 2] [--json] [--out runs/eval-<time>]
            [--ppl-text sotu,brown|<file.txt|file.jsonl>,…] [--ppl-tokens 8192] [--window 256] [--stride 128]
            [--long-length 4×context] [--long-sequences 2]
            [--mc-file <file>,…] [--mc-limit N] [--few-shot 0]   (lm-eval JSONL, HellaSwag, ARC, PIQA, WinoGrande, LAMBADA, MMLU CSV)
            [--needle-lengths 1024,2048,4096,8192] [--needle-depths 10]
            [--speed-prompts 128,512,2048] [--speed-gens 64] [--engine session|batch] [--batch 8]
  Teacher and hybrid folders alike; --compare takes every folder after it (task names end the list).`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: a, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string', multiple: true },
      compare: { type: 'boolean', default: false },
      ep: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      'ppl-text': { type: 'string' },
      'ppl-tokens': { type: 'string' },
      window: { type: 'string' },
      stride: { type: 'string' },
      'long-length': { type: 'string' },
      'long-sequences': { type: 'string' },
      'mc-file': { type: 'string' },
      'mc-limit': { type: 'string' },
      'few-shot': { type: 'string' },
      'needle-lengths': { type: 'string' },
      'needle-depths': { type: 'string' },
      'speed-prompts': { type: 'string' },
      'speed-gens': { type: 'string' },
      engine: { type: 'string', default: 'session' },
      batch: { type: 'string' },
    },
  });
  const isTask = (s: string): s is EvalTask => (EVAL_TASKS as readonly string[]).includes(s);
  const models = [...(a.model ?? [])];
  const tasks: EvalTask[] = [];
  for (const p of positionals) {
    if (isTask(p)) tasks.push(p);
    else if (a.compare) models.push(p);
    else throw new EvalError('BAD_OPTION', `mil eval: "${p}" is not a task (tasks: ${EVAL_TASKS.join(', ')})`, { hint: 'several models: --compare A B …' });
  }
  if (models.length === 0) throw new EvalError('BAD_OPTION', 'mil eval: no model (--model <dir> or --compare <dir> <dir> …)');
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(a.ep!)) throw new EvalError('BAD_OPTION', `--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}, got ${a.ep}`);
  const int = (k: keyof typeof a) => {
    if (a[k] === undefined) return undefined;
    const v = Number(a[k]);
    if (!Number.isInteger(v) || v <= 0) throw new EvalError('BAD_OPTION', `--${String(k)} must be a positive integer, got ${a[k]}`);
    return v;
  };
  const ints = (k: keyof typeof a) => {
    if (a[k] === undefined) return undefined;
    const v = String(a[k]).split(',').map(Number);
    if (!v.every((x) => Number.isInteger(x) && x > 0)) throw new EvalError('BAD_OPTION', `--${String(k)} must be comma-separated positive integers, got ${a[k]}`);
    return v;
  };
  if (a.engine !== 'batch' && a.engine !== 'session') throw new EvalError('BAD_OPTION', `--engine must be batch or session, got ${a.engine}`);
  const depths = int('needle-depths');
  const few = a['few-shot'] === undefined ? undefined : Number(a['few-shot']);
  if (few !== undefined && !(Number.isInteger(few) && few >= 0)) throw new EvalError('BAD_OPTION', `--few-shot must be a non-negative integer, got ${a['few-shot']}`);
  const opts: EvaluateOptions = {
    tasks: tasks.length ? tasks : [...EVAL_TASKS],
    pplTexts: a['ppl-text']?.split(','), pplTokens: int('ppl-tokens'), window: int('window'), stride: int('stride'),
    longLength: int('long-length'), longSequences: int('long-sequences'),
    mcFiles: a['mc-file']?.split(','), mcLimit: int('mc-limit'), fewShot: few,
    needleLengths: ints('needle-lengths'), needleDepths: depths === undefined ? undefined : Array.from({ length: depths }, (_, i) => (depths === 1 ? 0.5 : i / (depths - 1))),
    speedPrompts: ints('speed-prompts'), speedGens: ints('speed-gens'),
    engine: a.engine, batch: int('batch'),
  };
  const run = { ep: a.ep as ExecutionProvider, threads: int('threads'), spinning: false };
  const out = a.out ?? join('runs', `eval-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const results: ModelEvalResult[] = [];
  for (const dir of models) {
    const bars = new Map<string, ProgressBar>();
    const r = await evaluateModel(dir, opts, run, (task, done, total) => {
      if (a.json && !process.stderr.isTTY) return;
      if (!bars.has(task)) bars.set(task, progressBar(`${dir} ${task}`));
      bars.get(task)!.update(done, total);
      if (done === total) bars.get(task)!.done();
    });
    results.push(r);
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify({ tasks: opts.tasks, options: opts, results }, null, 2) + '\n');
  const report = await writeReport(out, `mil eval: ${results.map((r) => r.model.name).join(' vs ')}`, evalReportSections(results));
  if (a.json) {
    process.stdout.write(JSON.stringify({ out, report, results }) + '\n');
    return;
  }
  const t = compareTable(results);
  process.stdout.write(`${formatTable(t.head, t.rows)}\n\nresults: ${join(out, 'results.json')}; report: ${report}\n`);
}
