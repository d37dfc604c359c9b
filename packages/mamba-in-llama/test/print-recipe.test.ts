// mil distill --print-recipe: the resolved built-in and user recipes, their memory plans, and recipe errors.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const mil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('mil distill --print-recipe', () => {
  it('prints the default recipe resolved against the teacher, and a memory plan per run', () => {
    const r = mil('distill', '--print-recipe');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.recipe.name).toBe('default');
    expect(out.runs.map((x: { spec: { name: string; steps: number } }) => [x.spec.name, x.spec.steps])).toEqual([
      ['align (25% Mamba)', 40], ['stage1 (25% Mamba)', 20], ['align (50% Mamba)', 120], ['stage1 (50% Mamba)', 60], ['stage2 (all params, KL)', 120],
    ]);
    expect(out.runs[4].spec.attnLayers).toEqual([1, 3, 5, 7]);
    expect(r.stderr.match(/memory plan: teacher 6\.8M params/g)?.length).toBe(5);
  });

  it('reads a recipe file and names the bad field of an invalid one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mil-recipe-'));
    const recipe = JSON.parse(readFileSync(join(root, 'packages/distill/recipes/default.json'), 'utf8'));
    recipe.stages = recipe.stages.slice(3);
    writeFileSync(join(dir, 'short.json'), JSON.stringify(recipe));
    const ok = mil('distill', '--print-recipe', '--recipe', join(dir, 'short.json'));
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).runs.length).toBe(2);
    recipe.stages[1].lr = -1;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(recipe));
    const bad = mil('distill', '--print-recipe', '--recipe', join(dir, 'bad.json'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('bad.json: stages[1].lr: expected a positive number, got -1');
    const paper = mil('distill', '--print-recipe', '--recipe', 'paper');
    expect(paper.status, paper.stderr).toBe(0);
    expect(JSON.parse(paper.stdout).runs.map((x: { epochs?: number }) => x.epochs)).toEqual([1, 1, 1, 1]);
  });
});
