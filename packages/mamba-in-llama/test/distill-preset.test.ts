// `mil distill --preset` (budgets for other machines) and the pure-Mamba student (`--attention 0`).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAIN_JOB_DEFAULTS, mainJobTrainingTokens } from '@mil/distill';
import { distillOptions } from '../src/commands/distill';
import { runCli } from '../src/run-cli';

const root = resolve(__dirname, '../../..');

describe('mil distill --preset', () => {
  it('h200 trains each student on 30× the default tokens through the CUDA provider', () => {
    const o = distillOptions(['--preset', 'h200']);
    expect(o.ep).toBe('cuda');
    expect(o.batch).toBe(64);
    expect(mainJobTrainingTokens(o) / mainJobTrainingTokens(MAIN_JOB_DEFAULTS)).toBe(30);
    // everything the preset does not name stays the default
    expect(o.seq).toBe(MAIN_JOB_DEFAULTS.seq);
    expect(o.recipe).toBe(MAIN_JOB_DEFAULTS.recipe);
  });

  it('flags given on the command line win over the preset', () => {
    const o = distillOptions(['--preset', 'h200', '--ep', 'webgpu', '--batch', '32', '--stage2-steps', '7']);
    expect([o.ep, o.batch, o.stage2Steps, o.stage1Steps]).toEqual(['webgpu', 32, 7, 300]);
  });

  it('an unknown preset is a coded flag error naming the choices', async () => {
    const lines: string[] = [];
    const code = await runCli(['distill', '--preset', 'tpu'], (l) => lines.push(l));
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(/\[BAD_FLAG\].*--preset must be one of h200; got "tpu"/);
  });
});

describe('mil distill --attention 0', () => {
  it('distils a student with no attention layer (stage 1 passes through 75% attention first)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mil-attn0-')), 'run');
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', 'distill', '--attention', '0', '--no-ablations',
      '--align-steps', '2', '--stage1-steps', '2', '--stage2-steps', '1', '--batch', '1', '--seq', '32', '--eval-tokens', '64', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.attnLayers).toEqual([]);
    expect(metrics.stages.map((s: { name: string }) => s.name)).toEqual(['align (25% Mamba)', 'stage1 (25% Mamba)', 'align (100% Mamba)', 'stage1 (100% Mamba)', 'stage2 (all params, KL)']);
    expect(Number.isFinite(metrics.ppl_ratio_sotu)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'student', 'mamba_config.json'), 'utf8')).attn_layers).toEqual([]);
    expect(r.stderr).toMatch(/training: [\d,]+ tokens per student at \d+ tok\/s \(--ep cpu\)/);
  }, 300_000);
});
