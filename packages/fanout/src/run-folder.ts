// What every sharded run does around its shards: a checked output folder with the token corpus written into it,
// and, once the shards are in, no temp file left by a worker that was killed mid-write.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FanoutError } from './errors';
import { writeTokenCorpus, type TokenCorpusRef } from './token-corpus';

/**
 * Resolves and creates the output folder, checks the model folder (`flag` names it in errors) and writes the corpus.
 *
 * @example
 * const { outDir, modelDir, corpus } = await prepareShardedRun('runs/ppl', 'models/sotu-tiny', '--model', tokens);
 */
export async function prepareShardedRun(out: string, model: string, flag: string, tokens: Int32Array): Promise<{ outDir: string; modelDir: string; corpus: TokenCorpusRef }> {
  const outDir = resolve(out);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new FanoutError('BAD_OPTION', `--out ${out}: exists and is not a folder`);
  await mkdir(outDir, { recursive: true });
  const modelDir = resolve(model);
  if (!existsSync(join(modelDir, 'config.json'))) throw new FanoutError('BAD_OPTION', `${flag} ${model}: no config.json there`);
  return { outDir, modelDir, corpus: await writeTokenCorpus(outDir, tokens) };
}

/** Removes the hidden temp files of interrupted writes (the shards they belonged to were written since). */
export function removeStaleTemps(outDir: string): void {
  for (const f of readdirSync(outDir)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(outDir, f), { force: true });
}
