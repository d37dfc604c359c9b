// A lazily read safetensors file: the header is parsed and validated on open, tensors are read one at a
// time on request, each into its own preallocated typed array.
import { memorySource, openFileSource, type ByteSource } from './byte-source';
import { CheckpointError } from './errors';
import type { RawTypedArray, StDtype } from './dtypes';
import { DEFAULT_MAX_HEADER_BYTES, parseHeader, readHeaderLength, type TensorEntry } from './safetensors-header';
import { readTensor, type ReadAs, type ReadOptions } from './tensor-read';

/** What the header says about one tensor. */
export interface TensorInfo {
  readonly dtype: StDtype;
  readonly shape: readonly number[];
  /** Bytes as stored. */
  readonly byteLength: number;
}

export interface OpenOptions {
  /** Largest accepted JSON header, in bytes (default 100 000 000, as the reference implementation). */
  maxHeaderBytes?: number;
}

/** The lazy view of a checkpoint that both single files and sharded checkpoints give. */
export interface SafetensorsFile {
  /** The file (or index / folder) this was opened from. */
  readonly path: string;
  /** Tensor names: data order for one file, index order for a sharded checkpoint. */
  readonly names: readonly string[];
  /** `__metadata__` string pairs (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  has(name: string): boolean;
  /** dtype, shape and stored size of a tensor; TENSOR_NOT_FOUND if absent. */
  info(name: string): TensorInfo;
  /** Reads one tensor into a new typed array: raw dtype (default), float32, or float16 bits. */
  read(name: string, opts: ReadOptions & { as: 'float32' }): Promise<Float32Array>;
  read(name: string, opts: ReadOptions & { as: 'float16' }): Promise<Uint16Array>;
  read(name: string, opts?: ReadOptions & { as?: ReadAs }): Promise<RawTypedArray>;
  /** Releases the file handle(s); reads after this fail with CLOSED. */
  close(): Promise<void>;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

class SafetensorsReader implements SafetensorsFile {
  readonly names: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  private readonly byName: Map<string, TensorEntry>;

  constructor(
    private readonly source: ByteSource,
    private readonly dataStart: number,
    entries: readonly TensorEntry[],
    metadata: Readonly<Record<string, string>> | null,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.names = entries.map((e) => e.name);
    this.metadata = metadata ?? {};
  }

  get path(): string {
    return this.source.path;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private entry(name: string): TensorEntry {
    const e = this.byName.get(name);
    if (!e) {
      throw new CheckpointError('TENSOR_NOT_FOUND', `${this.path}: no tensor named ${JSON.stringify(name)} (it has ${this.names.length} tensors)`, { path: this.path });
    }
    return e;
  }

  info(name: string): TensorInfo {
    const { dtype, shape, byteLength } = this.entry(name);
    return { dtype, shape, byteLength };
  }

  read(name: string, opts: ReadOptions & { as: 'float32' }): Promise<Float32Array>;
  read(name: string, opts: ReadOptions & { as: 'float16' }): Promise<Uint16Array>;
  read(name: string, opts?: ReadOptions): Promise<RawTypedArray>;
  async read(name: string, opts: ReadOptions = {}): Promise<RawTypedArray> {
    const e = this.entry(name);
    return readTensor(this.source, name, e.dtype, this.dataStart + e.dataOffset, elementCount(e.shape), opts);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

async function openSource(source: ByteSource, opts: OpenOptions): Promise<SafetensorsFile> {
  try {
    const first8 = new Uint8Array(Math.min(8, source.size));
    await source.read(0, first8);
    const n = readHeaderLength(first8, source.size, source.path, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
    const header = new Uint8Array(n);
    await source.read(8, header);
    const parsed = parseHeader(header, source.size, source.path);
    return new SafetensorsReader(source, parsed.dataStart, parsed.entries, parsed.metadata);
  } catch (e) {
    await source.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Opens a `.safetensors` file: validates the header now, reads tensors lazily later.
 *
 * @example
 * const f = await openSafetensors('model.safetensors');
 * const w = await f.read('model.embed_tokens.weight', { as: 'float32' }); // bf16 widened on the way
 * await f.close();
 */
export async function openSafetensors(path: string, opts: OpenOptions = {}): Promise<SafetensorsFile> {
  return openSource(await openFileSource(path), opts);
}

/**
 * The same reader over a whole safetensors file already in memory (`label` names it in errors).
 *
 * @example
 * const f = await parseSafetensors(serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }));
 */
export async function parseSafetensors(bytes: Uint8Array, opts: OpenOptions & { label?: string } = {}): Promise<SafetensorsFile> {
  return openSource(memorySource(bytes, opts.label ?? '<memory>'), opts);
}
