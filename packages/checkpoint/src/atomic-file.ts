// Files written through a temporary name in the same directory and renamed into place, so an
// interrupted write never leaves a partial file under the final name.
import { mkdir, open, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ioError } from './errors';

export interface AtomicFile {
  readonly finalPath: string;
  readonly tempPath: string;
  write(bytes: Uint8Array): Promise<void>;
  /** fsync (when asked) and close the temporary file; it is not yet visible under its final name. */
  close(): Promise<void>;
  /** Rename the closed temporary file to the final name. */
  publish(): Promise<void>;
  /** Close and delete the temporary file (errors ignored: this runs on failure paths). */
  abort(): Promise<void>;
}

/** A hidden, unique temporary name next to `finalPath` (same filesystem, so rename is atomic). */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function createAtomicFile(finalPath: string, opts: { fsync?: boolean } = {}): Promise<AtomicFile> {
  const tempPath = tempPathFor(finalPath);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx');
  } catch (e) {
    throw ioError(e, tempPath, `creating a temporary file for ${finalPath}`);
  }
  let closed = false;
  let position = 0;
  return {
    finalPath,
    tempPath,
    async write(bytes) {
      try {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await handle!.write(bytes, done, Math.min(bytes.length - done, 1 << 30), position);
          done += bytesWritten;
          position += bytesWritten;
        }
      } catch (e) {
        throw ioError(e, tempPath, `writing ${finalPath}`);
      }
    },
    async close() {
      try {
        if (opts.fsync ?? true) await handle!.sync();
        closed = true;
        await handle!.close();
      } catch (e) {
        throw ioError(e, tempPath, `finishing ${finalPath}`);
      }
    },
    async publish() {
      try {
        await rename(tempPath, finalPath);
      } catch (e) {
        throw ioError(e, finalPath, 'renaming the finished file into place');
      }
    },
    async abort() {
      if (!closed) await handle!.close().catch(() => undefined);
      closed = true;
      await unlink(tempPath).catch(() => undefined);
    },
  };
}

/**
 * Writes a whole file atomically (temp file + fsync + rename).
 * @example await writeFileAtomic('out/config.json', JSON.stringify(cfg, null, 2) + '\n');
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { fsync?: boolean } = {}): Promise<void> {
  const file = await createAtomicFile(path, opts);
  try {
    await file.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    await file.close();
    await file.publish();
  } catch (e) {
    await file.abort();
    throw e;
  }
}

/**
 * Creates `dir` if needed and writes and removes a probe file in it: resolves to null when files can be written
 * there, else to why not (the errno code, e.g. 'EACCES', 'EROFS', 'ENOSPC'). Run before long work that ends in a write.
 *
 * @example
 * const why = await writableFolderProblem('runs/x'); // null, or 'EROFS' on a read-only disk
 */
export async function writableFolderProblem(dir: string): Promise<string | null> {
  const probe = join(dir, `.write-probe.${process.pid}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}
