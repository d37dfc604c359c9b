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
    expect(u.stderr).toBe('mil: [UNKNOWN_COMMAND] unknown command "frobnicate"; expected distill, generate, export, eval, teacher-signal, eval-shards, worker, install-provider or help\n');
  });

  it('names the bad option', () => {
    const r = mil('distill', '--variant', 'mamba3');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mil: [BAD_FLAG] --variant must be one of mamba2, mamba1; got "mamba3"\n');
    const s = mil('distill', '--stage1-steps', '2.5');
    expect(s.stderr).toMatch(/mil: \[BAD_FLAG\] --stage1-steps must be an integer/);
    expect(mil('distill', '--recipe', 'fast').stderr).toMatch(/--recipe must be one of default, paper; got "fast"/);
    expect(mil('distill', '--init', 'random').stderr).toMatch(/--init must be one of attention, random-layer, random-mixer; got "random"/);
  });

  it('validates --ep and --threads on every command: a coded line, exit 2, no stack trace', () => {
    for (const cmd of ['distill', 'generate', 'export']) {
      const extra = cmd === 'export' ? ['--model', 'models/sotu-tiny', '--out', join(tmpdir(), 'mil-never')] : [];
      const e = mil(cmd, ...extra, '--ep', 'tpu');
      expect(e.status, cmd).toBe(2);
      expect(e.stderr, cmd).toContain('mil: [BAD_FLAG] --ep must be one of cpu, webgpu, cuda; got "tpu"');
      expect(e.stderr, cmd).not.toMatch(/^\s+at /m);
      const t = mil(cmd, ...extra, '--threads', '0');
      expect(t.status, cmd).toBe(2);
      expect(t.stderr, cmd).toMatch(/mil: \[BAD_FLAG\] --threads must be an integer in \[1, 1024\]; got "0"/);
    }
    const u = mil('generate', '--bogus');
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/^mil: \[UNKNOWN_FLAG\] mil \w+: Unknown option '--bogus'/);
  });

  it('generate on --ep webgpu either runs or names the provider and how to get it', () => {
    const r = mil('generate', '--model', 'models/sotu-tiny', '--prompt', 'The', '--max-new-tokens', '3', '--ep', 'webgpu', '--greedy');
    if (r.status === 0) expect(r.stdout.startsWith('The')).toBe(true);
    else {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("mil: [PROVIDER_UNAVAILABLE] execution provider 'webgpu' is unavailable");
      expect(r.stderr).toMatch(/mil: \[PROVIDER_UNAVAILABLE\] .*\(webgpu/);
      expect(r.stderr).toContain('Vulkan');
      expect(r.stderr).not.toMatch(/^\s+at .*\.(ts|js)/m);
    }
  }, 60_000);

  it('runs a tiny main job and writes the student in the reference layout', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mil-run-')), 'run');
    const r = mil('distill', '--align-steps', '2', '--stage1-steps', '2', '--stage2-steps', '1', '--batch', '2', '--seq', '32', '--eval-tokens', '256', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('teacher (Llama)');
    expect(r.stdout).toContain('ablation: random-layer-init mamba2');
    expect(r.stdout).toContain('ablation: teacher minus layers [0,2,4,6]');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.ppl_ratio_sotu).toBeGreaterThan(0);
    expect(metrics.stages.map((s: { name: string }) => s.name)).toEqual([
      'align (25% Mamba)', 'stage1 (25% Mamba)', 'align (50% Mamba)', 'stage1 (50% Mamba)', 'stage2 (all params, KL)',
    ]);
    expect(readFileSync(join(out, 'loss-curve.svg'), 'utf8')).toContain('<polyline');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg[\s\S]*ppl SOTU 2001–2021/);
    for (const f of ['config.json', 'mamba_config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(out, 'student', f))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'student', 'mamba_config.json'), 'utf8'));
    expect(cfg.attn_layers).toEqual([1, 3, 5, 7]);
    // mil generate loads the hybrid student folder as it loads a teacher folder; greedy decoding is deterministic.
    const g = (model: string) => mil('generate', '--model', model, '--prompt', 'The', '--max-new-tokens', '5', '--greedy');
    const a = g(join(out, 'student'));
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.startsWith('The')).toBe(true);
    expect(a.stdout.trim().length).toBeGreaterThan('The'.length);
    expect(g(join(out, 'student')).stdout).toBe(a.stdout);
    // what the reference's loader reads to find the teacher
    expect(JSON.parse(readFileSync(join(out, 'student', 'config.json'), 'utf8'))._name_or_path).toBe('models/sotu-tiny');
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
