// Reading small files (configs, tokenizers, indexes) defensively: stat first, so a FIFO or a device is refused
// instead of blocking or streaming forever, and a size cap, so `/dev/urandom` or a huge file is refused at once.
import { readFile, stat } from 'node:fs/promises';
import { CheckpointError, ioError } from './errors';

/** Size caps of the JSON files of a model folder (generous: real configs are kilobytes, tokenizers tens of MB). */
export const MAX_CONFIG_BYTES = 16 << 20;
export const MAX_TOKENIZER_BYTES = 512 << 20;

/**
 * Fails unless `path` is a regular file (after following symlinks) of at most `maxBytes`; returns its size.
 * NOT_FOUND, SYMLINK_LOOP, NOT_REGULAR_FILE (FIFO, device, folder, socket), FILE_TOO_LARGE, each naming the file.
 *
 * @example await checkRegularFile('models/x/config.json', 'model config', MAX_CONFIG_BYTES);
 */
export async function checkRegularFile(path: string, what: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<number> {
  let st: import('node:fs').Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw ioError(e, path, what);
  }
  if (!st.isFile()) {
    const kind = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : 'not a file';
    throw new CheckpointError('NOT_REGULAR_FILE', `${what}: ${path} is ${kind}, expected a regular file`, { path });
  }
  if (st.size > maxBytes) {
    throw new CheckpointError('FILE_TOO_LARGE', `${what}: ${path} has ${st.size} bytes, more than the ${maxBytes} a ${what} may have`, { path });
  }
  return st.size;
}

/**
 * The text of a regular file of at most `maxBytes` (see checkRegularFile); IO errors name the file.
 *
 * @example const text = await readSmallTextFile('models/x/config.json', 'model config', MAX_CONFIG_BYTES);
 */
export async function readSmallTextFile(path: string, what: string, maxBytes: number): Promise<string> {
  await checkRegularFile(path, what, maxBytes);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw ioError(e, path, `reading ${what}`);
  }
}
