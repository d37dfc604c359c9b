import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorporaError } from '../errors';
import type { LlamaTokenizerConfig } from './tokenizer-config';
import type { LlamaBpeTokenizerJson } from './tokenizer-json';

async function writeAtomic(path: string, text: string): Promise<void> {
  // Temp file in the same directory, so the rename cannot cross file systems.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new CorporaError('BAD_INPUT', `could not write ${path}`, { cause });
  }
}

/**
 * `tokenizer.json` text with the vocabulary in id order, as the Python library writes it.
 * (`JSON.stringify` would move integer-like pieces such as "0"…"9" to the front of the object.)
 *
 * @example
 * writeFileSync('tokenizer.json', stringifyTokenizerJson(trained.tokenizer));
 */
export function stringifyTokenizerJson(tokenizer: LlamaBpeTokenizerJson): string {
  const placeholder = '\u0000vocab\u0000';
  const text = JSON.stringify({ ...tokenizer, model: { ...tokenizer.model, vocab: placeholder } }, null, 2);
  const entries = Object.entries(tokenizer.model.vocab).sort((x, y) => x[1] - y[1]);
  const vocab = `{\n${entries.map(([piece, id]) => `      ${JSON.stringify(piece)}: ${id}`).join(',\n')}\n    }`;
  const quoted = JSON.stringify(placeholder);
  const at = text.indexOf(quoted);
  return `${text.slice(0, at)}${vocab}${text.slice(at + quoted.length)}\n`;
}

/**
 * Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if missing), each
 * atomically (temp file + rename). JSON is pretty-printed with two spaces and the vocabulary in id
 * order, as transformers writes it, so diffs of committed tokenizers stay readable.
 *
 * @example
 * await saveTokenizer('models/sotu-tiny', trained.tokenizer, llamaTokenizerConfig({ modelMaxLength: 1024 }));
 */
export async function saveTokenizer(
  dir: string,
  tokenizer: LlamaBpeTokenizerJson,
  config: LlamaTokenizerConfig,
): Promise<{ tokenizerPath: string; configPath: string }> {
  await mkdir(dir, { recursive: true });
  const tokenizerPath = join(dir, 'tokenizer.json');
  const configPath = join(dir, 'tokenizer_config.json');
  await writeAtomic(tokenizerPath, stringifyTokenizerJson(tokenizer));
  await writeAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { tokenizerPath, configPath };
}
