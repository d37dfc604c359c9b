// Shared by the fan-out tests: the embedded teacher and a small token corpus from its tokenizer.
import { loadModelFolder } from '@mil/checkpoint';
import { tokenizeDocuments } from '@mil/distill';
import { loadSplits } from '@mil/corpora';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
export const TEACHER = join(ROOT, 'models/sotu-tiny');

export async function corpusTokens(n: number): Promise<Int32Array> {
  const f = await loadModelFolder(TEACHER);
  await f.close();
  return tokenizeDocuments(f.tokenizer!, loadSplits().train, n);
}

/** How the tests run the CLI: from source, through tsx. */
export const CLI = [process.execPath, '--conditions=source', '--import', 'tsx', join(ROOT, 'packages/mamba-in-llama/src/cli.ts')];
