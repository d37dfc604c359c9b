// Resuming from damaged or foreign checkpoints fails with a clear DistillError and leaves the params alone.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillError, arrayDataSource, listCheckpoints, train, type TrainerOptions } from '../src/index';
import { initParams, makeExamples, snapshot, softmaxLossAndGrads, type Example } from './trainer-softmax-fixture';

const EXAMPLES = makeExamples(20, 3);
let root: string;
let good: string;

function options(dir: string, overrides: Partial<TrainerOptions<Example[]>> = {}): TrainerOptions<Example[]> {
  const { params, shapes } = initParams(4);
  return {
    params,
    shapes,
    lossAndGrads: softmaxLossAndGrads,
    data: arrayDataSource(EXAMPLES, { batchSize: 4 }),
    totalSteps: 6,
    gradAccumSteps: 2,
    optimizer: { lr: 0.05 },
    freeze: ['proj'],
    seed: 3,
    checkpoint: { dir, every: 3, fsync: false },
    ...overrides,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mil-trainer-ckpt-'));
  const dir = join(root, 'run');
  const o = options(dir);
  o.totalSteps = 3;
  await train(o);
  good = join(dir, 'step-000003');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the good checkpoint under a fresh run directory, damaged by `damage`. */
async function damaged(label: string, damage: (ckpt: string) => Promise<void>): Promise<string> {
  const dir = join(root, label);
  const ckpt = join(dir, 'step-000003');
  await mkdir(dir, { recursive: true });
  await cp(good, ckpt, { recursive: true });
  await damage(ckpt);
  return ckpt;
}

async function resumeError(ckpt: string, overrides: Partial<TrainerOptions<Example[]>> = {}): Promise<{ error: DistillError; untouched: boolean }> {
  const o = options(join(ckpt, '..'), { resume: ckpt, ...overrides });
  const before = snapshot(o.params);
  try {
    await train(o);
  } catch (e) {
    expect(e).toBeInstanceOf(DistillError);
    return { error: e as DistillError, untouched: JSON.stringify([...snapshot(o.params)]) === JSON.stringify([...before]) };
  }
  throw new Error('resume did not fail');
}

async function rewriteDigest(ckpt: string, file: string): Promise<void> {
  const bytes = await readFile(join(ckpt, file));
  const statePath = join(ckpt, 'trainer_state.json');
  const state = JSON.parse(await readFile(statePath, 'utf8'));
  state.files[file] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  await writeFile(statePath, JSON.stringify(state));
}

describe('resume from a bad checkpoint', () => {
  it('the intact checkpoint resumes (control)', async () => {
    const ckpt = await damaged('intact', async () => undefined);
    const res = await train(options(join(ckpt, '..'), { resume: ckpt }));
    expect(res.resumedFrom).toBe(ckpt);
    expect(res.step).toBe(6);
  });

  it('truncated model.safetensors → CHECKPOINT_CORRUPT naming the file', async () => {
    const ckpt = await damaged('truncated', (c) => truncate(join(c, 'model.safetensors'), 100));
    const { error, untouched } = await resumeError(ckpt);
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/model\.safetensors.*bytes/);
    expect(untouched).toBe(true);
  });

  it('one flipped byte in optimizer.safetensors → CHECKPOINT_CORRUPT (sha256)', async () => {
    const ckpt = await damaged('flipped', async (c) => {
      const p = join(c, 'optimizer.safetensors');
      const bytes = await readFile(p);
      bytes[bytes.length - 3] ^= 0x40;
      await writeFile(p, bytes);
    });
    const { error, untouched } = await resumeError(ckpt);
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/optimizer\.safetensors fails its sha256/);
    expect(untouched).toBe(true);
  });

  it('a consistent checksum over a broken safetensors header → CHECKPOINT_CORRUPT with the reader error as cause', async () => {
    const ckpt = await damaged('header', async (c) => {
      const p = join(c, 'model.safetensors');
      const bytes = await readFile(p);
      bytes.fill(0x7b, 8, 20); // '{{{{' inside the JSON header
      await writeFile(p, bytes);
      await rewriteDigest(c, 'model.safetensors');
    });
    const { error } = await resumeError(ckpt);
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/not a valid safetensors file/);
    expect(error.cause).toBeDefined();
  });

  it('garbage or missing trainer_state.json, missing optimizer file → CHECKPOINT_CORRUPT', async () => {
    const garbage = await damaged('garbage', (c) => writeFile(join(c, 'trainer_state.json'), '{"format": "mil-trainer-state", "vers'));
    expect((await resumeError(garbage)).error.message).toMatch(/trainer_state\.json: not valid JSON/);
    const wrongField = await damaged('field', async (c) => {
      const s = JSON.parse(await readFile(join(c, 'trainer_state.json'), 'utf8'));
      s.data.position = -1;
      await writeFile(join(c, 'trainer_state.json'), JSON.stringify(s));
    });
    expect((await resumeError(wrongField)).error.message).toMatch(/data\.position/);
    const noState = await damaged('nostate', (c) => unlink(join(c, 'trainer_state.json')));
    expect((await resumeError(noState)).error.code).toBe('CHECKPOINT_CORRUPT');
    const noOpt = await damaged('noopt', (c) => unlink(join(c, 'optimizer.safetensors')));
    const e = (await resumeError(noOpt)).error;
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toMatch(/optimizer\.safetensors cannot be read/);
  });

  it('a missing directory → CHECKPOINT_NOT_FOUND', async () => {
    const { error } = await resumeError(join(root, 'nowhere', 'step-000003'));
    expect(error.code).toBe('CHECKPOINT_NOT_FOUND');
  });

  it('an intact checkpoint of another configuration → CHECKPOINT_MISMATCH', async () => {
    const ckpt = await damaged('foreign', async () => undefined);
    const extra = initParams(4);
    extra.params.set('model.extra.weight', new Float32Array(2));
    expect((await resumeError(ckpt, { params: extra.params })).error.message).toMatch(/missing from checkpoint \[model\.extra\.weight\]/);
    expect((await resumeError(ckpt, { freeze: [] })).error.code).toBe('CHECKPOINT_MISMATCH');
    expect((await resumeError(ckpt, { seed: 4 })).error.message).toMatch(/seed/);
    expect((await resumeError(ckpt, { gradAccumSteps: 3 })).error.message).toMatch(/gradAccumSteps/);
    const reshaped = initParams(4);
    expect(
      (await resumeError(ckpt, { params: reshaped.params, shapes: new Map([...reshaped.shapes].map(([k, s]) => [k, k.includes('proj') ? [6, 5] : s])) }))
        .error.message,
    ).toMatch(/model\.proj\.weight.*\[5, 6\].*\[6, 5\]/);
  });

  it("resume 'latest' starts fresh when the directory holds no checkpoint, and ignores half-written ones", async () => {
    const dir = join(root, 'fresh');
    await mkdir(join(dir, '.tmp-step-000009-123-abcd'), { recursive: true });
    await writeFile(join(dir, '.tmp-step-000009-123-abcd', 'model.safetensors'), 'partial');
    expect(await listCheckpoints(dir)).toEqual([]);
    const res = await train(options(dir, { resume: 'latest', totalSteps: 3 }));
    expect(res.resumedFrom).toBeNull();
    expect(res.step).toBe(3);
    // The stale temporary directory was cleaned up; only the published checkpoint remains.
    expect(await readdir(dir)).toEqual(['step-000003']);
  });
});
