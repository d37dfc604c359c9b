// Bad command lines: each ends in exactly one `mil: [CODE] …` line naming the flag and the value, with exit code 2
// (usage) or 1 (runtime), before any work starts. Run in-process through runCli, plus a few real processes.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../src/run-cli';
import { fitPrompt } from '../src/commands/generate';
import { intFlag, numberFlag } from '../src/options';

const root = resolve(__dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'mil-flags-'));
const aFile = join(tmp, 'a-file');
writeFileSync(aFile, 'x');

// [argv, exit code, code, substrings the one line must contain]
const TABLE: [string[], number, string, string[]][] = [
  [['distill', '--seq', '0'], 2, 'BAD_FLAG', ['--seq', '"0"', '[2, 65536]']],
  [['distill', '--seq', '1.5'], 2, 'BAD_FLAG', ['--seq', '"1.5"']],
  [['distill', '--seq', ''], 2, 'BAD_FLAG', ['--seq', '""']],
  [['distill', '--seq', ' 64'], 2, 'BAD_FLAG', ['--seq']],
  [['distill', '--stage1-steps', '0'], 2, 'BAD_FLAG', ['--stage1-steps', '"0"', '[2, 1000000]']],
  [['distill', '--stage1-steps', '1'], 2, 'BAD_FLAG', ['--stage1-steps', '"1"']],
  [['distill', '--stage1-steps', '2.5'], 2, 'BAD_FLAG', ['--stage1-steps', '"2.5"', 'an integer']],
  [['distill', '--stage2-steps', '-3'], 2, 'BAD_FLAG', ['--stage2-steps', '"-3"', '[0, 1000000]']],
  [['distill', '--align-steps', '1'], 2, 'BAD_FLAG', ['--align-steps', '"1"']],
  [['distill', '--eval-tokens', '0'], 2, 'BAD_FLAG', ['--eval-tokens', '"0"', '[128, 100000000]']],
  [['distill', '--seq', '64', '--eval-tokens', '10'], 2, 'BAD_FLAG', ['--eval-tokens', '"10"', '[64,']],
  [['distill', '--threads', 'abc'], 2, 'BAD_FLAG', ['--threads', '"abc"', '[1, 1024]']],
  [['distill', '--threads', '0'], 2, 'BAD_FLAG', ['--threads', '"0"']],
  [['distill', '--threads', '1e9'], 2, 'BAD_FLAG', ['--threads', '"1e9"']],
  [['distill', '--seed', '-1'], 2, 'BAD_FLAG', ['--seed', '"-1"', '[0, 4294967295]']],
  [['distill', '--seed', '4294967296'], 2, 'BAD_FLAG', ['--seed']],
  [['distill', '--lr', '0'], 2, 'BAD_FLAG', ['--lr', '"0"', '(0, 10]']],
  [['distill', '--lr', '-0.1'], 2, 'BAD_FLAG', ['--lr', '"-0.1"']],
  [['distill', '--lr', 'NaN'], 2, 'BAD_FLAG', ['--lr', '"NaN"']],
  [['distill', '--stage2-lr', 'Infinity'], 2, 'BAD_FLAG', ['--stage2-lr', '"Infinity"']],
  [['distill', '--stage1-kl', '0', '--stage1-ce', '0'], 2, 'BAD_FLAG', ['--stage1-kl', '--stage1-ce', 'both 0']],
  [['distill', '--stage1-ce', '-1'], 2, 'BAD_FLAG', ['--stage1-ce', '"-1"']],
  [['distill', '--batch', '0'], 2, 'BAD_FLAG', ['--batch', '"0"', '[1, 4096]']],
  [['distill', '--batch', '100000'], 2, 'BAD_FLAG', ['--batch', '"100000"']],
  [['distill', '--variant', 'mamba3'], 2, 'BAD_FLAG', ['--variant', '"mamba3"', 'mamba2, mamba1']],
  [['distill', '--attention', '0.3'], 2, 'BAD_FLAG', ['--attention', '"0.3"']],
  [['distill', '--checkpoint-every', '-5'], 2, 'BAD_FLAG', ['--checkpoint-every', '"-5"']],
  [['distill', '--checkpoint-seconds', 'soon'], 2, 'BAD_FLAG', ['--checkpoint-seconds', '"soon"']],
  [['distill', '--bogus', '1'], 2, 'UNKNOWN_FLAG', ["'--bogus'"]],
  [['distill', '--seq'], 2, 'BAD_FLAG', ['--seq']],
  [['distill', 'extra'], 2, 'BAD_ARGUMENT', ['extra']],
  [['distill', '--resume', tmp, '--seq', '64'], 2, 'BAD_FLAG', ['--resume', '--seq']],
  [['distill', '--resume', tmp], 1, 'RUN_NOT_FOUND', [tmp, 'job.json']],
  [['distill', '--out', aFile, '--seq', '16', '--eval-tokens', '16'], 1, 'OUT_NOT_A_FOLDER', [aFile, 'existing file']],
  [['distill', '--seq', '5000', '--out', join(tmp, 'r5000')], 1, 'TOO_LARGE', ['seq 5000', 'max_position_embeddings = 1024']],
  [['distill', '--batch', '4096', '--seq', '1024', '--out', join(tmp, 'rbig')], 1, 'OUT_OF_MEMORY_PLAN', ['the run needs about', 'GiB', 'activations, student step']],
  [['distill', '--recipe', 'x.json', '--stage1-steps', '3'], 2, 'UNKNOWN_FLAG', ["'--stage1-steps'"]],
  [['distill', '--recipe', 'x.json', '--stage-evals', '-1'], 2, 'BAD_FLAG', ['--stage-evals', '"-1"']],
  [['distill', '--recipe', join(tmp, 'nope.json')], 1, 'RECIPE_NOT_FOUND', ['nope.json', 'cannot read the recipe']],
  [['generate', '--max-new-tokens', '-1'], 2, 'BAD_FLAG', ['--max-new-tokens', '"-1"']],
  [['generate', '--max-new-tokens', '2000'], 2, 'BAD_FLAG', ['--max-new-tokens', '[0, 1023]', '2000']],
  [['generate', '--temperature', '-1'], 2, 'BAD_FLAG', ['--temperature', '"-1"']],
  [['generate', '--top-p', '1.5'], 2, 'BAD_FLAG', ['--top-p', '"1.5"', '(0, 1]']],
  [['generate', '--top-k', 'x'], 2, 'BAD_FLAG', ['--top-k', '"x"']],
  [['generate', '--threads', 'abc'], 2, 'BAD_FLAG', ['--threads', '"abc"']],
  [['generate', '--prompt', 'a', '--prompt-file', aFile], 2, 'BAD_FLAG', ['--prompt-file']],
  [['generate', '--prompt', 'The state of the Union is strong. '.repeat(200), '--max-new-tokens', '2'], 2, 'CONTEXT_OVERFLOW', ['1602 tokens', 'context is 1024', '--truncate-prompt']],
  [['generate', '--model', join(tmp, 'nope')], 1, 'NOT_FOUND', [join(tmp, 'nope', 'config.json')]],
  [['export', '--model', 'models/sotu-tiny'], 2, 'MISSING_FLAG', ['--out']],
  [['export', '--out', tmp], 2, 'MISSING_FLAG', ['--model']],
  [['export', '--model', 'models/sotu-tiny', '--out', join(tmp, 'x'), '--max-positions', '1e9'], 2, 'BAD_FLAG', ['--max-positions', '"1e9"', '[1, 16777216]']],
  [['export', '--model', 'models/sotu-tiny', '--out', join(tmp, 'x'), '--max-positions', '0'], 2, 'BAD_FLAG', ['--max-positions', '"0"']],
  [['export', '--model', 'models/sotu-tiny', '--out', aFile], 2, 'BAD_FLAG', ['--out', aFile, 'existing file']],
  [['frobnicate'], 2, 'UNKNOWN_COMMAND', ['"frobnicate"']],
];

describe('mil flag table', () => {
  it(`each of ${TABLE.length} bad command lines ends in one coded line naming the flag and the value`, async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      for (const [argv, exit, code, parts] of TABLE) {
        const lines: string[] = [];
        const status = await runCli(argv, (l) => lines.push(l));
        const text = lines.join('');
        expect(text.split('\n').filter(Boolean), argv.join(' ')).toHaveLength(1);
        expect(text, argv.join(' ')).toMatch(new RegExp(`^mil: \\[${code}\\] `));
        for (const p of parts) expect(text, argv.join(' ')).toContain(p);
        expect(status, text).toBe(exit);
      }
    } finally {
      process.chdir(cwd);
    }
  }, 120_000);

  it('a real process prints the one line and exits 2 or 1, without a stack trace', () => {
    const mil = (...args: string[]) => spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, encoding: 'utf8' });
    const r = mil('distill', '--threads', 'abc');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mil: [BAD_FLAG] --threads must be an integer in [1, 1024]; got "abc"\n');
    const model = join(tmp, 'bad-model');
    mkdirSync(model);
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(root, 'models/sotu-tiny', f), join(model, f));
    const cfg = JSON.parse(readFileSync(join(root, 'models/sotu-tiny/config.json'), 'utf8'));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 1e9 }));
    const g = mil('generate', '--model', model);
    expect(g.status).toBe(1);
    expect(g.stderr).toBe(`mil: [BAD_CONFIG] ${join(model, 'config.json')}: "num_hidden_layers" = 1000000000 is out of range; expected an integer in [1, 4096]\n`);
  }, 60_000);
});

describe('flag helpers', () => {
  it('accept exactly the values in range', () => {
    expect(intFlag('--n', '7', { min: 0, max: 7 })).toBe(7);
    expect(intFlag('--n', '1e3', { min: 0, max: 1000 })).toBe(1000);
    expect(() => intFlag('--n', '0x10', { min: 0 })).toThrow(/--n must be an integer in \[0, ∞\); got "0x10"/);
    expect(numberFlag('--x', '.5', { min: 0, minExclusive: true, max: 1 })).toBe(0.5);
    expect(() => numberFlag('--x', '0', { min: 0, minExclusive: true })).toThrow(/\(0, ∞\)/);
  });

  it('fitPrompt keeps the end of a prompt that does not fit, or refuses with the figures', () => {
    const ids = Array.from({ length: 10 }, (_, i) => i + 3);
    expect(fitPrompt(ids, 2, 12, false)).toBe(ids);
    expect(fitPrompt(ids, 4, 12, true)).toEqual(ids.slice(2));
    expect(() => fitPrompt(ids, 4, 12, false)).toThrow(/10 tokens and --max-new-tokens 4, 14 in all, but the model's context is 12 tokens/);
    expect(() => fitPrompt(ids, 12, 12, true)).toThrow(/--max-new-tokens must be an integer in \[0, 11\]/);
  });
});
