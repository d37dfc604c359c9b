// The main job's run folder: checked before any work, options recorded for --resume, interrupted writes swept;
// and the trainer's time-based checkpoint interval.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DistillError, arrayDataSource, listCheckpoints, prepareRunFolder, readRunOptions, removeInterruptedWrites, tokenWindows, train, writeRunOptions } from '../src/index';
import { initParams, makeExamples, softmaxLossAndGrads } from './trainer-softmax-fixture';

const roots: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'mil-run-folder-'));
  roots.push(d);
  return d;
};
afterAll(async () => {
  for (const d of roots) await rm(d, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DistillError);
    return (e as DistillError).code;
  }
  return 'no error';
}

describe('run folder', () => {
  it('refuses a file, an unwritable path, a second run without --resume and a resume without a run', async () => {
    const root = await tmp();
    const file = join(root, 'f');
    await writeFile(file, 'x');
    expect(await code(prepareRunFolder(file, { resume: false }))).toBe('OUT_NOT_A_FOLDER');
    expect(await code(prepareRunFolder(join(file, 'sub'), { resume: false }))).toBe('OUT_NOT_WRITABLE');
    const run = join(root, 'run');
    expect(await code(prepareRunFolder(run, { resume: true }))).toBe('RUN_NOT_FOUND');
    await prepareRunFolder(run, { resume: false });
    expect(await readdir(run)).toEqual([]); // created, the write probe removed
    await writeRunOptions(run, { seq: 16, stage1Loss: { kl: 1, ce: 0 } });
    expect(await code(prepareRunFolder(run, { resume: false }))).toBe('RUN_EXISTS');
    await prepareRunFolder(run, { resume: true });
    expect(await readRunOptions(run)).toEqual({ seq: 16, stage1Loss: { kl: 1, ce: 0 } });
    await writeFile(join(run, 'job.json'), '{"options": 1}');
    expect(await code(readRunOptions(run))).toBe('RUN_NOT_FOUND');
  });

  it('sweeps the temporaries of interrupted writes at any depth and nothing else', async () => {
    const run = await tmp();
    const keep = ['student/model.safetensors', 'checkpoints/a/stage-0/step-000002/model.safetensors', 'metrics.json', '.hidden-but-kept'];
    const drop = ['student/.model.safetensors.123.ab12cd34.tmp', 'checkpoints/a/stage-0/.tmp-step-000003-9-ff00ff00/model.safetensors', 'checkpoints/a/stage-1/.old-step-000001-9-00/x', '.job.json.5.aa.tmp'];
    for (const f of [...keep, ...drop]) {
      await mkdir(join(run, f, '..'), { recursive: true });
      await writeFile(join(run, f), 'x');
    }
    const removed = await removeInterruptedWrites(run);
    expect(removed.sort()).toEqual(
      ['student/.model.safetensors.123.ab12cd34.tmp', 'checkpoints/a/stage-0/.tmp-step-000003-9-ff00ff00', 'checkpoints/a/stage-1/.old-step-000001-9-00', '.job.json.5.aa.tmp'].map((f) => join(run, f)).sort(),
    );
    const all = async (d: string): Promise<string[]> =>
      (await readdir(d, { withFileTypes: true })).flatMap((e) => (e.isDirectory() ? [] : [join(d, e.name)])).concat(...(await Promise.all((await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => all(join(d, e.name))))));
    expect((await all(run)).sort()).toEqual(keep.map((f) => join(run, f)).sort());
  });

  it('tokenWindows refuses a window of 0 tokens instead of looping forever', () => {
    expect(() => tokenWindows(100, 0)).toThrow(/seq must be an integer >= 1, got 0/);
    expect(tokenWindows(10, 3).map((w) => w.start)).toEqual([0, 3, 6]);
  });
});

describe('trainer checkpoint interval by time', () => {
  it('everySeconds saves after each step once the time has passed (and not with 0)', async () => {
    const dir = join(await tmp(), 'ck');
    const { params, shapes } = initParams(4);
    const base = { params, shapes, lossAndGrads: softmaxLossAndGrads, data: arrayDataSource(makeExamples(20, 3), { batchSize: 4 }), totalSteps: 5, optimizer: { lr: 0.05 }, seed: 3 };
    const steps: number[] = [];
    // 1 ns: always due, so every step is saved; keepLast keeps them all
    await train({ ...base, checkpoint: { dir, everySeconds: 1e-9, keepLast: 10, fsync: false }, onCheckpoint: (_p, s) => steps.push(s) });
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([1, 2, 3, 4, 5]);
    const dir2 = join(dir, '..', 'ck2');
    const steps2: number[] = [];
    await train({ ...base, params: initParams(4).params, checkpoint: { dir: dir2, everySeconds: 0, fsync: false }, onCheckpoint: (_p, s) => steps2.push(s) });
    expect(steps2).toEqual([5]); // only at the end
    expect(() => train({ ...base, params: initParams(4).params, checkpoint: { dir: dir2, everySeconds: -1 } })).toThrow(/everySeconds must be a number >= 0/);
  });
});
