// kill -9 inside each stage kind of a recipe-file run (align, kd, seqkd, sft, dpo) at a seeded random moment, then
// --resume: the student that comes out is bit-identical to an uninterrupted run's, with the same held-out figures.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRng } from '@mil/core';
import { writeTinyTeacher } from './helpers/tiny-teacher';
import { allKindsRecipe, writeRecipeData } from './helpers/recipe-data';

const root = resolve(__dirname, '../../..');
const KINDS = ['align', 'kd', 'seqkd', 'sft', 'dpo'];

/** Runs the CLI; with `killIn`, sends SIGKILL `delayMs` after the first progress line of stage `killIn` (0-based). */
function run(args: string[], kill?: { stage: number; delayMs: number }): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    let armed = false;
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (kill && !armed && new RegExp(`^${kill.stage + 1}/${KINDS.length} `, 'm').test(stderr)) {
        armed = true;
        setTimeout(() => (killed = p.kill('SIGKILL')), kill.delayMs);
      }
    });
    p.on('exit', (code) => done({ code, killed: killed && code === null, stderr }));
  });
}

/** The newest checkpoint step of each stage folder of a run. */
function checkpointSteps(out: string): Record<string, number> {
  const dir = join(out, 'checkpoints/student');
  const r: Record<string, number> = {};
  if (!existsSync(dir)) return r;
  for (const s of readdirSync(dir)) {
    const steps = readdirSync(join(dir, s)).filter((x) => x.startsWith('step-')).map((x) => Number(x.slice(5)));
    r[s] = Math.max(-1, ...steps);
  }
  return r;
}

describe('mil distill --recipe: kill -9 in every stage kind, then --resume', () => {
  it('align, kd, seqkd, sft, dpo: bit-identical student and held-out figures', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mil-kill-recipe-'));
    const teacher = await writeTinyTeacher(tmp);
    const recipe = join(tmp, 'recipe.json');
    writeFileSync(recipe, JSON.stringify(allKindsRecipe(writeRecipeData(tmp), 6)));
    const job = ['distill', '--recipe', recipe, '--teacher', teacher, '--threads', '1', '--eval-tokens', '64', '--cache-dir', join(tmp, 'cache'), '--checkpoint-every', '1', '--keep-checkpoints'];
    const ref = join(tmp, 'reference');
    const r = await run([...job, '--out', ref]);
    expect(r.code, r.stderr).toBe(0);

    const out = join(tmp, 'killed');
    const rng = createRng(21);
    const killedAt: { kind: string; checkpoints: Record<string, number> }[] = [];
    for (let stage = 0; stage < KINDS.length; stage++) {
      const args = existsSync(join(out, 'job.json')) ? ['distill', '--resume', out, '--threads', '1', '--checkpoint-every', '1', '--keep-checkpoints'] : [...job, '--out', out];
      const k = await run(args, { stage, delayMs: Math.floor(rng() * 300) });
      if (k.code !== null && k.code !== 0) expect.fail(`stage ${KINDS[stage]}: ${k.stderr}`);
      if (k.killed) killedAt.push({ kind: KINDS[stage], checkpoints: checkpointSteps(out) });
    }
    const last = await run(['distill', '--resume', out, '--threads', '1']);
    expect(last.code, last.stderr).toBe(0);
    // every stage kind was interrupted (each kill came after that stage's first step)
    expect(killedAt.map((k) => k.kind)).toEqual(KINDS);
    expect(readFileSync(join(out, 'student/model.safetensors')).equals(readFileSync(join(ref, 'student/model.safetensors')))).toBe(true);
    const a = JSON.parse(readFileSync(join(ref, 'metrics.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(b.heldOut).toEqual(a.heldOut);
    expect(b.stages.map((s: { loss: number[] }) => s.loss)).toEqual(a.stages.map((s: { loss: number[] }) => s.loss));
    console.log(JSON.stringify({ killedAt }));
  }, 600_000);
});
