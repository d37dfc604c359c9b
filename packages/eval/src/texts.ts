// Text sources for perplexity: the built-in held-out sets, or the user's .txt / .jsonl files, as token streams.
import { readFileSync } from 'node:fs';
import type { LoadedTokenizer } from '@mil/checkpoint';
import { loadSplits } from '@mil/corpora';
import { EvalError } from './eval-error';

/** Built-in held-out sets (never trained on by the embedded teacher). */
export const BUILTIN_TEXTS = ['sotu', 'brown', 'moby-dick'] as const;

/**
 * The documents of a built-in set (`sotu` = SOTU 2001–2021, `brown`, `moby-dick`) or of a file: a `.jsonl` file
 * gives one document per line (its `text` field), any other file is one document.
 *
 * @example
 * const docs = loadTexts('sotu'); // 21 speeches
 */
export function loadTexts(source: string): string[] {
  const h = () => loadSplits().heldOut;
  if (source === 'sotu') return h().sotu.map((d) => d.text);
  if (source === 'brown') return h().brown.map((d) => d.text);
  if (source === 'moby-dick') return h().mobyDick.map((d) => d.text);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new EvalError('BAD_TASK_FILE', `ppl: cannot read ${source} (expected a file or one of ${BUILTIN_TEXTS.join(', ')})`, { cause: e });
  }
  if (!source.endsWith('.jsonl')) return [text];
  return text.split('\n').filter((l) => l.trim()).map((l, i) => {
    const o = JSON.parse(l) as { text?: unknown };
    if (typeof o.text !== 'string') throw new EvalError('BAD_TASK_FILE', `${source}:${i + 1}: expected an object with a "text" string`);
    return o.text;
  });
}

/**
 * Tokenises documents (each starts with BOS) and keeps whole documents, cutting the last, until `maxTokens`.
 *
 * @example
 * const streams = tokenStreams(tokenizer, loadTexts('brown'), 8192);
 */
export function tokenStreams(tokenizer: LoadedTokenizer, docs: readonly string[], maxTokens = Infinity): number[][] {
  const out: number[][] = [];
  let n = 0;
  for (const d of docs) {
    if (n >= maxTokens) break;
    const ids = tokenizer.encode(d, { addSpecialTokens: true });
    const keep = ids.slice(0, Math.max(0, maxTokens - n));
    if (keep.length >= 2) out.push(keep);
    n += keep.length;
  }
  return out;
}
