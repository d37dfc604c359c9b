// The mil CLI end to end: help, bad options, and a tiny main-job run that writes a loadable run folder.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadHybrid } from '@mil/models';
import { formatTable } from '../src/table';

const root = resolve(__dirname, '../../..');
const mil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('mil', () => {
  it('prints usage for help and exits 2 on an unknown command', () => {
    const h = mil('help');
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('mil distill');
    expect(h.stdout).toContain('--stage1-kl');
    const u = mil('frobnicate');
    expect(u.status).toBe(2);
    expect(u.stderr).toBe('mil: [UNKNOWN_COMMAND] unknown command "frobnicate"; expected distill, generate, export or help\n');
  });

  it('names the bad option', () => {
    const r = mil('distill', '--variant', 'mamba3');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mil: [BAD_FLAG] --variant must be one of mamba2, mamba1; got "mamba3"\n');
  });

  it('runs a tiny main job and writes the student in the reference layout', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mil-run-')), 'run');
    const r = mil('distill', '--align-steps', '2', '--stage1-steps', '2', '--stage2-steps', '1', '--batch', '2', '--seq', '32', '--eval-tokens', '256', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('teacher (Llama)');
    expect(r.stdout).toContain('ablation: random-init mamba2');
    expect(r.stdout).toContain('ablation: teacher minus layers [0,2,4,6]');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.ppl_ratio_sotu).toBeGreaterThan(0);
    expect(metrics.stages.map((s: { name: string }) => s.name)).toEqual([
      'align (25% Mamba)', 'stage1 (25% Mamba)', 'align (50% Mamba)', 'stage1 (50% Mamba)', 'stage2 (all params, KL)',
    ]);
    expect(readFileSync(join(out, 'loss-curve.svg'), 'utf8')).toContain('<polyline');
    for (const f of ['config.json', 'mamba_config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(out, 'student', f))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'student', 'mamba_config.json'), 'utf8'));
    expect(cfg.attn_layers).toEqual([1, 3, 5, 7]);
    return loadHybrid(join(out, 'student')).then((h) => expect(h.weights.has('model.layers.0.mamba.in_proj.weight')).toBe(true));
  }, 300_000);
});

describe('formatTable', () => {
  it('right-aligns numeric columns', () => {
    const t = formatTable(['name', 'n'], [['a', '1.5'], ['bbb', '10.25']]).split('\n');
    expect(t[2]).toBe('a       1.5');
    expect(t[3]).toBe('bbb   10.25');
  });
});
