// mil distill --recipe <file.json> end to end on a tiny random teacher: every stage kind on its own files (text
// JSONL, chat JSONL, SeqKD prompts, TRL preference pairs), the run folder, per-stage losses and held-out perplexity;
// the recipe form of a main-job budget gives the main job's student bit for bit; bad data and fields are coded errors.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadHybrid } from '@mil/models';
import { writeTinyTeacher } from './helpers/tiny-teacher';
import { allKindsRecipe, writeRecipeData } from './helpers/recipe-data';

const root = resolve(__dirname, '../../..');
const mil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('mil distill --recipe <file>', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mil-recipe-'));
  const teacherP = writeTinyTeacher(tmp);

  it('runs align, kd, seqkd, sft and dpo stages on their own files and writes the run folder', async () => {
    const teacher = await teacherP;
    const f = writeRecipeData(tmp);
    const recipe = join(tmp, 'all.json');
    // the DPO stage's length in epochs: 40 pairs less the held-out ones (0 or 1), 20 or 19 batches of 2, × 0.1 → 2 steps
    const all = allKindsRecipe(f, 4) as { stages: Record<string, unknown>[] };
    all.stages[4] = { ...all.stages[4], steps: undefined, epochs: 0.1 };
    writeFileSync(recipe, JSON.stringify(all));
    const out = join(tmp, 'run');
    const r = mil('distill', '--recipe', recipe, '--teacher', teacher, '--out', out, '--threads', '1', '--eval-tokens', '64', '--cache-dir', join(tmp, 'cache'));
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.stages.map((s: { kind: string; steps: number }) => [s.kind, s.steps])).toEqual([['align', 4], ['kd', 8], ['seqkd', 4], ['sft', 4], ['dpo', 2]]);
    for (const s of m.stages) expect(s.loss.every(Number.isFinite), s.name).toBe(true);
    // alignment from the attention init falls fast; DPO starts at log 2 against the entering student
    expect(m.stages[0].finalLoss).toBeLessThan(m.stages[0].firstLoss);
    expect(m.stages[4].firstLoss).toBeCloseTo(Math.log(2), 4);
    // the held-out split of the text and chat files (by content hash) is measured, teacher and student
    const held = m.heldOut.map((h: { data: string }) => h.data);
    expect(held.some((d: string) => d.includes('text.jsonl'))).toBe(true);
    expect(held.some((d: string) => d.includes('chat.jsonl'))).toBe(true);
    for (const h of m.heldOut) expect(h.ratio).toBeCloseTo(h.student / h.teacher, 9);
    expect(r.stdout).toContain('held-out data');
    // the student folder is the main job's layout and loads
    for (const file of ['config.json', 'mamba_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(out, 'student', file)), file).toBe(true);
    const loaded = await loadHybrid(join(out, 'student'));
    expect(loaded.hybrid.attnLayers).toEqual(m.attnLayers);
    expect(existsSync(join(out, 'checkpoints'))).toBe(false);
    // a second run reads the tokenised shards from the cache
    const again = mil('distill', '--recipe', recipe, '--teacher', teacher, '--out', join(tmp, 'run2'), '--threads', '1', '--eval-tokens', '64', '--cache-dir', join(tmp, 'cache'));
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'run2/student/model.safetensors')).equals(readFileSync(join(out, 'student/model.safetensors')))).toBe(true);
  }, 300_000);

  it('the recipe form of a main-job budget trains the main job\'s student, bit for bit (one stage loop)', async () => {
    const teacher = await teacherP;
    // --align-steps 2 --stage1-steps 4 --stage2-steps 3: align 1 / stage1 1 (25% Mamba), align 1 / stage1 3 (50%), stage2 3
    const s = (name: string, kind: string, steps: number, fraction: number, extra: Record<string, unknown> = {}) =>
      ({ name, kind, data: { corpus: 'sotu' }, loss: { kl: 1, ce: 0 }, trainable: 'mamba', lr: 0.005, steps, layers: { attentionFraction: fraction }, maxGradNorm: 1, ...extra });
    const recipe = {
      format: 'mil-recipe/1', name: 'main-job-budget', student: { variant: 'mamba2' }, batch: 1, seq: 16,
      stages: [
        s('align (25% Mamba)', 'align', 1, 0.75, { warmupSteps: 0 }), s('stage1 (25% Mamba)', 'kd', 1, 0.75, { warmupRatio: 0.1 }),
        s('align (50% Mamba)', 'align', 1, 0.5, { warmupSteps: 0 }), s('stage1 (50% Mamba)', 'kd', 3, 0.5, { warmupRatio: 0.1 }),
        s('stage2 (all params, KL)', 'kd', 3, 0.5, { warmupRatio: 0.1, trainable: 'all', lr: 0.0005 }),
      ],
    };
    const file = join(tmp, 'main-budget.json');
    writeFileSync(file, JSON.stringify(recipe));
    const a = mil('distill', '--recipe', file, '--teacher', teacher, '--out', join(tmp, 'via-recipe'), '--threads', '1', '--eval-tokens', '16');
    expect(a.status, a.stderr).toBe(0);
    const b = mil('distill', '--teacher', teacher, '--align-steps', '2', '--stage1-steps', '4', '--stage2-steps', '3', '--batch', '1', '--seq', '16', '--eval-tokens', '16', '--no-ablations', '--threads', '1', '--out', join(tmp, 'via-main'));
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'via-recipe/student/model.safetensors')).equals(readFileSync(join(tmp, 'via-main/student/model.safetensors')))).toBe(true);
    const ppl = JSON.parse(readFileSync(join(tmp, 'via-recipe/metrics.json'), 'utf8')).heldOut[0];
    const main = JSON.parse(readFileSync(join(tmp, 'via-main/metrics.json'), 'utf8')).perplexity;
    expect(ppl.student).toBe(main[1].sotu);
    expect(ppl.teacher).toBe(main[0].sotu);
  }, 300_000);

  it('bad data and fields end in a coded line naming the file or the JSON path', async () => {
    const teacher = await teacherP;
    const dir = join(tmp, 'bad-data');
    mkdirSync(dir);
    const f = writeRecipeData(dir, 5);
    const run = (recipe: Record<string, unknown>, name: string) => {
      const file = join(tmp, `${name}.json`);
      writeFileSync(file, JSON.stringify(recipe));
      return mil('distill', '--recipe', file, '--teacher', teacher, '--out', join(tmp, `bad-${name}`), '--threads', '1', '--cache-dir', join(tmp, 'cache'));
    };
    const base = allKindsRecipe(f);
    const withStage = (i: number, patch: Record<string, unknown>) => ({ ...base, stages: (base.stages as Record<string, unknown>[]).map((s, j) => (j === i ? { ...s, ...patch } : s)) });
    const missing = run(withStage(3, { data: { paths: [join(tmp, 'nope.jsonl')] } }), 'missing');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^mil: \[\w+\] .*nope\.jsonl/m);
    const prefsAsSft = run(withStage(3, { data: { paths: [f.prefs] } }), 'prefs-as-sft');
    expect(prefsAsSft.stderr).toMatch(/mil: \[BAD_RECORD\] .*prefs\.jsonl:1/);
    const chatAsDpo = run(withStage(4, { data: { paths: [f.chat] } }), 'chat-as-dpo');
    expect(chatAsDpo.stderr).toMatch(/mil: \[BAD_RECORD\] .*chat\.jsonl:1: expected a preference record/);
    const tooBig = run(withStage(4, { batch: 64 }), 'too-big');
    expect(tooBig.stderr).toMatch(/mil: \[RECIPE_INVALID\] stages\[4\]\.data: \d+ preference pairs for batches of 64/);
    const badField = run(withStage(1, { lr: -1 }), 'bad-lr');
    expect(badField.status).toBe(1);
    expect(badField.stderr).toMatch(/mil: \[RECIPE_INVALID\] .*bad-lr\.json: stages\[1\]\.lr: expected a positive number, got -1/);
    const seq = run({ ...base, seq: 128 }, 'long-seq');
    expect(seq.stderr).toMatch(/mil: \[TOO_LARGE\] seq 128 is longer than the teacher's context .*config\.json max_position_embeddings = 64/);
    const epochs = run(withStage(1, { data: { corpus: 'sotu' }, steps: undefined, epochs: 1 }), 'sotu-epochs');
    expect(epochs.stderr).toMatch(/mil: \[RECIPE_UNSUPPORTED\] stages\[1\]\.epochs/);
    for (const r of [missing, prefsAsSft, chatAsDpo, tooBig, badField, seq, epochs]) expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 300_000);
});
