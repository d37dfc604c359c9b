// kill -9 at seeded random points of a tiny `mil distill`, then `--resume`, over and over: the student that finally
// comes out is bit-identical to the one of an uninterrupted run, and no temporary file survives.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRng } from '@mil/core';
import { writeTinyTeacher } from './helpers/tiny-teacher';

const root = resolve(__dirname, '../../..');
const KILLS = 20;

function run(args: string[], killAfterMs?: number): Promise<{ code: number | null; killed: boolean; ms: number; stderr: string }> {
  return new Promise((done) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let killed = false;
    const timer = killAfterMs === undefined ? null : setTimeout(() => (killed = p.kill('SIGKILL')), killAfterMs);
    p.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      done({ code, killed: killed && code === null, ms: performance.now() - t0, stderr });
    });
  });
}

function temporaries(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.endsWith('.tmp') || e.name.startsWith('.tmp-') || e.name.startsWith('.old-')) out.push(p);
    else if (e.isDirectory()) out.push(...temporaries(p));
  }
  return out;
}

describe('mil distill: kill -9 and --resume', () => {
  it(`${KILLS} kills at random points, then --resume: bit-identical student, no temporary files`, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mil-kill-'));
    const teacher = await writeTinyTeacher(tmp);
    const job = ['--teacher', teacher, '--align-steps', '2', '--stage1-steps', '4', '--stage2-steps', '3', '--batch', '1', '--seq', '16', '--eval-tokens', '16', '--no-ablations', '--threads', '1', '--checkpoint-every', '1', '--keep-checkpoints'];
    const ref = join(tmp, 'reference');
    const r = await run(['distill', ...job, '--out', ref]);
    expect(r.code, r.stderr).toBe(0);

    const out = join(tmp, 'killed');
    const rng = createRng(12);
    let kills = 0;
    let attempts = 0;
    // how long an attempt runs if not killed: a whole run at first, less once stages are done
    let estimate = r.ms;
    const resumedFrom = new Set<string>();
    while (kills < KILLS && attempts < 3 * KILLS) {
      attempts++;
      const args = existsSync(join(out, 'job.json')) ? ['distill', '--resume', out, '--threads', '1', '--checkpoint-every', '1', '--keep-checkpoints'] : ['distill', ...job, '--out', out];
      // anywhere from start-up to near the end of the attempt
      const k = await run(args, 200 + rng() * 0.9 * estimate);
      if (k.killed) kills++;
      else if (k.code !== 0) expect.fail(`run ${attempts} failed: ${k.stderr}`);
      else estimate = k.ms;
      for (const stage of existsSync(join(out, 'checkpoints/attention')) ? readdirSync(join(out, 'checkpoints/attention')) : []) {
        for (const s of readdirSync(join(out, 'checkpoints/attention', stage))) if (s.startsWith('step-')) resumedFrom.add(`${stage}/${s}`);
      }
    }
    const last = await run(existsSync(join(out, 'job.json')) ? ['distill', '--resume', out, '--threads', '1'] : ['distill', ...job, '--out', out]);
    expect(last.code, last.stderr).toBe(0);
    expect(kills).toBe(KILLS);

    const a = readFileSync(join(ref, 'student/model.safetensors'));
    const b = readFileSync(join(out, 'student/model.safetensors'));
    expect(b.equals(a)).toBe(true);
    const pplA = JSON.parse(readFileSync(join(ref, 'metrics.json'), 'utf8')).perplexity;
    const pplB = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).perplexity;
    expect(pplB).toEqual(pplA);
    expect(temporaries(out)).toEqual([]);
    // the figures for the record
    console.log(JSON.stringify({ kills, attempts, checkpointsSeen: resumedFrom.size, referenceRunMs: Math.round(r.ms) }));
  }, 900_000);
});
