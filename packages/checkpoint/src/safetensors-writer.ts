// Writing safetensors files in the reference byte layout, atomically, sharded above a size limit with a
// Hugging Face `*.safetensors.index.json`.
import { basename, dirname, join } from 'node:path';
import { createAtomicFile, writeFileAtomic, type AtomicFile } from './atomic-file';
import { CheckpointError } from './errors';
import { stringifySorted } from './json-text';
import { checkMetadata, encodeHeader, layOut } from './safetensors-layout';
import { checkData, planTensors, type PlannedTensor, type TensorsToWrite } from './tensor-input';

export interface WriteProgress {
  readonly file: string;
  readonly tensor: string;
  readonly bytesWritten: number;
  readonly totalBytes: number;
}

export interface WriteOptions {
  /** Written as `__metadata__` in every file (string values only), e.g. `{ format: 'pt' }`. */
  metadata?: Record<string, string>;
  /** Split into shards when the tensors add up to more than this many bytes (default: never split). */
  maxShardBytes?: number;
  /** fsync each file before renaming it into place (default true). */
  fsync?: boolean;
  /** Called after each tensor is written. */
  onProgress?: (p: WriteProgress) => void;
}

export interface WriteResult {
  /** Paths written (one file, or the shards in order). */
  readonly files: string[];
  /** The index file when sharded, else null. */
  readonly indexPath: string | null;
  /** Sum of the tensors' stored bytes (the index's `metadata.total_size`). */
  readonly totalBytes: number;
}

/** Splits tensors (in the caller's order) into shards like huggingface_hub: a tensor larger than the limit gets a shard of its own. */
export function planShards<T extends { byteLength: number }>(tensors: readonly T[], maxShardBytes: number): T[][] {
  const shards: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const t of tensors) {
    if (t.byteLength > maxShardBytes) {
      shards.push([t]);
      continue;
    }
    if (size + t.byteLength > maxShardBytes && current.length > 0) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += t.byteLength;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** `model.safetensors` → `model-00001-of-00004.safetensors` (the Hugging Face naming). */
export function shardFileName(fileName: string, index: number, count: number): string {
  const stem = fileName.endsWith('.safetensors') ? fileName.slice(0, -'.safetensors'.length) : fileName;
  const pad = (k: number): string => String(k).padStart(5, '0');
  return `${stem}-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

async function resolveData(t: PlannedTensor, target: string): Promise<Uint8Array> {
  const data = typeof t.data === 'function' ? await t.data() : t.data;
  return checkData(t.name, t.dtype, t.shape, t.byteLength, data, target);
}

async function writeOne(file: AtomicFile, tensors: readonly PlannedTensor[], metadata: Record<string, string> | undefined, opts: WriteOptions, progress: { done: number; total: number }): Promise<void> {
  const { order } = layOut(tensors);
  await file.write(encodeHeader(order, metadata));
  for (const { item } of order) {
    await file.write(await resolveData(item, file.finalPath));
    progress.done += item.byteLength;
    opts.onProgress?.({ file: file.finalPath, tensor: item.name, bytesWritten: progress.done, totalBytes: progress.total });
  }
  await file.close();
}

/**
 * Writes tensors as safetensors: one file at `path`, or, above `maxShardBytes`, shards named
 * `model-00001-of-0000N.safetensors` next to it plus `model.safetensors.index.json`. Every file goes
 * through a temporary name and is renamed into place only when complete; the index comes last.
 *
 * @example
 * await writeSafetensors('out/model.safetensors', {
 *   'lm_head.weight': { dtype: 'BF16', shape: [4, 2], data: new Float32Array(8) }, // rounded to bf16
 *   'model.norm.weight': { dtype: 'F32', shape: [2], data: new Float32Array([1, 1]) },
 * }, { metadata: { format: 'pt' }, maxShardBytes: 2e9 });
 */
export async function writeSafetensors(path: string, tensors: TensorsToWrite, opts: WriteOptions = {}): Promise<WriteResult> {
  const planned = planTensors(tensors, path);
  const metadata = checkMetadata(opts.metadata, path);
  const max = opts.maxShardBytes ?? Infinity;
  if (!(max > 0)) throw new CheckpointError('BAD_OPTION', `writing ${path}: maxShardBytes must be a positive number, got ${opts.maxShardBytes}`, { path });
  const totalBytes = planned.reduce((s, t) => s + t.byteLength, 0);
  const shards = planShards(planned, max);
  const progress = { done: 0, total: totalBytes };

  if (shards.length === 1) {
    const file = await createAtomicFile(path, opts);
    try {
      await writeOne(file, planned, metadata, opts, progress);
      await file.publish();
    } catch (e) {
      await file.abort();
      throw e;
    }
    return { files: [path], indexPath: null, totalBytes };
  }

  const dir = dirname(path);
  const names = shards.map((_, i) => shardFileName(basename(path), i, shards.length));
  const files: AtomicFile[] = [];
  try {
    for (let i = 0; i < shards.length; i++) {
      const file = await createAtomicFile(join(dir, names[i]), opts);
      files.push(file);
      await writeOne(file, shards[i], metadata, opts, progress);
    }
    for (const f of files) await f.publish();
  } catch (e) {
    await Promise.all(files.map((f) => f.abort()));
    throw e;
  }
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => shard.forEach((t) => (weightMap[t.name] = names[i])));
  const indexPath = `${path}.index.json`;
  await writeFileAtomic(indexPath, `${stringifySorted({ metadata: { total_size: totalBytes }, weight_map: weightMap })}\n`, opts);
  return { files: names.map((n) => join(dir, n)), indexPath, totalBytes };
}

/**
 * The bytes of a single safetensors file, in memory (for small tensors and tests; data must be given, not lazy).
 *
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
 */
export function serializeSafetensors(tensors: TensorsToWrite, opts: { metadata?: Record<string, string> } = {}): Uint8Array {
  const target = '<memory>';
  const planned = planTensors(tensors, target);
  const metadata = checkMetadata(opts.metadata, target);
  const { order, dataBytes } = layOut(planned);
  const header = encodeHeader(order, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  for (const { item, begin } of order) {
    if (typeof item.data === 'function') {
      throw new CheckpointError('BAD_TENSOR', `serializeSafetensors: tensor ${JSON.stringify(item.name)} has lazy data; use writeSafetensors`);
    }
    out.set(checkData(item.name, item.dtype, item.shape, item.byteLength, item.data, target), header.length + begin);
  }
  return out;
}
