// An output folder is checked before a command does its work: not an existing file, and writable.
import { stat } from 'node:fs/promises';
import { writableFolderProblem } from '@mil/checkpoint';
import { MilError } from '@mil/core';
import { CliError } from './options';

/**
 * Creates `dir` if needed and proves it writable with a probe file; a path that is an existing file, or a folder
 * that cannot be written, is BAD_FLAG (usage) or OUT_NOT_WRITABLE naming the flag.
 *
 * @example await checkOutputFolder('out/onnx', '--out');
 */
export async function checkOutputFolder(dir: string, flag: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new CliError('BAD_FLAG', `${flag} ${dir} is an existing file; expected a folder (new or existing)`);
  const why = await writableFolderProblem(dir);
  if (why !== null) throw new MilError('OUT_NOT_WRITABLE', `${flag} ${dir} cannot be written (${why})`);
}
