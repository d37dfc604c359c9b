// Checkpoint directories `step-000123/` (model.safetensors, optimizer.safetensors, trainer_state.json):
// written into a hidden temporary directory and renamed into place, verified by size + sha256 on load.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, type SafetensorsFile } from '@mil/checkpoint';
import { DistillError } from '../errors';
import { parseTrainerState, type FileDigest, type TrainerStateJson } from './trainer-state';

export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer_state.json';
const TMP_PREFIX = '.tmp-';
const OLD_PREFIX = '.old-';
const STEP_DIR = /^step-(\d+)$/;

/** A float32 tensor to store, with its shape. */
export interface StoredTensor {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * `step-000123`: six digits at least, so names sort in step order up to a million steps (listing parses the number).
 *
 * @example
 * checkpointDirName(42); // 'step-000042'
 */
export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/**
 * The published checkpoints of `dir` (temporary and half-written directories are not listed), oldest first.
 *
 * @example
 * const all = await listCheckpoints('runs/stage1'); // [{ step: 100, path: 'runs/stage1/step-000100' }, ...]
 */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries
    .filter((e) => e.isDirectory() && STEP_DIR.test(e.name))
    .map((e) => ({ step: Number(STEP_DIR.exec(e.name)![1]), path: join(dir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

/** Stream a file through sha256. */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function fsyncDir(path: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on directories, which only weakens durability.
  try {
    const h = await open(path, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

export interface WriteCheckpointInput {
  step: number;
  model: Map<string, StoredTensor>;
  optimizer: Map<string, StoredTensor>;
  optimizerMetadata: Record<string, string>;
  /** trainer_state.json without `files` (filled in here). */
  state: Omit<TrainerStateJson, 'files'>;
  fsync: boolean;
}

/**
 * Write one checkpoint atomically: everything goes into `.tmp-step-…` first and the directory is renamed to
 * `step-…` only when complete, so a crash or an error never leaves a half-written `step-…` behind.
 * Returns the published path.
 */
export async function writeCheckpoint(dir: string, input: WriteCheckpointInput): Promise<string> {
  const name = checkpointDirName(input.step);
  const finalPath = join(dir, name);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpPath = join(dir, `${TMP_PREFIX}${name}-${tag}`);
  try {
    await mkdir(dir, { recursive: true });
    await mkdir(tmpPath);
    const asF32 = (m: Map<string, StoredTensor>) =>
      new Map([...m].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]));
    await writeSafetensors(join(tmpPath, MODEL_FILE), asF32(input.model), { metadata: { format: 'pt' }, fsync: input.fsync });
    await writeSafetensors(join(tmpPath, OPTIMIZER_FILE), asF32(input.optimizer), {
      metadata: input.optimizerMetadata,
      fsync: input.fsync,
    });
    const files: Record<string, FileDigest> = {
      [MODEL_FILE]: await digestFile(join(tmpPath, MODEL_FILE)),
      [OPTIMIZER_FILE]: await digestFile(join(tmpPath, OPTIMIZER_FILE)),
    };
    const statePath = join(tmpPath, STATE_FILE);
    await writeFile(statePath, `${JSON.stringify({ ...input.state, files }, null, 1)}\n`);
    if (input.fsync) {
      const h = await open(statePath, 'r+');
      await h.sync();
      await h.close();
    }
    await fsyncDir(tmpPath);
    // A checkpoint of the same step may exist (a run resumed from an older one): swap it out, then delete it.
    const oldPath = join(dir, `${OLD_PREFIX}${name}-${tag}`);
    const replaced = await exists(finalPath);
    if (replaced) await rename(finalPath, oldPath);
    await rename(tmpPath, finalPath);
    await fsyncDir(dir);
    if (replaced) await rm(oldPath, { recursive: true, force: true });
    return finalPath;
  } catch (e) {
    await rm(tmpPath, { recursive: true, force: true }).catch(() => undefined);
    throw new DistillError(
      'CHECKPOINT_WRITE_FAILED',
      `writing checkpoint ${finalPath} failed (nothing was published): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Delete all but the newest `keepLast` checkpoints. `current` (the one just written) is always kept, even when
 * checkpoints of later steps exist (left by a run this one was resumed behind).
 */
export async function pruneCheckpoints(dir: string, keepLast: number, current: string): Promise<void> {
  const others = (await listCheckpoints(dir)).filter((c) => c.path !== current);
  for (const c of others.slice(0, Math.max(0, others.length - (keepLast - 1)))) await rm(c.path, { recursive: true, force: true });
}

/** Remove `.tmp-*` / `.old-*` directories of earlier, interrupted writes (never a published checkpoint). */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(TMP_PREFIX) || n.startsWith(OLD_PREFIX)) await rm(join(dir, n), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A verified checkpoint: its state, and lazy readers for its two tensor files (close them when done). */
export interface OpenedCheckpoint {
  path: string;
  state: TrainerStateJson;
  model: SafetensorsFile;
  optimizer: SafetensorsFile;
}

/**
 * Open a checkpoint directory for resuming: parse trainer_state.json, check each file's size and sha256, then open
 * the safetensors headers. Any failure is `CHECKPOINT_CORRUPT` naming the file (or `CHECKPOINT_NOT_FOUND`).
 */
export async function openCheckpoint(path: string): Promise<OpenedCheckpoint> {
  const statePath = join(path, STATE_FILE);
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(await exists(path))) {
      throw new DistillError('CHECKPOINT_NOT_FOUND', `checkpoint directory ${path} does not exist`, { cause: e });
    }
    throw new DistillError(
      'CHECKPOINT_CORRUPT',
      `${statePath} cannot be read (${code ?? (e as Error).message}); resume takes a step-NNNNNN directory or 'latest'`,
      { cause: e },
    );
  }
  const state = parseTrainerState(text, statePath);
  for (const file of [MODEL_FILE, OPTIMIZER_FILE]) {
    const expected = state.files[file];
    const filePath = join(path, file);
    if (!expected) throw new DistillError('CHECKPOINT_CORRUPT', `${statePath} records no checksum for ${file}`);
    let actual: FileDigest;
    try {
      actual = await digestFile(filePath);
    } catch (e) {
      throw new DistillError('CHECKPOINT_CORRUPT', `${filePath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    }
    if (actual.bytes !== expected.bytes) {
      throw new DistillError('CHECKPOINT_CORRUPT', `${filePath} has ${actual.bytes} bytes, trainer_state.json says ${expected.bytes} (truncated or replaced)`);
    }
    if (actual.sha256 !== expected.sha256) {
      throw new DistillError('CHECKPOINT_CORRUPT', `${filePath} fails its sha256 check (expected ${expected.sha256}, got ${actual.sha256})`);
    }
  }
  const model = await openTensorFile(join(path, MODEL_FILE));
  try {
    const optimizer = await openTensorFile(join(path, OPTIMIZER_FILE));
    return { path, state, model, optimizer };
  } catch (e) {
    await model.close();
    throw e;
  }
}

async function openTensorFile(path: string): Promise<SafetensorsFile> {
  try {
    return await openSafetensors(path);
  } catch (e) {
    throw new DistillError('CHECKPOINT_CORRUPT', `${path} is not a valid safetensors file: ${(e as Error).message}`, { cause: e });
  }
}
