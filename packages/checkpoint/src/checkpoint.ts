// One lazy view over a whole checkpoint: a single .safetensors file, a sharded set described by
// `*.safetensors.index.json`, or a folder holding either.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { CheckpointError, ioError } from './errors';
import { MAX_TOKENIZER_BYTES, readSmallTextFile } from './safe-read';
import type { RawTypedArray } from './dtypes';
import { openSafetensors, type OpenOptions, type SafetensorsFile, type TensorInfo } from './safetensors-reader';
import type { ReadOptions } from './tensor-read';

/** A checkpoint: the SafetensorsFile interface plus where each tensor lives. */
export interface Checkpoint extends SafetensorsFile {
  /** The safetensors files it reads from. */
  readonly files: readonly string[];
  /** `metadata` of the index file (e.g. `{ total_size }`), or null for a single file. */
  readonly indexMetadata: Readonly<Record<string, unknown>> | null;
  /** The file that holds `name`. */
  fileOf(name: string): string;
}

class MultiFileCheckpoint implements Checkpoint {
  readonly metadata: Readonly<Record<string, string>>;
  readonly files: readonly string[];

  constructor(
    readonly path: string,
    private readonly shards: readonly SafetensorsFile[],
    private readonly owner: ReadonlyMap<string, SafetensorsFile>,
    readonly names: readonly string[],
    readonly indexMetadata: Readonly<Record<string, unknown>> | null,
  ) {
    const merged: Record<string, string> = {};
    for (const s of [...shards].reverse()) Object.assign(merged, s.metadata); // first shard wins on conflicts
    this.metadata = merged;
    this.files = shards.map((s) => s.path);
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  private shard(name: string): SafetensorsFile {
    const s = this.owner.get(name);
    if (!s) throw new CheckpointError('TENSOR_NOT_FOUND', `${this.path}: no tensor named ${JSON.stringify(name)} (it has ${this.names.length} tensors)`, { path: this.path });
    return s;
  }

  fileOf(name: string): string {
    return this.shard(name).path;
  }

  info(name: string): TensorInfo {
    return this.shard(name).info(name);
  }

  read(name: string, opts: ReadOptions & { as: 'float32' }): Promise<Float32Array>;
  read(name: string, opts: ReadOptions & { as: 'float16' }): Promise<Uint16Array>;
  read(name: string, opts?: ReadOptions): Promise<RawTypedArray>;
  read(name: string, opts?: ReadOptions): Promise<RawTypedArray> {
    return this.shard(name).read(name, opts);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

async function openAll(paths: readonly string[], opts: OpenOptions): Promise<SafetensorsFile[]> {
  const opened: SafetensorsFile[] = [];
  try {
    for (const p of paths) opened.push(await openSafetensors(p, opts));
  } catch (e) {
    await Promise.all(opened.map((f) => f.close()));
    throw e;
  }
  return opened;
}

/** Shards named in an index must stay inside the checkpoint's folder. */
function shardPath(dir: string, file: string, indexPath: string): string {
  if (file === '' || isAbsolute(file) || normalize(file).split(/[\\/]/).includes('..') || file.includes('\0')) {
    throw new CheckpointError('BAD_INDEX', `${indexPath}: weight_map names ${JSON.stringify(file)}, which is not a file inside ${dir}`, { path: indexPath });
  }
  return join(dir, normalize(file).split('/').join(sep));
}

async function openIndexed(indexPath: string, opts: OpenOptions): Promise<Checkpoint> {
  const text = await readSmallTextFile(indexPath, 'safetensors index', MAX_TOKENIZER_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError('BAD_INDEX', `${indexPath}: not valid JSON (${(e as Error).message})`, { path: indexPath, cause: e });
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError('BAD_INDEX', `${indexPath}: expected {"metadata": {...}, "weight_map": {tensor: file}}`, { path: indexPath });
  }
  const dir = dirname(indexPath);
  const fileOfName = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string') throw new CheckpointError('BAD_INDEX', `${indexPath}: weight_map[${JSON.stringify(name)}] must be a file name`, { path: indexPath });
    fileOfName.set(name, shardPath(dir, file, indexPath));
  }
  const paths = [...new Set(fileOfName.values())];
  const shards = await openAll(paths, opts);
  const byPath = new Map(paths.map((p, i) => [p, shards[i]]));
  const owner = new Map<string, SafetensorsFile>();
  for (const [name, p] of fileOfName) {
    const shard = byPath.get(p)!;
    if (!shard.has(name)) {
      await Promise.all(shards.map((s) => s.close()));
      throw new CheckpointError('INDEX_MISMATCH', `${indexPath}: weight_map puts ${JSON.stringify(name)} in ${p}, which has no such tensor`, { path: indexPath });
    }
    owner.set(name, shard);
  }
  const meta = (json as { metadata?: unknown }).metadata;
  const indexMetadata = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  return new MultiFileCheckpoint(indexPath, shards, owner, [...fileOfName.keys()], indexMetadata);
}

async function openFiles(label: string, paths: readonly string[], opts: OpenOptions): Promise<Checkpoint> {
  const shards = await openAll(paths, opts);
  const owner = new Map<string, SafetensorsFile>();
  const names: string[] = [];
  for (const s of shards) {
    for (const name of s.names) {
      const other = owner.get(name);
      if (other) {
        await Promise.all(shards.map((f) => f.close()));
        throw new CheckpointError('DUPLICATE_TENSOR', `${label}: tensor ${JSON.stringify(name)} is in both ${other.path} and ${s.path} and no index says which to use`, { path: label });
      }
      owner.set(name, s);
      names.push(name);
    }
  }
  return new MultiFileCheckpoint(label, shards, owner, names, null);
}

/**
 * Opens a checkpoint lazily: a `.safetensors` file, a `*.safetensors.index.json`, or a folder (which
 * uses `model.safetensors.index.json`, else `model.safetensors`, else its only index, else all its
 * `.safetensors` files, refusing duplicate names).
 *
 * @example
 * const ckpt = await openCheckpoint('models/llama');
 * for (const name of ckpt.names) console.log(name, ckpt.info(name).shape);
 * const q = await ckpt.read('model.layers.0.self_attn.q_proj.weight', { as: 'float32' });
 * await ckpt.close();
 */
export async function openCheckpoint(dirOrFile: string, opts: OpenOptions = {}): Promise<Checkpoint> {
  let isDir: boolean;
  try {
    isDir = (await stat(dirOrFile)).isDirectory();
  } catch (e) {
    throw ioError(e, dirOrFile, 'opening checkpoint');
  }
  if (!isDir) return dirOrFile.endsWith('.json') ? openIndexed(dirOrFile, opts) : openFiles(dirOrFile, [dirOrFile], opts);

  let entries: string[];
  try {
    entries = (await readdir(dirOrFile)).filter((f) => !f.startsWith('.')).sort();
  } catch (e) {
    throw ioError(e, dirOrFile, 'listing checkpoint folder');
  }
  const indexes = entries.filter((f) => f.endsWith('.safetensors.index.json'));
  const files = entries.filter((f) => f.endsWith('.safetensors'));
  if (indexes.includes('model.safetensors.index.json')) return openIndexed(join(dirOrFile, 'model.safetensors.index.json'), opts);
  if (files.includes('model.safetensors')) return openFiles(join(dirOrFile, 'model.safetensors'), [join(dirOrFile, 'model.safetensors')], opts);
  if (indexes.length === 1) return openIndexed(join(dirOrFile, indexes[0]), opts);
  if (indexes.length > 1) {
    throw new CheckpointError('BAD_INDEX', `${dirOrFile}: several indexes (${indexes.join(', ')}) and no model.safetensors.index.json; open one of them directly`, { path: dirOrFile });
  }
  if (files.length === 0) {
    throw new CheckpointError('NOT_FOUND', `${join(dirOrFile, 'model.safetensors')} does not exist, and the folder has no other .safetensors file or *.safetensors.index.json`, { path: dirOrFile });
  }
  return openFiles(dirOrFile, files.map((f) => join(dirOrFile, f)), opts);
}
