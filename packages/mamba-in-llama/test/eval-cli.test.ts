// mil eval end to end on the embedded teacher and a random-init student folder: every task, --compare, --json,
// results.json and report.html in the output folder; bad tasks and flags are errors naming them.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hybridConfigForTeacher, loadLlama, randomHybridWeights, saveHybrid } from '@mil/models';

const root = resolve(__dirname, '../../..');
const mil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('mil eval', () => {
  it('rejects an unknown task and a bad flag, naming them', () => {
    const r = mil('eval', '--model', 'models/sotu-tiny', 'hellaswag');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[BAD_OPTION]');
    expect(r.stderr).toContain('"hellaswag" is not a task');
    const e = mil('eval', '--model', 'models/sotu-tiny', '--ep', 'tpu', 'ppl');
    expect(e.stderr).toContain('--ep must be one of cpu, webgpu, cuda');
  });

  it('compares the teacher and a student folder on every task, as JSON, and writes the report', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mil-eval-'));
    const { config } = await loadLlama(join(root, 'models/sotu-tiny'));
    const hybrid = hybridConfigForTeacher(config, 'mamba2', [1, 3, 5, 7]);
    const student = join(tmp, 'run', 'student');
    await saveHybrid(student, { teacher: config, hybrid, weights: randomHybridWeights(config, hybrid, 3) }, { tokenizerFrom: join(root, 'models/sotu-tiny') });
    const out = join(tmp, 'eval');
    const r = mil(
      'eval', '--compare', 'models/sotu-tiny', student, 'ppl', 'long', 'mc', 'needle', 'speed', '--json', '--out', out, '--threads', '1',
      '--ppl-tokens', '300', '--window', '64', '--stride', '32', '--mc-limit', '3', '--long-length', '256', '--long-sequences', '1',
      '--needle-lengths', '96,128', '--needle-depths', '3', '--speed-prompts', '16,32', '--speed-gens', '4',
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.results).toHaveLength(2);
    const [t, s] = j.results;
    expect(t.model.kind).toBe('teacher');
    expect(s.model.kind).toBe('hybrid');
    expect(s.model.ssmLayers).toBe(4);
    expect(t.ppl.sotu.tokens).toBe(299);
    expect(t.ppl.sotu.ppl).toBeGreaterThan(1);
    // A random-init student is far worse than the trained teacher.
    expect(s.ppl.sotu.ppl).toBeGreaterThan(2 * t.ppl.sotu.ppl);
    expect(Object.keys(t.mc)).toEqual(['sotu-lastword', 'sotu-nextsent']);
    expect(t.mc['sotu-lastword'].items).toBe(3);
    expect(t.needle.correct).toHaveLength(2);
    expect(t.needle.correct[0]).toHaveLength(3);
    expect(t.long.curve.length).toBeGreaterThan(4);
    expect(t.speed.map((p: { prompt: number }) => p.prompt)).toEqual([16, 32]);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'results.json']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('Needle (passkey) retrieval: run/student');
  }, 300_000);
});
