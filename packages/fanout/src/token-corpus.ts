// The corpus travels to workers by reference: one safetensors file of token ids in the shared output folder, named
// by its content hash, which every job carries and every worker checks before it computes anything.
import { openSafetensors, writeSafetensors } from '@mil/checkpoint';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FanoutError } from './errors';
import { sha256Bytes, sha256File } from './hash';

/** A token stream stored as `corpus-<hash16>.safetensors` (`tokens`: I32 [n]). */
export interface TokenCorpusRef {
  /** Absolute or run-folder-relative path of the file. */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  tokens: number;
}

/**
 * Writes `tokens` into `dir` under a name derived from their content (idempotent: the same tokens give the same
 * file, which is kept if present and intact).
 *
 * @example
 * const ref = await writeTokenCorpus('runs/signal', Int32Array.from([1, 450, 3021, 2]));
 */
export async function writeTokenCorpus(dir: string, tokens: Int32Array): Promise<TokenCorpusRef> {
  if (tokens.length < 2) throw new FanoutError('BAD_OPTION', `corpus for ${dir}: need at least 2 tokens, got ${tokens.length}`);
  const key = sha256Bytes(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength)).slice(0, 16);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `corpus-${key}.safetensors`);
  if (!existsSync(file)) await writeSafetensors(file, { tokens: { dtype: 'I32', shape: [tokens.length], data: tokens } }, { metadata: { kind: 'token-corpus' } });
  return { file, sha256: await sha256File(file), tokens: tokens.length };
}

/** Reads a corpus file after checking its bytes against the hash the job carries. */
export async function readTokenCorpus(ref: TokenCorpusRef): Promise<Int32Array> {
  const got = await sha256File(ref.file).catch((e: unknown) => {
    throw new FanoutError('CORPUS_MISMATCH', `${ref.file}: cannot read the corpus (${(e as Error).message})`, { cause: e });
  });
  if (got !== ref.sha256) throw new FanoutError('CORPUS_MISMATCH', `${ref.file}: sha256 ${got} differs from the job's ${ref.sha256} (the corpus changed since the run was planned)`);
  const f = await openSafetensors(ref.file);
  try {
    return (await f.read('tokens', { as: 'raw' })) as Int32Array;
  } finally {
    await f.close();
  }
}
