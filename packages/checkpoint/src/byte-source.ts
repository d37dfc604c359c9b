// Positional reads from a file or from bytes in memory, behind one interface so the reader and its fuzz
// tests run the same code.
import { open, type FileHandle } from 'node:fs/promises';
import { CheckpointError, ioError } from './errors';
import { checkRegularFile } from './safe-read';

export interface ByteSource {
  /** File path or a caller-given label, used in error messages. */
  readonly path: string;
  readonly size: number;
  /** Fills `into` completely with the bytes starting at `position`. */
  read(position: number, into: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

// Linux returns at most 0x7ffff000 bytes per read; stay well below it and loop.
const MAX_READ = 1 << 30;

class FileSource implements ByteSource {
  private closed = false;
  constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  async read(position: number, into: Uint8Array): Promise<void> {
    if (this.closed) throw new CheckpointError('CLOSED', `${this.path}: read after close()`, { path: this.path });
    let done = 0;
    while (done < into.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(into, done, Math.min(into.length - done, MAX_READ), position + done));
      } catch (e) {
        throw ioError(e, this.path, 'reading tensor data');
      }
      if (bytesRead === 0) {
        throw new CheckpointError('TRUNCATED', `${this.path}: file ended at byte ${position + done}, expected ${position + into.length} (was it changed while open?)`, { path: this.path });
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

class MemorySource implements ByteSource {
  private closed = false;
  readonly size: number;
  constructor(
    readonly path: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }

  async read(position: number, into: Uint8Array): Promise<void> {
    if (this.closed) throw new CheckpointError('CLOSED', `${this.path}: read after close()`, { path: this.path });
    if (position + into.length > this.bytes.length) {
      throw new CheckpointError('TRUNCATED', `${this.path}: read of ${into.length} bytes at ${position} runs past ${this.bytes.length}`, { path: this.path });
    }
    into.set(this.bytes.subarray(position, position + into.length));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Opens `path` for positional reads; NOT_FOUND / IO_ERROR on failure. */
export async function openFileSource(path: string): Promise<ByteSource> {
  // stat before open: opening a FIFO for reading blocks until a writer appears
  await checkRegularFile(path, 'opening safetensors file');
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw ioError(e, path, 'opening safetensors file');
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new CheckpointError('IO_ERROR', `${path} is not a regular file`, { path });
    return new FileSource(path, st.size, handle);
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw ioError(e, path, 'opening safetensors file');
  }
}

export function memorySource(bytes: Uint8Array, label: string): ByteSource {
  return new MemorySource(label, bytes);
}
